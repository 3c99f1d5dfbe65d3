"""The app's only door into the s3rnet library.

Every call from the app into the library's evaluation and inference goes through this module, so
that the app holds no science of its own and reports exactly what ``python -m s3rnet evaluate``
reports for the same settings.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from s3rnet import evaluation as _evaluation
from s3rnet.baselines import METHOD_INFO
from s3rnet.degrade import SNR_REFERENCES, response_holds
from s3rnet import inference as _inference
from s3rnet.data import Scene
from s3rnet.metrics import Scorer

ProgressCallback = Callable[[float, str], None]


# Extra checkpoints for the picker, e.g. your own training run: paths separated by ":" or ",".
EXTRA_CHECKPOINTS_ENV = "S3RNET_APP_CHECKPOINTS"


def list_checkpoints() -> list[str]:
    """Published checkpoint names, then the files named by ``$S3RNET_APP_CHECKPOINTS`` that exist."""
    names = list(_inference.list_checkpoints())
    extra = os.environ.get(EXTRA_CHECKPOINTS_ENV, "")
    for item in re.split(r"[:,]", extra):
        path = Path(item.strip()).expanduser()
        if item.strip() and path.with_suffix(".safetensors").is_file() and path.with_suffix(".json").is_file():
            names.append(str(path.with_suffix(".safetensors")))
    return list(dict.fromkeys(names))


@functools.lru_cache(maxsize=16)
def checkpoint_metadata(name: str) -> dict[str, Any]:
    """The JSON sidecar of a checkpoint (bands, wavelengths, MSI response, ratio, preset...).

    Loaded once per name: the sidecar does not change while the app runs. The model itself is
    loaded on the CPU here, only to read the checked metadata.
    """
    return dict(_inference.CheckpointMethod(name, device="cpu").metadata)


def checkpoint_sidecar(name: str) -> dict[str, Any]:
    """A checkpoint's JSON sidecar as written, without loading or checking the weights (what the
    page needs to say which MSI response the weights were trained for, even when they are too
    old to load)."""
    import json

    from s3rnet.checkpoints import sidecar_path

    path = sidecar_path(_inference.resolve_checkpoint(name))
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        from s3rnet.checkpoints import CheckpointError

        raise CheckpointError(f"checkpoint {Path(name).stem}: unreadable sidecar {path.name} ({exc})") from exc


def device_name() -> str:
    """Where S3RNet runs: ``"cuda"`` when a GPU is present, ``"cpu"`` otherwise."""
    return _inference.resolve_device().type


def run_evaluation(
    scene: Scene,
    *,
    methods: list[str],
    msi: str,
    psf: str,
    ratio: int,
    snr_db: float,
    hrmsi_snr_db: float,
    shift: tuple[float, float],
    seed: int,
    checkpoint: str | None,
    adapt_steps: int = 0,
    project: bool = False,
    progress: ProgressCallback | None = None,
    scorer: Scorer | None = None,
    snr_reference: str = "scene",
) -> _evaluation.Evaluation:
    """``s3rnet.evaluation.run_evaluation`` on an already chosen region (``split=None``).

    The region is cut by the app (a declared split region, a tile or the whole scene), so the
    library evaluates the scene it is given as a whole, exactly as the CLI does for that region.
    """
    return _evaluation.run_evaluation(
        scene, split=None, methods=list(methods), msi=msi, psf=psf, ratio=ratio, snr_db=snr_db,
        hrmsi_snr_db=hrmsi_snr_db, shift=shift, seed=seed, checkpoint=checkpoint, adapt_steps=adapt_steps,
        project=project, progress=progress, scorer=scorer, snr_reference=snr_reference,
    )


def model_extras(evaluation: _evaluation.Evaluation) -> Any | None:
    """S3RNet's ``ModelFusion`` (cube, SSAWB weights, fused features, adaptation time), if any."""
    return evaluation.extras.get("s3rnet")


def channel_energy_summary(fused_features: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """Sorted normalised channel energies of the fused features and their sparsity figures."""
    from s3rnet.analysis import channel_energy, energy_sparsity

    energy = channel_energy(fused_features, sort=True)
    return energy, energy_sparsity(energy)


def describe_branch_weights(stats: dict[str, dict[str, float]]) -> str:
    """``s3rnet.analysis.describe_branch_weights``."""
    from s3rnet.analysis import describe_branch_weights as describe

    return describe(stats)


def branch_weights_summary(weights: np.ndarray) -> tuple[np.ndarray, dict[str, dict[str, float]]]:
    """The four SSAWB weight maps (Q, K, V, Z) for display, and their statistics."""
    from s3rnet.analysis import branch_weight_maps, branch_weight_stats

    return branch_weight_maps(weights), branch_weight_stats(weights)
