"""Checkpoints: safetensors weights with a JSON sidecar, written atomically, verified on load.

A checkpoint is two files side by side, ``NAME.safetensors`` (the tensors, nothing executable)
and ``NAME.json`` (everything needed to rebuild and use the network: the preset and full
:class:`~s3rnet.models.S3RNetConfig`, the bands and wavelength grid it was trained on, the MSI
response, PSF, ratio, input normalisation, training data and split, validation scores, code
version). The sidecar records the sha256, names, dtypes and shapes of the tensors, so that a
weights file and a sidecar that do not belong together are refused instead of silently producing
garbage.

Pickled PyTorch files (``torch.save``: ``.pt``, ``.pth``, ``.ckpt``) are never loaded: unpickling
runs arbitrary code.

The same paired format holds the training state used to resume a run (see
:mod:`s3rnet.training`), with ``"kind": "training-state"`` in its sidecar.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import __version__
from .errors import S3RNetError
from .estimates import ESTIMATES

FORMAT = "s3rnet-checkpoint"
FORMAT_VERSION = 1
MODEL_KIND = "model"
STATE_KIND = "training-state"

# Keys every model checkpoint sidecar holds, besides the format fields and "weights".
MODEL_KEYS = (
    "architecture_version", "preset", "model_config", "bands", "wavelengths_nm", "fwhm_nm", "msi", "psf", "ratio",
    "normalisation", "skip", "estimate", "training", "steps", "validation", "code_version",
)

_TEMP_SUFFIX = ".tmp"
# safetensors stores an 8-byte little-endian header length, then the JSON header.
_LENGTH_BYTES = 8
# Headers beyond this are not produced by any model of this package: treat as corrupt.
_MAX_HEADER_BYTES = 100 * 2**20
# Zip archives (torch.save since PyTorch 1.6) and pickles of protocol 2 to 5 (older torch.save).
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTOCOLS = (2, 3, 4, 5)
# Two wavelength grids whose band centres differ by more than this (nm) are different grids.
_WAVELENGTH_TOLERANCE_NM = 1.0
# How an ensemble's partner share is set (the sidecar's ``"ensemble"``): its weight on every scene,
# or that weight raised on each scene (or in each band of each scene, or in each band above the
# scene's raised share) as far as the inputs show that the partner explains them better
# (:func:`s3rnet.consistency.partner_share`).
ENSEMBLE_SHARES = ("fixed", "consistency", "band-consistency", "scene-band-consistency")


class CheckpointError(S3RNetError):
    """A checkpoint that cannot be used: not safetensors, corrupt, mismatched, or incompatible."""


# --------------------------------------------------------------------------------------------
# Atomic files
# --------------------------------------------------------------------------------------------


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is either its old content or all of ``data``.

    The bytes go to a temporary file in the same directory (``.NAME.XXXX.tmp``; same directory
    so that the final rename never crosses file systems), which is flushed to disk and then
    renamed over ``path`` with :func:`os.replace`. On any error the temporary file is removed.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # The rename itself lives in the directory entry; without this a power cut may forget it.
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_stale_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that a process killed inside :func:`atomic_write` left behind.

    Returns
    -------
    list of Path
        The files removed.
    """
    removed = []
    for candidate in Path(directory).glob(f".*{_TEMP_SUFFIX}"):
        if candidate.is_file():
            candidate.unlink()
            removed.append(candidate)
    return removed


# --------------------------------------------------------------------------------------------
# Paired files: NAME.safetensors + NAME.json
# --------------------------------------------------------------------------------------------


def weights_path(path: str | os.PathLike) -> Path:
    """The weights file of a checkpoint given as ``NAME``, ``NAME.safetensors`` or ``NAME.json``."""
    path = Path(path)
    if path.suffix == ".json" or (not path.suffix and not path.exists()):
        return path.with_suffix(".safetensors")
    return path


def sidecar_path(path: str | os.PathLike) -> Path:
    """The JSON sidecar beside a checkpoint's weights file."""
    return weights_path(path).with_suffix(".json")


