"""Training S3RNet on fusion problems simulated on the fly from a scene's training region.

Each step draws ``batch_size`` ground-truth patches from the training region of the scene's
declared split, with a random flip and 90-degree rotation, and degrades each one as the
evaluation protocol does (:mod:`s3rnet.degrade`): blur and decimation by the configured PSF and
ratio, the configured MSI response, and optionally AWGN on the LR-HSI at an SNR drawn per patch.
Inputs are scaled by :class:`~s3rnet.degrade.InputNormalisation` fitted on each sample's two
inputs, and the loss (the paper's ``L1 + sam_weight * SAM``, or the authors' code's, ``loss``) is
computed in those normalised units. Adam runs
at ``lr`` with cosine annealing to 0 over ``steps``.

Every ``val_every`` steps the network fuses the whole validation region (simulated once, with a
fixed seed) and is scored with PSNR and SAM in the scene's units; the best weights so far are
kept as ``best.safetensors`` and the final ones as ``last.safetensors`` (see
:mod:`s3rnet.checkpoints`). The test region is never used.

Reproducibility: the initial weights come from torch's generator seeded with ``seed`` (in a
forked RNG, so the caller's global state is untouched); everything random afterwards (patch
positions, flips, rotations, SNRs, noise) comes from one NumPy generator seeded with ``seed``.
The training state (weights, Adam moments, scheduler, step, that generator) is saved every
``checkpoint_every`` steps as ``state.safetensors`` + ``state.json``, so that a run killed at any
moment and resumed ends with the same weights as an uninterrupted one (bitwise on the CPU).

Files in the output directory: ``config.json``, ``log.csv`` (step, loss, lr, val_psnr, val_sam,
seconds), ``state.safetensors/.json``, ``best.safetensors/.json``, ``last.safetensors/.json``.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import __version__
from .checkpoints import (
    FORMAT,
    FORMAT_VERSION,
    STATE_KIND,
    CheckpointError,
    atomic_write,
    check_architecture,
    checkpoint_metadata,
    read_pair,
    remove_stale_temporaries,
    save_checkpoint,
    write_pair,
)
from .data import Scene, load_scene, load_split, split_region
from .degrade import (
    MSI_RESPONSES,
    PSFS,
    NORMALISATIONS,
    SNR_REFERENCES,
    InputNormalisation,
    Simulation,
    add_awgn,
    simulate,
    spatial_degrade,
    spectral_degrade,
    spectral_response,
)
from .errors import ConfigError, S3RNetError
from .inference import ESTIMATES, autocast, classical_estimate, fuse_with_model, resolve_device
from .losses import LOSSES, spectral_angle, training_loss
from .metrics import psnr, sam
from .models import ARCHITECTURE_VERSION, ATTENTIONS, FUSIONS, S3RNet, build_model, list_presets

TRAIN_SKIPS = ("none", "bicubic", *ESTIMATES)
STATE_NAME = "state"
BEST_NAME = "best"
LAST_NAME = "last"
LOG_NAME = "log.csv"
CONFIG_NAME = "config.json"
LOG_COLUMNS = ("step", "loss", "lr", "val_psnr", "val_sam", "seconds")


class TrainingError(S3RNetError):
    """A run that cannot go on: diverged loss, an output directory holding another run."""


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; checked when constructed.

    Attributes
    ----------
    preset : str
        Model preset (:func:`s3rnet.models.list_presets`).
    scene : str
        Scene name; it must have a declared split (:func:`s3rnet.data.available_splits`).
    train_region, val_region : str
        Regions of that split to train on and to validate (select) on; never ``"test"``.
    msi : str
        MSI spectral response (:data:`s3rnet.degrade.MSI_RESPONSES`).
    psf : str
        Point spread function of the LR-HSI (:data:`s3rnet.degrade.PSFS`).
    ratio : int
        Spatial ratio.
    patch_size : int
        Side of the ground-truth patches, a multiple of ``ratio`` that fits the training region.
    batch_size : int
        Patches per step.
    steps : int
        Optimisation steps; the learning rate anneals to 0 over them.
    lr : float
        Initial Adam learning rate.
    sam_weight : float
        Weight of the mean spectral angle (radians) in the paper's loss ``L1 + sam_weight * SAM``.
    loss : {"paper", "authors"}
        ``"paper"``: ``L1 + sam_weight * SAM`` as the paper's text says; ``"authors"``: the loss of
        the authors' public code (:func:`s3rnet.losses.authors_loss`; ``sam_weight`` unused).
    noise_snr_db : (float, float) or None
        AWGN on the training LR-HSI at an SNR drawn uniformly in ``[low, high]`` dB per patch;
        None trains on noise-free inputs. ``[35, 35]`` with ``noise_reference="authors"``
        reproduces the authors' training.
    noise_reference : {"scene", "authors"}
        How those SNRs are measured (:func:`s3rnet.degrade.add_awgn`): on the patch in the
        scene's units, or as the authors' code does, on the patch mapped to [-1, 1] by its
        ground truth's minimum and maximum.
    val_snr_db : float or None
        SNR of the AWGN on the validation LR-HSI; None: noise-free.
    val_seed : int
        Seed of the validation noise (the validation problem is simulated once).
    val_every : int
        Validate every this many steps (and after the last one).
    checkpoint_every : int
        Save the training state every this many steps (and after the last one).
    seed : int
        Seed of the initial weights and of every random draw of the run.
    skip : {"none", "bicubic", "gsa", "mtf-glp-hpm"}
        Global skip (:class:`s3rnet.models.S3RNetConfig`): none (the paper), the bicubic
        upsampling of the LR-HSI, or a classical estimate (GSA, MTF-GLP-HPM) that the network
        corrects, computed on the normalised inputs of each sample.
    spectral_gain : float
        Strength of the spectral augmentation: each ground-truth patch is multiplied by a smooth
        random gain ``exp(g(lambda))`` (:func:`smooth_spectral_gain`) before it is degraded, with
        ``g`` of this standard deviation at a few wavelength knots; 0 turns it off. It teaches
        the network spectra it has not seen (other materials, illuminations, reflectance instead
        of radiance); the log-ratio of a reflectance to a radiance spectrum spans about -1.3 to
        +2.7 over 500-2400 nm.
    fusion : str
        ``"ssawb"`` (the paper) or ``"sum"`` (the ablation).
    normalisation : {"global", "band", "minmax"}
        Mode of the input-only normalisation (:class:`s3rnet.degrade.InputNormalisation`).
    attention : {"paper", "authors"}
        The SSAWB's attention (:class:`s3rnet.models.S3RNetConfig`).
    out_dir : str
        Output directory, when :func:`train` is given none.
    """

    preset: str = "lite"
    scene: str = "indian_pines"
    train_region: str = "train"
    val_region: str = "val"
    msi: str = "oli4"
    psf: str = "box"
    ratio: int = 4
    patch_size: int = 48
    batch_size: int = 4
    steps: int = 1000
    lr: float = 1e-4
    sam_weight: float = 0.1
    loss: str = "paper"
    noise_snr_db: tuple[float, float] | None = (35.0, 35.0)
    noise_reference: str = "scene"
    val_snr_db: float | None = None
    val_seed: int = 0
    val_every: int = 100
    checkpoint_every: int = 100
    seed: int = 0
    skip: str = "none"
    spectral_gain: float = 0.0
    fusion: str = "ssawb"
    normalisation: str = "global"
    attention: str = "paper"
    out_dir: str = "runs/train"

    def __post_init__(self) -> None:
        for name in ("ratio", "patch_size", "batch_size", "steps", "val_every", "checkpoint_every"):
            _require_int(name, getattr(self, name), minimum=1)
        for name in ("seed", "val_seed"):
            _require_int(name, getattr(self, name), minimum=0)
        choices = {
            "preset": list_presets(), "msi": MSI_RESPONSES, "psf": PSFS, "fusion": FUSIONS,
            "normalisation": NORMALISATIONS, "skip": TRAIN_SKIPS, "loss": LOSSES,
            "noise_reference": SNR_REFERENCES, "attention": ATTENTIONS,
        }
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigError(
                    f"key {name!r}: unknown value {value!r}; choose one of {', '.join(allowed)}"
                )
        for name in ("scene", "train_region", "val_region", "out_dir"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ConfigError(f"key {name!r}: expected a non-empty string, got {getattr(self, name)!r}")
        if _require_number("spectral_gain", self.spectral_gain) < 0:
            raise ConfigError(f"key 'spectral_gain': must be >= 0, got {self.spectral_gain!r}")
        if _require_number("lr", self.lr) <= 0:
            raise ConfigError(f"key 'lr': the learning rate must be > 0, got {self.lr!r}")
        if _require_number("sam_weight", self.sam_weight) < 0:
            raise ConfigError(f"key 'sam_weight': must be >= 0, got {self.sam_weight!r}")
        if self.val_snr_db is not None:
            _require_number("val_snr_db", self.val_snr_db)
        object.__setattr__(self, "noise_snr_db", _snr_range(self.noise_snr_db))
        if self.patch_size % self.ratio:
            raise ConfigError(
                f"key 'patch_size': {self.patch_size} is not a multiple of the ratio {self.ratio}"
            )
        self._check_regions()

    def _check_regions(self) -> None:
        for name in ("train_region", "val_region"):
            if getattr(self, name) == "test":
                raise ConfigError(f"key {name!r}: never train or select models on the test region")
        split = load_split(self.scene)
        (r0, r1), (c0, c1) = split.region(self.train_region)
        if self.patch_size > min(r1 - r0, c1 - c0):
            raise ConfigError(
                f"key 'patch_size': {self.patch_size} does not fit in the training region "
                f"{self.train_region!r} of {r1 - r0}x{c1 - c0} pixels"
            )
        (r0, r1), (c0, c1) = split.region(self.val_region)
        if (r1 - r0) % self.ratio or (c1 - c0) % self.ratio:
            raise ConfigError(
                f"key 'ratio': the validation region {self.val_region!r} ({r1 - r0}x{c1 - c0} "
                f"pixels) is not a multiple of the ratio {self.ratio}"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (the SNR range as a list)."""
        data = dataclasses.asdict(self)
        if data["noise_snr_db"] is not None:
            data["noise_snr_db"] = list(data["noise_snr_db"])
        return data

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed, checked again."""
        return dataclasses.replace(self, **changes)


def _require_int(name: str, value: Any, minimum: int) -> int:
    # bool is an int subclass, and "true" for a step count is a mistake worth reporting.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"key {name!r}: expected an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"key {name!r}: must be >= {minimum}, got {value}")
    return value


def _require_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"key {name!r}: expected a finite number, got {value!r}")
    return float(value)


def _snr_range(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ConfigError(
            f"key 'noise_snr_db': expected null or [low, high] in dB (e.g. [35, 35]), got {value!r}"
        )
    low, high = (_require_number("noise_snr_db", v) for v in value)
    if low > high:
        raise ConfigError(f"key 'noise_snr_db': low {low} is above high {high}")
    return (low, high)


def load_config(path: str | os.PathLike) -> TrainConfig:
    """Read and check a training config from a JSON file.

    Keys missing from the file take the defaults of :class:`TrainConfig`.

    Raises
    ------
    ConfigError
        Missing or unreadable file, invalid JSON, an unknown key, or an impossible value; the
        message names the file and the key.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a training config is a JSON object of keys and values")
    known = [f.name for f in dataclasses.fields(TrainConfig)]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; valid keys are {', '.join(known)}"
        )
    try:
        return TrainConfig(**data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingData:
    """The scene's training region, its MSI response, and the validation problem.

    Attributes
    ----------
    train : Scene
        Training region (ground truth patches are cut from it).
    srf : ndarray, shape (M, C)
        Spectral response of the configured MSI on the scene's bands.
    validation : Simulation
        The validation region, simulated once.
    split_version : int
    """

    train: Scene
    srf: np.ndarray
    validation: Simulation
    split_version: int


def prepare_data(config: TrainConfig) -> TrainingData:
    """Load the scene, cut the training and validation regions, simulate the validation inputs."""
    scene = load_scene(config.scene)
    split = load_split(config.scene)
    train_region = split_region(scene, config.train_region, split)
    val_region = split_region(scene, config.val_region, split)
    srf = spectral_response(config.msi, scene.wavelengths, scene.fwhm, n_bands=scene.bands)
    validation = simulate(
        val_region.cube, val_region.wavelengths, val_region.fwhm, ratio=config.ratio, psf=config.psf,
        msi=config.msi,
        lrhsi_snr_db=float("inf") if config.val_snr_db is None else config.val_snr_db,
        seed=config.val_seed,
    )
    return TrainingData(train_region, srf, validation, split.version)


def smooth_spectral_gain(
    wavelengths: np.ndarray, strength: float, rng: np.random.Generator, knots: int = 6
) -> np.ndarray:
    """A random gain curve ``exp(g(lambda))``, smooth across wavelength.

    ``g`` takes independent normal values of standard deviation ``strength`` at ``knots``
    wavelengths evenly spread over the cube's range (the first and last at its ends) and is
    interpolated linearly between them, so neighbouring bands get nearly the same gain.

    Parameters
    ----------
    wavelengths : ndarray, shape (C,)
        Band centres in nm, in any order.
    strength : float
        Standard deviation of ``g`` at the knots.
    rng : numpy.random.Generator
    knots : int

    Returns
    -------
    ndarray, shape (C,), float32
    """
    wavelengths = np.asarray(wavelengths, dtype=np.float64)
    positions = np.linspace(wavelengths.min(), wavelengths.max(), knots)
    values = rng.normal(0.0, strength, size=knots)
    return np.exp(np.interp(wavelengths, positions, values)).astype(np.float32)


def sample_batch(
    cube: np.ndarray,
    srf: np.ndarray,
    config: TrainConfig,
    rng: np.random.Generator,
    wavelengths: np.ndarray | None = None,
) -> tuple[np.ndarray, ...]:
    """Draw a batch of simulated fusion problems, normalised from their inputs alone.

    For each sample: a ``patch_size`` square at a random position of ``cube``, one of the 8
    flips / 90-degree rotations, a random smooth spectral gain when ``config.spectral_gain`` is
    set, then the degradation (PSF and ratio, MSI response, AWGN on the LR-HSI at an SNR drawn
    in ``noise_snr_db``), then :class:`InputNormalisation` fitted on the two inputs, which also
    scales the ground truth, and the classical estimate when the network corrects one.

    Parameters
    ----------
    cube : ndarray, shape (H, W, C)
        Training region.
    srf : ndarray, shape (M, C)
    config : TrainConfig
    rng : numpy.random.Generator
        Source of every draw.
    wavelengths : ndarray, shape (C,), optional
        Band centres; needed for the spectral gain (band indices are used without them).

    Returns
    -------
    lrhsi : ndarray, shape (B, C, p / r, p / r), float32
    hrmsi : ndarray, shape (B, M, p, p), float32
    truth : ndarray, shape (B, C, p, p), float32
    estimate : ndarray, shape (B, C, p, p), float32
        Only when ``config.skip`` names a classical estimate.
    """
    size = config.patch_size
    estimate = estimate_name(config.skip)
    axis = np.arange(cube.shape[-1], dtype=np.float64) if wavelengths is None else wavelengths
    samples: list[list[np.ndarray]] = []
    for _ in range(config.batch_size):
        row = int(rng.integers(0, cube.shape[0] - size + 1))
        col = int(rng.integers(0, cube.shape[1] - size + 1))
        patch = np.rot90(cube[row : row + size, col : col + size], k=int(rng.integers(4)), axes=(0, 1))
        if rng.integers(2):
            patch = patch[:, ::-1]
        patch = np.ascontiguousarray(patch)
        if config.spectral_gain > 0:
            patch = patch * smooth_spectral_gain(axis, config.spectral_gain, rng)
        low = spatial_degrade(patch, config.ratio, config.psf)
        if config.noise_snr_db is not None:
            noise = {"reference": config.noise_reference}
            if config.noise_reference == "authors":
                noise["truth_range"] = (float(patch.min()), float(patch.max()))
            low = add_awgn(low, float(rng.uniform(*config.noise_snr_db)), rng, **noise)
        high = spectral_degrade(patch, srf)
        scales = InputNormalisation.fit(low, high, config.normalisation)
        low, high = scales.normalise(low, high)
        sample = [low, high, scales.normalise_truth(patch)]
        if estimate is not None:
            sample.append(classical_estimate(estimate, low, high, config.ratio, config.psf))
        samples.append(sample)
    return tuple(
        np.stack(images).transpose(0, 3, 1, 2).astype(np.float32) for images in zip(*samples)
    )


# --------------------------------------------------------------------------------------------
# Model, validation
# --------------------------------------------------------------------------------------------


def seeded_model(config: TrainConfig, bands: int, msi_bands: int) -> S3RNet:
    """The configured network with initial weights fixed by ``config.seed``."""
    # The layers initialise themselves from torch's global generator; forking it lets the seed
    # decide the weights without changing the caller's global RNG state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return build_model(
            config.preset, bands, msi_bands, ratio=config.ratio, skip=model_skip(config.skip),
            fusion=config.fusion, attention=config.attention,
        )


def model_skip(skip: str) -> str:
    """The network's skip (``S3RNetConfig.skip``) for a training config's ``skip``."""
    return "estimate" if skip in ESTIMATES else skip


def estimate_name(skip: str) -> str | None:
    """The classical method a network trained with ``skip`` corrects, or None."""
    return skip if skip in ESTIMATES else None


def validate(
    model: S3RNet, simulation: Simulation, normalisation: str, device: torch.device, estimate: str | None = None
) -> dict[str, float]:
    """Fuse a simulated problem and score it in the scene's units (``estimate``: see
    :func:`s3rnet.inference.run_model`).

    Returns
    -------
    dict
        ``psnr`` (dB, mean of per-band PSNR with the reference band's maximum as peak) and
        ``sam`` (degrees).
    """
    cube = fuse_with_model(model, simulation.inputs(), normalisation, device, estimate)
    return {"psnr": psnr(simulation.truth, cube), "sam": sam(simulation.truth, cube)}


def _model_metadata(
    config: TrainConfig, model: S3RNet, data: TrainingData, steps: int, validation: dict | None
) -> dict[str, Any]:
    scene = data.train
    return checkpoint_metadata(
        preset=config.preset,
        model_config=dataclasses.asdict(model.config),
        wavelengths=scene.wavelengths,
        fwhm=scene.fwhm,
        msi=config.msi,
        srf=data.srf,
        psf=config.psf,
        ratio=config.ratio,
        normalisation=config.normalisation,
        training={
            "scene": config.scene,
            "region": config.train_region,
            "val_region": config.val_region,
            "split_version": data.split_version,
            "units": scene.units,
            "config": config.to_dict(),
        },
        steps=steps,
        validation=validation,
        estimate=estimate_name(config.skip),
    )


# --------------------------------------------------------------------------------------------
# Training state (resume)
# --------------------------------------------------------------------------------------------


def _rng_to_json(rng: np.random.Generator) -> dict[str, Any]:
    state = rng.bit_generator.state
    if state["bit_generator"] != "PCG64":
        raise TrainingError(
            f"cannot save the state of a {state['bit_generator']} generator; runs use PCG64"
        )
    # 128-bit integers: decimal strings, since many JSON readers hold numbers as doubles.
    return {
        "bit_generator": "PCG64",
        "state": str(state["state"]["state"]),
        "inc": str(state["state"]["inc"]),
        "has_uint32": int(state["has_uint32"]),
        "uinteger": int(state["uinteger"]),
    }


def _rng_from_json(data: dict[str, Any]) -> np.random.Generator:
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = {
        "bit_generator": data["bit_generator"],
        "state": {"state": int(data["state"]), "inc": int(data["inc"])},
        "has_uint32": int(data["has_uint32"]),
        "uinteger": int(data["uinteger"]),
    }
    return rng


def _resumable_config(config: TrainConfig) -> dict[str, Any]:
    # Where the files go does not change the run; everything else must match to resume.
    data = config.to_dict()
    del data["out_dir"]
    return data


@dataclass
class _Progress:
    """What a run carries from step to step besides the model and optimiser."""

    step: int = 0
    seconds: float = 0.0
    best: dict[str, Any] | None = None
    last_validation: dict[str, Any] | None = None


_STATE_KEYS = (
    "step", "seconds", "best", "last_validation", "config", "optimizer_param_groups", "scheduler", "rng",
)


def _save_state(
    out_dir: Path,
    config: TrainConfig,
    model: S3RNet,
    optimizer: torch.optim.Adam,
    scheduler: torch.optim.lr_scheduler.CosineAnnealingLR,
    rng: np.random.Generator,
    progress: _Progress,
) -> None:
    optimizer_state = optimizer.state_dict()
    tensors = {f"model.{name}": tensor for name, tensor in model.state_dict().items()}
    for index, moments in optimizer_state["state"].items():
        for key, tensor in moments.items():
            tensors[f"adam.{index}.{key}"] = tensor
    sidecar = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": STATE_KIND,
        "architecture_version": ARCHITECTURE_VERSION,
        "step": progress.step,
        "seconds": progress.seconds,
        "best": progress.best,
        "last_validation": progress.last_validation,
        "config": _resumable_config(config),
        "optimizer_param_groups": optimizer_state["param_groups"],
        "scheduler": scheduler.state_dict(),
        "rng": {"numpy": _rng_to_json(rng)},
        "code_version": __version__,
    }
    write_pair(out_dir / f"{STATE_NAME}.safetensors", tensors, sidecar)


def _load_state(
    out_dir: Path,
    config: TrainConfig,
    model: S3RNet,
    optimizer: torch.optim.Adam,
    scheduler: torch.optim.lr_scheduler.CosineAnnealingLR,
) -> tuple[np.random.Generator, _Progress]:
    path = out_dir / f"{STATE_NAME}.safetensors"
    tensors, sidecar = read_pair(path)
    if sidecar.get("kind") != STATE_KIND:
        raise CheckpointError(f"{path}: a {sidecar.get('kind')!r} file, not a training state")
    check_architecture(sidecar, path.with_suffix(".json"))
    missing = [key for key in _STATE_KEYS if key not in sidecar]
    if missing:
        raise CheckpointError(f"{path.with_suffix('.json')}: the training state lacks {missing}")
    saved, current = sidecar["config"], _resumable_config(config)
    changed = sorted(key for key in set(saved) | set(current) if saved.get(key) != current.get(key))
    if changed:
        details = "; ".join(f"{key}: {saved.get(key)!r} then, {current.get(key)!r} now" for key in changed)
        raise ConfigError(
            f"{path}: this run was started with another config ({details}); resume with the "
            f"same config, or train into a new directory"
        )
    weights = {name.removeprefix("model."): t for name, t in tensors.items() if name.startswith("model.")}
    moments: dict[int, dict[str, torch.Tensor]] = {}
    for name, tensor in tensors.items():
        if name.startswith("adam."):
            _, index, key = name.split(".")
            moments.setdefault(int(index), {})[key] = tensor
    groups = sidecar["optimizer_param_groups"]
    for group in groups:
        group["betas"] = tuple(group["betas"])  # JSON turned the tuple into a list
    try:
        model.load_state_dict(weights, strict=True)
        optimizer.load_state_dict({"state": moments, "param_groups": groups})
    except (RuntimeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{path}: the saved state does not fit this model ({exc})") from exc
    scheduler.load_state_dict(sidecar["scheduler"])
    progress = _Progress(
        step=int(sidecar["step"]), seconds=float(sidecar["seconds"]), best=sidecar["best"],
        last_validation=sidecar["last_validation"],
    )
    return _rng_from_json(sidecar["rng"]["numpy"]), progress


def _open_log(path: Path, keep_until: int | None) -> io.TextIOWrapper:
    """The CSV log opened for appending, one line at a time so that it can be watched live.

    A resumed run drops the rows after its saved step (it will do those steps again), and a
    last line cut short by a kill (fewer fields than the header).
    """
    if keep_until is not None and path.is_file():
        with path.open(newline="") as file:
            rows = [
                row for row in csv.DictReader(file)
                if None not in row.values() and int(row["step"]) <= keep_until
            ]
        text = io.StringIO()
        writer = csv.DictWriter(text, LOG_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write(path, text.getvalue().encode())
    else:
        path.write_text(",".join(LOG_COLUMNS) + "\n")
    return path.open("a", newline="", buffering=1)


# --------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    """What :func:`train` did.

    Attributes
    ----------
    out_dir : Path
    first_step : int
        Steps already done when this call started (0 unless resumed).
    step : int
        Steps done when it returned.
    finished : bool
        Whether ``step`` reached ``config.steps``.
    losses : list of float
        Training loss of each step of this call (steps ``first_step + 1`` to ``step``).
    validations : list of dict
        ``{"step", "psnr", "sam"}`` of each validation of this call.
    best : dict or None
        Best validation of the whole run (highest PSNR).
    seconds_per_step : float
        Mean time of one optimisation step in this call, validation and saving excluded.
    best_checkpoint, last_checkpoint : Path or None
        Weights files written so far.
    """

    out_dir: Path
    first_step: int
    step: int
    finished: bool
    losses: list[float] = field(default_factory=list)
    validations: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] | None = None
    seconds_per_step: float = float("nan")
    best_checkpoint: Path | None = None
    last_checkpoint: Path | None = None


@dataclass(frozen=True)
class Distributed:
    """This process's place in a data-parallel run (one process: rank 0 of 1).

    Every process draws the same global batch from the same generator and keeps its own
    contiguous share (:meth:`shard`); DDP averages the gradients, so the update is the one of the
    whole batch. Only rank 0 (:attr:`main`) validates and writes files.
    """

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_environment(cls, device: torch.device) -> tuple[Distributed, torch.device, bool]:
        """Join the process group that ``torchrun`` describes in the environment, if any.

        Returns the ranks, the device of this process (``cuda:LOCAL_RANK`` on GPUs) and whether
        this call created the group (and so must destroy it).
        """
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls(), device, False
        dist = torch.distributed
        created = not dist.is_initialized()
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
        if created:
            dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        return cls(dist.get_rank(), dist.get_world_size()), device, created

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        if self.world == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        device_ids = None if next(model.parameters()).device.type == "cpu" else [next(model.parameters()).device]
        return DistributedDataParallel(model, device_ids=device_ids)

    def shard(self, batch: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        share = len(batch[0]) // self.world
        return tuple(array[self.rank * share : (self.rank + 1) * share] for array in batch)

    def mean(self, value: float) -> float:
        """The mean of ``value`` over the processes (the loss of the global batch)."""
        if self.world == 1:
            return value
        total = torch.tensor([value], dtype=torch.float64)
        torch.distributed.all_reduce(total)
        return total.item() / self.world

    def barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()


def _optimisation_step(
    model: S3RNet,
    optimizer: torch.optim.Optimizer,
    batch: tuple[np.ndarray, ...],
    sam_weight: float,
    device: torch.device,
    loss_name: str = "paper",
) -> float:
    """One Adam step on a batch from :func:`sample_batch`; returns the loss."""
    lrhsi, hrmsi, truth, *estimate = (torch.from_numpy(array).to(device) for array in batch)
    extra = {"estimate": estimate[0]} if estimate else {}
    optimizer.zero_grad(set_to_none=True)
    with autocast(device):
        fused = model(lrhsi, hrmsi, **extra)
    # The loss in float32 whatever the autocast: L1 and acos lose too much in bf16.
    loss = training_loss(loss_name, fused.float(), truth, sam_weight)
    loss.backward()
    optimizer.step()
    return loss.item()


def train(
    config: TrainConfig,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = True,
    device: str | torch.device | None = None,
    max_steps_this_run: int | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Train S3RNet as configured, or continue an interrupted run.

    Started by ``torchrun --nproc_per_node N -m s3rnet train ...`` (``WORLD_SIZE`` > 1 in the
    environment), it runs data-parallel (:class:`Distributed`): every process draws the same
    global batch and trains on its share of it, so N processes follow the same trajectory as one
    process with the same ``batch_size``; process 0 validates, logs and saves.

    Parameters
    ----------
    config : TrainConfig
    out_dir : str or path, optional
        Output directory (created); ``config.out_dir`` by default.
    resume : bool
        Continue from ``out_dir/state.safetensors``: the same config (``steps`` included) must
        be given. A fresh run refuses a directory that already holds a training state.
    progress : bool
        Show a tqdm progress bar (loss, validation PSNR, ETA) on stderr.
    device : str or torch.device, optional
        ``"cpu"`` or ``"cuda"``; CUDA when available by default. CUDA runs in bf16 autocast.
    max_steps_this_run : int, optional
        Stop after this many steps (saving the state), so the run can be resumed later.
    callback : callable, optional
        Called after every step (by process 0) with ``{"step", "loss", "lr", "validation",
        "seconds"}``, ``validation`` being ``{"step", "psnr", "sam"}`` or None; for live plots.

    Returns
    -------
    TrainResult

    Raises
    ------
    ConfigError, CheckpointError, TrainingError
        Before the first step for anything wrong with the config, the data or the directory;
        ``TrainingError`` if the loss becomes NaN or infinite.
    """
    from tqdm.auto import tqdm

    ranks, device, own_group = Distributed.from_environment(resolve_device(device))
    try:
        return _train(config, out_dir, resume, progress, device, max_steps_this_run, callback, ranks, tqdm)
    finally:
        if own_group:
            torch.distributed.destroy_process_group()


def _train(config, out_dir, resume, progress, device, max_steps_this_run, callback, ranks, tqdm) -> TrainResult:
    if max_steps_this_run is not None:
        _require_int("max_steps_this_run", max_steps_this_run, minimum=1)
    if config.batch_size % ranks.world:
        raise ConfigError(
            f"key 'batch_size': {config.batch_size} patches cannot be shared by {ranks.world} processes"
        )
    out = Path(out_dir if out_dir is not None else config.out_dir)
    state_file = out / f"{STATE_NAME}.safetensors"
    if resume and not state_file.is_file():
        raise CheckpointError(f"{out}: no training state ({state_file.name}) to resume from")
    if not resume and state_file.is_file():
        raise TrainingError(
            f"{out} already holds a training run ({state_file.name}); resume it or choose another directory"
        )
    data = prepare_data(config)
    if ranks.main:
        out.mkdir(parents=True, exist_ok=True)

    model = seeded_model(config, data.train.bands, data.srf.shape[0]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.steps, eta_min=0.0)
    if resume:
        if ranks.main:
            remove_stale_temporaries(out)
        ranks.barrier()
        rng, state = _load_state(out, config, model, optimizer, scheduler)
    else:
        rng, state = np.random.default_rng(config.seed), _Progress()
        if ranks.main:
            atomic_write(out / CONFIG_NAME, (json.dumps(config.to_dict(), indent=2) + "\n").encode())
    trained = ranks.wrap(model)

    result = TrainResult(
        out, first_step=state.step, step=state.step, finished=state.step >= config.steps, best=state.best
    )
    stop = config.steps
    if max_steps_this_run is not None:
        stop = min(stop, state.step + max_steps_this_run)
    step_seconds = 0.0
    started = time.perf_counter() - state.seconds
    bar = tqdm(
        total=config.steps, initial=state.step, disable=not (progress and ranks.main), unit="step",
        desc="train", dynamic_ncols=True,
    )
    log_context = (
        _open_log(out / LOG_NAME, keep_until=state.step if resume else None) if ranks.main else contextlib.nullcontext()
    )
    with log_context as log, bar:
        writer = csv.writer(log, lineterminator="\n") if ranks.main else None
        model.train()
        while state.step < stop:
            tick = time.perf_counter()
            lr = optimizer.param_groups[0]["lr"]
            batch = sample_batch(data.train.cube, data.srf, config, rng, data.train.wavelengths)
            value = _optimisation_step(
                trained, optimizer, ranks.shard(batch), config.sam_weight, device, config.loss
            )
            value = ranks.mean(value)
            scheduler.step()
            step_seconds += time.perf_counter() - tick
            state.step += 1
            if not math.isfinite(value):
                raise TrainingError(
                    f"the training loss became {value} at step {state.step}; lower lr ({config.lr}) "
                    f"or check the data"
                )
            result.losses.append(value)
            if not ranks.main:
                continue

            scores = None
            if state.step % config.val_every == 0 or state.step == config.steps:
                scores = validate(model, data.validation, config.normalisation, device, estimate_name(config.skip))
                scores = {"step": state.step, **scores}
                result.validations.append(scores)
                state.last_validation = scores
                if state.best is None or scores["psnr"] > state.best["psnr"]:
                    state.best = scores
                    metadata = _model_metadata(config, model, data, state.step, scores)
                    save_checkpoint(out / BEST_NAME, model, metadata)
            last_psnr = "-" if state.last_validation is None else f"{state.last_validation['psnr']:.2f}"
            bar.set_postfix(loss=f"{value:.4f}", val_psnr=last_psnr, refresh=False)
            if state.step == config.steps:
                metadata = _model_metadata(config, model, data, state.step, state.last_validation)
                save_checkpoint(out / LAST_NAME, model, metadata)
            state.seconds = time.perf_counter() - started
            writer.writerow([
                state.step, repr(value), repr(lr),
                "" if scores is None else f"{scores['psnr']:.4f}",
                "" if scores is None else f"{scores['sam']:.4f}",
                f"{state.seconds:.3f}",
            ])
            if state.step % config.checkpoint_every == 0 or state.step == stop:
                # The log must reach the disk before the state that a resumed run trusts.
                log.flush()
                os.fsync(log.fileno())
                _save_state(out, config, model, optimizer, scheduler, rng, state)
            bar.update(1)
            if callback is not None:
                callback({"step": state.step, "loss": value, "lr": lr, "validation": scores, "seconds": state.seconds})
    ranks.barrier()

    result.step = state.step
    result.finished = state.step >= config.steps
    result.best = state.best
    if result.losses:
        result.seconds_per_step = step_seconds / len(result.losses)
    for name, attribute in ((BEST_NAME, "best_checkpoint"), (LAST_NAME, "last_checkpoint")):
        if (out / f"{name}.safetensors").is_file():
            setattr(result, attribute, out / f"{name}.safetensors")
    return result
