"""Run time of the classical baselines on a tile of Indian Pines, as a markdown table.

The tile is rows and columns ``0:size`` of the 200-band scene, fused from the evaluation
protocol's simulated inputs (OLI 4-band MSI, box PSF, ratio 4, no noise). Bicubic is timed in
the same run and serves as the unit of the ratio column; PSNR (dB, per-band peak) and SAM
(degrees) against the tile are printed as a sanity check.

Usage::

    python benchmarks/bench_baselines.py --threads 2 --size 144 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys

from _harness import parse, timed, timing_parser, use_threads


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = timing_parser(__doc__, 3, "timed runs per method")
    parser.add_argument("--size", type=int, default=144, help="tile side in pixels (multiple of 4, <= 144)")
    parser.add_argument("--msi", default="oli4", help="MSI response of the simulation (default oli4)")
    args = parse(parser, argv)
    if not 4 <= args.size <= 144 or args.size % 4:
        parser.error("--size must be a multiple of 4 between 4 and 144")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_threads(args.threads)
    from s3rnet import metrics
    from s3rnet.baselines import METHOD_INFO, METHODS
    from s3rnet.data import crop, load_scene
    from s3rnet.degrade import simulate

    tile = crop(load_scene("indian_pines"), (0, args.size), (0, args.size))
    simulation = simulate(tile.cube, tile.wavelengths, tile.fwhm, msi=args.msi, psf="box", ratio=4)
    inputs = simulation.inputs()

    rows = []
    for name, method in METHODS.items():
        seconds, output = timed(lambda _: method(inputs), args.repeats)
        rows.append((name, statistics.median(seconds), min(seconds), output))
    reference = rows[0][1]

    shape = "x".join(str(n) for n in simulation.truth.shape)
    print(
        f"Indian Pines rows/cols 0:{args.size} ({shape}), {args.msi}, box PSF, ratio 4; "
        f"{args.threads} thread(s), median of {args.repeats} run(s) after a warm-up\n"
    )
    print("| method | median s | min s | x bicubic | PSNR dB | SAM deg |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, median, fastest, output in rows:
        print(
            f"| {METHOD_INFO[name].label} | {median:.3f} | {fastest:.3f} | {median / reference:.1f} "
            f"| {metrics.psnr(simulation.truth, output):.2f} | {metrics.sam(simulation.truth, output):.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
