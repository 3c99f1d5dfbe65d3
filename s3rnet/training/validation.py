"""Model selection: fixed validation problems, simulated once, and the selection score.

Validation sets, each on the training grid:

* ``"<scene>:<val_region>"``: the validation region of the config's real scene;
* ``"synthetic:val"`` (``val_synthetic``): the validation seeds of the declared synthetic split
  (:mod:`s3rnet.data.synthetic_split`), never its test seeds.

Each scene is simulated at every SNR of ``val_snr_db`` (noise seeded with ``val_seed``).

**Selection score**: a set's PSNR (SAM) is the mean over its problems of the per-band-peak PSNR
(the spectral angle in degrees), computed on the bands that carry a measurement (bands filled
onto the grid are left out); the run's score is the mean over the sets, so that the real region
counts as much as the synthetic scenes together. The best weights are those of the highest score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data import SpectralGrid, filled_band_mask, load_scene, load_split, split_region
from ..data.synthetic_split import load_synthetic_split
from ..degrade import Simulation, simulate
from ..inference import fuse_with_model
from ..metrics import psnr, sam
from ..models import S3RNet
from .config import TrainConfig
from .sources import on_grid


@dataclass(frozen=True)
class ValidationProblem:
    """One simulated validation scene.

    Attributes
    ----------
    set : str
        The validation set it belongs to.
    name : str
        Scene (and SNR) it was simulated from.
    simulation : Simulation
    scored : ndarray of bool, shape (C,) or None
        Bands scored (None: all).
    """

    set: str
    name: str
    simulation: Simulation
    scored: np.ndarray | None = None


def validation_problems(config: TrainConfig, grid: SpectralGrid) -> tuple[list[ValidationProblem], int]:
    """The config's validation problems on ``grid``, and the version of the real scene's split."""
    split = load_split(config.scene)
    scenes = [(f"{config.scene}:{config.val_region}", on_grid(split_region(load_scene(config.scene), config.val_region, split), grid))]
    if config.val_synthetic:
        synthetic = load_synthetic_split()
        for name in synthetic.scene_names("val"):
            scenes.append(("synthetic:val", load_scene(name, grid=grid)))
    problems = []
    for set_name, scene in scenes:
        filled = filled_band_mask(scene)
        for snr in config.val_snrs:
            simulation = simulate(
                scene.cube, scene.wavelengths, scene.fwhm, ratio=config.ratio, psf=config.psf, msi=config.msi,
                lrhsi_snr_db=snr, seed=config.val_seed,
            )
            label = scene.name if np.isinf(snr) else f"{scene.name} at {snr:g} dB"
            problems.append(ValidationProblem(set_name, label, simulation, ~filled if filled.any() else None))
    return problems, split.version


def validate(
    model: S3RNet, simulation: Simulation, normalisation: str, device: torch.device, estimate: str | None = None,
    scored: np.ndarray | None = None,
) -> dict[str, float]:
    """Fuse one simulated problem and score it in the scene's units (``estimate``: see
    :func:`s3rnet.inference.run_model`; ``scored``: the bands scored, all by default).

    Returns
    -------
    dict
        ``psnr`` (dB, mean of per-band PSNR with the reference band's maximum as peak) and
        ``sam`` (degrees).
    """
    cube = fuse_with_model(model, simulation.inputs(), normalisation, device, estimate)
    truth = simulation.truth
    if scored is not None:
        truth, cube = truth[..., scored], cube[..., scored]
    return {"psnr": psnr(truth, cube), "sam": sam(truth, cube)}


def validate_all(
    model: S3RNet, problems: list[ValidationProblem], normalisation: str, device: torch.device, estimate: str | None = None
) -> dict:
    """The selection score over every validation problem (module docstring).

    Returns
    -------
    dict
        ``psnr``, ``sam`` (the score), and ``sets``: each set's ``psnr`` and ``sam`` when there
        is more than one set.
    """
    by_set: dict[str, list[dict[str, float]]] = {}
    for problem in problems:
        scores = validate(model, problem.simulation, normalisation, device, estimate, problem.scored)
        by_set.setdefault(problem.set, []).append(scores)
    return selection_score(by_set)


def selection_score(by_set: dict[str, list[dict[str, float]]]) -> dict:
    """The selection score of the scores of every validation problem, grouped by set.

    Parameters
    ----------
    by_set : dict of str to list of dict
        Each set's problems' ``psnr`` and ``sam``.

    Returns
    -------
    dict
        As :func:`validate_all`.
    """
    sets = {
        name: {key: float(np.mean([s[key] for s in scores])) for key in ("psnr", "sam")}
        for name, scores in by_set.items()
    }
    result = {key: float(np.mean([s[key] for s in sets.values()])) for key in ("psnr", "sam")}
    if len(sets) > 1:
        result["sets"] = sets
    return result
