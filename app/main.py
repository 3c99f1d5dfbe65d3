"""S3RNet Explorer: the Gradio app.

Start it from the repository root with ``python app/main.py``, ``gradio app/main.py`` (reload
mode) or ``make app``; it serves http://127.0.0.1:7860 (gradio's ``GRADIO_SERVER_NAME`` and
``GRADIO_SERVER_PORT`` change it, as do ``S3RNET_APP_HOST`` and ``S3RNET_APP_PORT``).

The page opens on a complete result, computed at start-up. Its API (``/fuse``, ``/details``,
``/spectrum``, ``/load_scene`` and the exports) is the one the page uses; see README section
"The app".
Offline by design: analytics off, no share link, no fonts or scripts from the internet.
"""

from __future__ import annotations

import ctypes
import os


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse instead of handing it back to the system.

    Every fusion allocates and frees arrays of tens of MB. With glibc's defaults each is a fresh
    ``mmap`` whose pages fault in again, zeroed by the kernel (and, for NumPy's huge-page
    arrays, sometimes after a compaction stall): measured on 2 cores, /fuse took 1.53 s median
    and up to 1.9 s; with the memory kept, 1.36 s and at most 1.5 s. The price is that the
    process keeps its peak memory. Returns False (and changes nothing) where there is no glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_max, m_arena_max = -1, -4, -8  # from glibc's malloc.h
    return all(libc.mallopt(option, value) == 1 for option, value in (
        (m_arena_max, 1),  # one heap for every thread, so that one thread reuses what another freed
        (m_mmap_max, 0),  # large arrays from the heap too
        (m_trim_threshold, 2**31 - 1),  # never give the heap's top back
    ))


# Before any thread starts: a thread's malloc arena is chosen when it first allocates.
keep_freed_memory()

# Before gradio is imported: it reads these once.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import sys  # noqa: E402
import warnings  # noqa: E402
from concurrent.futures import Future, ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

if __package__ in (None, ""):
    # Run as a script (python app/main.py, gradio app/main.py): make the repository root
    # importable so that "app" and "s3rnet" resolve as packages.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _start_startup_fusion() -> Future:
    """Compute the start-up result in a background thread.

    Importing gradio takes seconds on a small CPU, and so does the start-up fusion: run as a
    script, the app does both at once. The result lands in the shared result cache, where
    :func:`build_demo` finds it.
    """
    def compute():
        from app import handlers as startup_handlers

        return startup_handlers.fuse(startup_handlers.default_settings(), None, None, pin=True)[0]

    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="startup-fusion")
    future = executor.submit(compute)
    executor.shutdown(wait=False)
    return future


_STARTUP_FUTURE = _start_startup_fusion() if __name__ == "__main__" else None

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from app import handlers, pair, scenes, views  # noqa: E402
from app.compute import (  # noqa: E402
    DEFAULT_ADAPT_STEPS, EXTRA_BASELINES, FAST_BASELINES, METHOD_LABELS, MODEL, SLOW_BASELINES, FusionResult,
)
from app.state import OPEN_SESSIONS, SessionState, close_session  # noqa: E402
from s3rnet.degrade import PSFS  # noqa: E402
from s3rnet.errors import S3RNetError  # noqa: E402

try:  # pandas 3 makes gradio warn on every table it sends
    from pandas.errors import Pandas4Warning

    warnings.filterwarnings("ignore", category=Pandas4Warning)
except ImportError:  # pragma: no cover - older pandas
    pass

DEFAULT_MAX_UPLOAD_MB = float(os.environ.get("S3RNET_APP_MAX_UPLOAD_MB", "200"))
DEFAULT_WAVELENGTH_NM = 650.0
# A session's state (settings, uploads, clicks) is dropped after two idle hours, and at once
# when its browser tab closes; its results live in the shared store (app.results).
SESSION_SECONDS = 2 * 3600
# Fusions wait in their lanes (app.results.FusionLanes), not in gradio's queue: this many may
# be in hand at once. Views (clicks, bands, tabs) have their own group and never wait for a fusion.
FUSION_CONCURRENCY = 16
VIEW_CONCURRENCY = 4
# Gradio's files of past results (the PNGs of each view): checked every 30 minutes, removed after 2 hours.
DELETE_CACHE = (1800, 7200)

# Readable on a projector: large text, and help text dark enough (contrast >= 7:1 on white).
CSS = """
.gradio-container {font-size: 17px;}
#title h1 {margin: 0 0 0.1em 0; font-size: 1.7em;}
#title p {margin: 0;}
#status {min-height: 2.6em;}
#fuse-button {min-height: 3.2em; font-size: 1.25em;}
.view-image img {image-rendering: pixelated;}
.view-image label span, .view-image [data-testid="block-label"] {white-space: normal; overflow: visible;}
#metrics {max-width: 100%;}
"""

