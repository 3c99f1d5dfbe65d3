"""The page's event handlers as plain functions (no gradio objects in, plain data out).

``app.main`` wires them to the components; tests call them directly. Every handler takes the
session's :class:`~app.state.SessionState` (None for a session that has done nothing yet) and
returns it, so that each session keeps its own results.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s3rnet.errors import ConfigError, S3RNetError, ShapeError

from . import exports, library, scenes, views
from .compute import FAST_BASELINES, METHOD_LABELS, MODEL, FusionResult, FusionSettings, pixel_spectra, run_fusion
from .results import RESULT_BUDGET_MB, FusionLanes, ResultStore
from .state import SessionState

DEFAULT_MSI = "oli4"
DEFAULT_METHODS = (MODEL, *FAST_BASELINES)
PREFERRED_BASELINE = "mtf-glp-hpm"
# The checkpoint picker's value when no weights are published (the API needs a default value).
NO_CHECKPOINT = "none"

ProgressCallback = Callable[[float, str], None]

# Every result of the process, under a memory budget, keyed by scene and settings: a class
# pressing "Fuse" with the same settings gets the same (immutable) result at once.
RESULTS = ResultStore(int(RESULT_BUDGET_MB * 2**20))
LANES = FusionLanes()

# An absolute file path in a message (a server's folder is nobody else's business): its last part is kept.
_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.~+-]+/)+([\w.~+-]+)")


def public_message(text: str) -> str:
    """A message for the page with every absolute path shortened to its file name."""
    return _PATH.sub(r"\1", str(text))


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

    def rank(name: str) -> tuple[int, int, int, int, str]:
        try:
            meta = library.checkpoint_metadata(name)
        except S3RNetError:
            return (3, 0, 3, 3, name)
        trained = meta.get("msi", {}).get("name")
        # Trained for that response; else one whose bands it holds, the most bands first (lite-s2-6
        # for an s2-10 simulation, which runs on its own bands of the ten).
        msi_match = 0 if trained == msi else 1 if trained and library.response_holds(msi, trained) else 2
        msi_bands = len(meta.get("msi", {}).get("response") or [])
        band_match = 0 if bands is None or int(meta.get("bands", -1)) == bands else 1
        preset_match = 0 if meta.get("preset") == preferred_preset else 1
        return (msi_match, -msi_bands, band_match, preset_match, name)

    return min(names, key=rank)


def default_settings() -> FusionSettings:
    """The start-up settings (also the API's defaults): Indian Pines, its test region (never used
    in training or model selection), OLI 4-band MSI, box PSF, no noise, S3RNet (when weights
    exist) and the fast baselines."""
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
        return public_message(f"Checkpoint {Path(name).stem!r} cannot be loaded: {exc}")
    parts = [f"**{Path(name).stem}**: preset {meta.get('preset', '?')}", f"{meta.get('bands', '?')} bands",
             f"MSI {meta.get('msi', {}).get('name', '?')}", f"ratio {meta.get('ratio', '?')}"]
    validation = meta.get("validation") or {}
    if "psnr" in validation:
        parts.append(f"validation PSNR {validation['psnr']:.2f} dB")
    training = meta.get("training") or {}
    if training.get("sources"):
        shares = ", ".join(f"{s['source']} {100 * s['share']:.0f}%" for s in training["sources"])
        parts.append(f"trained on {shares}")
    elif training.get("scene"):
        parts.append(f"trained on {training['scene']} ({training.get('region', '?')} region)")
    summary = ", ".join(parts)
    ensemble = meta.get("ensemble")
    if ensemble:
        label = METHOD_LABELS.get(ensemble["method"], ensemble["method"])
        if ensemble.get("share") == "consistency":
            summary += (f". Its output is blended with {label}'s (at least {100 * ensemble['weight']:.0f}% {label}, the "
                        f"share chosen on validation data, and more on a scene whose inputs {label}'s output reproduces "
                        f"better than the network's), because the two make different errors; the SSAWB weights are the "
                        f"network's.")
        elif ensemble.get("share") in ("band-consistency", "scene-band-consistency"):
            scene = (f", more on a scene whose inputs {label}'s output reproduces better than the network's"
                     if ensemble["share"] == "scene-band-consistency" else "")
            summary += (f". Its output is blended with {label}'s band by band (at least {100 * ensemble['weight']:.0f}% "
                        f"{label} in each band, the share chosen on validation data{scene}, and more in a band of the "
                        f"LR-HSI that {label}'s output reproduces better than the network's), because the two make "
                        f"different errors; the SSAWB weights are the network's.")
        else:
            summary += (f". Its output is blended with {label}'s ({100 * ensemble['weight']:.0f}% {label}, "
                        f"{100 * (1 - ensemble['weight']):.0f}% network; the share was chosen on validation data), "
                        f"because the two make different errors; the SSAWB weights are the network's.")
    if meta.get("projection"):
        summary += (" Then the output is corrected towards what reproduces its two inputs, as far as their estimated "
                    "noise allows.")
    return summary


def trained_regions(training: dict, scene: str) -> list[str]:
    """The regions of ``scene`` a checkpoint was trained or selected on, from its sidecar's
    ``training`` record (one region, or the ``SCENE:REGION`` entries of its sources)."""
    names = [training.get("region"), training.get("val_region")] if training.get("scene") == scene else []
    for entry in training.get("sources") or []:
        source_scene, _, region = str(entry.get("source", "")).partition(":")
        if source_scene == scene and region:
            names.append(region)
    return list(dict.fromkeys(name for name in names if name))


def training_overlap_note(result: FusionResult) -> str | None:
    """A warning when S3RNet is scored on pixels its checkpoint was trained or selected on."""
    checkpoint = result.settings.checkpoint
    if MODEL not in result.outputs or not checkpoint:
        return None
    try:
        meta = library.checkpoint_metadata(checkpoint)
        from s3rnet.data import load_split

        names = trained_regions(meta.get("training") or {}, result.scene_name)
        if not names:
            return None
        split = load_split(result.scene_name)
    except (S3RNetError, OSError):
        return None
    (r0, r1), (c0, c1) = result.box
    seen = []
    for name in names:
        if name in split.regions:
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
    threads = torch.get_num_threads()
    return f"S3RNet runs on the CPU ({threads} thread{'s' if threads != 1 else ''}); no GPU found"


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


@dataclass
class SceneChoices:
    """What the page offers for a scene: regions, MSI responses that fit it, and a description."""

    regions: list[tuple[str, str]]
    region: str
    msi_choices: list[tuple[str, str]]
    msi: str
    description: str


def scene_options(name: str, session: SessionState | None, msi: str | None = None) -> SceneChoices:
    """Regions and fitting MSI responses for the scene ``name``; ``msi`` stays chosen if it fits.

    Raises
    ------
    S3RNetError
        For an unknown scene, or one that no MSI response fits.
    """
    scene = resolve_scene(name, session)
    regions = scenes.region_choices(scene)
    fitting = scenes.fitting_responses(scene)
    chosen = msi if msi in fitting else (DEFAULT_MSI if DEFAULT_MSI in fitting else fitting[0])
    description = scenes.describe(scene)
    unfit = [m for m in MSI_HELP if m not in fitting]
    if unfit:
        description += (f". MSI responses that fit its bands: {', '.join(fitting)} "
                        f"(not {', '.join(unfit)})")
        if msi and msi != chosen:
            description += f"; {chosen} chosen instead of {msi}"
    return SceneChoices(regions, regions[0][1], [(msi_label(m), m) for m in fitting], chosen, description + ".")


# Short enough to read whole in the picker.
MSI_HELP = {
    "oli4": "Landsat-8 OLI, 4 bands",
    "oli6": "Landsat-8 OLI, 6 bands",
    "s2-4": "Sentinel-2, 4 bands",
    "s2-6": "Sentinel-2, 6 bands",
    "binning4": "4 groups of bands (paper)",
    "binning6": "6 groups of bands (paper)",
}


def msi_label(name: str) -> str:
    return f"{name}: {MSI_HELP.get(name, name)}"


def scene_regions(name: str, session: SessionState | None) -> tuple[list[tuple[str, str]], str, str]:
    """Region choices, the default region and a description, for the scene ``name``."""
    options = scene_options(name, session)
    return options.regions, options.region, options.description


@dataclass
class UploadOutcome:
    """What the page shows after an upload: the new scene (None when refused) and a message."""

    scene: str | None
    message: str
    ok: bool


def load_upload(files: Sequence[str] | str | None, wavelengths_text: str, session: SessionState | None,
                max_bytes: int, variable: str = "") -> tuple[UploadOutcome, SessionState]:
    """Read an uploaded scene into the session; a refused upload leaves the session unchanged."""
    session = session or SessionState()
    if isinstance(files, str):
        files = [files]
    try:
        scene = scenes.read_upload(files or [], wavelengths_text, max_bytes=max_bytes, variable=variable or "")
    except S3RNetError as exc:
        return UploadOutcome(None, public_message(f"Upload refused: {exc}"), False), session
    scene = scene.with_cube(scene.cube, meta=dict(scene.meta, upload_id=uuid.uuid4().hex))
    key = scenes.UPLOAD_PREFIX + scene.name
    session.add_upload(key, scene)
    message = f"Loaded {scene.name}: {scenes.describe(scene)}"
    if scene.meta.get("wavelength_note"):
        message += f" (note: {scene.meta['wavelength_note']})"
    return UploadOutcome(key, public_message(message), True), session


# --------------------------------------------------------------------------------------------
# Fusion
# --------------------------------------------------------------------------------------------


def make_settings(scene: str, region: str, msi: str, psf: str, lrhsi_no_noise: bool, lrhsi_snr_db: float,
                  hrmsi_no_noise: bool, hrmsi_snr_db: float, shift_rows: float, shift_cols: float, seed: float,
                  methods: Sequence[str], checkpoint: str | None, adapt: bool, adapt_steps: float,
                  project: bool = False, snr_reference: str = "scene", ratio: float = scenes.RATIO) -> FusionSettings:
    """The page's control values as :class:`FusionSettings` (checked)."""
    def snr(no_noise: bool, value: float, what: str) -> float:
        if no_noise or value is None:
            return math.inf
        value = float(value)
        if not 5.0 <= value <= 50.0:
            raise ConfigError(f"{what} SNR must lie between 5 and 50 dB (or tick 'no noise'), got {value:g}")
        return value

    if snr_reference not in library.SNR_REFERENCES:
        raise ConfigError(
            f"unknown SNR convention {snr_reference!r}; choose one of {', '.join(library.SNR_REFERENCES)}"
        )
    if seed is None or float(seed) != int(float(seed)) or int(float(seed)) < 0:
        raise ConfigError(f"the seed must be a whole number of at least 0, got {seed!r}")
    try:
        whole_ratio = int(ratio) if float(ratio) == int(float(ratio)) else None
    except (TypeError, ValueError):
        whole_ratio = None
    if whole_ratio not in scenes.RATIOS:
        raise ConfigError(f"the ratio must be one of {', '.join(map(str, scenes.RATIOS))}, got {ratio!r}")
    if isinstance(methods, str):
        methods = [m for m in methods.split(",") if m.strip()]
    return FusionSettings(
        scene=scene, region=region or "whole", msi=msi, psf=psf,
        lrhsi_snr_db=snr(lrhsi_no_noise, lrhsi_snr_db, "LR-HSI"),
        hrmsi_snr_db=snr(hrmsi_no_noise, hrmsi_snr_db, "HR-MSI"),
        shift=(float(shift_rows or 0.0), float(shift_cols or 0.0)), seed=int(float(seed)),
        methods=tuple(m.strip() for m in methods), checkpoint=None if checkpoint in (None, "", NO_CHECKPOINT) else checkpoint,
        adapt_steps=int(adapt_steps) if adapt and MODEL in methods else 0,
        project=bool(project) and MODEL in methods, snr_reference=snr_reference, ratio=whole_ratio,
    )