def _dtype_name(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def write_pair(
    path: str | os.PathLike, tensors: Mapping[str, torch.Tensor], sidecar: Mapping[str, Any]
) -> Path:
    """Write tensors as safetensors and ``sidecar`` (plus their sha256 and layout) as JSON.

    The weights are written first and the sidecar last, each atomically, so that a sidecar on
    disk always describes a complete weights file; a process killed between the two leaves a
    sidecar whose sha256 no longer matches, which :func:`read_pair` reports.

    Parameters
    ----------
    path : str or path
        ``NAME`` or ``NAME.safetensors``.
    tensors : mapping of str to Tensor
        Copied to the CPU and made contiguous.
    sidecar : mapping
        JSON-serialisable metadata; the key ``"weights"`` is added.

    Returns
    -------
    Path
        The weights file.
    """
    from safetensors.torch import save

    target = weights_path(path)
    cpu = {name: tensor.detach().to("cpu").contiguous() for name, tensor in tensors.items()}
    data = save(cpu)
    layout = {name: {"dtype": _dtype_name(t), "shape": list(t.shape)} for name, t in sorted(cpu.items())}
    document = dict(sidecar)
    document["weights"] = {
        "file": target.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "tensors": layout,
    }
    text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    atomic_write(target, data)
    atomic_write(sidecar_path(target), text.encode())
    return target


def _parse_header(path: Path, data: bytes) -> dict[str, Any] | None:
    """The safetensors header of ``data``, or None when ``data`` does not start like one."""
    if len(data) < _LENGTH_BYTES:
        return None
    (length,) = struct.unpack("<Q", data[:_LENGTH_BYTES])
    if length > _MAX_HEADER_BYTES or data[_LENGTH_BYTES : _LENGTH_BYTES + 1] != b"{":
        return None
    if _LENGTH_BYTES + length > len(data):
        raise CheckpointError(
            f"{path}: truncated safetensors file: its header claims {length} bytes but the file "
            f"has only {len(data)} bytes"
        )
    try:
        header = json.loads(data[_LENGTH_BYTES : _LENGTH_BYTES + length])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: corrupt safetensors header ({exc})") from exc
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: corrupt safetensors header (not a JSON object)")
    return header


def _refuse_non_safetensors(path: Path, data: bytes) -> None:
    if data.startswith(_ZIP_MAGIC) or (len(data) > 1 and data[0] == 0x80 and data[1] in _PICKLE_PROTOCOLS):
        raise CheckpointError(
            f"{path}: refusing to unpickle a pickled PyTorch file (torch.save zip/pickle): "
            f"unpickling can run arbitrary code. Convert it to safetensors where you trust it "
            f"(safetensors.torch.save_file(torch.load(f, weights_only=True), 'NAME.safetensors'))"
        )
    raise CheckpointError(f"{path}: not a safetensors file (it does not start with a safetensors header)")


def _decode(path: Path, data: bytes) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file held in ``data``, checked for truncation first."""
    from safetensors.torch import load

    header = _parse_header(path, data)
    if header is None:
        _refuse_non_safetensors(path, data)
    (length,) = struct.unpack("<Q", data[:_LENGTH_BYTES])
    payload = len(data) - _LENGTH_BYTES - length
    ends = [
        entry["data_offsets"][1]
        for name, entry in header.items()
        if name != "__metadata__" and isinstance(entry, dict) and "data_offsets" in entry
    ]
    needed = max(ends, default=0)
    if needed > payload:
        raise CheckpointError(
            f"{path}: truncated safetensors file: the tensors need {needed} bytes of data, "
            f"the file holds {payload}"
        )
    try:
        return load(data)
    except Exception as exc:  # safetensors raises its own SafetensorError and others
        raise CheckpointError(f"{path}: corrupt safetensors file ({exc})") from exc


def _compare_layout(
    path: Path, sidecar: Path, recorded: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
) -> None:
    """Refuse when ``recorded`` (name -> dtype and shape) does not list exactly ``tensors``."""
    missing = sorted(set(recorded) - set(tensors))
    extra = sorted(set(tensors) - set(recorded))
    if missing or extra:
        raise CheckpointError(
            f"{sidecar} does not describe {path}: tensors listed in the sidecar but absent from "
            f"the weights: {missing[:5]}; tensors in the weights but not in the sidecar: {extra[:5]}"
        )
    for name, tensor in sorted(tensors.items()):
        expected = recorded[name]
        same_shape = list(tensor.shape) == list(expected.get("shape", []))
        if not same_shape or _dtype_name(tensor) != expected.get("dtype"):
            raise CheckpointError(
                f"{sidecar} does not describe {path}: tensor {name!r} is {_dtype_name(tensor)} "
                f"{list(tensor.shape)} in the weights but {expected.get('dtype')} "
                f"{expected.get('shape')} in the sidecar"
            )


def read_pair(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read and verify a ``NAME.safetensors`` + ``NAME.json`` pair.

    Parameters
    ----------
    path : str or path
        ``NAME``, ``NAME.safetensors`` or ``NAME.json``.

    Returns
    -------
    tensors : dict of str to Tensor
        On the CPU.
    sidecar : dict
        The parsed JSON sidecar.

    Raises
    ------
    CheckpointError
        A missing file; a pickled PyTorch file or anything else that is not safetensors; a
        truncated or corrupt file; a missing or unreadable sidecar; a sidecar whose sha256,
        tensor names, dtypes or shapes differ from the weights. The message names the file.
    """
    target = weights_path(path)
    if not target.is_file():
        raise CheckpointError(f"{target}: no such checkpoint file")
    data = target.read_bytes()
    tensors = _decode(target, data)
    sidecar_file = target.with_suffix(".json")
    if not sidecar_file.is_file():
        raise CheckpointError(
            f"{target}: its sidecar {sidecar_file.name} is missing; a checkpoint is NAME.safetensors "
            f"plus NAME.json, and the weights alone do not say what network and data they are for"
        )
    try:
        sidecar = json.loads(sidecar_file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{sidecar_file}: not valid JSON ({exc})") from exc
    if not isinstance(sidecar, dict) or sidecar.get("format") != FORMAT:
        raise CheckpointError(
            f"{sidecar_file}: not an s3rnet checkpoint sidecar (no \"format\": \"{FORMAT}\")"
        )
    version = sidecar.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{sidecar_file}: checkpoint format version {version!r}; this s3rnet "
            f"({__version__}) reads versions up to {FORMAT_VERSION}"
        )
    recorded = sidecar.get("weights")
    if not isinstance(recorded, dict) or not isinstance(recorded.get("tensors"), dict):
        raise CheckpointError(f"{sidecar_file}: the sidecar has no \"weights\" section (sha256, tensors)")
    digest = hashlib.sha256(data).hexdigest()
    if recorded.get("sha256") != digest:
        raise CheckpointError(
            f"{sidecar_file} does not match {target}: the sidecar records sha256 "
            f"{recorded.get('sha256')}, the weights file has {digest} (modified weights, or a "
            f"sidecar from another checkpoint)"
        )
    _compare_layout(target, sidecar_file, recorded["tensors"], tensors)
    return tensors, sidecar


# --------------------------------------------------------------------------------------------
# Model checkpoints
# --------------------------------------------------------------------------------------------


def checkpoint_metadata(
    *,
    preset: str,
    model_config: Mapping[str, Any],
    wavelengths: np.ndarray | None,
    fwhm: np.ndarray | None,
    msi: str,
    srf: np.ndarray,
    psf: str,
    ratio: int,
    normalisation: str,
    training: Mapping[str, Any],
    steps: int,
    validation: Mapping[str, Any] | None,
    estimate: str | None = None,
) -> dict[str, Any]:
    """The sidecar content of a model checkpoint (see :data:`MODEL_KEYS`).

    Parameters
    ----------
    preset : str
        Preset the network was built from.
    model_config : mapping
        Every field of its :class:`~s3rnet.models.S3RNetConfig`.
    wavelengths, fwhm : ndarray, shape (C,), optional
        Band centres and widths (nm) of the training scene.
    msi : str
        Name of the MSI spectral response.
    srf : ndarray, shape (M, C)
        That response on the training bands.
    psf : str
        Point spread function of the simulated LR-HSI.
    ratio : int
        Spatial ratio.
    normalisation : {"global", "band"}
        Input normalisation mode (:class:`~s3rnet.degrade.InputNormalisation`).
    training : mapping
        Training data and split (scene, region, split version...) and the training config.
    steps : int
        Optimisation steps behind these weights.
    validation : mapping, optional
        Validation scores of these weights.
    estimate : str, optional
        The classical method whose estimate the network corrects (skip ``"estimate"``).
    """
    from .models import ARCHITECTURE_VERSION

    srf = np.asarray(srf, dtype=np.float64)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": MODEL_KIND,
        "architecture_version": ARCHITECTURE_VERSION,
        "preset": preset,
        "model_config": dict(model_config),
        "bands": int(model_config["bands"]),
        "wavelengths_nm": None if wavelengths is None else np.asarray(wavelengths, dtype=float).tolist(),
        "fwhm_nm": None if fwhm is None else np.asarray(fwhm, dtype=float).tolist(),
        "msi": {"name": msi, "bands": int(srf.shape[0]), "response": srf.tolist()},
        "psf": psf,
        "ratio": int(ratio),
        "normalisation": normalisation,
        "skip": model_config.get("skip", "none"),
        "estimate": estimate,
        "training": dict(training),
        "steps": int(steps),
        "validation": None if validation is None else dict(validation),
        "code_version": __version__,
    }


