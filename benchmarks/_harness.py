"""What the benchmark scripts share: their common options, the thread settings, the timer, and the
scenes, files and scores of the ``fuse`` studies."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

Output = TypeVar("Output")

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def timing_parser(doc: str, repeats: int, repeats_help: str) -> argparse.ArgumentParser:
    """An argument parser with ``--threads`` and ``--repeats``, described by a script's docstring."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS and torch threads (default 2)")
    parser.add_argument("--repeats", type=int, default=repeats, help=f"{repeats_help} (default {repeats})")
    return parser


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse ``argv``, refusing fewer than one thread or one repeat."""
    args = parser.parse_args(argv)
    if args.threads < 1 or args.repeats < 1:
        parser.error("--threads and --repeats must be at least 1")
    return args


def use_threads(count: int) -> None:
    """Give BLAS and torch ``count`` threads. Call it before anything imports NumPy: BLAS
    libraries read their thread count once, when they load."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(count)
    import torch

    torch.set_num_threads(count)


def timed(function: Callable[[int], Output], repeats: int) -> tuple[list[float], Output]:
    """Seconds of ``repeats`` calls ``function(i)`` after one untimed warm-up call with
    ``i = -1``, and the last call's output."""
    output = function(-1)
    seconds = []
    for index in range(repeats):
        start = time.perf_counter()
        output = function(index)
        seconds.append(time.perf_counter() - start)
    return seconds, output


def partner_study_parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser for a study of a network and its ensemble partner on a config's
    validation problems: ``--config``, ``--checkpoint``, ``--partner``, ``--snr``, ``--threads``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="training config whose validation problems are used")
    parser.add_argument("--checkpoint", required=True, help="its network is used alone (paths or published names)")
    parser.add_argument("--partner", default="pca-wiener-cnmf", help="a registered classical method")
    parser.add_argument("--snr", nargs="+", default=["clean", "35", "15"], help="LR-HSI SNRs (dB, or clean)")
    parser.add_argument("--threads", type=int, default=1)
    return parser


def partner_study(args: argparse.Namespace) -> tuple[list, Callable, Callable]:
    """The validation problems of ``args.config`` at ``args.snr``, the checkpoint's network alone
    and the partner (each called on ``FusionInputs``), with torch on ``args.threads`` threads."""
    import torch

    from s3rnet.baselines import get_method
    from s3rnet.inference import CheckpointMethod
    from s3rnet.training import load_config, training_grid, validation_problems

    torch.set_num_threads(args.threads)
    config = load_config(args.config, val_snr_db=[None if s == "clean" else float(s) for s in args.snr])
    problems, _ = validation_problems(config, training_grid(config))
    return problems, CheckpointMethod(args.checkpoint, device="cpu", ensemble=False), get_method(args.partner)


def selection_rows(results: Sequence[dict], first_cells: str = "") -> list[str]:
    """Markdown rows of selection scores (:func:`s3rnet.training.validate_all`'s dicts, one per
    checkpoint): the selection score, then each set's, PSNR / SAM, and each checkpoint's PSNR minus
    the first's when there are several; ``first_cells`` (e.g. ``"| 35 dB "``) opens every row."""
    rows = []
    picks = [("selection", lambda r: r)] + [(name, lambda r, n=name: r["sets"][n]) for name in results[0].get("sets", {})]
    for label, pick in picks:
        cells = " | ".join(f"{pick(r)['psnr']:.3f} / {pick(r)['sam']:.3f}" for r in results)
        differences = " ".join(f"{pick(r)['psnr'] - pick(results[0])['psnr']:+.3f}" for r in results[1:])
        rows.append(f"{first_cells}| {label} | {cells} |" + (f" {differences} |" if len(results) > 1 else ""))
    return rows


def add_fuse_study_options(parser: argparse.ArgumentParser, snr: str, seeds: int) -> None:
    """The options every ``fuse`` study takes: ``--snr`` (read with :func:`parse_snrs`), ``--seeds``
    and ``--size`` of the scenes of :func:`fuse_study_scenes`."""
    parser.add_argument("--snr", default=snr, help="LR-HSI SNRs in dB, comma-separated ('clean' for none)")
    parser.add_argument("--seeds", type=int, default=seeds, help=f"synthetic validation seeds per unit (default {seeds})")
    parser.add_argument("--size", type=int, default=128, help="synthetic scene side in HR pixels (default 128)")


