"""The ensemble partner's share on each validation problem: the best (from the ground truth), the one
that reproduces the inputs best, and what the published choice and the raised share score, as markdown.

A checkpoint's share of its classical partner is chosen once, on validation data
(``python -m s3rnet ensemble``); with ``--share consistency`` that share is a floor, raised on each
scene towards the blend that reproduces the scene's inputs best, as far as the noise lets that be
measured (:func:`s3rnet.consistency.partner_share`). This script shows, per validation problem of a
training config (never a test region or test seed), what that rule sees and does:

* ``best``: the share of the highest PSNR among 0, 0.05, ..., 1 (unprojected blend; the truth decides);
* ``w_c``, ``s``: the share that reproduces the inputs best, and its reliability;
* PSNR after the projection onto the inputs (noise factor 16) at the floor and at the raised share.

Usage::

    python benchmarks/partner_share.py --config configs/generalise-oli4-psnr.json --checkpoint lite-oli4 \\
        --floor 0.25 --snr clean 35 15
"""

from __future__ import annotations

import sys

from _harness import partner_study, partner_study_parser

SHARES = tuple(round(0.05 * i, 2) for i in range(21))


def main(argv: list[str] | None = None) -> int:
    parser = partner_study_parser(__doc__)
    parser.add_argument("--floor", type=float, required=True, help="the validated share, in [0, 1]")
    args = parser.parse_args(argv)
    from s3rnet.consistency import lrhsi_noise_power, partner_share, project_onto_inputs
    from s3rnet.inference import blend_outputs
    from s3rnet.metrics import psnr, sam

    problems, network, partner = partner_study(args)
    print(f"{args.checkpoint}'s network and {args.partner}, validation problems of {args.config}, floor "
          f"{args.floor:g}; PSNR dB / SAM deg after projection (noise factor 16)\n")
    print("| problem | best share | w_c | s | share | at the floor | at the share |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for problem in problems:
        inputs, truth = problem.simulation.inputs(), problem.simulation.truth
        scored = problem.scored if problem.scored is not None else slice(None)
        ours, theirs = network(inputs), partner(inputs)
        best = max(SHARES, key=lambda w: psnr(truth[..., scored], blend_outputs(ours, theirs, w)[..., scored]))
        noise_power = lrhsi_noise_power(inputs)
        share = partner_share(ours, theirs, inputs, floor=args.floor, noise_power=noise_power)
        cells = []
        for w in (args.floor, share["weight"]):
            cube = project_onto_inputs(blend_outputs(ours, theirs, w), inputs, noise_power=noise_power)[..., scored]
            cells.append(f"{psnr(truth[..., scored], cube):.2f} / {sam(truth[..., scored], cube):.3f}")
        print(f"| {problem.name} | {best:g} | {share['consistent']:.2f} | {share['reliability']:.2f} | "
              f"{share['weight']:.2f} | {cells[0]} | {cells[1]} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
