"""One fusion run of the app and what the views read from it.

:func:`run_fusion` cuts the region, asks the library to evaluate the chosen methods (the same
call as ``python -m s3rnet evaluate``), and keeps everything the page shows in a
:class:`FusionResult`. Results are never changed after they are made, so one result can be
shared by every session that has not fused anything yet (the start-up result).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from s3rnet.data import Scene
from s3rnet.errors import ConfigError, S3RNetError
from s3rnet.metrics import Scorer, Scores

from . import library
from .scenes import RATIO, cut_region, region_box

FAST_BASELINES = ("bicubic", "gsa", "mtf-glp-hpm")
# Offered, off at start-up: fast, and the one to compare with on noisy inputs.
EXTRA_BASELINES = ("hysime-gsa", "hysime-mtf", "hysime-wiener-mtf", "hysime-wiener-hybrid")
SLOW_BASELINES = ("cnmf", "hysime-wiener-cnmf", "pca-wiener-cnmf")
MODEL = "s3rnet"
METHOD_LABELS = {"s3rnet": "S3RNet", **{name: info.label for name, info in library.METHOD_INFO.items()}}
TRUTH = "ground truth"
LOW_RES = "LR-HSI (upsampled)"
# Test-time adaptation: steps when the "adapt to this scene" switch is on.
DEFAULT_ADAPT_STEPS = 30

ProgressCallback = Callable[[float, str], None]


@dataclass(frozen=True)
class FusionSettings:
    """Every choice behind one fusion run (what the page's controls hold).

    ``ratio`` is the spatial ratio between the HR-MSI and the LR-HSI (the region is cropped to
    a multiple of it); ``lrhsi_snr_db`` / ``hrmsi_snr_db`` are ``inf`` for no noise, measured as ``snr_reference``
    says (:func:`s3rnet.degrade.add_awgn`: ``"scene"``, or the authors' code's ``"authors"``); ``checkpoint`` is None when
    S3RNet is not asked for or no weights exist; ``adapt_steps`` (test-time adaptation) and
    ``project`` (projection of S3RNet's output onto its inputs) apply to S3RNet only.
    """

    scene: str = "indian_pines"
    region: str = "whole"
    msi: str = "oli4"
    psf: str = "box"
    lrhsi_snr_db: float = math.inf
    hrmsi_snr_db: float = math.inf
    shift: tuple[float, float] = (0.0, 0.0)
    seed: int = 0
    methods: tuple[str, ...] = (MODEL, *FAST_BASELINES)
    checkpoint: str | None = None
    adapt_steps: int = 0
    project: bool = False
    snr_reference: str = "scene"
    ratio: int = RATIO

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly (``inf`` written as the string ``"inf"``, as the library does)."""
        values = dict(self.__dict__)
        for key in ("lrhsi_snr_db", "hrmsi_snr_db"):
            values[key] = "inf" if math.isinf(values[key]) else values[key]
        values["shift"] = list(self.shift)
        values["methods"] = list(self.methods)
        return values


@dataclass
class FusionResult:
    """A simulated problem, the fused cubes of each method and their scores.

    Attributes
    ----------
    settings : FusionSettings
    scene_name, units : str
    box : ((r0, r1), (c0, c1))
        The region in the scene's pixel grid.
    truth, lrhsi, hrmsi : ndarray
        (H, W, C), (H/4, W/4, C) and (H, W, M): the simulation the methods saw.
    srf : ndarray, shape (M, C)
        The MSI's spectral response.
    wavelengths, fwhm : ndarray, shape (C,) or None
        Band centres and widths (nm) of the bands the methods saw.
    protocol : dict
        The library's protocol record (scene, region, degradation, checkpoint...).
    metrics : dict
        Method -> {"psnr", "sam", "rmse", "ergas", "ssim", "seconds", ...}, as the CLI prints.
    details : dict
        Method -> the library's Scores (per-band PSNR, SAM and RMSE maps).
    outputs : dict
        Method -> fused cube (H, W, C).
    model : ModelFusion or None
        S3RNet's weights and fused features when it ran.
    notes : list of str
        Why a method did not run, and other things the page should say.
    seconds : float
        Wall time of the whole run.
    scorer : Scorer or None
        The library's metrics against this ground truth, offered to the next run for reuse.
    """

    settings: FusionSettings
    scene_name: str
    units: str
    box: tuple[tuple[int, int], tuple[int, int]]
    truth: np.ndarray
    lrhsi: np.ndarray
    hrmsi: np.ndarray
    srf: np.ndarray
    wavelengths: np.ndarray | None
    fwhm: np.ndarray | None
    protocol: dict[str, Any]
    metrics: dict[str, dict[str, float]]
    details: dict[str, Scores]
    outputs: dict[str, np.ndarray]
    model: Any | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    scorer: Scorer | None = field(default=None, repr=False, compare=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.truth.shape

    @property
    def methods(self) -> list[str]:
        return list(self.metrics)

    @property
    def fused_method(self) -> str | None:
        """The method shown as "the fused result": S3RNet when it ran; None when S3RNet was
        chosen but could not run (the page says so rather than show another method in its
        place); the first method when S3RNet was not chosen."""
        if MODEL in self.outputs:
            return MODEL
        if MODEL in self.settings.methods:
            return None
        return self.methods[0]

    @property
    def model_problem(self) -> str | None:
        """Why S3RNet did not run, when it was chosen and did not."""
        if self.fused_method is not None:
            return None
        return next((note for note in self.notes if note.startswith("S3RNet did not run")), "S3RNet did not run")

    @property
    def baselines(self) -> list[str]:
        return [m for m in self.methods if m != self.fused_method]

    @property
    def upsampled_lrhsi(self) -> np.ndarray:
        """The LR-HSI on the high-resolution grid by pixel replication (what one LR pixel covers)."""
        if "upsampled" not in self._cache:
            ratio = self.settings.ratio
            self._cache["upsampled"] = np.repeat(np.repeat(self.lrhsi, ratio, axis=0), ratio, axis=1)
        return self._cache["upsampled"]

    def error_maps(self, method: str) -> tuple[np.ndarray, np.ndarray]:
        """Per-pixel SAM (degrees) and RMSE (scene units) of a method, as the library scored it."""
        return self.details[method].sam_map, self.details[method].rmse_map

    def psnr_per_band(self, method: str) -> np.ndarray:
        """Per-band PSNR (dB, per-band peak as in the metrics table) of a method, as the library scored it."""
        return self.details[method].psnr_per_band

    def to_json(self) -> dict[str, Any]:
        """``{"protocol", "methods"}`` as ``python -m s3rnet evaluate --json`` writes, plus the app's notes."""
        return {
            "protocol": self.protocol,
            "methods": self.metrics,
            "settings": self.settings.as_dict(),
            "notes": list(self.notes),
        }


def _json_safe(value: Any) -> Any:
    """Numbers and containers the JSON component can carry (NumPy scalars and arrays converted)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def run_fusion(scene: Scene, settings: FusionSettings, progress: ProgressCallback | None = None,
               scorer: Scorer | None = None) -> FusionResult:
    """Simulate the inputs from a region of ``scene`` and fuse them with every chosen method.

    S3RNet runs first. When it cannot run on this scene (no checkpoint, bands or MSI response it
    was not trained for), the baselines still run and the reason is kept in ``notes``.
    ``scorer``, an earlier result's, is reused by the library when the ground truth is the same.

    Raises
    ------
    S3RNetError
        When no method can run (bad region, MSI response outside the scene's wavelengths...).
    """
    started = time.perf_counter()
    report = progress or (lambda fraction, message: None)
    methods = list(dict.fromkeys(settings.methods))
    if not methods:
        raise ConfigError("no method chosen: tick S3RNet or at least one baseline")
    if MODEL in methods:  # first, so that a scene it refuses is known before the baselines run
        methods.remove(MODEL)
        methods.insert(0, MODEL)
    notes: list[str] = []
    checkpoint = settings.checkpoint
    if MODEL in methods and not checkpoint:
        notes.append("S3RNet did not run: no pretrained weights are published in assets/weights yet.")
        methods.remove(MODEL)
        if not methods:
            raise ConfigError("S3RNet has no weights to run with, and no baseline was chosen")
    if MODEL in methods:
        mismatch = _msi_mismatch(checkpoint, settings.msi)
        if mismatch:
            notes.append(f"S3RNet did not run: {mismatch}")
            methods.remove(MODEL)
            if not methods:
                raise ConfigError(mismatch)
    report(0.02, "cutting the region")
    region = cut_region(scene, settings.region)
    common = dict(
        msi=settings.msi, psf=settings.psf, ratio=settings.ratio, snr_db=settings.lrhsi_snr_db,
        hrmsi_snr_db=settings.hrmsi_snr_db, shift=tuple(settings.shift), seed=int(settings.seed),
        snr_reference=settings.snr_reference,
    )

    def evaluate(chosen: list[str]):
        model_checkpoint = checkpoint if MODEL in chosen else None
        return model_checkpoint, library.run_evaluation(
            region, methods=chosen, checkpoint=model_checkpoint,
            adapt_steps=settings.adapt_steps if MODEL in chosen else 0,
            project=settings.project and MODEL in chosen, scorer=scorer,
            progress=lambda fraction, message: report(0.05 + 0.9 * fraction, message), **common,
        )

    report(0.05, "simulating the inputs and fusing")
    try:
        used_checkpoint, evaluation = evaluate(methods)
    except S3RNetError as problem:
        if MODEL not in methods or len(methods) == 1:
            raise
        # S3RNet refused this scene; the baselines may still run (if they fail too, that error
        # is about the scene and is raised as it is).
        methods.remove(MODEL)
        used_checkpoint, evaluation = evaluate(methods)
        notes.append(f"S3RNet did not run: {problem}")
    simulation = evaluation.simulation
    report(0.97, "preparing the views")
    protocol = _json_safe(evaluation.protocol)
    # Methods the library passed over (S3RNet on a scene its grid does not cover) and why.
    for method, reason in (protocol.get("skipped") or {}).items():
        notes.append(f"{METHOD_LABELS.get(method, method)} did not run: {reason}")
    if protocol.get("grid") not in (None, "the scene's own bands"):
        notes.append(f"The scene was resampled onto the bands of checkpoint {protocol['grid']}.")
    seen = protocol.get("msi_bands_seen_by_network")
    if seen:
        notes.append(f"S3RNet saw MSI bands {', '.join(str(b + 1) for b in seen)} of the {settings.msi} response, those "
                     f"it was trained with; its correction was added to its estimate made with every band.")
    filled = (protocol.get("filled_bands") or {}).get("wavelengths_nm")
    if filled:
        notes.append(f"{len(filled)} bands the scene lacks were filled for S3RNet's input "
                     f"({filled[0]:g}-{filled[-1]:g} nm); no score counts them.")
    result = FusionResult(
        settings=settings,
        scene_name=scene.name,
        units=scene.units,
        box=_fused_box(region_box(region), simulation.truth.shape),
        truth=simulation.truth,
        lrhsi=simulation.lrhsi,
        hrmsi=simulation.hrmsi,
        srf=simulation.srf,
        wavelengths=None if simulation.wavelengths is None else np.asarray(simulation.wavelengths, dtype=float),
        fwhm=None if simulation.fwhm is None else np.asarray(simulation.fwhm, dtype=float),
        protocol=protocol,
        metrics={name: _json_safe(dict(scores)) for name, scores in evaluation.methods.items()},
        details=dict(evaluation.details),
        outputs=dict(evaluation.outputs),
        model=library.model_extras(evaluation),
        notes=notes,
        scorer=evaluation.scorer,
    )
    result.seconds = time.perf_counter() - started
    return result


def _fused_box(box: tuple[tuple[int, int], tuple[int, int]], shape: tuple[int, ...]):
    """The part of a region's box that was fused: the library crops its sides to multiples of the ratio."""
    (r0, _), (c0, _) = box
    return (r0, r0 + shape[0]), (c0, c0 + shape[1])


def _msi_mismatch(checkpoint: str, msi: str) -> str | None:
    """Why a checkpoint cannot fuse inputs simulated with the MSI response ``msi``, or None."""
    try:
        trained = library.checkpoint_sidecar(checkpoint).get("msi", {}).get("name")
    except S3RNetError:
        return None  # the evaluation says what is wrong with the checkpoint itself
    if trained is None or library.response_holds(msi, trained):
        return None
    name = checkpoint.rsplit("/", 1)[-1].removesuffix(".safetensors")
    return (f"checkpoint {name} was trained on HR-MSI images of the {trained} response, and this run "
            f"simulates the {msi} response, which does not hold its bands; choose {trained}, or a checkpoint "
            f"trained for {msi}")


def pixel_spectra(result: FusionResult, x: int, y: int) -> dict[str, Any]:
    """The spectra of one pixel of a result: ground truth, upsampled LR-HSI and every method.

    Parameters
    ----------
    x, y : int
        Column and row in the region shown (0-based, top-left origin).

    Returns
    -------
    dict
        ``x``, ``y``, the pixel's ``row`` / ``col`` in the whole scene, ``units``,
        ``wavelengths_nm`` (ascending; band numbers when the scene has no wavelengths) and
        ``spectra``: series name -> values in the same order.

    Raises
    ------
    ShapeError
        When the pixel lies outside the region.
    """
    from s3rnet.errors import ShapeError

    height, width, bands = result.shape
    try:
        col, row = int(round(float(x))), int(round(float(y)))
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"pixel coordinates must be numbers, got x={x!r}, y={y!r}") from exc
    if not (0 <= row < height and 0 <= col < width):
        raise ShapeError(f"pixel x={col}, y={row} is outside the {width} x {height} image (x is the column, y the row)")
    if result.wavelengths is not None:
        order = np.argsort(result.wavelengths, kind="stable")
        axis = result.wavelengths[order]
    else:
        order = np.arange(bands)
        axis = order.astype(float)
    series = {TRUTH: result.truth, LOW_RES: result.upsampled_lrhsi}
    series |= {METHOD_LABELS.get(m, m): result.outputs[m] for m in result.methods}
    (r0, _), (c0, _) = result.box
    return {
        "x": col,
        "y": row,
        "row": r0 + row,
        "col": c0 + col,
        "scene": result.scene_name,
        "units": result.units,
        "wavelengths_nm": [round(float(w), 4) for w in axis],
        "axis": "wavelength (nm)" if result.wavelengths is not None else "band number",
        "spectra": {name: [float(v) for v in cube[row, col, order]] for name, cube in series.items()},
    }
