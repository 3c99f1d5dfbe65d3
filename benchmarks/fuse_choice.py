"""What ``fuse`` chooses for a pair, and what that scores, as markdown.

``fuse`` picks a published checkpoint that fits the pair (its bands, ratio, PSF and a response
near the pair's, :func:`s3rnet.fuse.checkpoint_fit`), else its classical default. On a real pair
the response is estimated from the images, and on a noisy LR-HSI the estimate and the
comparison are noisy too. This script measures the choice on pairs with a ground truth made from
validation data only (the Indian Pines val region and synthetic scenes of the first validation
seeds, radiance and reflectance, on the Indian Pines band set), degraded by the evaluation
protocol (box PSF, ratio 4, the named MSI response, LR-HSI noise at each SNR, seed 0), written as
two georeferenced GeoTIFFs and fused from the files with the response estimated, as a user would.

For each response and SNR: which method ``fuse`` chose on how many pairs, and the selection score
(PSNR dB / SAM deg, the mean over the three sets of each set's mean) of ``fuse`` as it chooses and
of each classical method in ``--methods`` (``--method``, the fallback candidates).

Usage::

    python benchmarks/fuse_choice.py --responses oli4,oli6,s2-6,benchmarks/responses/ali-box.csv --seeds 2
    python benchmarks/fuse_choice.py --methods-only --methods mtf-glp-hpm,hysime-wiener-mtf,hysime-wiener-hybrid
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from _harness import (
    add_fuse_study_options, fuse_study_scenes, parse_snrs, score_rows, simulate_study_pair, write_study_pair,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", default="oli4,oli6,s2-4,s2-6,s2-10",
                        help="MSI responses, comma-separated: names or CSV tables")
    add_fuse_study_options(parser, snr="clean,35,25,15", seeds=2)
    parser.add_argument("--methods", default="", help="classical methods to score too, comma-separated")
    parser.add_argument("--methods-only", action="store_true", help="score the classical methods, not fuse's choice")
    parser.add_argument("--json", type=Path, help="also write every score here")
    args = parser.parse_args(argv)
    from s3rnet.fuse import fuse_pair
    from s3rnet.geo import open_image
    from s3rnet.metrics import psnr, sam

    ratio = 4
    snrs = parse_snrs(args.snr)
    methods = [m for m in args.methods.split(",") if m]
    scenes = fuse_study_scenes(args.seeds, args.size, ratio)
    print(f"`fuse` (response estimated) at ratio {ratio} on the Indian Pines val region and synthetic scenes of the first "
          f"{args.seeds} validation seeds ({args.size} x {args.size} HR px, radiance and reflectance); PSNR dB / SAM deg, "
          "the mean over the sets of each set's mean.\n")
    runs = methods if args.methods_only else ["fuse", *methods]
    print("| MSI | LR-HSI | fuse chose (pairs) | " + " | ".join(runs) + " |")
    print("|---|---|---|" + "---:|" * len(runs))
    everything: dict = {}
    for msi in args.responses.split(","):
        for snr in snrs:
            scores: dict[str, dict[str, list[tuple[float, float]]]] = {run: {} for run in runs}
            chosen: Counter = Counter()
            with tempfile.TemporaryDirectory() as folder:
                folder = Path(folder)
                for label, scene in scenes:
                    sim = simulate_study_pair(scene, msi, snr, ratio)
                    lr, hr = write_study_pair(folder, sim.lrhsi, sim.hrmsi, scene, ratio)
                    for run in runs:
                        options = {} if run == "fuse" else {"method": run}
                        result = fuse_pair(lr, hr, folder / "out.tif", msi_response="estimate", **options)
                        if run == "fuse":
                            how = " on emulated bands" if "emulated_msi" in result.report["method"] else ""
                            chosen[result.report["method"]["name"] + how] += 1
                        fused = open_image(result.output).read()
                        scores[run].setdefault(label, []).append((psnr(sim.truth, fused), sam(sim.truth, fused)))
                        print(f"{msi} {snr} {label} {run} {result.report['method']['name']}: "
                              f"{scores[run][label][-1][0]:.3f} / {scores[run][label][-1][1]:.3f}", file=sys.stderr, flush=True)
            totals = {run: total for run, (total, _) in score_rows(scores).items()}
            everything.setdefault(msi, {})[str(snr)] = {
                "chosen": dict(chosen), **{run: [float(t) for t in total] for run, total in totals.items()}}
            picks = ", ".join(f"{name} ({count})" for name, count in chosen.most_common())
            print(f"| {msi} | {'clean' if snr is None else f'{snr:g} dB'} | {picks} | "
                  + " | ".join(f"{totals[run][0]:.3f} / {totals[run][1]:.3f}" for run in runs) + " |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
