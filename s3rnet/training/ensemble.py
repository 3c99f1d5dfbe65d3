"""An ensemble partner for a trained network, chosen on validation data.

The network's cube and a classical method's, blended as ``(1 - w) * network + w * method``
(:func:`s3rnet.inference.blend_outputs`), can beat both when their errors differ: on the
validation problems of ``configs/generalise-oli4-psnr.json`` the published ``lite-oli4``
scores 30.63 dB and HySime-Wiener-CNMF 29.75, their blend at w = 0.3 30.91 (docs/training.md).

:func:`ensemble_scores` scores every weight of a grid on a config's validation problems (the
same problems and selection score as training's model selection, never a test region or test
seed); :func:`choose_ensemble` keeps the best weight, the smallest on a tie, so that 0 (the
network alone) wins unless blending helps; :func:`write_ensemble_checkpoint` copies a checkpoint
with the choice in its sidecar, where :class:`s3rnet.inference.CheckpointMethod` reads it.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..baselines import get_method
from ..checkpoints import MODEL_KIND, CheckpointError, read_pair, weights_path, write_pair
from ..errors import ConfigError
from ..inference import ENSEMBLE_SHARES, blend_with_partner, fuse_with_model
from ..metrics import psnr, sam
from ..models import S3RNet
from .validation import ValidationProblem, selection_score

# Partner weights tried: the network alone, then up to an even blend in steps of 0.05.
ENSEMBLE_WEIGHTS = tuple(round(0.05 * i, 2) for i in range(11))


def ensemble_scores(
    model: S3RNet,
    problems: list[ValidationProblem],
    normalisation: str,
    partner: str,
    estimate: str | None = None,
    weights: tuple[float, ...] = ENSEMBLE_WEIGHTS,
    device: torch.device | None = None,
    share: str = "fixed",
) -> dict[float, dict]:
    """The selection score of the blend of a network and a classical method at each weight.

    Parameters
    ----------
    model : S3RNet
    problems : list of ValidationProblem
        From :func:`s3rnet.training.validation_problems`.
    normalisation : {"global", "band"}
        The checkpoint's input normalisation.
    partner : str
        A registered classical method (:data:`s3rnet.baselines.METHODS`).
    estimate : str, optional
        The classical estimate the network corrects (the checkpoint's ``"estimate"``).
    weights : tuple of float
        The partner's shares tried, each in [0, 1].
    device : torch.device, optional
        CPU by default.
    share : str
        How the share is set on each problem (:data:`s3rnet.inference.ENSEMBLE_SHARES`,
        :func:`s3rnet.inference.blend_with_partner`): the weight, or with a consistency share the
        weight as the floor of each problem's share (or each band's).

    Returns
    -------
    dict of float to dict
        For each weight, the score as :func:`s3rnet.training.validate_all` returns it.
    """
    method = get_method(partner)
    device = device or torch.device("cpu")
    by_weight: dict[float, dict[str, list[dict[str, float]]]] = {w: {} for w in weights}
    for problem in problems:
        inputs = problem.simulation.inputs()
        network = fuse_with_model(model, inputs, normalisation, device, estimate)
        other = method(inputs)
        truth = problem.simulation.truth
        if problem.scored is not None:
            truth = truth[..., problem.scored]
        for w in weights:
            cube, _ = blend_with_partner(network, other, inputs, {"method": partner, "weight": w, "share": share})
            if problem.scored is not None:
                cube = cube[..., problem.scored]
            by_weight[w].setdefault(problem.set, []).append({"psnr": psnr(truth, cube), "sam": sam(truth, cube)})
    return {w: selection_score(by_set) for w, by_set in by_weight.items()}


def choose_ensemble(scores: dict[float, dict]) -> float:
    """The weight of the highest selection score (PSNR), the smallest of equal ones.

    Parameters
    ----------
    scores : dict of float to dict
        From :func:`ensemble_scores`.
    """
    if not scores:
        raise ConfigError("no ensemble weights were scored")
    return max(sorted(scores), key=lambda w: scores[w]["psnr"])


def write_ensemble_checkpoint(
    source: str | os.PathLike, target: str | os.PathLike, ensemble: dict
) -> Path:
    """Copy a model checkpoint to ``target`` with ``ensemble`` in its sidecar.

    Parameters
    ----------
    source : str or path
        A model checkpoint (``NAME``, ``.safetensors`` or ``.json``).
    target : str or path
        Where the copy goes (a ``.safetensors`` path; its ``.json`` beside it).
    ensemble : dict
        ``method`` (a registered classical method), ``weight`` (in [0, 1]), optionally ``share``
        (:data:`s3rnet.inference.ENSEMBLE_SHARES`) and how they were chosen (``chosen_on``, ``scores``).

    Returns
    -------
    Path
        The new weights file.
    """
    get_method(ensemble["method"])
    if not 0.0 <= float(ensemble["weight"]) <= 1.0:
        raise ConfigError(f"an ensemble weight must lie in [0, 1], got {ensemble['weight']!r}")
    if ensemble.get("share", "fixed") not in ENSEMBLE_SHARES:
        raise ConfigError(f"an ensemble share must be one of {', '.join(ENSEMBLE_SHARES)}, got {ensemble['share']!r}")
    return copy_checkpoint_with(source, target, "ensemble", dict(ensemble))


def copy_checkpoint_with(source: str | os.PathLike, target: str | os.PathLike, key: str, value: dict) -> Path:
    """Copy a model checkpoint to ``target`` (beside it, not over it) with ``value`` under ``key``
    in its sidecar; returns the new weights file."""
    tensors, sidecar = read_pair(source)
    if sidecar.get("kind") != MODEL_KIND:
        raise CheckpointError(f"{weights_path(source)} is a {sidecar.get('kind')!r}, not a model checkpoint")
    if Path(weights_path(target)).resolve() == Path(weights_path(source)).resolve():
        raise ConfigError(f"{weights_path(target)}: write the new checkpoint beside its source, not over it")
    sidecar.pop("weights")
    sidecar[key] = value
    return write_pair(target, tensors, sidecar)


def ensemble_table(scores: dict[float, dict], chosen: float) -> list[str]:
    """Markdown rows of :func:`ensemble_scores`: each weight's selection score and each set's."""
    sets = list(next(iter(scores.values())).get("sets", {}))
    lines = ["| partner weight | selection PSNR / SAM | " + " | ".join(sets) + " |",
             "|---:|---:|" + "---:|" * len(sets)]
    for w, score in scores.items():
        cells = [f"{score['sets'][name]['psnr']:.3f} / {score['sets'][name]['sam']:.3f}" for name in sets]
        mark = " (chosen)" if w == chosen else ""
        lines.append(f"| {w:g}{mark} | {score['psnr']:.3f} / {score['sam']:.3f} | " + " | ".join(cells) + " |")
    return lines


__all__ = ["ENSEMBLE_WEIGHTS", "choose_ensemble", "copy_checkpoint_with", "ensemble_scores", "ensemble_table", "write_ensemble_checkpoint"]
