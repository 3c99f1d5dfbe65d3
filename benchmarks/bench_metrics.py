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
import os
import statistics
import sys
import time

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS and torch threads (default 2)")
    parser.add_argument("--size", type=int, default=144, help="tile side in pixels (multiple of 4, 8 to 144)")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per row (default 5)")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.repeats < 1:
        parser.error("--threads and --repeats must be at least 1")
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


def timed(function, repeats: int) -> list[float]:
    """Seconds of ``repeats`` calls after one untimed warm-up call."""
    function()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name in _THREAD_VARIABLES:
        os.environ[name] = str(args.threads)
    import numpy as np
    import torch

    from s3rnet import metrics
    from s3rnet.baselines import METHODS
    from s3rnet.data import crop, load_scene
    from s3rnet.degrade import simulate

    torch.set_num_threads(args.threads)
    scene = crop(load_scene("indian_pines"), (0, args.size), (0, args.size))
    simulation = simulate(scene.cube, scene.wavelengths, scene.fwhm, msi="oli4")
    truth = simulation.truth
    fusions = {name: METHODS[name](simulation.inputs()) for name in ("bicubic", "gsa", "mtf-glp-hpm")}

    reference, one_off, warm, buffered = [], [], [], []
    scorer = metrics.Scorer(truth)
    worst_ssim = 0.0
    for cube in fusions.values():
        reference += timed(lambda: direct_float64_scores(truth, cube), args.repeats)
        one_off += timed(lambda: metrics.evaluate_all(truth, cube), args.repeats)
        warm += timed(lambda: scorer.score(cube), args.repeats)
        with scorer.reusing_buffers():
            buffered += timed(lambda: scorer.score(cube), args.repeats)
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
