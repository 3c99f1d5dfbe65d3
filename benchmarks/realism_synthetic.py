"""Synthetic scenes against Indian Pines: realism statistics and generation time, as markdown.

The statistics are those of :mod:`s3rnet.data.realism` (PCA eigenvalue decay, spectral-angle
spread, radially averaged spatial power spectrum slope, tail residual), for the whole Indian
Pines scene and for synthetic scenes of seeds ``0..N-1`` on its grid (200 bands, radiance, 144 x
144), as the mean and (min-max) over the seeds; synthetic scenes in reflectance and without
artefacts are shown too. The time to make one 144 x 144 x 200 scene is given against a GSA
fusion of the Indian Pines test region timed in the same run.

Usage::

    python benchmarks/realism_synthetic.py --threads 1 --seeds 10
"""

from __future__ import annotations

import statistics
import sys

from _harness import parse, timed, timing_parser, use_threads


def main(argv: list[str] | None = None) -> int:
    parser = timing_parser(__doc__, 5, "timed generations")
    parser.add_argument("--seeds", type=int, default=10, help="synthetic scenes per row (default 10)")
    args = parse(parser, argv)
    use_threads(args.threads)
    from s3rnet.baselines import get_method
    from s3rnet.data import load_scene, split_region
    from s3rnet.data.realism import realism_statistics, realism_table
    from s3rnet.data.synthetic import synthetic_scene
    from s3rnet.degrade import simulate

    real = load_scene("indian_pines")
    rows = {"Indian Pines (145 x 145, radiance)": realism_statistics(real)}
    kinds = {
        "synthetic, radiance": {},
        "synthetic, radiance, no artefacts": {"artefacts": False},
        "synthetic, reflectance": {"units": "reflectance"},
    }
    for label, options in kinds.items():
        rows[f"{label} (seeds 0-{args.seeds - 1})"] = [
            realism_statistics(synthetic_scene(seed, **options)) for seed in range(args.seeds)
        ]
    print(realism_table(rows))

    test = split_region(real, "test")
    inputs = simulate(test.cube, test.wavelengths, test.fwhm, msi="oli4").inputs()
    gsa_seconds, _ = timed(lambda i: get_method("gsa")(inputs), args.repeats)
    make_seconds, scene = timed(lambda i: synthetic_scene(1000 + i), args.repeats)
    gsa, make = statistics.median(gsa_seconds), statistics.median(make_seconds)
    print()
    print(f"| task ({args.threads} thread(s), median of {args.repeats}) | seconds | x GSA on the test region |")
    print("|---|---:|---:|")
    print(f"| GSA, Indian Pines test region (48 x 144 x 200) | {gsa:.3f} | 1.0 |")
    print(f"| one synthetic scene {'x'.join(map(str, scene.shape))} | {make:.3f} | {make / gsa:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