# Output slots of a fusion, in the order the events return them: /fuse answers with the overview
# (the first tab), then /details fills the other tabs.
OVERVIEW_KEYS = (
    "metrics", "evaluation",
    "rgb_truth", "rgb_lrhsi", "rgb_hrmsi", "rgb_fused", "rgb_baseline", "rgb_caption", "profile", "spectra",
)
DETAIL_KEYS = (
    "swipe", "band_truth", "band_lrhsi", "band_hrmsi", "band_fused", "band_baseline", "band_caption",
    "error_sam_fused", "error_sam_baseline", "error_rmse_fused", "error_rmse_baseline", "psnr_plot",
    "weights", "weights_reading", "weights_plot", "energy_plot",
)
VIEW_KEYS = OVERVIEW_KEYS + DETAIL_KEYS

IMAGE_KEYS = {key for key in VIEW_KEYS if key.startswith(("rgb_", "band_", "error_"))} - {"band_caption", "rgb_caption"} | {"weights"}
PLOT_KEYS = {"profile", "psnr_plot", "weights_plot", "energy_plot"}

# Scrolls the results into view after a fusion when their top is in the lower part of the window.
SCROLL_TO_RESULTS = """() => {
  const results = document.getElementById('results');
  if (!results) return;
  const top = results.getBoundingClientRect().top;
  if (top > 0.4 * window.innerHeight || top < 0) results.scrollIntoView({behavior: 'smooth', block: 'start'});
}"""


def _image_update(view: tuple[Any, str] | None) -> Any:
    if view is None or view[0] is None:
        return gr.update(value=None, label=view[1] if view else None)
    return gr.update(value=view[0], label=view[1])


def to_updates(rendered: dict[str, Any], keys: tuple[str, ...] = VIEW_KEYS) -> list[Any]:
    """Plain rendered views as gradio updates, in the order of ``keys``."""
    updates = []
    for key in keys:
        value = rendered.get(key)
        if key in IMAGE_KEYS:
            updates.append(_image_update(value))
        elif key == "swipe":
            updates.append(gr.update(value=value))
        elif key == "band_caption":
            updates.append(f"**{value}**" if value else "")
        else:
            updates.append(value)
    return updates