def parse_snrs(text: str) -> list[float | None]:
    """``"clean,35,15"`` -> ``[None, 35.0, 15.0]``."""
    return [None if s.strip() == "clean" else float(s) for s in text.split(",")]


def fuse_study_scenes(seeds: int, size: int, ratio: int = 4) -> list[tuple[str, object]]:
    """The scenes of the ``fuse`` studies, validation data only: the Indian Pines val region and
    synthetic scenes of the first ``seeds`` validation seeds in radiance and in reflectance
    (``size`` x ``size``, on the Indian Pines band set), each cropped to a multiple of ``ratio``."""
    from s3rnet.data import crop_to_multiple, load_scene, split_region
    from s3rnet.data.synthetic_split import load_synthetic_split

    chosen = load_synthetic_split().val_seeds[:seeds]
    scenes = [("indian_pines:val", split_region(load_scene("indian_pines"), "val"))]
    scenes += [(f"synthetic {units}", load_scene(f"synthetic:{seed}", size=size, units=units))
               for units in ("radiance", "reflectance") for seed in chosen]
    return [(label, crop_to_multiple(scene, ratio)) for label, scene in scenes]


def simulate_study_pair(scene, msi: str, snr: float | None, ratio: int):
    """A ``fuse`` study's simulation of ``scene`` (the evaluation protocol: box PSF, ``ratio``, the
    LR-HSI at ``snr`` dB, None for clean, noise seed 0) with the MSI response ``msi``: a sensor name
    or a CSV table (then the HR-MSI is the table's; the LR-HSI does not depend on the MSI)."""
    import dataclasses

    from s3rnet.degrade import simulate, spectral_degrade
    from s3rnet.response import read_response_csv

    tabulated = msi.lower().endswith(".csv")
    sim = simulate(scene.cube, scene.wavelengths, scene.fwhm, msi="oli4" if tabulated else msi, ratio=ratio,
                   lrhsi_snr_db=np.inf if snr is None else snr, seed=0)
    if not tabulated:
        return sim
    srf = read_response_csv(msi, scene.wavelengths, scene.fwhm)[0]
    return dataclasses.replace(sim, hrmsi=spectral_degrade(sim.truth, srf), srf=srf)


def write_study_pair(folder, lrhsi, hrmsi, scene, ratio: int, keep=None) -> tuple:
    """``lrhsi`` and ``hrmsi`` written as two georeferenced GeoTIFFs (``lr.tif``, ``hr.tif``,
    UTM, 5 m HR pixels) with the scene's wavelengths (its bands ``keep`` only, when given)."""
    from rasterio.crs import CRS
    from rasterio.transform import Affine

    from s3rnet.geo import write_image

    keep = slice(None) if keep is None else keep
    crs = CRS.from_epsg(32616)
    lr = write_image(folder / "lr.tif", lrhsi, transform=Affine(5.0 * ratio, 0, 6e5, 0, -5.0 * ratio, 45e5), crs=crs,
                     wavelengths=scene.wavelengths[keep], fwhm=scene.fwhm[keep], units=scene.units)
    hr = write_image(folder / "hr.tif", hrmsi, transform=Affine(5.0, 0, 6e5, 0, -5.0, 45e5), crs=crs, units=scene.units)
    return lr, hr


def score_rows(scores: dict[str, dict[str, list[tuple[float, float]]]]) -> dict[str, tuple[np.ndarray, list]]:
    """For each run, its selection score (PSNR, SAM: the mean over the sets of each set's mean) and
    each set's mean, from ``scores[run][set] = [(psnr, sam), ...]``."""
    result = {}
    for run, by_set in scores.items():
        means = [np.mean(values, axis=0) for values in by_set.values()]
        result[run] = (np.mean(means, axis=0), means)
    return result
