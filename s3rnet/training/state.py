"""A run's state on disk, so that a run killed at any moment resumes exactly.

The training state (weights, Adam moments, scheduler, step, the run's NumPy generator) is saved
as ``state.safetensors`` + ``state.json`` (:mod:`s3rnet.checkpoints`); every random draw of a
run comes from that generator (patches, sources, synthetic seeds, noise), so a resumed run ends
with the same weights as an uninterrupted one (bitwise on the CPU). The CSV log is cut back to
the saved step on resume.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__
from ..checkpoints import FORMAT, FORMAT_VERSION, STATE_KIND, CheckpointError, atomic_write, check_architecture, read_pair, write_pair
from ..errors import ConfigError, S3RNetError
from ..models import ARCHITECTURE_VERSION, S3RNet
from .config import TrainConfig

STATE_NAME = "state"
BEST_NAME = "best"
LAST_NAME = "last"
LOG_NAME = "log.csv"
CONFIG_NAME = "config.json"
LOG_COLUMNS = ("step", "loss", "lr", "val_psnr", "val_sam", "seconds")


class TrainingError(S3RNetError):
    """A run that cannot go on: diverged loss, an output directory holding another run."""


def rng_to_json(rng: np.random.Generator) -> dict[str, Any]:
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


def rng_from_json(data: dict[str, Any]) -> np.random.Generator:
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = {
        "bit_generator": data["bit_generator"],
        "state": {"state": int(data["state"]), "inc": int(data["inc"])},
        "has_uint32": int(data["has_uint32"]),
        "uinteger": int(data["uinteger"]),
    }
    return rng


def resumable_config(config: TrainConfig) -> dict[str, Any]:
    """The config as a resumed run must match it: everything but where the files go."""
    data = config.to_dict()
    del data["out_dir"]
    return data


def _saved_config(saved: dict[str, Any]) -> dict[str, Any]:
    # Keys added to TrainConfig after a run was started took their defaults in that run.
    defaults = resumable_config(TrainConfig())
    return {key: saved.get(key, value) for key, value in defaults.items()} | saved


@dataclass
class Progress:
    """What a run carries from step to step besides the model and optimiser."""

    step: int = 0
    seconds: float = 0.0
    best: dict[str, Any] | None = None
    last_validation: dict[str, Any] | None = None


_STATE_KEYS = (
    "step", "seconds", "best", "last_validation", "config", "optimizer_param_groups", "scheduler", "rng",
)


def save_state(
    out_dir: Path,
    config: TrainConfig,
    model: S3RNet,
    optimizer: torch.optim.Adam,
    scheduler: torch.optim.lr_scheduler.CosineAnnealingLR,
    rng: np.random.Generator,
    progress: Progress,
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
        **dataclasses.asdict(progress),
        "config": resumable_config(config),
        "optimizer_param_groups": optimizer_state["param_groups"],
        "scheduler": scheduler.state_dict(),
        "rng": {"numpy": rng_to_json(rng)},
        "code_version": __version__,
    }
    write_pair(out_dir / f"{STATE_NAME}.safetensors", tensors, sidecar)


def load_state(
    out_dir: Path,
    config: TrainConfig,
    model: S3RNet,
    optimizer: torch.optim.Adam,
    scheduler: torch.optim.lr_scheduler.CosineAnnealingLR,
) -> tuple[np.random.Generator, Progress]:
    """Restore a saved run into ``model``, ``optimizer`` and ``scheduler``; its generator and
    progress. Refuses a state saved with another config (``out_dir`` aside)."""
    path = out_dir / f"{STATE_NAME}.safetensors"
    tensors, sidecar = read_pair(path)
    if sidecar.get("kind") != STATE_KIND:
        raise CheckpointError(f"{path}: a {sidecar.get('kind')!r} file, not a training state")
    check_architecture(sidecar, path.with_suffix(".json"))
    missing = [key for key in _STATE_KEYS if key not in sidecar]
    if missing:
        raise CheckpointError(f"{path.with_suffix('.json')}: the training state lacks {missing}")
    saved, current = _saved_config(sidecar["config"]), resumable_config(config)
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
    progress = Progress(
        step=int(sidecar["step"]), seconds=float(sidecar["seconds"]), best=sidecar["best"],
        last_validation=sidecar["last_validation"],
    )
    return rng_from_json(sidecar["rng"]["numpy"]), progress


def open_log(path: Path, columns: tuple[str, ...], keep_until: int | None) -> io.TextIOWrapper:
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
        writer = csv.DictWriter(text, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write(path, text.getvalue().encode())
    else:
        path.write_text(",".join(columns) + "\n")
    return path.open("a", newline="", buffering=1)
