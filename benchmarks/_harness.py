"""What the benchmark scripts share: their common options, the thread settings and the timer."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

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
