"""Time to score fused cubes (PSNR, SAM, RMSE, ERGAS, SSIM), as a markdown table.

The cubes are a tile of Indian Pines (rows and columns ``0:size``, 200 bands) and its fusions
by the fast baselines from the evaluation protocol's simulated inputs (OLI 4-band MSI, box PSF,
ratio 4, no noise). Three ways of scoring each fusion, against a reference measured in the same
run, a direct float64 computation of the five metrics with ``scipy.ndimage.gaussian_filter``
for SSIM's local statistics (five filters per fusion, the textbook way):

* ``evaluate_all``: a new :class:`s3rnet.metrics.Scorer` per call, what a one-off call costs;
* ``Scorer.score``: one scorer for the tile, its reference statistics already computed (what an
  evaluation costs per method after the first);
* the same inside ``Scorer.reusing_buffers``: the working arrays kept between calls (what
  ``evaluate_methods`` does).

The largest difference between the scorer's SSIM and the float64 reference's is printed, and
the memory the scorer keeps (its reference statistics and working arrays) in bytes per value
of the cube.

Usage::

    python benchmarks/bench_metrics.py --threads 2 --size 144 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import sys

from _harness import parse, timed, timing_parser, use_threads


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = timing_parser(__doc__, 5, "timed calls per row")
    parser.add_argument("--size", type=int, default=144, help="tile side in pixels (multiple of 4, 8 to 144)")
    args = parse(parser, argv)
    if not 8 <= args.size <= 144 or args.size % 4:
        parser.error("--size must be a multiple of 4 between 8 and 144")
    return args


def direct_float64_scores(reference, estimate, ratio: int = 4) -> dict[str, float]:
    """The five metrics straight from their definitions, in float64, with scipy's Gaussian filter."""
    import numpy as np
    from scipy import ndimage

    ref, est = reference.astype(np.float64), estimate.astype(np.float64)
    band_mse = np.mean(np.square(ref - est), axis=(0, 1))
    unit_ref = ref / np.linalg.norm(ref, axis=-1, keepdims=True)
    unit_est = est / np.linalg.norm(est, axis=-1, keepdims=True)
    angles = 2 * np.arctan2(np.linalg.norm(unit_ref - unit_est, axis=-1), np.linalg.norm(unit_ref + unit_est, axis=-1))

    def local_mean(image):
        return ndimage.gaussian_filter(image, 1.5, mode="mirror", radius=5, axes=(0, 1))

    data_range = ref.max(axis=(0, 1)) - ref.min(axis=(0, 1))
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_ref, mu_est = local_mean(ref), local_mean(est)
    var_ref = np.maximum(local_mean(ref * ref) - mu_ref**2, 0)
    var_est = np.maximum(local_mean(est * est) - mu_est**2, 0)
    covariance = local_mean(ref * est) - mu_ref * mu_est
    ssim_map = ((2 * mu_ref * mu_est + c1) * (2 * covariance + c2)) / (
        (mu_ref**2 + mu_est**2 + c1) * (var_ref + var_est + c2))
    return {
        "psnr": float(np.mean(10 * np.log10(ref.max(axis=(0, 1)) ** 2 / band_mse))),
        "sam": float(np.degrees(angles).mean()),
        "rmse": float(np.sqrt(band_mse.mean())),
        "ergas": float(100 / ratio * np.sqrt(np.mean(band_mse / ref.mean(axis=(0, 1)) ** 2))),
        "ssim": float(ssim_map.mean()),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_threads(args.threads)
    import numpy as np

    from s3rnet import metrics
    from s3rnet.baselines import METHODS
    from s3rnet.data import crop, load_scene
    from s3rnet.degrade import simulate

    scene = crop(load_scene("indian_pines"), (0, args.size), (0, args.size))
    simulation = simulate(scene.cube, scene.wavelengths, scene.fwhm, msi="oli4")
    truth = simulation.truth
    fusions = {name: METHODS[name](simulation.inputs()) for name in ("bicubic", "gsa", "mtf-glp-hpm")}

    reference, one_off, warm, buffered = [], [], [], []
    scorer = metrics.Scorer(truth)
    worst_ssim = 0.0
    for cube in fusions.values():
        reference += timed(lambda _: direct_float64_scores(truth, cube), args.repeats)[0]
        one_off += timed(lambda _: metrics.evaluate_all(truth, cube), args.repeats)[0]
        warm += timed(lambda _: scorer.score(cube), args.repeats)[0]
        with scorer.reusing_buffers():
            buffered += timed(lambda _: scorer.score(cube), args.repeats)[0]
        worst_ssim = max(worst_ssim, abs(scorer.evaluate(cube)["ssim"] - direct_float64_scores(truth, cube)["ssim"]))

    kept = scorer.nbytes
    with scorer.reusing_buffers():
        scorer.score(fusions["gsa"])
        working = scorer.nbytes - kept

    base = statistics.median(reference)
    print(f"Indian Pines {truth.shape[0]} x {truth.shape[1]} x {truth.shape[2]}; fusions: {', '.join(fusions)}; "
          f"{args.threads} thread(s); median of {args.repeats} call(s) per fusion after a warm-up\n")
    print("| scoring | median ms | reference | reference median ms | ratio |")
    print("|---|---:|---|---:|---:|")
    for name, seconds in (("evaluate_all (new scorer each call)", one_off), ("Scorer.score (statistics kept)", warm),
                          ("Scorer.score in reusing_buffers", buffered)):
        median = statistics.median(seconds)
        print(f"| {name} | {1000 * median:.1f} | direct float64 (scipy filters) | {1000 * base:.1f} | "
              f"{median / base:.2f} |")
    values = truth.size
    print(f"\nLargest SSIM difference from the float64 reference: {worst_ssim:.1e}")
    print(f"Memory kept by the scorer: {kept / values:.0f} bytes per cube value (reference statistics), "
          f"{working / values:.0f} more inside reusing_buffers (working arrays); the cube itself is "
          f"{np.dtype(truth.dtype).itemsize} bytes per value")
    return 0


if __name__ == "__main__":
    sys.exit(main())
