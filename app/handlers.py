"""The page's event handlers as plain functions (no gradio objects in, plain data out).

``app.main`` wires them to the components; tests call them directly. Every handler takes the
session's :class:`~app.state.SessionState` (None for a session that has done nothing yet) and
returns it, so that each session keeps its own results.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s3rnet.errors import ConfigError, S3RNetError, ShapeError

from . import exports, library, scenes, views
from .compute import FAST_BASELINES, MODEL, FusionResult, FusionSettings, pixel_spectra, run_fusion
from .state import SessionState

DEFAULT_MSI = "oli4"
DEFAULT_METHODS = (MODEL, *FAST_BASELINES)
PREFERRED_BASELINE = "mtf-glp-hpm"
# The checkpoint picker's value when no weights are published (the API needs a default value).
NO_CHECKPOINT = "none"
# Results kept for reuse, keyed by scene and settings: a class pressing "Fuse" with the same
# settings gets the same (immutable) result at once. Each costs about 100 MB for 144 x 144 x 200.
RESULT_CACHE_SIZE = 4

ProgressCallback = Callable[[float, str], None]


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


def checkpoint_choices() -> list[str]:
    """Published checkpoints the picker offers."""
    return library.list_checkpoints()


def default_checkpoint(msi: str = DEFAULT_MSI, bands: int | None = None) -> str | None:
    """The checkpoint to preselect for an MSI response.

    One trained for that MSI response (and band count when given); the CPU preset ``lite`` on a
    CPU, the ``paper`` preset on a GPU when its weights exist.
    """
    names = checkpoint_choices()
    if not names:
        return None
    preferred_preset = "paper" if library.device_name() == "cuda" else "lite"

    def rank(name: str) -> tuple[int, int, int, str]:
        try:
            meta = library.checkpoint_metadata(name)
        except S3RNetError:
            return (3, 3, 3, name)
        msi_match = 0 if meta.get("msi", {}).get("name") == msi else 1
        band_match = 0 if bands is None or int(meta.get("bands", -1)) == bands else 1
        preset_match = 0 if meta.get("preset") == preferred_preset else 1
        return (msi_match, band_match, preset_match, name)

    return min(names, key=rank)


def default_settings() -> FusionSettings:
    """The start-up settings (also the API's defaults): Indian Pines, its first region, OLI 4-band
    MSI, box PSF, no noise, S3RNet (when weights exist) and the fast baselines."""
    scene = scenes.load_named_scene("indian_pines")
    return FusionSettings(
        scene="indian_pines", region=scenes.default_region(scene), msi=DEFAULT_MSI, psf="box",
        methods=DEFAULT_METHODS, checkpoint=default_checkpoint(DEFAULT_MSI, scene.bands),
    )


def checkpoint_summary(name: str | None) -> str:
    """One line about a checkpoint: preset, bands, MSI response, validation score."""
    if not name or name == NO_CHECKPOINT:
        return "No pretrained S3RNet weights are published yet: the baselines run alone."
    try:
        meta = library.checkpoint_metadata(name)
    except S3RNetError as exc:
        return f"Checkpoint {name!r} cannot be loaded: {exc}"
    parts = [f"**{name}**: preset {meta.get('preset', '?')}", f"{meta.get('bands', '?')} bands",
             f"MSI {meta.get('msi', {}).get('name', '?')}", f"ratio {meta.get('ratio', '?')}"]
    validation = meta.get("validation") or {}
    if "psnr" in validation:
        parts.append(f"validation PSNR {validation['psnr']:.2f} dB")
    training = meta.get("training") or {}
    if training.get("scene"):
        parts.append(f"trained on {training['scene']} ({training.get('region', '?')} region)")
    return ", ".join(parts)


def training_overlap_note(result: FusionResult) -> str | None:
    """A warning when S3RNet is scored on pixels its checkpoint was trained or selected on."""
    checkpoint = result.settings.checkpoint
    if MODEL not in result.outputs or not checkpoint:
        return None
    try:
        meta = library.checkpoint_metadata(checkpoint)
        from s3rnet.data import load_split

        training = meta.get("training") or {}
        if training.get("scene") != result.scene_name:
            return None
        split = load_split(result.scene_name)
    except (S3RNetError, OSError):
        return None
    (r0, r1), (c0, c1) = result.box
    seen = []
    for name in (training.get("region"), training.get("val_region")):
        if name and name in split.regions:
            (a0, a1), (b0, b1) = split.regions[name]
            if r0 < a1 and a0 < r1 and c0 < b1 and b0 < c1:
                seen.append(name)
    if not seen:
        return None
    regions = " and ".join(seen) + (" regions" if len(seen) > 1 else " region")
    return (f"S3RNet's checkpoint was trained or selected on the {regions} of this scene, which this "
            f"region overlaps: its scores here are optimistic. Choose the test region for a fair comparison.")


def device_summary() -> str:
    """Where S3RNet runs, for the page header."""
    import torch

    if library.device_name() == "cuda":
        return f"S3RNet runs on the GPU ({torch.cuda.get_device_name(0)})"
    return f"S3RNet runs on the CPU ({torch.get_num_threads()} threads); no GPU found"


# --------------------------------------------------------------------------------------------
# Scenes
# --------------------------------------------------------------------------------------------


def scene_choices(session: SessionState | None) -> list[tuple[str, str]]:
    """Dropdown choices: built-in scenes, then this session's uploads."""
    names = scenes.builtin_scene_names() + (list(session.uploads) if session else [])
    return [(scenes.scene_label(n), n) for n in names]


def resolve_scene(name: str, session: SessionState | None):
    """The Scene behind a dropdown value (an upload of this session or a catalogue scene)."""
    if name and name.startswith(scenes.UPLOAD_PREFIX):
        if session is None or name not in session.uploads:
            raise ConfigError(f"no uploaded scene {name.removeprefix(scenes.UPLOAD_PREFIX)!r} in this session: upload it again")
        return session.uploads[name]
    known = scenes.builtin_scene_names()
    if name not in known:
        raise ConfigError(f"unknown scene {name!r}; choose one of {', '.join(known)} or upload your own")
    return scenes.load_named_scene(name)


def scene_regions(name: str, session: SessionState | None) -> tuple[list[tuple[str, str]], str, str]:
    """Region choices, the default region and a description, for the scene ``name``."""
    scene = resolve_scene(name, session)
    choices = scenes.region_choices(scene)
    return choices, choices[0][1], scenes.describe(scene)


@dataclass
class UploadOutcome:
    """What the page shows after an upload: the new scene (None when refused) and a message."""

    scene: str | None
    message: str
    ok: bool


def load_upload(files: Sequence[str] | str | None, wavelengths_text: str, session: SessionState | None,
                startup: FusionResult, max_bytes: int, variable: str = "") -> tuple[UploadOutcome, SessionState]:
    """Read an uploaded scene into the session; a refused upload leaves the session unchanged."""
    session = session or SessionState(result=startup)
    if isinstance(files, str):
        files = [files]
    try:
        scene = scenes.read_upload(files or [], wavelengths_text, max_bytes=max_bytes, variable=variable or "")
    except S3RNetError as exc:
        return UploadOutcome(None, f"Upload refused: {exc}", False), session
    scene = scene.with_cube(scene.cube, meta=dict(scene.meta, upload_id=uuid.uuid4().hex))
    key = scenes.UPLOAD_PREFIX + scene.name
    session.uploads[key] = scene
    return UploadOutcome(key, f"Loaded {scene.name}: {scenes.describe(scene)}", True), session


# --------------------------------------------------------------------------------------------
# Fusion
# --------------------------------------------------------------------------------------------


def make_settings(scene: str, region: str, msi: str, psf: str, lrhsi_no_noise: bool, lrhsi_snr_db: float,
                  hrmsi_no_noise: bool, hrmsi_snr_db: float, shift_rows: float, shift_cols: float, seed: float,
                  methods: Sequence[str], checkpoint: str | None, adapt: bool, adapt_steps: float,
                  project: bool = False) -> FusionSettings:
    """The page's control values as :class:`FusionSettings` (checked)."""
    def snr(no_noise: bool, value: float, what: str) -> float:
        if no_noise or value is None:
            return math.inf
        value = float(value)
        if not 5.0 <= value <= 50.0:
            raise ConfigError(f"{what} SNR must lie between 5 and 50 dB (or tick 'no noise'), got {value:g}")
        return value

    if seed is None or float(seed) != int(float(seed)) or int(float(seed)) < 0:
        raise ConfigError(f"the seed must be a whole number of at least 0, got {seed!r}")
    if isinstance(methods, str):
        methods = [m for m in methods.split(",") if m.strip()]
    return FusionSettings(
        scene=scene, region=region or "whole", msi=msi, psf=psf,
        lrhsi_snr_db=snr(lrhsi_no_noise, lrhsi_snr_db, "LR-HSI"),
        hrmsi_snr_db=snr(hrmsi_no_noise, hrmsi_snr_db, "HR-MSI"),
        shift=(float(shift_rows or 0.0), float(shift_cols or 0.0)), seed=int(float(seed)),
        methods=tuple(m.strip() for m in methods), checkpoint=None if checkpoint in (None, "", NO_CHECKPOINT) else checkpoint,
        adapt_steps=int(adapt_steps) if adapt and MODEL in methods else 0,
        project=bool(project) and MODEL in methods,
    )


class ResultCache:
    """The last few results by (scene, settings), shared by every session (results are immutable)."""

    def __init__(self, size: int = RESULT_CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[tuple, FusionResult] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(scene, settings: FusionSettings) -> tuple:
        return (scene.meta.get("upload_id", scene.source), settings)

    def get(self, key: tuple) -> FusionResult | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: tuple, result: FusionResult) -> None:
        with self._lock:
            self._items[key] = result
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


RESULTS = ResultCache()


def fuse(settings: FusionSettings, session: SessionState | None, startup: FusionResult | None,
         progress: ProgressCallback | None = None, use_cache: bool = True) -> tuple[FusionResult, SessionState, bool]:
    """Run (or reuse) a fusion and make it the session's current result.

    Returns the result, the session and whether the result was reused from an identical run.

    Raises
    ------
    S3RNetError
        When nothing could run; the session keeps its previous result.
    """
    scene = resolve_scene(settings.scene, session)
    key = ResultCache.key(scene, settings)
    result = RESULTS.get(key) if use_cache else None
    reused = result is not None
    if result is None:
        previous = session.result if session is not None else startup
        result = run_fusion(scene, settings, progress, scorer=previous.scorer if previous is not None else None)
        note = training_overlap_note(result)
        if note:
            result.notes.append(note)
        RESULTS.put(key, result)
    if session is None:
        session = SessionState(result=result)
    session.result = result
    return result, session, reused


def spectrum(x: float, y: float, session: SessionState | None, startup: FusionResult) -> tuple[dict[str, Any], SessionState]:
    """The spectra at pixel (x, y) of the session's last result, remembered for the CSV export."""
    session = session or SessionState(result=startup)
    if x is None or y is None:
        raise ShapeError("give both pixel coordinates: x (column) and y (row)")
    spectra = pixel_spectra(session.result, x, y)
    session.remember_click(spectra)
    return spectra, session


def click_to_pixel(index: Sequence[int] | None, session: SessionState | None, startup: FusionResult) -> tuple[int, int]:
    """The cube pixel (x, y) under a click at display pixel ``index`` = [x, y] of an enlarged image."""
    if index is None or len(index) < 2:
        raise ShapeError("the click carried no pixel position")
    result = (session.result if session else startup)
    factor = views.display_factor(*result.shape[:2])
    return int(index[0]) // factor, int(index[1]) // factor


# --------------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------------


def pick_baseline(result: FusionResult, wanted: str | None) -> str | None:
    """The baseline to show: the one asked for if it ran, else MTF-GLP-HPM, else the first."""
    baselines = result.baselines
    if wanted in baselines:
        return wanted
    if PREFERRED_BASELINE in baselines:
        return PREFERRED_BASELINE
    return baselines[0] if baselines else None


def status_text(result: FusionResult, origin: str = "") -> str:
    """The status line after a fusion: what ran, how long, and any notes.

    ``origin`` says where the result comes from when it was not computed just now.
    """
    (r0, r1), (c0, c1) = result.box
    s = result.settings
    noise = "no noise" if math.isinf(s.lrhsi_snr_db) else f"LR-HSI SNR {s.lrhsi_snr_db:g} dB"
    if not math.isinf(s.hrmsi_snr_db):
        noise += f", HR-MSI SNR {s.hrmsi_snr_db:g} dB"
    adapt = ""
    if result.model is not None and getattr(result.model, "adapt_seconds", 0):
        adapt = f", S3RNet adapted to the scene in {result.model.adapt_seconds:.1f} s"
    if result.protocol.get("projection"):
        adapt += ", S3RNet projected onto its inputs"
    lines = [
        f"**Done** in {result.seconds:.1f} s{f' ({origin})' if origin else ''}: {result.scene_name}, rows {r0}-{r1}, cols {c0}-{c1} "
        f"({result.shape[0]} x {result.shape[1]} px, {result.shape[2]} bands); MSI {s.msi}, PSF {s.psf}, {noise}, "
        f"shift {s.shift[0]:g}, {s.shift[1]:g} LR px, seed {s.seed}; methods: "
        + ", ".join(views.label(m) for m in result.methods) + adapt + "."
    ]
    lines += [f"- {note}" for note in result.notes]
    return "\n".join(lines)


def render_views(result: FusionResult, colour_mode: str, wavelength: float, baseline: str | None,
                 pixel: tuple[int, int] | None) -> dict[str, Any]:
    """Everything the page shows for a result, as plain data keyed by view name.

    Images are ``(uint8 array, caption)`` pairs; plots are plotly figures. The union of
    :func:`render_overview` and :func:`render_details`.
    """
    overview = render_overview(result, colour_mode, baseline, pixel)
    return overview | render_details(result, colour_mode, wavelength, overview["baseline"])


def render_overview(result: FusionResult, colour_mode: str, baseline: str | None,
                    pixel: tuple[int, int] | None) -> dict[str, Any]:
    """What a fusion answers with first: the metrics, the composites and the pixel's spectrum.

    ``pixel`` is (x, y); its spectrum is None when it lies outside the result's region.
    """
    baseline = pick_baseline(result, baseline)
    out: dict[str, Any] = {"baseline": baseline, "baselines": result.baselines}
    out |= render_composites(result, colour_mode, baseline)
    out["metrics"] = views.metrics_table(result)
    out["evaluation"] = result.to_json()
    spectra = None
    if pixel is not None:
        try:
            spectra = pixel_spectra(result, *pixel)
        except S3RNetError:
            spectra = None  # the pixel lies outside the new region: the plot invites a click
    out["spectra"] = spectra
    out["profile"] = views.spectrum_figure(spectra)
    return out


def render_details(result: FusionResult, colour_mode: str, wavelength: float, baseline: str | None) -> dict[str, Any]:
    """The views of the other tabs: swipe, bands, error maps, per-band PSNR and SSAWB."""
    baseline = pick_baseline(result, baseline)
    truth, fused = views.swipe_pair(result, colour_mode)
    out: dict[str, Any] = {"swipe": (truth, fused)}
    out |= render_bands(result, wavelength, baseline)
    out |= render_errors(result, baseline)
    out["psnr_plot"] = views.psnr_figure(result)
    out["weights"] = views.weight_maps_view(result)
    out["weights_plot"] = views.weights_figure(result)
    out["energy_plot"] = views.energy_figure(result)
    return out


def render_composites(result: FusionResult, colour_mode: str, baseline: str | None) -> dict[str, Any]:
    composites = views.composite_views(result, colour_mode, baseline)
    out = {f"rgb_{name}": view for name, view in composites.items() if name != "caption"}
    out["rgb_caption"] = composites["caption"][1]
    out["swipe"] = (composites["truth"][0], composites["fused"][0])
    return out


def render_bands(result: FusionResult, wavelength: float, baseline: str | None) -> dict[str, Any]:
    bands, caption = views.band_views(result, wavelength, baseline)
    out = {f"band_{name}": view for name, view in bands.items()}
    out["band_caption"] = caption
    return out


def render_errors(result: FusionResult, baseline: str | None) -> dict[str, Any]:
    return {f"error_{name}": view for name, view in views.error_views(result, baseline).items()}


# --------------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------------


def export_cube(session: SessionState | None, startup: FusionResult, method: str | None = None) -> list[Path]:
    """The fused cube as ENVI .hdr + .img in a fresh download folder of the session."""
    session = session or SessionState(result=startup)
    return exports.write_envi(session.result, session.export_folder(), method)


def export_metrics(session: SessionState | None, startup: FusionResult) -> list[Path]:
    session = session or SessionState(result=startup)
    return exports.write_metrics(session.result, session.export_folder())


def export_spectra(session: SessionState | None, startup: FusionResult) -> list[Path]:
    session = session or SessionState(result=startup)
    return [exports.write_spectra(session.clicks, session.export_folder())]