def result_key(scene, settings: FusionSettings) -> tuple:
    """A result's key in the store: the scene (an upload by its id) and every setting."""
    return (scene.meta.get("upload_id", scene.source), settings)


def check_msi_fits(scene, msi: str) -> None:
    """Refuse an MSI response the scene's bands cannot simulate, naming those that fit."""
    fitting = scenes.fitting_responses(scene)
    if msi not in fitting:
        reason = scenes.msi_fit(scene).get(msi) or f"unknown MSI response {msi!r}"
        raise ConfigError(f"{reason}. For this scene ({scenes.describe(scene)}) choose one of: {', '.join(fitting)}")


def compute_result(scene, settings: FusionSettings, progress: ProgressCallback | None = None) -> FusionResult:
    """Run a fusion in its lane (see :class:`~app.results.FusionLanes`), reusing the metrics'
    statistics of a stored result of the same region."""
    report = progress or (lambda fraction, message: None)
    adapting = settings.adapt_steps > 0 and MODEL in settings.methods
    # A scorer is held for the whole of an evaluation, adaptation included: an adapting run gets
    # its own, or a plain fusion of the same region would wait for it while the adaptation waits
    # for the plain fusion.
    scorer = None if adapting else RESULTS.scorer_for(
        lambda r: (r.settings.scene, r.settings.region) == (settings.scene, settings.region))
    if adapting:
        def step(fraction: float, message: str) -> None:
            if LANES.plain_wanted:
                report(fraction, "paused for another user's fusion")
            LANES.give_way()
            report(fraction, message)

        with LANES.adaptation(waiting=lambda: report(0.0, "waiting for another user's adaptation to finish")):
            result = run_fusion(scene, settings, step, scorer=scorer)
    else:
        with LANES.plain(waiting=lambda: report(0.0, "waiting for another user's fusion to finish")):
            result = run_fusion(scene, settings, progress, scorer=scorer)
    note = training_overlap_note(result)
    if note:
        result.notes.append(note)
    result.notes[:] = [public_message(n) for n in result.notes]
    # The protocol names the scene's file and the checkpoint's: by name, not by server path.
    result.protocol.update({k: public_message(v) for k, v in result.protocol.items() if isinstance(v, str)})
    return result


