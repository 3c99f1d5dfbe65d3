"""Do synthetic scenes rank the classical methods as a real scene does? As markdown.

A synthetic scene can match a real one in its statistics (``benchmarks/realism_synthetic.py``)
and still favour other methods: on Indian Pines CNMF (linear unmixing) beats the detail-injection
methods with a 4-band MSI, on the default synthetic scenes it loses to them. This script scores
methods on the Indian Pines train region and on synthetic scenes made with each given set of
options (training seeds from ``--first-seed``, never a val or test seed), all on the 172-band
grid, clean, box PSF, ratio 4, noise seed 0.

Usage::

    python benchmarks/method_ranking.py --msi oli4 --seeds 4 \\
        --options "" "variability=0.5&variants=3" "variability=0&variants=1"

Each cell is the mean PSNR (dB) over the seeds; the last column, the first method minus the
second, scene by scene.
"""

from __future__ import annotations

import argparse
import shlex
import sys

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--msi", default="oli4")
    parser.add_argument("--methods", default="cnmf,hysime-wiener-hybrid,mtf-glp-hpm", help="comma-separated baselines")
    parser.add_argument("--seeds", type=int, default=4, help="synthetic seeds per set of options")
    parser.add_argument("--first-seed", type=int, default=11, help="first synthetic seed (a training seed)")
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--options", nargs="+", default=[""], help="synthetic scene options, as in a scene name's query")
    args = parser.parse_args(argv)
    from s3rnet.baselines import get_method
    from s3rnet.data import AVIRIS_172, load_scene, load_split, split_region
    from s3rnet.data.synthetic_split import load_synthetic_split
    from s3rnet.degrade import simulate
    from s3rnet.metrics import psnr
    from s3rnet.training.sources import on_grid

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    low, high = load_synthetic_split().train_seeds
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if seeds.start < low or seeds.stop > high:
        raise SystemExit(f"seeds {seeds.start}-{seeds.stop - 1} leave the training range [{low}, {high})")

    def scores(scene) -> list[float]:
        simulation = simulate(scene.cube, scene.wavelengths, scene.fwhm, ratio=4, psf="box", msi=args.msi, seed=0)
        return [psnr(simulation.truth, get_method(name)(simulation.inputs())) for name in methods]

    ip = load_scene("indian_pines")
    rows = [("Indian Pines train region", [scores(on_grid(split_region(ip, "train", load_split("indian_pines")), AVIRIS_172))])]
    for options in args.options:
        for units in ("radiance", "reflectance"):
            names = [f"synthetic:{seed}?size={args.size}&grid=aviris-172&units={units}" + (f"&{options}" if options else "")
                     for seed in seeds]
            label = f"synthetic {units}, {options or 'defaults'} (seeds {seeds.start}-{seeds.stop - 1})"
            rows.append((label, [scores(load_scene(name)) for name in names]))
    print(f"Classical methods, {args.msi}, clean, 172-band grid, PSNR (dB); made with "
          f"`python benchmarks/method_ranking.py {shlex.join(argv if argv is not None else sys.argv[1:])}`.\n")
    print("| scenes | " + " | ".join(methods) + f" | {methods[0]} - {methods[1]} |")
    print("|---|" + "---:|" * len(methods) + "---|")
    for label, table in rows:
        table = np.asarray(table)
        differences = " ".join(f"{d:+.2f}" for d in table[:, 0] - table[:, 1])
        print(f"| {label} | " + " | ".join(f"{v:.2f}" for v in table.mean(axis=0)) + f" | {differences} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
