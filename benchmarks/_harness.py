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
