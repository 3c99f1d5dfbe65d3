"""``fuse`` with a checkpoint's ensemble partner on the whole pair and in overlapping windows, as markdown.

A pair larger than ``fuse``'s window (``--window``, 512 HR pixels by default) has its partner (CNMF
and its kin unmix what they are given as one) run in overlapping windows, each blended at the
share its own inputs give and faded into its neighbours. This script measures what that does to
the output on pairs with a ground truth: synthetic scenes of the validation seeds (never a test
seed), made on the checkpoint's grid, degraded by the evaluation protocol (box PSF, ratio 4, the
checkpoint's MSI, LR-HSI noise at ``--snr`` dB), written as two georeferenced GeoTIFFs and fused
by ``s3rnet.fuse.fuse_pair`` from the files, as a user would: the network alone
(``--network-alone``), blended with its partner on the whole pair, and blended in windows of each
side asked for. Rows: PSNR dB / SAM deg against the truth (means over the seeds), the number of
windows, and the wall time relative to the network alone, measured in the same run.

Usage::

    python benchmarks/fuse_windows.py --checkpoint lite-oli6 --size 384 --windows 192,128 --seeds 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default="lite-oli6", help="a checkpoint with an ensemble partner")
    parser.add_argument("--size", type=int, default=384, help="scene side in HR pixels, a multiple of 4 (default 384)")
    parser.add_argument("--windows", default="192", help="window sides to compare with the whole pair, comma-separated")
    parser.add_argument("--seeds", type=int, default=2, help="how many validation seeds (default 2)")
    parser.add_argument("--units", default="radiance", choices=("radiance", "reflectance"))
    parser.add_argument("--snr", type=float, default=35.0, help="LR-HSI SNR in dB (default 35)")
    parser.add_argument("--msi-response", default="checkpoint",
                        help="'checkpoint' (the true response, the checkpoint's) or what fuse accepts ('estimate', ...)")
    args = parser.parse_args(argv)
    from rasterio.crs import CRS
    from rasterio.transform import Affine

    from s3rnet.checkpoints import load_checkpoint
    from s3rnet.data.catalog import load_scene
    from s3rnet.data.synthetic_split import load_synthetic_split
    from s3rnet.degrade import simulate
    from s3rnet.fuse import fuse_pair
    from s3rnet.geo import open_image, write_image
    from s3rnet.inference import resolve_checkpoint
    from s3rnet.metrics import psnr, sam

    _, metadata = load_checkpoint(resolve_checkpoint(args.checkpoint))
    msi, grid = metadata["msi"]["name"], metadata["training"]["grid"]
    response = msi if args.msi_response == "checkpoint" else args.msi_response
    windows = [int(w) for w in args.windows.split(",")]
    runs = [("network alone", {"ensemble": False}), ("whole pair", {"window": args.size})]
    runs += [(f"windows of {w}", {"window": w}) for w in windows]
    seeds = load_synthetic_split().val_seeds[: args.seeds]
    scores: dict[str, list[tuple[float, float, float, int]]] = {name: [] for name, _ in runs}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for seed in seeds:
            scene = load_scene(f"synthetic:{seed}", size=args.size, grid=grid, units=args.units, artefacts=True)
            sim = simulate(scene.cube, scene.wavelengths, scene.fwhm, msi=msi, lrhsi_snr_db=args.snr, seed=0)
            crs = CRS.from_epsg(32616)
            lr = write_image(folder / "lr.tif", sim.lrhsi, transform=Affine(20.0, 0, 6e5, 0, -20.0, 45e5), crs=crs,
                             wavelengths=scene.wavelengths, fwhm=scene.fwhm, units=args.units)
            hr = write_image(folder / "hr.tif", sim.hrmsi, transform=Affine(5.0, 0, 6e5, 0, -5.0, 45e5), crs=crs,
                             units=args.units)
            for name, options in runs:
                start = time.perf_counter()
                result = fuse_pair(lr, hr, folder / "out.tif", checkpoint=args.checkpoint, msi_response=response,
                                   **options)
                seconds = time.perf_counter() - start
                fused = open_image(result.output).read()
                count = result.report["method"].get("ensemble", {}).get("windows", 1)
                scores[name].append((psnr(sim.truth, fused), sam(sim.truth, fused), seconds, count))
                print(f"seed {seed}, {name}: {scores[name][-1][0]:.3f} dB / {scores[name][-1][1]:.3f} deg, "
                      f"{seconds:.1f} s", file=sys.stderr, flush=True)
    reference = np.mean([s[2] for s in scores["network alone"]])
    print(f"{args.checkpoint} through `fuse` on synthetic validation seeds {', '.join(map(str, seeds))} ({args.units}, "
          f"{args.size} x {args.size} HR px, {grid}, MSI {msi}, response {response}, LR-HSI {args.snr:g} dB); "
          "PSNR dB / SAM deg, means over the seeds.\n")
    print("| partner | PSNR / SAM | windows | time vs network alone |")
    print("|---|---:|---:|---:|")
    for name, rows in scores.items():
        values = np.array(rows)
        print(f"| {name} | {values[:, 0].mean():.3f} / {values[:, 1].mean():.3f} | {int(values[0, 3])} | "
              f"{values[:, 2].mean() / reference:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
