"""The evaluation protocol: scene -> region -> simulated inputs -> methods -> metrics.

One function, :func:`evaluate_methods`, is shared by the CLI (``python -m s3rnet evaluate``),
the app and the notebooks, so that they all report the same numbers for the same settings.
"""

from __future__ import annotations

import functools
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
from .data import Scene, available_splits, crop_to_multiple, filled_band_mask, load_scene, split_region
from .degrade import Simulation, simulate
from .errors import ConfigError, WavelengthError
from .fusion import FusionInputs
from .inference import ProgressCallback
from .metrics import Scorer, Scores

DEFAULT_METHODS = (
    "bicubic", "gsa", "mtf-glp-hpm", "cnmf",
    "hysime-gsa", "hysime-mtf", "hysime-wiener-mtf", "hysime-wiener-hybrid", "hysime-wiener-cnmf", "pca-wiener-cnmf",
)
# The --methods value that asks for every registered method (S3RNet too with a checkpoint).
ALL_METHODS = "all"
# The --split value that asks for the whole scene even when a split is declared.
WHOLE_SCENE = "whole"


def evaluation_region(scene: Scene, split: str | None = "test", ratio: int = 4) -> Scene:
    """The part of a scene to evaluate on.

    The region ``split`` of the scene's declared split when it has one; otherwise (or when
    ``split`` is None or ``"whole"``) the whole scene, cropped to a multiple of the ratio. Which one was used is
    recorded in the returned scene's ``meta["region"]``.
    """
    if split not in (None, WHOLE_SCENE) and scene.name in available_splits():
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
    extras : dict
        Method name -> :class:`~s3rnet.inference.ModelFusion` (SSAWB weights, fused features)
        for the network; not serialised.
    simulation : Simulation or None
        The simulated problem the methods were scored on (ground truth and inputs); not
        serialised.
    details : dict
        Method name -> :class:`~s3rnet.metrics.Scores` (per-band PSNR, SAM and RMSE maps);
        not serialised.
    scorer : Scorer or None
        The metrics against this ground truth, to score more cubes without computing the
        reference's statistics again; not serialised.
    """

    protocol: dict[str, Any]
    methods: dict[str, dict[str, float]] = field(default_factory=dict)
    outputs: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    extras: dict[str, Any] = field(default_factory=dict, repr=False)
    simulation: Simulation | None = field(default=None, repr=False)
    details: dict[str, Scores] = field(default_factory=dict, repr=False)
    scorer: Scorer | None = field(default=None, repr=False)

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


def method_names(text: str, checkpoint: str | None = None) -> list[str]:
    """The methods a ``--methods`` value names: comma-separated names, where ``all`` stands for
    every registered baseline, followed by ``s3rnet`` when a checkpoint is given.

    Raises
    ------
    ConfigError
        When no method is named.
    """
    from .baselines import METHODS

    names: list[str] = []
    for name in (part.strip() for part in text.split(",")):
        expanded = [*METHODS, *(["s3rnet"] if checkpoint else [])] if name == ALL_METHODS else [name] if name else []
        names += [n for n in expanded if n not in names]
    if not names:
        raise ConfigError(f"no method named in {text!r}; give comma-separated names or {ALL_METHODS!r}")
    return names


def resolve_method(
    name: str, checkpoint: str | None = None, adapt_steps: int = 0, project: bool = False, ensemble: bool = True
) -> Callable[[FusionInputs], np.ndarray]:
    """A fusion method by name: a baseline, or ``"s3rnet"`` with a checkpoint name or path
    (and its test-time adaptation steps, projection and ensemble partner, see
    :class:`~s3rnet.inference.CheckpointMethod`)."""
    if name != "s3rnet":
        return get_method(name)
    if checkpoint is None:
        raise ConfigError("method 's3rnet' needs a checkpoint (--checkpoint NAME_OR_PATH)")
    from .inference import CheckpointMethod

    return CheckpointMethod(checkpoint, adapt_steps=adapt_steps, project=project, ensemble=ensemble)


def evaluate_methods(
    simulation: Simulation,
    methods: tuple[str, ...] | list[str] = DEFAULT_METHODS,
    protocol: dict[str, Any] | None = None,
    checkpoint: str | None = None,
    adapt_steps: int = 0,
    project: bool = False,
    progress: ProgressCallback | None = None,
    resolved: dict[str, Callable[[FusionInputs], np.ndarray]] | None = None,
    scorer: Scorer | None = None,
    scored_bands: np.ndarray | None = None,
    ensemble: bool = True,
) -> Evaluation:
    """Run each method on the simulated inputs and score it against the ground truth.

    Every method is resolved before any runs, so that a bad name or an unusable checkpoint is
    reported at once (``resolved`` may hold methods already built, keyed by name). S3RNet's
    entry also carries its parameter count and multiply-accumulates at this scene's size; its
    seconds include the test-time adaptation. ``progress(fraction, message)`` hears of each
    method and of the adaptation steps. ``scorer``, a :class:`~s3rnet.metrics.Scorer` from an
    earlier evaluation, is reused when it scores against this very ground truth (another seed or
    noise level on the same region), which spares computing the reference's statistics again.
    ``scored_bands`` (bool, shape (C,)) limits every score to those bands: the others were
    filled for a network's input (:func:`s3rnet.data.filled_band_mask`) and hold no measurement;
    the methods still fuse every band, and the outputs keep them. ``ensemble=False`` runs a
    checkpoint's network without its ensemble partner.
    """
    inputs = simulation.inputs()
    ratio = simulation.meta["ratio"]
    keep = slice(None) if scored_bands is None else np.asarray(scored_bands, dtype=bool)
    truth = simulation.truth[..., keep]
    if scorer is None or not scorer.matches(truth, ratio):
        scorer = Scorer(truth, ratio)
    result = Evaluation(protocol=dict(protocol or {}, **simulation.meta), simulation=simulation, scorer=scorer)
    built = dict(resolved or {})
    for name in methods:
        if name not in built:
            built[name] = resolve_method(name, checkpoint, adapt_steps, project, ensemble)
    with scorer.reusing_buffers():
        for index, name in enumerate(methods):
            method = built[name]
            if progress is not None:
                progress(index / len(methods), f"running {name}")
            start = time.perf_counter()
            if hasattr(method, "fuse"):
                extras = method.fuse(inputs, progress=_sub_progress(progress, index, len(methods)))
                fused = extras.cube
                result.extras[name] = extras
            else:
                fused = method(inputs)
            seconds = time.perf_counter() - start
            result.details[name] = scores = scorer.score(fused[..., keep])
            result.methods[name] = scores.summary() | {"seconds": seconds}
            result.outputs[name] = fused
            if hasattr(method, "fuse"):
                result.methods[name] |= _model_size(method.model, inputs)
                result.protocol["checkpoint"] = method.metadata["source"]
                result.protocol["adapt_steps"] = method.adapt_steps
                result.protocol["projection"] = extras.projection
                result.protocol["ensemble"] = extras.ensemble
                if extras.msi_bands is not None:
                    result.protocol["msi_bands_seen_by_network"] = extras.msi_bands
    if progress is not None:
        progress(1.0, "done")
    return result


def _sub_progress(progress: ProgressCallback | None, index: int, count: int) -> ProgressCallback | None:
    if progress is None:
        return None
    return lambda fraction, message: progress((index + fraction) / count, message)


def _model_size(model: torch.nn.Module, inputs: FusionInputs) -> dict[str, int]:
    from .models import count_parameters

    height, width, bands = inputs.shape
    return {
        "params": count_parameters(model),
        "macs": _macs(model.config, model.config.msi_bands, height, width, inputs.ratio),
    }


@functools.lru_cache(maxsize=32)
def _macs(config: Any, msi_bands: int, height: int, width: int, ratio: int) -> int:
    # A network's MACs depend on its configuration and the sizes only: count once per size.
    from .models import S3RNet, count_macs

    with torch.device("meta"):
        model = S3RNet(config)
    return count_macs(model, config.bands, msi_bands, (height, width), ratio=ratio)


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
    snr_reference: str = "scene",
    checkpoint: str | None = None,
    adapt_steps: int = 0,
    project: bool = False,
    spectral_shift: bool = False,
    progress: ProgressCallback | None = None,
    scorer: Scorer | None = None,
    ensemble: bool = True,
) -> Evaluation:
    """The whole protocol from a scene name or path (what ``python -m s3rnet evaluate`` runs).

    With ``"s3rnet"`` among the methods the scene is first resampled onto the checkpoint's
    wavelength grid when it has other bands (:func:`s3rnet.inference.prepare_scene`), and every
    method is scored there. ``spectral_shift`` multiplies the ground truth by
    :func:`reflectance_like_gain` first, a test of spectra unlike the training scene's.
    ``scorer`` is offered to :func:`evaluate_methods` for reuse. ``snr_reference`` says how the
    SNRs are measured (:func:`s3rnet.degrade.add_awgn`: ``"scene"``, or ``"authors"``, the
    authors' code's convention on the tile mapped to [-1, 1] by the ground truth's range).
    ``ensemble=False`` runs the checkpoint's network without its ensemble partner.
    """
    loaded = scene if isinstance(scene, Scene) else load_scene(scene)
    resolved, skipped = {}, {}
    if "s3rnet" in methods:
        from .inference import prepare_scene

        resolved["s3rnet"] = resolve_method("s3rnet", checkpoint, adapt_steps, project, ensemble)
        try:
            loaded = prepare_scene(loaded, resolved["s3rnet"].metadata)
        except WavelengthError as exc:
            methods = [m for m in methods if m != "s3rnet"]
            if not methods:
                raise
            # The classical methods need no grid: they still run, on the scene's own bands.
            skipped["s3rnet"] = f"{exc}; S3RNet did not run, the other methods ran on the scene's own bands"
            del resolved["s3rnet"]
    region = evaluation_region(loaded, split, ratio)
    filled = filled_band_mask(region)
    if spectral_shift:
        gain = reflectance_like_gain(region.require_wavelengths("the spectral shift"))
        region = region.with_cube((region.cube * gain).astype(np.float32))
    simulation = simulate(
        region.cube, region.wavelengths, region.fwhm, ratio=ratio, psf=psf, msi=msi,
        lrhsi_snr_db=snr_db, hrmsi_snr_db=hrmsi_snr_db, shift=shift, seed=seed, snr_reference=snr_reference,
    )
    protocol = {
        "scene": loaded.name,
        "source": loaded.source,
        "units": loaded.units,
        "region": region.meta.get("region"),
        "split": region.meta.get("split", "whole scene (no split declared)"),
        "grid": loaded.meta.get("grid", "the scene's own bands"),
        "spectral_shift": "reflectance-like gain" if spectral_shift else None,
        "filled_bands": {
            "wavelengths_nm": [round(float(w), 2) for w in region.wavelengths[filled]],
            "note": "missing from the scene, filled for the network's input; every method fused them, no score counts them",
        } if filled.any() else None,
        "skipped": skipped or None,
        "code_version": __version__,
        "metrics": {
            "psnr": "mean over bands, peak = per-band maximum of the reference (dB)",
            "sam": "degrees, mean over pixels with non-zero spectra",
            "rmse": "over all values, scene units",
            "ergas": f"100 / ratio * sqrt(mean_b RMSE_b^2 / mean_b^2), ratio {ratio}",
            "ssim": "per band, Gaussian window 11 / sigma 1.5, data range of the reference band, mean over bands",
        },
    }
    return evaluate_methods(
        simulation, methods, protocol, checkpoint, adapt_steps, project, progress, resolved=resolved, scorer=scorer,
        scored_bands=~filled if filled.any() else None, ensemble=ensemble,
    )


def reflectance_like_gain(wavelengths: np.ndarray) -> np.ndarray:
    """A fixed smooth spectral gain of the size that separates reflectance from radiance.

    ``exp(g)`` with ``g`` rising linearly from -1.3 at 500 nm to +2.7 at 2400 nm (held
    constant beyond): the range of the log-ratio between a reflectance and a radiance spectrum
    of the same surface (DESIGN section 7). A network trained on one radiance scene and scored
    on a cube multiplied by this gain meets spectra whose shape it has never seen, as on an
    unseen scene or a reflectance product; classical methods, fitted on each scene, do not care.

    Parameters
    ----------
    wavelengths : ndarray, shape (C,)
        Band centres in nm.

    Returns
    -------
    ndarray, shape (C,), float32
    """
    slope = np.clip((np.asarray(wavelengths, dtype=np.float64) - 500.0) / 1900.0, 0.0, 1.0)
    return np.exp(-1.3 + 4.0 * slope).astype(np.float32)
