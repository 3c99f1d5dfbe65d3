"""Classical estimates on a training config's validation problems, as markdown: the numbers a
network's skip is chosen on.

The problems are those the training validates on (:func:`s3rnet.training.validation_problems`:
the config's real val region and the synthetic val seeds, never a test region or seed),
simulated at every SNR given; each cell is the mean PSNR (dB) and SAM (degrees) of a set's
problems at one SNR, on the bands that carry a measurement.

Usage::

    python benchmarks/val_estimates.py --config configs/generalise-oli6-wiener.json \\
        --methods hysime-wiener-mtf,hysime-wiener-hybrid --snr inf,35,25,15
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="training config whose validation problems are used")
    parser.add_argument("--methods", default="hysime-wiener-mtf,hysime-wiener-hybrid", help="comma-separated baselines")
    parser.add_argument("--snr", default="inf,35,25,15", help="comma-separated LR-HSI SNRs in dB (inf: clean)")
    args = parser.parse_args(argv)
    from s3rnet.baselines import get_method
    from s3rnet.metrics import psnr, sam
    from s3rnet.training import load_config, training_grid, validation_problems

    snrs = [None if float(s) == math.inf else float(s) for s in args.snr.split(",")]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    config = load_config(args.config, val_snr_db=snrs)
    problems, _ = validation_problems(config, training_grid(config))
    scores: dict[tuple[str, float, str], list[tuple[float, float]]] = {}
    for problem in problems:
        inputs, truth = problem.simulation.inputs(), problem.simulation.truth
        snr = float(problem.simulation.meta["lrhsi_snr_db"])
        for name in methods:
            fused = get_method(name)(inputs)
            reference, estimate = (truth, fused) if problem.scored is None else (truth[..., problem.scored], fused[..., problem.scored])
            scores.setdefault((problem.set, snr, name), []).append((psnr(reference, estimate), sam(reference, estimate)))
    print(f"Validation problems of {args.config} (msi {config.msi}, grid {config.grid}, seed {config.val_seed}); "
          "PSNR dB / SAM deg, mean over each set's scenes.\n")
    print("| set | LR-HSI SNR | " + " | ".join(methods) + " |")
    print("|---|---|" + "---:|" * len(methods))
    for set_name in dict.fromkeys(p.set for p in problems):
        for snr in config.val_snrs:
            cells = []
            for name in methods:
                mean = np.mean(scores[(set_name, snr, name)], axis=0)
                cells.append(f"{mean[0]:.2f} / {mean[1]:.3f}")
            label = "clean" if math.isinf(snr) else f"{snr:g} dB"
            print(f"| {set_name} | {label} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