def cleared_views(problem: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """What the views show after a failed fusion: nothing of the previous result, and why."""
    cleared: dict[str, Any] = {}
    for key in keys:
        if key in IMAGE_KEYS:
            cleared[key] = (None, "no result: the last fusion failed")
        elif key in PLOT_KEYS:
            cleared[key] = views.empty_figure("No result: the last fusion failed (see the status)")
        elif key == "metrics":
            cleared[key] = pd.DataFrame(columns=["method", *(title for _, title, _ in views.METRIC_COLUMNS)])
        elif key == "evaluation":
            cleared[key] = {"problem": problem}
        elif key == "swipe":
            cleared[key] = None
        else:
            cleared[key] = None if key == "spectra" else ""
    return cleared


def problem_status(problem: str) -> str:
    return (f"**Problem:** {problem}\n\n*The views are cleared: they showed the previous settings. "
            f"Change the settings and press Fuse again.*")


def build_demo(max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB) -> gr.Blocks:
    """The app's Blocks, with a complete result computed and shown at start-up.

    Parameters
    ----------
    max_upload_mb : float
        Uploads larger than this are refused with a message (the server itself refuses files of
        twice this size, see :func:`launch_options`).
    """
    settings = handlers.default_settings()
    if _STARTUP_FUTURE is not None:
        try:
            _STARTUP_FUTURE.result()  # the background start-up fusion, now in the result store
        except Exception:  # noqa: BLE001 - fused again just below, where the error surfaces
            pass
    startup, _, _ = handlers.fuse(settings, None, None, pin=True)
    # The page opens on the spectrum of the region's centre pixel; a click shows another.
    centre = handlers.centre_pixel(startup)
    first = handlers.render_views(startup, views.DEFAULT_COLOUR_MODE, DEFAULT_WAVELENGTH_NM, None, centre)
    max_bytes = int(max_upload_mb * 2**20)
    checkpoints = handlers.checkpoint_choices()
    options = handlers.scene_options(settings.scene, None, settings.msi)

    with gr.Blocks(title="S3RNet Explorer", analytics_enabled=False, delete_cache=DELETE_CACHE) as demo:
        session = gr.State(None, time_to_live=SESSION_SECONDS, delete_callback=close_session)
        gr.Markdown(
            "# S3RNet Explorer: hyperspectral pansharpening\n"
            "Simulate a low-resolution hyperspectral image (LR-HSI) and a high-resolution multispectral image "
            "(HR-MSI) from a real scene, fuse them with S3RNet and classical methods, and compare with the "
            f"ground truth. *{handlers.device_summary()}.*",
            elem_id="title",
        )
        with gr.Tabs(elem_id="app-tabs"):
            with gr.Tab("Simulate and fuse", id="simulate"):
                with gr.Row(equal_height=True, elem_id="fuse-bar"):
                    scene = gr.Dropdown(
                        handlers.scene_choices(None), value=settings.scene, label="Scene",
                        allow_custom_value=True,  # uploads are listed per session; the handler checks the name
                        elem_id="scene", scale=3, min_width=200,
                    )
                    region = gr.Dropdown(
                        options.regions, value=settings.region, label="Region",
                        allow_custom_value=True,  # choices differ per scene; the handler checks the value
                        elem_id="region", scale=4, min_width=240,
                    )
                    msi = gr.Dropdown(
                        options.msi_choices, value=options.msi, label="MSI spectral response",
                        allow_custom_value=True,  # choices follow the scene's bands; the handler checks the value
                        elem_id="msi", scale=4, min_width=240,
                    )
                    fuse_button = gr.Button("Fuse", variant="primary", size="lg", elem_id="fuse-button",
                                            scale=1, min_width=120)
                status = gr.Markdown(handlers.status_text(startup, "computed at start-up"), elem_id="status")

                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=300, elem_id="controls"):
                        scene_details = gr.Markdown(options.description, elem_id="scene-details")
                        with gr.Accordion("Noise, blur and misregistration", open=False, elem_id="simulation"):
                            ratio = gr.Radio(
                                list(scenes.RATIOS), value=settings.ratio, label="Resolution ratio",
                                info="How many HR-MSI pixels one LR-HSI pixel spans per side: 4 in the paper, 3 for a "
                                     "30 m hyperspectral image with 10 m Sentinel-2 bands. The published S3RNet "
                                     "weights run at 2, 3, 4 and 6 (where they were validated).",
                                elem_id="ratio",
                            )
                            psf = gr.Radio(
                                list(PSFS), value=settings.psf, label="Point spread function",
                                info="box: mean of each ratio x ratio block (the paper); gaussian: Wald's protocol.",
                                elem_id="psf",
                            )
                            lrhsi_no_noise = gr.Checkbox(True, label="LR-HSI: no noise", elem_id="lrhsi-no-noise")
                            lrhsi_snr_db = gr.Slider(
                                5, 50, value=35, step=1, label="LR-HSI SNR (dB), when noisy",
                                info="White Gaussian noise on the LR-HSI; lower is noisier (the paper: 35 and 15).",
                                elem_id="lrhsi-snr",
                            )
                            snr_reference = gr.Radio(
                                [("our convention: power of the image in scene units", "scene"),
                                 ("the authors' code: power of the tile mapped to [-1, 1] by the truth's range", "authors")],
                                value="scene", label="How the SNR is measured",
                                info="The authors' 35 and 15 dB are about 2.5 dB noisier than ours on Indian Pines.",
                                elem_id="snr-reference",
                            )
                            hrmsi_no_noise = gr.Checkbox(True, label="HR-MSI: no noise", elem_id="hrmsi-no-noise")
                            hrmsi_snr_db = gr.Slider(5, 50, value=35, step=1, label="HR-MSI SNR (dB), when noisy",
                                                     info="The same on the HR-MSI.", elem_id="hrmsi-snr")
                            shift_rows = gr.Slider(-2, 2, value=0, step=0.25, label="Misregistration: rows (LR pixels)",
                                                   info="Shifts the LR-HSI against the HR-MSI (sub-pixel allowed).",
                                                   elem_id="shift-rows")
                            shift_cols = gr.Slider(-2, 2, value=0, step=0.25, label="Misregistration: columns (LR pixels)",
                                                   elem_id="shift-cols")
                            seed = gr.Number(0, precision=0, minimum=0, label="Seed", info="Same seed, same noise.",
                                             elem_id="seed")
                        with gr.Accordion("Methods and checkpoint", open=False, elem_id="methods-box"):
                            method_choices = [(METHOD_LABELS[m], m) for m in (MODEL, *FAST_BASELINES)]
                            method_choices += [(f"{METHOD_LABELS[m]} (robust to noise)", m) for m in EXTRA_BASELINES]
                            method_choices += [(f"{METHOD_LABELS[m]} (slow: seconds to a minute)", m) for m in SLOW_BASELINES]
                            methods = gr.CheckboxGroup(
                                method_choices, value=list(settings.methods), label="Methods",
                                info="S3RNet and the classical baselines; CNMF is slow, so it is off by default.",
                                elem_id="methods",
                            )
                            checkpoint = gr.Dropdown(
                                [(name.rsplit("/", 1)[-1], name) for name in checkpoints]
                                or [("none published yet", handlers.NO_CHECKPOINT)],
                                value=settings.checkpoint or handlers.NO_CHECKPOINT, label="S3RNet checkpoint",
                                info="Pretrained weights: 'lite' runs on a CPU, 'paper' is the full network (GPU).",
                                allow_custom_value=False, elem_id="checkpoint",
                            )
                            checkpoint_info = gr.Markdown(handlers.checkpoint_summary(settings.checkpoint))
                            adapt = gr.Checkbox(False, label="Adapt S3RNet to this scene",
                                                info="Test-time adaptation on the scene's own inputs (Wald's protocol); "
                                                     "slower. Other users' plain fusions go first.", elem_id="adapt")
                            adapt_steps = gr.Slider(5, 200, value=DEFAULT_ADAPT_STEPS, step=5, label="Adaptation steps",
                                                    elem_id="adapt-steps")
                            project = gr.Checkbox(False, label="Project S3RNet onto its inputs",
                                                  info="Corrects the fused cube so that, degraded again, it gives back the "
                                                       "HR-MSI and, as far as its noise allows, the LR-HSI (the "
                                                       "published checkpoints already do).",
                                                  elem_id="project")
                        with gr.Accordion("Your own scene", open=False, elem_id="upload-box"):
                            upload = gr.File(
                                label="ENVI .hdr + .img (both), .mat, .npy or .npz", file_count="multiple",
                                elem_id="upload",
                            )
                            wavelengths = gr.Textbox(
                                "", label="Wavelengths for files without them",
                                info="In nm (micrometres are recognised and converted): one per band, "
                                     "comma-separated, or a range such as 400-2500 (evenly spaced).",
                                placeholder="400-2500", elem_id="wavelengths",
                            )
                            variable = gr.Textbox(
                                "", label="Variable holding the cube (.mat / .npz with several arrays)",
                                placeholder="for example indian_pines_corrected", elem_id="variable",
                            )
                            load_button = gr.Button("Load the uploaded scene", elem_id="load-button")
                            gr.Markdown(f"Files up to {max_upload_mb:.0f} MB. The scene list shows it once loaded.")
                        with gr.Accordion("Export", open=False, elem_id="export-box"):
                            gr.Markdown("Downloads of the current result of this session.")
                            export_cube_button = gr.Button("Fused cube (ENVI .hdr + .img)", elem_id="export-cube")
                            export_metrics_button = gr.Button("Metrics (CSV + JSON)", elem_id="export-metrics")
                            export_spectra_button = gr.Button("Clicked spectra (CSV)", elem_id="export-spectra")
                            downloads = gr.File(label="Downloads", file_count="multiple", interactive=False,
                                                elem_id="downloads")

                    with gr.Column(scale=3, min_width=320, elem_id="results"):
                        with gr.Row():
                            colour_mode = gr.Radio(
                                list(views.COLOUR_MODES), value=views.DEFAULT_COLOUR_MODE, label="Composite",
                                info="True colour: bands nearest 640, 550, 460 nm; false colour shows vegetation red.",
                                elem_id="colour-mode",
                            )
                            baseline = gr.Dropdown(
                                first["baselines"], value=first["baseline"], label="Baseline shown",
                                allow_custom_value=True,  # choices follow each session's result; unknown ones fall back
                                info="The classical method shown beside S3RNet.", elem_id="baseline",
                            )
                        with gr.Tabs():
                            with gr.Tab("Images", id="images"):
                                metrics = gr.Dataframe(first["metrics"], label="Metrics on this region",
                                                       interactive=False, elem_id="metrics", wrap=True)
                                gr.Markdown("PSNR and SSIM: higher is better; SAM, RMSE and ERGAS: lower is better. "
                                            "All digits: tab *Pixel and details*.")
                                rgb_caption = gr.Markdown(first["rgb_caption"], elem_id="rgb-caption")
                                with gr.Row():
                                    rgb_truth = _view_image("rgb-truth", first["rgb_truth"])
                                    rgb_fused = _view_image("rgb-fused", first["rgb_fused"])
                                    rgb_baseline = _view_image("rgb-baseline", first["rgb_baseline"])
                                with gr.Row():
                                    rgb_lrhsi = _view_image("rgb-lrhsi", first["rgb_lrhsi"])
                                    rgb_hrmsi = _view_image("rgb-hrmsi", first["rgb_hrmsi"])
                                profile = gr.Plot(first["profile"], label="Spectral profile", elem_id="profile")
                            with gr.Tab("Bands", id="bands"):
                                wavelength = gr.Slider(
                                    *views.SLIDER_NM, value=DEFAULT_WAVELENGTH_NM, step=1, label="Wavelength (nm)",
                                    info="Shows the band nearest this wavelength in each image.", elem_id="band-slider",
                                )
                                band_caption = gr.Markdown(f"**{first['band_caption']}**", elem_id="band-caption")
                                with gr.Row():
                                    band_truth = _view_image("band-truth", first["band_truth"])
                                    band_fused = _view_image("band-fused", first["band_fused"])
                                    band_baseline = _view_image("band-baseline", first["band_baseline"])
                                with gr.Row():
                                    band_lrhsi = _view_image("band-lrhsi", first["band_lrhsi"])
                                    band_hrmsi = _view_image("band-hrmsi", first["band_hrmsi"])
                            with gr.Tab("Swipe", id="swipe"):
                                gr.Markdown("Drag the handle: ground truth on the left, the fused result on the right.")
                                swipe = gr.ImageSlider(first["swipe"], label="Ground truth | fused", elem_id="swipe",
                                                       max_height=640)
                            with gr.Tab("Errors", id="errors"):
                                gr.Markdown("Per-pixel spectral angle (SAM) and RMSE against the ground truth; "
                                            "each metric uses one colour scale for both methods.")
                                with gr.Row():
                                    error_sam_fused = _view_image("error-sam-fused", first["error_sam_fused"])
                                    error_sam_baseline = _view_image("error-sam-baseline", first["error_sam_baseline"])
                                with gr.Row():
                                    error_rmse_fused = _view_image("error-rmse-fused", first["error_rmse_fused"])
                                    error_rmse_baseline = _view_image("error-rmse-baseline", first["error_rmse_baseline"])
                                psnr_plot = gr.Plot(first["psnr_plot"], label="PSNR per band", elem_id="psnr-plot")
                            with gr.Tab("SSAWB weights", id="ssawb"):
                                gr.Markdown(
                                    "S3RNet mixes four branches with per-pixel sigmoid weights (the SSAWB block): "
                                    "Q reads the LR-HSI, K the HR-MSI, V the LR-HSI joined with the downsampled HR-MSI "
                                    "at low resolution (upsampled by the ratio before fusion), Z the upsampled LR-HSI joined "
                                    "with the HR-MSI at high resolution; channel attention adds Conv1x1(A V) to Z. "
                                    "Below: the four weight maps on one colour scale, each branch's mean weight, and how "
                                    "the energy of the fused features spreads over channels (the paper's Fig. 1: a "
                                    "sparse representation puts most energy in few channels)."
                                )
                                weights_reading = gr.Markdown(first["weights_reading"], elem_id="weights-reading")
                                weights = gr.Image(first["weights"][0], label=first["weights"][1], interactive=False,
                                                   format="png", elem_id="weights", buttons=["download", "fullscreen"])
                                with gr.Row():
                                    weights_plot = gr.Plot(first["weights_plot"], label="Mean weight per branch",
                                                           elem_id="weights-plot")
                                    energy_plot = gr.Plot(first["energy_plot"], label="Channel energy", elem_id="energy-plot")
                            with gr.Tab("Pixel and details", id="details"):
                                gr.Markdown("Type a pixel (x = column, y = row, from the top-left of the region) "
                                            "or click an image.")
                                with gr.Row():
                                    pixel_x = gr.Number(centre[0], precision=0, label="x (column)", elem_id="pixel-x")
                                    pixel_y = gr.Number(centre[1], precision=0, label="y (row)", elem_id="pixel-y")
                                    spectrum_button = gr.Button("Show spectrum", elem_id="spectrum-button")
                                spectra = gr.JSON(first["spectra"], label="Spectra of the pixel", elem_id="spectra")
                                evaluation = gr.JSON(first["evaluation"], label="Protocol and metrics (all digits)",
                                                     elem_id="evaluation")
            pair.build_pair_tab()

        overview_outputs = [
            metrics, evaluation, rgb_truth, rgb_lrhsi, rgb_hrmsi, rgb_fused, rgb_baseline, rgb_caption, profile, spectra,
        ]
        detail_outputs = [
            swipe, band_truth, band_lrhsi, band_hrmsi, band_fused, band_baseline, band_caption,
            error_sam_fused, error_sam_baseline, error_rmse_fused, error_rmse_baseline, psnr_plot,
            weights, weights_reading, weights_plot, energy_plot,
        ]
        views_group = {"concurrency_id": "views", "concurrency_limit": VIEW_CONCURRENCY}

        def opened(state, request: gr.Request | None):
            """Remember the session of an open tab, so that closing the tab frees its state."""
            if state is not None and request is not None and request.session_hash:
                OPEN_SESSIONS.remember(request.session_hash, state)
            return state

        # ---------------------------------------------------------------- scene and upload
        def on_scene_change(scene_name, msi_name, state):
            try:
                chosen = handlers.scene_options(scene_name, state, msi_name)
            except S3RNetError as exc:
                message = handlers.public_message(exc)
                gr.Warning(message)
                return gr.skip(), gr.skip(), f"**Problem:** {message}"
            return (gr.update(choices=chosen.regions, value=chosen.region),
                    gr.update(choices=chosen.msi_choices, value=chosen.msi), chosen.description)

        scene.change(on_scene_change, [scene, msi, session], [region, msi, scene_details], api_visibility="private",
                     **views_group)

        def load_scene(files, wavelengths_text, variable, state, request: gr.Request = None):
            """Read an uploaded scene (ENVI .hdr + .img, .mat, .npy, .npz) into this session.

            Returns the status message, the scene dropdown (the upload selected when it was read)
            and the region dropdown. A refused upload changes nothing else.
            """
            outcome, state = handlers.load_upload(files, wavelengths_text, state, max_bytes, variable)
            state = opened(state, request)
            if not outcome.ok:
                gr.Warning(outcome.message)
                return f"**Problem:** {outcome.message}", gr.skip(), gr.skip(), gr.skip(), gr.skip(), state
            chosen = handlers.scene_options(outcome.scene, state, None)
            return (f"**{outcome.message}**. Press Fuse to fuse it.",
                    gr.update(choices=handlers.scene_choices(state), value=outcome.scene),
                    gr.update(choices=chosen.regions, value=chosen.region),
                    gr.update(choices=chosen.msi_choices, value=chosen.msi), chosen.description, state)

        load_outputs = [status, scene, region, msi, scene_details, session]
        load_button.click(load_scene, [upload, wavelengths, variable, session], load_outputs, api_name="load_scene")
        upload.upload(load_scene, [upload, wavelengths, variable, session], load_outputs, api_visibility="private")

        def on_msi_change(msi_name, current):
            """Preselect a checkpoint trained for this MSI response, when there is one."""
            best = handlers.default_checkpoint(msi_name)
            if best is None or best == current:
                return gr.skip(), gr.skip()
            try:
                meta_msi = handlers.library.checkpoint_metadata(best).get("msi", {}).get("name")
            except S3RNetError:
                return gr.skip(), gr.skip()
            if meta_msi != msi_name:
                return gr.skip(), gr.skip()
            return best, handlers.checkpoint_summary(best)

        msi.change(on_msi_change, [msi, checkpoint], [checkpoint, checkpoint_info], api_visibility="private",
                   **views_group)
        checkpoint.change(handlers.checkpoint_summary, [checkpoint], [checkpoint_info], api_visibility="private",
                          **views_group)

        # ---------------------------------------------------------------- fusion
        def shown(state) -> FusionResult | None:
            """The result the page shows for this session: None after a failed fusion."""
            if state is not None and state.failed:
                return None
            return handlers.session_result(state, startup)

        def fuse(scene: str, region: str, msi: str, psf: str, lrhsi_no_noise: bool, lrhsi_snr_db: float,
                 hrmsi_no_noise: bool, hrmsi_snr_db: float, shift_rows: float, shift_cols: float, seed: float,
                 methods: list[str], checkpoint: str | None, adapt: bool, adapt_steps: float, project: bool,
                 colour_mode: str, baseline: str | None, snr_reference: str, ratio: int, state, progress=gr.Progress(),
                 request: gr.Request = None):
            """Simulate the LR-HSI and HR-MSI from a region of a scene, fuse them and score each method.

            Every parameter defaults to the start-up settings. Returns the status, the metrics table,
            the evaluation as JSON (protocol and metrics with every digit, as
            `python -m s3rnet evaluate --json` writes them), the composites, the spectrum of the last
            clicked pixel and its plot, the baseline shown and the pixel (x, y). The other tabs' views
            follow from /details. After a failure the views are cleared and the status says why.
            """
            try:
                settings = handlers.make_settings(
                    scene, region, msi, psf, lrhsi_no_noise, lrhsi_snr_db, hrmsi_no_noise, hrmsi_snr_db,
                    shift_rows, shift_cols, seed, methods or [], checkpoint, adapt, adapt_steps, project,
                    snr_reference, ratio,
                )
                result, state, reused = handlers.fuse(
                    settings, state, startup, progress=lambda fraction, message: progress(fraction, desc=message)
                )
                # The last clicked pixel, or the centre of the region until there is one.
                pixel = state.pixel or handlers.centre_pixel(result)
                rendered = handlers.render_overview(result, colour_mode, baseline, pixel)
            except S3RNetError as exc:
                problem = handlers.public_message(exc)
                gr.Warning(problem)
                state = state or SessionState()
                state.failed = problem
                state = opened(state, request)
                return [problem_status(problem), state, *to_updates(cleared_views(problem, OVERVIEW_KEYS), OVERVIEW_KEYS),
                        gr.update(choices=[], value=None), gr.skip(), gr.skip()]
            state = opened(state, request)
            for note in result.notes:
                if note.startswith("S3RNet did not run"):
                    gr.Warning(note)
            if pixel[0] >= result.shape[1] or pixel[1] >= result.shape[0]:
                pixel = handlers.centre_pixel(result)
            return [
                handlers.status_text(result, "reused: same settings as an earlier run" if reused else ""),
                state, *to_updates(rendered, OVERVIEW_KEYS),
                gr.update(choices=rendered["baselines"], value=rendered["baseline"]), pixel[0], pixel[1],
            ]

        def details(colour_mode: str, wavelength_nm: float, baseline: str | None, state):
            """The other tabs' views of this session's last fusion: swipe, band views (the band
            nearest `wavelength_nm`), error maps, per-band PSNR and the SSAWB weights."""
            result = shown(state)
            if result is None:
                return to_updates(cleared_views(state.failed, DETAIL_KEYS), DETAIL_KEYS)
            return to_updates(handlers.render_details(result, colour_mode, wavelength_nm, baseline), DETAIL_KEYS)

        fuse_inputs = [scene, region, msi, psf, lrhsi_no_noise, lrhsi_snr_db, hrmsi_no_noise, hrmsi_snr_db,
                       shift_rows, shift_cols, seed, methods, checkpoint, adapt, adapt_steps, project,
                       colour_mode, baseline, snr_reference, ratio, session]
        # The first tab comes back with the fusion; the other tabs fill in just after. Progress
        # shows in the status line under the Fuse button; the results then scroll into view.
        fuse_button.click(
            fuse, fuse_inputs, [status, session, *overview_outputs, baseline, pixel_x, pixel_y],
            api_name="fuse", concurrency_id="fusion", concurrency_limit=FUSION_CONCURRENCY,
            show_progress_on=[status],
        ).then(
            details, [colour_mode, wavelength, baseline, session], detail_outputs,
            api_name="details", show_progress="hidden", **views_group,
        ).then(None, js=SCROLL_TO_RESULTS, api_visibility="private")

        # ---------------------------------------------------------------- views that need no new fusion
        composite_keys = ("rgb_truth", "rgb_lrhsi", "rgb_hrmsi", "rgb_fused", "rgb_baseline", "rgb_caption", "swipe")

        def on_colour_mode(colour_mode, baseline, state):
            result = shown(state)
            if result is None:
                return [gr.skip()] * len(composite_keys)
            return to_updates(handlers.render_composites(result, colour_mode, baseline), composite_keys)

        colour_mode.change(on_colour_mode, [colour_mode, baseline, session],
                           [rgb_truth, rgb_lrhsi, rgb_hrmsi, rgb_fused, rgb_baseline, rgb_caption, swipe],
                           api_visibility="private", show_progress="hidden", **views_group)

        baseline_keys = ("rgb_baseline", "band_baseline", "error_sam_fused", "error_sam_baseline",
                         "error_rmse_fused", "error_rmse_baseline")

        def on_baseline(colour_mode, wavelength_nm, baseline, state):
            result = shown(state)
            if result is None:
                return [gr.skip()] * len(baseline_keys)
            rendered = handlers.render_composites(result, colour_mode, baseline)
            rendered |= handlers.render_bands(result, wavelength_nm, baseline)
            rendered |= handlers.render_errors(result, baseline)
            return to_updates(rendered, baseline_keys)

        baseline.change(on_baseline, [colour_mode, wavelength, baseline, session],
                        [rgb_baseline, band_baseline, error_sam_fused, error_sam_baseline, error_rmse_fused,
                         error_rmse_baseline], api_visibility="private", show_progress="hidden", **views_group)

        band_keys = ("band_truth", "band_lrhsi", "band_hrmsi", "band_fused", "band_baseline", "band_caption")

        def show_band(wavelength_nm: float, baseline: str | None, state):
            """The band nearest `wavelength_nm` in the ground truth, LR-HSI, HR-MSI, fused result and baseline."""
            result = shown(state)
            if result is None:
                return [gr.skip()] * len(band_keys)
            return to_updates(handlers.render_bands(result, wavelength_nm, baseline), band_keys)

        wavelength.change(show_band, [wavelength, baseline, session],
                          [band_truth, band_lrhsi, band_hrmsi, band_fused, band_baseline, band_caption],
                          api_name="band", show_progress="hidden", trigger_mode="always_last", **views_group)

        # ---------------------------------------------------------------- spectra
        def spectrum(x: float, y: float, state, request: gr.Request = None):
            """The spectra at pixel (x = column, y = row) of this session's last fused result.

            Returns the spectra as JSON (wavelengths in nm, ground truth, upsampled LR-HSI, S3RNet
            and every baseline, in the scene's units) and the profile plot.
            """
            try:
                values, state = handlers.spectrum(x, y, state, startup)
            except S3RNetError as exc:
                gr.Warning(handlers.public_message(exc))
                return gr.skip(), gr.skip(), state
            return values, views.spectrum_figure(values), opened(state, request)

        spectrum_button.click(spectrum, [pixel_x, pixel_y, session], [spectra, profile, session],
                              api_name="spectrum", show_progress="minimal", **views_group)

        def on_image_click(state, evt: gr.SelectData, request: gr.Request = None):
            try:
                x, y = handlers.click_to_pixel(evt.index, state, startup)
            except S3RNetError as exc:
                gr.Warning(handlers.public_message(exc))
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), state
            values, figure, state = spectrum(x, y, state, request)
            return x, y, values, figure, state

        for image in (rgb_truth, rgb_lrhsi, rgb_hrmsi, rgb_fused, rgb_baseline, band_truth, band_lrhsi,
                      band_hrmsi, band_fused, band_baseline, error_sam_fused, error_sam_baseline,
                      error_rmse_fused, error_rmse_baseline):
            image.select(on_image_click, [session], [pixel_x, pixel_y, spectra, profile, session],
                         api_visibility="private", show_progress="minimal", **views_group)

        # ---------------------------------------------------------------- exports
        def export(kind: str):
            def handler(state):
                try:
                    if kind == "cube":
                        return [str(p) for p in handlers.export_cube(state, startup)]
                    if kind == "metrics":
                        return [str(p) for p in handlers.export_metrics(state, startup)]
                    return [str(p) for p in handlers.export_spectra(state, startup)]
                except (S3RNetError, ValueError) as exc:
                    gr.Warning(handlers.public_message(exc))
                    return gr.skip()
            handler.__name__ = f"export_{kind}"
            return handler

        export_cube_button.click(export("cube"), [session], [downloads], api_name="export_cube", **views_group)
        export_metrics_button.click(export("metrics"), [session], [downloads], api_name="export_metrics", **views_group)
        export_spectra_button.click(export("spectra"), [session], [downloads], api_name="export_spectra", **views_group)

        def tab_closed(request: gr.Request):
            """Free the closing tab's state at once (gradio itself keeps it for an hour)."""
            OPEN_SESSIONS.close(request.session_hash)

        demo.unload(tab_closed)

    demo.queue(default_concurrency_limit=VIEW_CONCURRENCY)
    demo.startup_result = startup
    demo.max_upload_bytes = max_bytes
    return demo


