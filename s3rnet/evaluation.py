"""The evaluation protocol: scene -> region -> simulated inputs -> methods -> metrics.

One function, :func:`evaluate_methods`, is shared by the CLI (``python -m s3rnet evaluate``),
the app and the notebooks, so that they all report the same numbers for the same settings.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import __version__
from .baselines import get_method
from .data import Scene, available_splits, crop_to_multiple, load_scene, split_region
from .degrade import Simulation, simulate
from .errors import ConfigError
from .fusion import FusionInputs
from .metrics import evaluate_all

METRIC_NAMES = ("psnr", "sam", "rmse", "ergas", "ssim")
DEFAULT_METHODS = ("bicubic", "gsa", "mtf-glp-hpm", "cnmf")


def evaluation_region(scene: Scene, split: str | None = "test", ratio: int = 4) -> Scene:
    """The part of a scene to evaluate on.

    The region ``split`` of the scene's declared split when it has one; otherwise (or when
    ``split`` is None) the whole scene, cropped to a multiple of the ratio. Which one was used is
    recorded in the returned scene's ``meta["region"]``.
    """
    if split is not None and scene.name in available_splits():
        return split_region(scene, split)
    whole = crop_to_multiple(scene, ratio)
    if "region" not in whole.meta:
        whole = whole.with_cube(
            whole.cube, meta=dict(whole.meta, region={"rows": [0, whole.shape[0]], "cols": [0, whole.shape[1]]})
        )
    return whole


@dataclass
class Evaluation:
    """Scores of several methods on one simulated problem.

    Attributes
    ----------
    protocol : dict
        Scene, region, degradation choices, code version.
    methods : dict
        Method name -> {"psnr", "sam", "rmse", "ergas", "ssim", "seconds"}.
    outputs : dict
        Method name -> fused cube (H, W, C); not serialised.
    """

    protocol: dict[str, Any]
    methods: dict[str, dict[str, float]] = field(default_factory=dict)
    outputs: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "methods": self.methods}

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n")

    def table(self) -> str:
        """A markdown table: methods x PSNR, SAM, RMSE, ERGAS, SSIM, seconds."""
        header = "| method | PSNR (dB) | SAM (deg) | RMSE | ERGAS | SSIM | seconds |"
        lines = [header, "|---|---:|---:|---:|---:|---:|---:|"]
        for name, scores in self.methods.items():
            lines.append(
                f"| {name} | {scores['psnr']:.2f} | {scores['sam']:.3f} | {scores['rmse']:.4f} | "
                f"{scores['ergas']:.3f} | {scores['ssim']:.4f} | {scores['seconds']:.2f} |"
            )
        return "\n".join(lines)


def resolve_method(name: str, checkpoint: str | None = None) -> Callable[[FusionInputs], np.ndarray]:
    """A fusion method by name: a baseline, or ``"s3rnet"`` with a checkpoint name or path."""
    if name != "s3rnet":
        return get_method(name)
    if checkpoint is None:
        raise ConfigError("method 's3rnet' needs a checkpoint (--checkpoint NAME_OR_PATH)")
    from .inference import CheckpointMethod

    return CheckpointMethod(checkpoint)


def evaluate_methods(
    simulation: Simulation,
    methods: tuple[str, ...] | list[str] = DEFAULT_METHODS,
    protocol: dict[str, Any] | None = None,
    checkpoint: str | None = None,
) -> Evaluation:
    """Run each method on the simulated inputs and score it against the ground truth.

    Every method is resolved before any runs, so that a bad name or an unusable checkpoint is
    reported at once. S3RNet's entry also carries its parameter count and multiply-accumulates
    at this scene's size.
    """
    inputs = simulation.inputs()
    ratio = simulation.meta["ratio"]
    result = Evaluation(protocol=dict(protocol or {}, **simulation.meta))
    resolved = {name: resolve_method(name, checkpoint) for name in methods}
    for name, method in resolved.items():
        start = time.perf_counter()
        fused = method(inputs)
        seconds = time.perf_counter() - start
        scores = evaluate_all(simulation.truth, fused, ratio=ratio)
        result.methods[name] = {k: float(scores[k]) for k in METRIC_NAMES} | {"seconds": seconds}
        result.outputs[name] = fused
        if name == "s3rnet":
            result.methods[name] |= _model_size(method.model, inputs)
            result.protocol["checkpoint"] = method.metadata["source"]
    return result


def _model_size(model: torch.nn.Module, inputs: FusionInputs) -> dict[str, int]:
    from .models import count_macs, count_parameters

    height, width, bands = inputs.shape
    return {
        "params": count_parameters(model),
        "macs": count_macs(model, bands, inputs.hrmsi.shape[-1], (height, width), ratio=inputs.ratio),
    }


def run_evaluation(
    scene: str | Scene = "indian_pines",
    *,
    split: str | None = "test",
    methods: tuple[str, ...] | list[str] = DEFAULT_METHODS,
    msi: str = "oli4",
    psf: str = "box",
    ratio: int = 4,
    snr_db: float = float("inf"),
    hrmsi_snr_db: float = float("inf"),
    shift: tuple[float, float] = (0.0, 0.0),
    seed: int = 0,
    checkpoint: str | None = None,
) -> Evaluation:
    """The whole protocol from a scene name or path (what ``python -m s3rnet evaluate`` runs)."""
    loaded = scene if isinstance(scene, Scene) else load_scene(scene)
    region = evaluation_region(loaded, split, ratio)
    simulation = simulate(
        region.cube, region.wavelengths, region.fwhm, ratio=ratio, psf=psf, msi=msi,
        lrhsi_snr_db=snr_db, hrmsi_snr_db=hrmsi_snr_db, shift=shift, seed=seed,
    )
    protocol = {
        "scene": loaded.name,
        "source": loaded.source,
        "units": loaded.units,
        "region": region.meta.get("region"),
        "split": region.meta.get("split", "whole scene (no split declared)"),
        "code_version": __version__,
        "metrics": {
            "psnr": "mean over bands, peak = per-band maximum of the reference (dB)",
            "sam": "degrees, mean over pixels with non-zero spectra",
            "rmse": "over all values, scene units",
            "ergas": f"100 / ratio * sqrt(mean_b RMSE_b^2 / mean_b^2), ratio {ratio}",
            "ssim": "per band, Gaussian window 11 / sigma 1.5, data range of the reference band, mean over bands",
        },
    }
    return evaluate_methods(simulation, methods, protocol, checkpoint)