def save_checkpoint(path: str | os.PathLike, model: torch.nn.Module, metadata: Mapping[str, Any]) -> Path:
    """Save a model's weights and its metadata as ``NAME.safetensors`` + ``NAME.json``, atomically.

    Parameters
    ----------
    path : str or path
        ``NAME`` or ``NAME.safetensors``.
    model : S3RNet
    metadata : mapping
        From :func:`checkpoint_metadata`.

    Returns
    -------
    Path
        The weights file.
    """
    missing = [key for key in MODEL_KEYS if key not in metadata]
    if missing:
        raise CheckpointError(
            f"{weights_path(path)}: metadata lacks {missing}; build it with checkpoint_metadata()"
        )
    return write_pair(path, model.state_dict(), metadata)


def load_checkpoint(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild the network of a checkpoint and load its weights, after verifying the files.

    Parameters
    ----------
    path : str or path
        ``NAME``, ``NAME.safetensors`` or ``NAME.json``.
    device : str or torch.device
        Where to put the model.

    Returns
    -------
    model : S3RNet
        In eval mode.
    metadata : dict
        The sidecar (see :func:`checkpoint_metadata`), plus ``"source"``: the weights file.

    Raises
    ------
    CheckpointError
        Everything :func:`read_pair` refuses; a training state instead of a model; a sidecar
        lacking keys or whose model configuration does not fit the weights.
    """
    from .models import S3RNet, S3RNetConfig

    target = weights_path(path)
    tensors, metadata = read_pair(target)
    sidecar_file = target.with_suffix(".json")
    if metadata.get("kind") != MODEL_KIND:
        raise CheckpointError(
            f"{target} is a {metadata.get('kind')!r}, not a model checkpoint (to continue a run, "
            f"use s3rnet.training.train(..., resume=True))"
        )
    check_architecture(metadata, sidecar_file)
    missing = [key for key in MODEL_KEYS if key not in metadata]
    if missing:
        raise CheckpointError(f"{sidecar_file}: the sidecar lacks {missing}")
    try:
        model = S3RNet(S3RNetConfig(**metadata["model_config"]))
    except (S3RNetError, TypeError) as exc:
        raise CheckpointError(f"{sidecar_file}: invalid model_config ({exc})") from exc
    if model.config.skip == "estimate" and metadata["estimate"] not in ESTIMATES:
        raise CheckpointError(
            f"{sidecar_file}: the model corrects a classical estimate, but the sidecar names "
            f"{metadata['estimate']!r}, not one of {', '.join(ESTIMATES)}"
        )
    _check_ensemble(metadata.get("ensemble"), sidecar_file)
    _check_projection(metadata.get("projection"), sidecar_file)
    expected = model.state_dict()
    _compare_layout(target, sidecar_file, {
        name: {"dtype": _dtype_name(t), "shape": list(t.shape)} for name, t in expected.items()
    }, tensors)
    model.load_state_dict(tensors, strict=True)
    metadata["source"] = str(target)
    return model.to(device).eval(), metadata


def _check_ensemble(ensemble: Any, sidecar_file: Path) -> None:
    """Refuse an ``"ensemble"`` entry that does not name a registered classical method and a
    weight in [0, 1] (see :func:`s3rnet.inference.blend_outputs`)."""
    if ensemble is None:
        return
    from .baselines import METHODS

    weight = ensemble.get("weight") if isinstance(ensemble, Mapping) else None
    method = ensemble.get("method") if isinstance(ensemble, Mapping) else None
    share = ensemble.get("share", "fixed") if isinstance(ensemble, Mapping) else None
    if (method not in METHODS or not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 <= weight <= 1
            or share not in ENSEMBLE_SHARES):
        raise CheckpointError(
            f"{sidecar_file}: its ensemble must name one of {', '.join(METHODS)}, a weight in [0, 1] and, "
            f"when it has one, a share among {', '.join(ENSEMBLE_SHARES)}; got {ensemble!r}"
        )


def _check_projection(projection: Any, sidecar_file: Path) -> None:
    """Refuse a ``"projection"`` entry without a noise factor > 0 (see
    :func:`s3rnet.consistency.project_onto_inputs`)."""
    if projection is None:
        return
    factor = projection.get("factor") if isinstance(projection, Mapping) else None
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not factor > 0 or factor == float("inf"):
        raise CheckpointError(f"{sidecar_file}: its projection must give a finite factor > 0, got {projection!r}")


def check_architecture(metadata: Mapping[str, Any], where: str | os.PathLike) -> None:
    """Refuse weights written for another wiring of the network than this code's.

    Parameters
    ----------
    metadata : mapping
        A model checkpoint's or training state's sidecar; a sidecar without
        ``"architecture_version"`` was written before versions were recorded (version 1).
    where : str or path
        The sidecar, named in the message.

    Raises
    ------
    CheckpointError
        For any version but :data:`~s3rnet.models.ARCHITECTURE_VERSION`, saying why it cannot be
        converted.
    """
    from .models import ARCHITECTURE_VERSION

    version = metadata.get("architecture_version", 1)
    if version == ARCHITECTURE_VERSION:
        return
    if version == 1:
        raise CheckpointError(
            f"{where}: these weights were written before 2026-11-30 (architecture version 1), when "
            f"the V and Z branches had their inputs swapped: V read Cat(up(X_h), X_m) at the high "
            f"resolution and Z read Cat(X_h, down(X_m)) at the low one. They cannot be converted: "
            f"V feeds the SSAWB's value projection and Z receives its output, so the learned roles "
            f"differ, not only the names. Retrain with this version of s3rnet "
            f"(python -m s3rnet train CONFIG)."
        )
    raise CheckpointError(
        f"{where}: architecture version {version!r}; this s3rnet ({__version__}) builds version "
        f"{ARCHITECTURE_VERSION}"
    )


def usable_ratios(metadata: Mapping[str, Any]) -> tuple[int, ...]:
    """The spatial ratios a checkpoint may fuse at: the one it was trained for, then those at
    which it was validated (its sidecar's ``"ratios"``, :func:`s3rnet.training.ratio_scores`)."""
    validated = (metadata.get("ratios") or {}).get("validated", [])
    return tuple(dict.fromkeys([int(metadata["ratio"]), *(int(r) for r in validated)]))


def check_compatible(
    metadata: Mapping[str, Any],
    bands: int | None = None,
    msi: str | None = None,
    *,
    wavelengths: np.ndarray | None = None,
    ratio: int | None = None,
    what: str = "this scene",
) -> None:
    """Refuse to apply a checkpoint to data it was not trained for.

    Parameters
    ----------
    metadata : mapping
        From :func:`load_checkpoint`.
    bands : int, optional
        Bands C of the LR-HSI.
    msi : str, optional
        Name of the MSI response of the HR-MSI.
    wavelengths : ndarray, shape (C,), optional
        Band centres (nm) of the LR-HSI; compared band by band (1 nm tolerance) when the
        checkpoint records its own.
    ratio : int, optional
        Spatial ratio between the two images: the checkpoint's own or one it was validated at
        (:func:`usable_ratios`).
    what : str
        How to call the data in the message.

    Raises
    ------
    CheckpointError
        Naming the checkpoint, what it was trained for and what the data has.
    """
    name = metadata.get("source", "checkpoint")
    trained_msi = metadata["msi"]["name"]
    trained_bands = int(metadata["bands"])
    wrong_bands = bands is not None and bands != trained_bands
    if wrong_bands or (msi is not None and msi != trained_msi):
        hint = ""
        if wrong_bands:
            hint = "; resample the scene onto the checkpoint's grid (s3rnet.data.resample)"
        raise CheckpointError(
            f"checkpoint {name} was trained for {trained_bands} bands and MSI {trained_msi!r}; "
            f"{what} has {trained_bands if bands is None else bands} bands / MSI "
            f"{trained_msi if msi is None else msi!r}{hint}"
        )
    if ratio is not None and ratio not in usable_ratios(metadata):
        others = [r for r in usable_ratios(metadata) if r != int(metadata["ratio"])]
        also = f" and validated at ratio {', '.join(map(str, others))}" if others else ""
        raise CheckpointError(
            f"checkpoint {name} was trained for ratio {metadata['ratio']}{also}; {what} has ratio {ratio} "
            f"(python -m s3rnet ratios validates a checkpoint at other ratios)"
        )
    recorded = metadata.get("wavelengths_nm")
    if wavelengths is not None and recorded is not None:
        wavelengths = np.asarray(wavelengths, dtype=float)
        recorded = np.asarray(recorded, dtype=float)
        if wavelengths.shape != recorded.shape:
            raise CheckpointError(
                f"checkpoint {name} was trained on {recorded.size} wavelengths; {what} has "
                f"{wavelengths.size}; resample the scene onto the checkpoint's grid (s3rnet.data.resample)"
            )
        gap = np.abs(wavelengths - recorded)
        band = int(gap.argmax())
        if gap[band] > _WAVELENGTH_TOLERANCE_NM:
            raise CheckpointError(
                f"checkpoint {name} was trained on other wavelengths than {what}'s (band {band}: "
                f"{recorded[band]:.1f} nm in the checkpoint, {wavelengths[band]:.1f} nm here); "
                f"resample the scene onto the checkpoint's grid (s3rnet.data.resample)"
            )


def publish_checkpoint(
    source: str | os.PathLike, target: str | os.PathLike, published: Mapping[str, Any]
) -> Path:
    """Copy a verified checkpoint to ``target`` with a ``"published"`` section in its sidecar.

    Parameters
    ----------
    source : str or path
        A model checkpoint (``NAME``, ``.safetensors`` or ``.json``), verified on reading.
    target : str or path
        ``assets/weights/NAME`` for a checkpoint loadable by name.
    published : mapping
        What a user should know before trusting the weights: how they were trained (time,
        machine), and their scores with the commands that reproduce them.

    Returns
    -------
    Path
        The new weights file.
    """
    tensors, sidecar = read_pair(source)
    if sidecar.get("kind") != MODEL_KIND:
        raise CheckpointError(f"{weights_path(source)} is a {sidecar.get('kind')!r}, not a model checkpoint")
    sidecar.pop("weights")
    sidecar["published"] = dict(published)
    weights_path(target).parent.mkdir(parents=True, exist_ok=True)
    return write_pair(target, tensors, sidecar)