def _view_image(elem_id: str, view: tuple[Any, str]) -> gr.Image:
    """A result image showing ``view`` = (array, caption): not editable, PNG (exact colours), clickable.

    At least 400 px wide: on a 1024 or 1280 px projector the images stack, each as wide as the
    results column; wider screens put two or three side by side.
    """
    return gr.Image(view[0], label=view[1], interactive=False, format="png", elem_id=elem_id,
                    elem_classes=["view-image"], buttons=["download", "fullscreen"], show_label=True,
                    min_width=400)


# Readable on a projector: help and secondary text dark enough for a contrast of at least 7:1 on
# white, and a primary colour that white text reads on (the default orange gives 2.8:1).
PRIMARY = "#1d4ed8"  # 6.7:1 against white
THEME_COLOURS = {
    "body_text_color_subdued": "#3d3d3d",
    "block_info_text_color": "#3d3d3d",
    "block_label_text_color": "#1f1f1f",
    "block_title_text_color": "#1f1f1f",
    "input_placeholder_color": "#595959",
    "color_accent": PRIMARY,
    "color_accent_soft": "#dbeafe",
    "button_primary_background_fill": PRIMARY,
    "button_primary_background_fill_hover": "#1e40af",
    "button_primary_text_color": "white",
    "button_primary_border_color": PRIMARY,
}