def stored_result(settings: FusionSettings, session: SessionState | None, progress: ProgressCallback | None = None,
                  use_cache: bool = True, pin: bool = False) -> tuple[FusionResult, bool]:
    """The result of ``settings`` from the store, or computed (and stored) when it is not there.

    Returns the result and whether it came from the store. ``pin`` keeps it there for good.
    """
    scene = resolve_scene(settings.scene, session)
    check_msi_fits(scene, settings.msi)
    key = result_key(scene, settings)
    result = RESULTS.get(key) if use_cache else None
    if result is not None:
        return result, True
    result = compute_result(scene, settings, progress)
    RESULTS.put(key, result, pin=pin)
    return result, False


def fuse(settings: FusionSettings, session: SessionState | None, startup: FusionResult | None = None,
         progress: ProgressCallback | None = None, use_cache: bool = True,
         pin: bool = False) -> tuple[FusionResult, SessionState, bool]:
    """Run (or reuse) a fusion and make its settings the session's current ones.

    Returns the result, the session and whether the result was reused from an identical run.

    Raises
    ------
    S3RNetError
        When nothing could run; the session keeps its previous settings.
    """
    result, reused = stored_result(settings, session, progress, use_cache, pin)
    session = session or SessionState()
    session.settings = settings
    session.failed = None
    return result, session, reused


