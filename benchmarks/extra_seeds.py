"""Checkpoints compared on synthetic seeds outside the train, val and test seeds, as markdown.

The synthetic split (``s3rnet/data/splits/synthetic/seeds.json``) validates on 12 seeds per unit
(4 in its version 1); a recipe change can help them and hurt scenes they do not contain. This script scores checkpoints
(and the classical estimate they correct) on further seeds from 3,000,001 up, which no training,
validation or test set uses, in both units, clean and at 15 dB, on a training config's grid, MSI,
PSF and ratio: a second validation set, never a test set.

Usage::

    python benchmarks/extra_seeds.py --config configs/generalise-oli4-hybrid.json --seeds 16 \\
        runs/generalise-oli4-hybrid/best.safetensors runs/generalise-oli4-sam/best.safetensors

Each cell is the mean PSNR (dB) over the seeds; the last column, the second checkpoint minus the
first, seed by seed. A checkpoint runs as :class:`s3rnet.inference.CheckpointMethod` runs it, so
one with an ensemble partner (``python -m s3rnet ensemble``) is scored blended.
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

FIRST_SEED = 3_000_001


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="training config: grid, MSI, PSF and ratio")
    parser.add_argument("--seeds", type=int, default=16, help="how many seeds from 3,000,001")
    parser.add_argument("checkpoints", nargs="+", help="model checkpoints (paths or published names)")
    args = parser.parse_args(argv)
    from s3rnet.baselines import get_method
    from s3rnet.data import load_scene
    from s3rnet.data.synthetic_split import load_synthetic_split
    from s3rnet.degrade import simulate
    from s3rnet.inference import CheckpointMethod
    from s3rnet.metrics import psnr
    from s3rnet.training import load_config, training_grid

    config = load_config(args.config)
    grid = training_grid(config)
    split = load_synthetic_split()
    seeds = range(FIRST_SEED, FIRST_SEED + args.seeds)
    used = set(split.val_seeds) | set(split.test_seeds)
    if any(split.train_seeds[0] <= s < split.train_seeds[1] or s in used for s in seeds):
        raise SystemExit(f"seeds {seeds.start}-{seeds.stop - 1} overlap the split's train, val or test seeds")
    methods = [CheckpointMethod(name, device="cpu") for name in args.checkpoints]
    estimates = {method.estimate for method in methods} - {None}
    columns = [*sorted(estimates), *args.checkpoints]
    scores: dict[tuple[str, float], dict[str, list[float]]] = {}
    for seed in seeds:
        for units in ("radiance", "reflectance"):
            scene = load_scene(f"synthetic:{seed}", size=split.size, grid=grid, units=units)
            for snr in (math.inf, 15.0):
                simulation = simulate(scene.cube, scene.wavelengths, scene.fwhm, ratio=config.ratio, psf=config.psf,
                                      msi=config.msi, lrhsi_snr_db=snr, seed=0)
                cell = scores.setdefault((units, snr), {})
                for name in sorted(estimates):
                    cell.setdefault(name, []).append(psnr(simulation.truth, get_method(name)(simulation.inputs())))
                for name, method in zip(args.checkpoints, methods):
                    cell.setdefault(name, []).append(psnr(simulation.truth, method(simulation.inputs())))
    print(f"Synthetic seeds {seeds.start}-{seeds.stop - 1} ({args.config}: msi {config.msi}, grid {config.grid}), "
          "mean PSNR (dB); classical estimates without a network are in the first columns.\n")
    compare = len(args.checkpoints) >= 2
    print("| units | LR-HSI | " + " | ".join(columns) + (" | second - first, per seed |" if compare else " |"))
    print("|---|---|" + "---:|" * len(columns) + ("---|" if compare else ""))
    for (units, snr), cell in scores.items():
        row = [f"{np.mean(cell[name]):.2f}" for name in columns]
        if compare:
            difference = np.subtract(cell[args.checkpoints[1]], cell[args.checkpoints[0]])
            row.append(" ".join(f"{d:+.2f}" for d in difference))
        label = "clean" if math.isinf(snr) else f"{snr:g} dB"
        print(f"| {units} | {label} | " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