# Gradio 6.31's own components miss three accessibility details that axe-core flags: clickable
# images are buttons without a name, empty placeholders carry an aria-label without a role, and
# the upload area's name differs from its visible text. Filled in on load and after each update.
ACCESSIBILITY_JS = """() => {
  const fill = () => {
    document.querySelectorAll('.view-image button:not([aria-label])').forEach((button) => {
      if (!button.querySelector('img')) return;
      const label = button.closest('.view-image').querySelector('[data-testid="block-label"]');
      button.setAttribute('aria-label', 'Pixel spectrum from image: ' + (label ? label.textContent.trim() : 'result'));
    });
    document.querySelectorAll('div.empty[aria-label]:not([role])').forEach((box) => box.setAttribute('role', 'img'));
    document.querySelectorAll('button.boundedheight[aria-label]').forEach((button) => {
      const text = button.textContent.replace(/\\s+/g, ' ').trim();
      if (text && button.getAttribute('aria-label') !== text) button.setAttribute('aria-label', text);
    });
  };
  fill();
  new MutationObserver(fill).observe(document.body, {subtree: true, childList: true});
}"""


def launch_options(max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB) -> dict[str, Any]:
    """Keyword arguments of ``demo.launch`` shared by ``python app/main.py`` and the tests."""
    return {
        "share": False,
        "max_file_size": f"{int(2 * max_upload_mb)}mb",
        "css": CSS,
        "theme": gr.themes.Default(primary_hue="blue", text_size="lg").set(**THEME_COLOURS),
        "js": ACCESSIBILITY_JS,
        "footer_links": ["api", "settings"],
        "show_error": True,
    }


