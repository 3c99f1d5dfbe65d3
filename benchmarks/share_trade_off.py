"""What the ensemble partner's share trades: PSNR against SAM on each validation set and SNR, as markdown.

A published checkpoint blends its network with a classical partner, ``(1 - w) * network + w *
partner``, and projects the blend onto its inputs (``python -m s3rnet ensemble`` / ``project``).
This script scores that pipeline at a fixed share ``w`` in 0, 0.1, ..., 1 on the validation
problems of a training config (never a test region or test seed), per validation set and SNR:

* the mean PSNR (dB) / SAM (deg) of the projected blend at each share, and of the partner alone
  (unprojected, as the classical method is scored in the report);
* ``wins``: on how many of the set's problems the projected blend beats the partner alone in PSNR
  and in SAM at once.

It shows where no single share beats the partner in both (docs/training.md, "Where blending stops").

Usage::

    python benchmarks/share_trade_off.py --config configs/generalise-oli6-psnr.json --checkpoint lite-oli6 \\
        --snr clean 35 15
"""

from __future__ import annotations

import sys

import numpy as np
from _harness import partner_study, partner_study_parser

SHARES = tuple(round(0.1 * i, 1) for i in range(11))


def main(argv: list[str] | None = None) -> int:
    parser = partner_study_parser(__doc__)
    parser.add_argument("--factor", type=float, default=16.0, help="the projection's noise factor k")
    args = parser.parse_args(argv)
    from s3rnet.consistency import lrhsi_noise_power, project_onto_inputs
    from s3rnet.inference import blend_outputs
    from s3rnet.metrics import psnr, sam

    problems, network, partner = partner_study(args)
    # (set, snr) -> list of per-problem (partner scores, {share: blend scores})
    rows: dict[tuple[str, str], list] = {}
    for problem in problems:
        inputs, truth = problem.simulation.inputs(), problem.simulation.truth
        scored = problem.scored if problem.scored is not None else slice(None)
        ours, theirs = network(inputs), partner(inputs)
        noise_power = lrhsi_noise_power(inputs)

        def scores(cube: np.ndarray) -> tuple[float, float]:
            return psnr(truth[..., scored], cube[..., scored]), sam(truth[..., scored], cube[..., scored])

        blends = {w: scores(project_onto_inputs(blend_outputs(ours, theirs, w), inputs, factor=args.factor,
                                                noise_power=noise_power)) for w in SHARES}
        snr = "clean" if " at " not in problem.name else problem.name.rsplit(" at ", 1)[1]
        rows.setdefault((problem.set, snr), []).append((scores(theirs), blends))
        print(f"{problem.name}: done", file=sys.stderr, flush=True)
    print(f"{args.checkpoint}'s network blended with {args.partner} at a fixed share and projected onto its inputs "
          f"(k {args.factor:g}), validation problems of {args.config}; mean PSNR dB / SAM deg per set and SNR; "
          f"wins: problems where the projected blend beats {args.partner} alone in PSNR and SAM at once.\n")
    print("| set | LR-HSI | problems | " + " | ".join(f"w {w:g}" for w in SHARES) + f" | {args.partner} alone |")
    print("|---|---|---:|" + "---:|" * (len(SHARES) + 1))
    for (set_name, snr), entries in rows.items():
        cells = []
        for w in SHARES:
            mean = np.mean([blends[w] for _, blends in entries], axis=0)
            wins = sum(blends[w][0] > alone[0] and blends[w][1] < alone[1] for alone, blends in entries)
            cells.append(f"{mean[0]:.2f} / {mean[1]:.3f} ({wins})")
        alone = np.mean([alone for alone, _ in entries], axis=0)
        print(f"| {set_name} | {snr} | {len(entries)} | " + " | ".join(cells) + f" | {alone[0]:.2f} / {alone[1]:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
