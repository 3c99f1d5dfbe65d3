"""The projection onto the inputs for a published checkpoint, its noise factor chosen on validation.

:func:`s3rnet.consistency.project_onto_inputs` moves a fused cube towards what reproduces its
inputs, as far as their estimated noise allows; ``k`` says how much the noise is weighed.
:func:`projection_scores` scores the checkpoint as published so far (its network, blended with its
ensemble partner when it has one) without projection and projected with each ``k`` of a grid, on a
config's validation problems (the same problems and selection score as training's model selection,
never a test region or test seed); :func:`choose_projection` keeps the best, no projection on a tie;
:func:`write_projection_checkpoint` copies the checkpoint with the choice in its sidecar
(``"projection"``), where :class:`s3rnet.inference.CheckpointMethod` reads it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..consistency import check_factor, lrhsi_noise_power, project_onto_inputs
from ..errors import ConfigError
from ..inference import CheckpointMethod
from ..metrics import psnr, sam
from .ensemble import copy_checkpoint_with
from .validation import ValidationProblem, selection_score

# Noise factors k tried, besides no projection (None).
PROJECTION_FACTORS = (1.0, 4.0, 16.0)
# Selection scores closer than this (dB) are a tie.
TIE_DB = 1e-4


def projection_scores(
    method: CheckpointMethod, problems: list[ValidationProblem], factors: tuple[float, ...] = PROJECTION_FACTORS,
) -> dict[float | None, dict]:
    """The selection score of a checkpoint's output without projection (key None) and projected
    with each noise factor.

    Parameters
    ----------
    method : CheckpointMethod
        The checkpoint as published so far; one that already projects is refused.
    problems : list of ValidationProblem
        From :func:`s3rnet.training.validation_problems`.
    factors : tuple of float
        The ``k`` tried, each > 0.

    Returns
    -------
    dict of (float or None) to dict
        For each choice, the score as :func:`s3rnet.training.validate_all` returns it.
    """
    if method.project or method.projection is not None:
        raise ConfigError(f"{method.metadata['source']} already projects its output; choose the projection of its source")
    by_choice: dict[float | None, dict[str, list[dict[str, float]]]] = {k: {} for k in (None, *factors)}
    for problem in problems:
        inputs = problem.simulation.inputs()
        fused = method(inputs)
        noise_power = lrhsi_noise_power(inputs)
        for factor in by_choice:
            cube = fused if factor is None else project_onto_inputs(fused, inputs, factor=factor, noise_power=noise_power)
            truth = problem.simulation.truth
            if problem.scored is not None:
                truth, cube = truth[..., problem.scored], cube[..., problem.scored]
            by_choice[factor].setdefault(problem.set, []).append({"psnr": psnr(truth, cube), "sam": sam(truth, cube)})
    return {k: selection_score(by_set) for k, by_set in by_choice.items()}


def choose_projection(scores: dict[float | None, dict]) -> float | None:
    """The factor of the highest selection score (PSNR); None (no projection) unless a projection
    scores higher, then the smallest factor of equal ones (within :data:`TIE_DB`: on clean inputs
    every factor gives the same cube up to rounding)."""
    if not scores:
        raise ConfigError("no projection was scored")
    best = max(score["psnr"] for score in scores.values())
    ordered = [*([None] if None in scores else []), *sorted(k for k in scores if k is not None)]
    return next(k for k in ordered if scores[k]["psnr"] >= best - TIE_DB)


def write_projection_checkpoint(source: str | os.PathLike, target: str | os.PathLike, projection: dict) -> Path:
    """Copy a model checkpoint to ``target`` with ``projection`` (``factor`` > 0 and how it was
    chosen: ``chosen_on``, ``scores``) in its sidecar; returns the new weights file."""
    check_factor(projection.get("factor"))
    return copy_checkpoint_with(source, target, "projection", dict(projection))


def projection_table(scores: dict[float | None, dict], chosen: float | None) -> list[str]:
    """Markdown rows of :func:`projection_scores`: each choice's selection score and each set's."""
    sets = list(next(iter(scores.values())).get("sets", {}))
    lines = ["| projection | selection PSNR / SAM | " + " | ".join(sets) + " |",
             "|---|---:|" + "---:|" * len(sets)]
    for k, score in scores.items():
        cells = [f"{score['sets'][name]['psnr']:.3f} / {score['sets'][name]['sam']:.3f}" for name in sets]
        label = "none" if k is None else f"k = {k:g}"
        mark = " (chosen)" if k == chosen else ""
        lines.append(f"| {label}{mark} | {score['psnr']:.3f} / {score['sam']:.3f} | " + " | ".join(cells) + " |")
    return lines


__all__ = ["PROJECTION_FACTORS", "choose_projection", "projection_scores", "projection_table", "write_projection_checkpoint"]