def server_address(environ: dict[str, str] | None = None) -> tuple[str, int]:
    """Host and port to serve on: gradio's ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` (what
    containers and hosting platforms set), else ``S3RNET_APP_HOST`` / ``S3RNET_APP_PORT``, else
    127.0.0.1:7860."""
    environ = os.environ if environ is None else environ
    host = environ.get("GRADIO_SERVER_NAME") or environ.get("S3RNET_APP_HOST") or "127.0.0.1"
    port = environ.get("GRADIO_SERVER_PORT") or environ.get("S3RNET_APP_PORT") or "7860"
    return host, int(port)


def main() -> None:
    """Build the app and serve it (``python app/main.py``)."""
    demo = build_demo()
    host, port = server_address()
    # quiet: gradio's own lines include a hint to make a public share link, which this app never
    # does (offline by design); the address is printed here instead.
    demo.launch(server_name=host, server_port=port, quiet=True, prevent_thread_lock=True, **launch_options())
    print(f"S3RNet Explorer is serving on {demo.local_url} (Ctrl+C to stop)", flush=True)
    demo.block_thread()


_BUILT: dict[str, gr.Blocks] = {}


def __getattr__(name: str) -> Any:
    """``demo`` built on first use, so that importing this module stays cheap (``gradio app/main.py``
    looks the variable up after importing it)."""
    if name == "demo":
        if "demo" not in _BUILT:
            _BUILT["demo"] = build_demo()
        return _BUILT["demo"]
    raise AttributeError(name)


if __name__ == "__main__":
    main()