def session_result(session: SessionState | None, startup: FusionResult) -> FusionResult:
    """The session's last result: from the store, or computed again when the store dropped it."""
    if session is None or session.settings is None:
        return startup
    return stored_result(session.settings, session)[0]


def spectrum(x: float, y: float, session: SessionState | None, startup: FusionResult) -> tuple[dict[str, Any], SessionState]:
    """The spectra at pixel (x, y) of the session's last result, remembered for the CSV export."""
    session = session or SessionState()
    if x is None or y is None:
        raise ShapeError("give both pixel coordinates: x (column) and y (row)")
    spectra = pixel_spectra(session_result(session, startup), x, y)
    session.remember_click(spectra)
    return spectra, session


def click_to_pixel(index: Sequence[int] | None, session: SessionState | None, startup: FusionResult) -> tuple[int, int]:
    """The cube pixel (x, y) under a click at display pixel ``index`` = [x, y] of an enlarged image."""
    if index is None or len(index) < 2:
        raise ShapeError("the click carried no pixel position")
    result = session_result(session, startup)
    factor = views.display_factor(*result.shape[:2])
    return int(index[0]) // factor, int(index[1]) // factor


def centre_pixel(result: FusionResult) -> tuple[int, int]:
    """(x, y) of the middle of a result's region: the pixel shown until one is clicked."""
    return result.shape[1] // 2, result.shape[0] // 2

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
    if s.snr_reference == "authors" and noise != "no noise":
        noise += " (the authors' convention)"
    adapt = ""
    if result.model is not None and getattr(result.model, "adapt_seconds", 0):
        adapt = f", S3RNet adapted to the scene in {result.model.adapt_seconds:.1f} s"
    ensemble = result.protocol.get("ensemble")
    if ensemble and ensemble.get("applied"):
        label = METHOD_LABELS.get(ensemble["method"], ensemble["method"])
        if ensemble.get("weights"):
            adapt += (f", S3RNet blended with {label} band by band at {100 * min(ensemble['weights']):.0f}-"
                      f"{100 * max(ensemble['weights']):.0f}% (mean {100 * ensemble['weight']:.0f}%; above "
                      f"{100 * ensemble.get('scene_weight', ensemble['floor']):.0f}% in the bands of the LR-HSI that "
                      f"{label}'s output reproduces better)")
        else:
            adapt += f", S3RNet blended with {label} at {100 * ensemble['weight']:.0f}%"
            if ensemble["weight"] > ensemble.get("floor", 1.0):
                adapt += (f" (raised from {100 * ensemble['floor']:.0f}%: {label}'s output reproduces this scene's "
                          f"inputs better than the network's)")
    if result.protocol.get("projection"):
        adapt += ", S3RNet projected onto its inputs"
    lines = [
        f"**Done** in {result.seconds:.1f} s{f' ({origin})' if origin else ''}: {result.scene_name}, rows {r0}-{r1}, cols {c0}-{c1} "
        f"({result.shape[0]} x {result.shape[1]} px, {result.shape[2]} bands); ratio {s.ratio}, MSI {s.msi}, PSF {s.psf}, {noise}, "
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
    out["weights_reading"] = views.weights_reading(result)
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
    session = session or SessionState()
    return exports.write_envi(session_result(session, startup), session.export_folder(), method)


def export_metrics(session: SessionState | None, startup: FusionResult) -> list[Path]:
    session = session or SessionState()
    return exports.write_metrics(session_result(session, startup), session.export_folder())


def export_spectra(session: SessionState | None, startup: FusionResult) -> list[Path]:
    session = session or SessionState()
    return [exports.write_spectra(session.clicks, session.export_folder())]
