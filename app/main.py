"""S3RNet Explorer: the Gradio app.

Start it from the repository root with ``python app/main.py``, ``gradio app/main.py`` (reload
mode) or ``make app``; it serves http://127.0.0.1:7860 (``S3RNET_APP_PORT`` to change it).

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

        return startup_handlers.fuse(startup_handlers.default_settings(), None, None)[0]

    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="startup-fusion")
    future = executor.submit(compute)
    executor.shutdown(wait=False)
    return future


_STARTUP_FUTURE = _start_startup_fusion() if __name__ == "__main__" else None

import gradio as gr  # noqa: E402

from app import handlers, scenes, views  # noqa: E402
from app.compute import DEFAULT_ADAPT_STEPS, FAST_BASELINES, METHOD_LABELS, MODEL, SLOW_BASELINES, FusionResult  # noqa: E402
from app.state import close_session  # noqa: E402
from s3rnet.degrade import MSI_RESPONSES, PSFS  # noqa: E402
from s3rnet.errors import S3RNetError  # noqa: E402

try:  # pandas 3 makes gradio warn on every table it sends
    from pandas.errors import Pandas4Warning

    warnings.filterwarnings("ignore", category=Pandas4Warning)
except ImportError:  # pragma: no cover - older pandas
    pass

DEFAULT_MAX_UPLOAD_MB = float(os.environ.get("S3RNET_APP_MAX_UPLOAD_MB", "200"))
DEFAULT_WAVELENGTH_NM = 650.0
SESSION_SECONDS = 4 * 3600  # a session's results are dropped after four idle hours

CSS = """
.gradio-container {font-size: 17px;}
#title h1 {margin-bottom: 0.2em;}
#status {min-height: 3em;}
.view-image img {image-rendering: pixelated;}
"""

MSI_HELP = {
    "oli4": "Landsat-8 OLI bands 2-5 (blue, green, red, NIR)",
    "oli6": "Landsat-8 OLI bands 2-7 (adds two SWIR bands)",
    "s2-4": "Sentinel-2 bands 2, 3, 4, 8",
    "s2-6": "Sentinel-2 bands 2, 3, 4, 8, 11, 12",
    "binning4": "the paper: 4 groups of adjacent bands averaged",
    "binning6": "the paper: 6 groups of adjacent bands averaged",
}

# Output slots of a fusion, in the order the events return them: /fuse answers with the overview
# (the first tab), then /details fills the other tabs.
OVERVIEW_KEYS = (
    "metrics", "evaluation",
    "rgb_truth", "rgb_lrhsi", "rgb_hrmsi", "rgb_fused", "rgb_baseline", "rgb_caption", "profile", "spectra",
)
DETAIL_KEYS = (
    "swipe", "band_truth", "band_lrhsi", "band_hrmsi", "band_fused", "band_baseline", "band_caption",
    "error_sam_fused", "error_sam_baseline", "error_rmse_fused", "error_rmse_baseline", "psnr_plot",
    "weights", "weights_plot", "energy_plot",
)
VIEW_KEYS = OVERVIEW_KEYS + DETAIL_KEYS

IMAGE_KEYS = {key for key in VIEW_KEYS if key.startswith(("rgb_", "band_", "error_"))} - {"band_caption", "rgb_caption"} | {"weights"}


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
            updates.append(f"**{value}**")
        else:
            updates.append(value)
    return updates


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
            _STARTUP_FUTURE.result()  # the background start-up fusion, now in the result cache
        except Exception:  # noqa: BLE001 - fused again just below, where the error surfaces
            pass
    startup, _, _ = handlers.fuse(settings, None, None)
    # The page opens on the spectrum of the region's centre pixel; a click shows another.
    first = handlers.render_views(startup, views.DEFAULT_COLOUR_MODE, DEFAULT_WAVELENGTH_NM, None,
                                  (startup.shape[1] // 2, startup.shape[0] // 2))
    max_bytes = int(max_upload_mb * 2**20)
    checkpoints = handlers.checkpoint_choices()

    with gr.Blocks(title="S3RNet Explorer", analytics_enabled=False) as demo:
        session = gr.State(None, time_to_live=SESSION_SECONDS, delete_callback=close_session)
        gr.Markdown(
            "# S3RNet Explorer: hyperspectral pansharpening\n"
            "Simulate a low-resolution hyperspectral image (LR-HSI) and a high-resolution multispectral "
            "image (HR-MSI) from a real AVIRIS scene, fuse them with S3RNet and classical methods, and compare "
            f"with the ground truth. **Click any image** for the spectrum of that pixel. *{handlers.device_summary()}.*",
            elem_id="title",
        )
        status = gr.Markdown(handlers.status_text(startup, "computed at start-up"), elem_id="status")

        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=330):
                with gr.Accordion("1. Scene", open=True):
                    scene = gr.Dropdown(
                        handlers.scene_choices(None), value=settings.scene, label="Scene",
                        allow_custom_value=True,  # uploads are listed per session; the handler checks the name
                        info="Indian Pines is built in; scenes found in $S3RNET_DATA and your uploads are listed too.",
                        elem_id="scene",
                    )
                    region_list, _, scene_info = handlers.scene_regions(settings.scene, None)
                    region = gr.Dropdown(
                        region_list, value=settings.region, label="Region",
                        allow_custom_value=True,  # choices differ per scene; the handler checks the value
                        info="The part of the scene to fuse (tiles of 144 x 144 px for large scenes). "
                             "The test region was never seen in training.",
                        elem_id="region",
                    )
                    scene_details = gr.Markdown(scene_info, elem_id="scene-details")
                    with gr.Accordion("Upload your own scene", open=False):
                        upload = gr.File(
                            label="ENVI .hdr + .img (both), .mat, .npy or .npz", file_count="multiple",
                            elem_id="upload",
                        )
                        wavelengths = gr.Textbox(
                            "", label="Wavelengths (nm) for files without them",
                            info="One per band, comma-separated, or a range such as 400-2500 (evenly spaced). "
                                 "ENVI headers and .npz files with a 'wavelengths' array carry their own.",
                            placeholder="400-2500", elem_id="wavelengths",
                        )
                        variable = gr.Textbox(
                            "", label="Variable holding the cube (.mat / .npz with several arrays)",
                            placeholder="for example indian_pines_corrected", elem_id="variable",
                        )
                        load_button = gr.Button("Load the uploaded scene", elem_id="load-button")
                        gr.Markdown(f"Files up to {max_upload_mb:.0f} MB.")
                with gr.Accordion("2. Simulation", open=True):
                    msi = gr.Dropdown(
                        [(f"{name}: {MSI_HELP.get(name, name)}", name) for name in MSI_RESPONSES],
                        value=settings.msi, label="MSI spectral response",
                        info="Which multispectral sensor the HR-MSI imitates.", elem_id="msi",
                    )
                    psf = gr.Radio(
                        list(PSFS), value=settings.psf, label="Point spread function",
                        info="box: mean of each 4 x 4 block (the paper); gaussian: Wald's protocol.", elem_id="psf",
                    )
                    lrhsi_no_noise = gr.Checkbox(True, label="LR-HSI: no noise", elem_id="lrhsi-no-noise")
                    lrhsi_snr_db = gr.Slider(
                        5, 50, value=35, step=1, label="LR-HSI SNR (dB), when noisy",
                        info="White Gaussian noise on the LR-HSI; lower is noisier (the paper: 35 and 15).",
                        elem_id="lrhsi-snr",
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
                with gr.Accordion("3. Methods", open=True):
                    method_choices = [(METHOD_LABELS[m], m) for m in (MODEL, *FAST_BASELINES)]
                    method_choices += [(f"{METHOD_LABELS[m]} (slow: seconds to a minute)", m) for m in SLOW_BASELINES]
                    methods = gr.CheckboxGroup(
                        method_choices, value=list(settings.methods), label="Methods",
                        info="S3RNet and the classical baselines; CNMF is slow, so it is off by default.",
                        elem_id="methods",
                    )
                    checkpoint = gr.Dropdown(
                        checkpoints or [("none published yet", handlers.NO_CHECKPOINT)],
                        value=settings.checkpoint or handlers.NO_CHECKPOINT, label="S3RNet checkpoint",
                        info="Pretrained weights: 'lite' runs on a CPU, 'paper' is the full network (GPU).",
                        allow_custom_value=False, elem_id="checkpoint",
                    )
                    checkpoint_info = gr.Markdown(handlers.checkpoint_summary(settings.checkpoint))
                    adapt = gr.Checkbox(False, label="Adapt S3RNet to this scene",
                                        info="Test-time adaptation on the scene's own inputs (Wald's protocol); "
                                             "slower, with a progress bar.", elem_id="adapt")
                    adapt_steps = gr.Slider(5, 200, value=DEFAULT_ADAPT_STEPS, step=5, label="Adaptation steps",
                                            elem_id="adapt-steps")
                    project = gr.Checkbox(False, label="Project S3RNet onto its inputs",
                                          info="Corrects the fused cube so that, degraded again, it gives back the "
                                               "LR-HSI and HR-MSI exactly (helps most on clean inputs).",
                                          elem_id="project")
                fuse_button = gr.Button("Fuse", variant="primary", size="lg", elem_id="fuse-button")
                with gr.Accordion("5. Export", open=False):
                    gr.Markdown("Downloads of the current result of this session.")
                    export_cube_button = gr.Button("Fused cube (ENVI .hdr + .img)", elem_id="export-cube")
                    export_metrics_button = gr.Button("Metrics (CSV + JSON)", elem_id="export-metrics")
                    export_spectra_button = gr.Button("Clicked spectra (CSV)", elem_id="export-spectra")
                    downloads = gr.File(label="Downloads", file_count="multiple", interactive=False,
                                        elem_id="downloads")

            with gr.Column(scale=3):
                with gr.Row():
                    colour_mode = gr.Radio(
                        list(views.COLOUR_MODES), value=views.DEFAULT_COLOUR_MODE, label="Composite",
                        info="True colour from the bands nearest 640, 550, 460 nm; false colour shows vegetation red.",
                        elem_id="colour-mode",
                    )
                    baseline = gr.Dropdown(
                        first["baselines"], value=first["baseline"], label="Baseline shown",
                        allow_custom_value=True,  # choices follow each session's result; unknown ones fall back
                        info="The classical method shown beside S3RNet.", elem_id="baseline",
                    )
                with gr.Tabs():
                    with gr.Tab("Images", id="images"):
                        rgb_caption = gr.Markdown(first["rgb_caption"], elem_id="rgb-caption")
                        with gr.Row():
                            rgb_truth = _view_image("rgb-truth", first["rgb_truth"])
                            rgb_fused = _view_image("rgb-fused", first["rgb_fused"])
                            rgb_baseline = _view_image("rgb-baseline", first["rgb_baseline"])
                            rgb_lrhsi = _view_image("rgb-lrhsi", first["rgb_lrhsi"])
                            rgb_hrmsi = _view_image("rgb-hrmsi", first["rgb_hrmsi"])
                        with gr.Row():
                            with gr.Column(scale=2):
                                profile = gr.Plot(first["profile"], label="Spectral profile", elem_id="profile")
                            with gr.Column(scale=3):
                                metrics = gr.Dataframe(first["metrics"], label="Metrics on this region",
                                                       interactive=False, elem_id="metrics")
                                gr.Markdown("PSNR and SSIM: higher is better; SAM, RMSE and ERGAS: lower is better. "
                                            "All digits: tab *Pixel and details*.")
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
                        swipe = gr.ImageSlider(first["swipe"], label="Ground truth | fused", elem_id="swipe", max_height=640)
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
                            "S3RNet mixes four branches (Q, K, V, Z) with per-pixel sigmoid weights (the SSAWB block). "
                            "Below: the four weight maps on one colour scale, each branch's mean weight, and how the "
                            "energy of the fused features spreads over channels (the paper's Fig. 1: a sparse "
                            "representation puts most energy in few channels)."
                        )
                        weights = gr.Image(first["weights"][0], label=first["weights"][1], interactive=False, format="png",
                                           elem_id="weights", buttons=["download", "fullscreen"])
                        with gr.Row():
                            weights_plot = gr.Plot(first["weights_plot"], label="Mean weight per branch", elem_id="weights-plot")
                            energy_plot = gr.Plot(first["energy_plot"], label="Channel energy", elem_id="energy-plot")
                    with gr.Tab("Pixel and details", id="details"):
                        gr.Markdown("Type a pixel (x = column, y = row, from the top-left of the region) or click an image.")
                        with gr.Row():
                            pixel_x = gr.Number(0, precision=0, label="x (column)", elem_id="pixel-x")
                            pixel_y = gr.Number(0, precision=0, label="y (row)", elem_id="pixel-y")
                            spectrum_button = gr.Button("Show spectrum", elem_id="spectrum-button")
                        spectra = gr.JSON(first["spectra"], label="Spectra of the pixel", elem_id="spectra")
                        evaluation = gr.JSON(first["evaluation"], label="Protocol and metrics (all digits)",
                                             elem_id="evaluation")

        overview_outputs = [
            metrics, evaluation, rgb_truth, rgb_lrhsi, rgb_hrmsi, rgb_fused, rgb_baseline, rgb_caption, profile, spectra,
        ]
        detail_outputs = [
            swipe, band_truth, band_lrhsi, band_hrmsi, band_fused, band_baseline, band_caption,
            error_sam_fused, error_sam_baseline, error_rmse_fused, error_rmse_baseline, psnr_plot,
            weights, weights_plot, energy_plot,
        ]
        # ---------------------------------------------------------------- scene and upload
        def on_scene_change(scene_name, state):
            try:
                choices, value, info = handlers.scene_regions(scene_name, state)
            except S3RNetError as exc:
                gr.Warning(str(exc))
                return gr.skip(), f"**Problem:** {exc}"
            return gr.update(choices=choices, value=value), info

        scene.change(on_scene_change, [scene, session], [region, scene_details], api_visibility="private")

        def load_scene(files, wavelengths_text, variable, state):
            """Read an uploaded scene (ENVI .hdr + .img, .mat, .npy, .npz) into this session.

            Returns the status message, the scene dropdown (the upload selected when it was read)
            and the region dropdown. A refused upload changes nothing else.
            """
            outcome, state = handlers.load_upload(files, wavelengths_text, state, startup, max_bytes, variable)
            if not outcome.ok:
                gr.Warning(outcome.message)
                return f"**Problem:** {outcome.message}", gr.skip(), gr.skip(), gr.skip(), state
            choices, value, info = handlers.scene_regions(outcome.scene, state)
            return (f"**{outcome.message}**. Press Fuse to fuse it.",
                    gr.update(choices=handlers.scene_choices(state), value=outcome.scene),
                    gr.update(choices=choices, value=value), info, state)

        load_outputs = [status, scene, region, scene_details, session]
        load_button.click(load_scene, [upload, wavelengths, variable, session], load_outputs, api_name="load_scene")
        upload.upload(load_scene, [upload, wavelengths, variable, session], load_outputs, api_visibility="private")

        def on_msi_change(msi_name, current):
            """Preselect a checkpoint trained for this MSI response, when there is one."""
            best = handlers.default_checkpoint(msi_name)
            if best is None or best == current:
                return gr.skip(), gr.skip()
            meta_msi = handlers.library.checkpoint_metadata(best).get("msi", {}).get("name")
            if meta_msi != msi_name:
                return gr.skip(), gr.skip()
            return best, handlers.checkpoint_summary(best)

        msi.change(on_msi_change, [msi, checkpoint], [checkpoint, checkpoint_info], api_visibility="private")
        checkpoint.change(handlers.checkpoint_summary, [checkpoint], [checkpoint_info], api_visibility="private")

        # ---------------------------------------------------------------- fusion
        def current(state) -> FusionResult:
            return state.result if state is not None else startup

        def fuse(scene: str, region: str, msi: str, psf: str, lrhsi_no_noise: bool, lrhsi_snr_db: float,
                 hrmsi_no_noise: bool, hrmsi_snr_db: float, shift_rows: float, shift_cols: float, seed: float,
                 methods: list[str], checkpoint: str | None, adapt: bool, adapt_steps: float, project: bool,
                 colour_mode: str, baseline: str | None, state, progress=gr.Progress()):
            """Simulate the LR-HSI and HR-MSI from a region of a scene, fuse them and score each method.

            Every parameter defaults to the start-up settings. Returns the status, the metrics table,
            the evaluation as JSON (protocol and metrics with every digit, as
            `python -m s3rnet evaluate --json` writes them), the composites, the spectrum of the last
            clicked pixel and its plot. The other tabs' views follow from /details.
            """
            try:
                settings = handlers.make_settings(
                    scene, region, msi, psf, lrhsi_no_noise, lrhsi_snr_db, hrmsi_no_noise, hrmsi_snr_db,
                    shift_rows, shift_cols, seed, methods or [], checkpoint, adapt, adapt_steps, project,
                )
                result, state, reused = handlers.fuse(
                    settings, state, startup, progress=lambda fraction, message: progress(fraction, desc=message)
                )
                # The last clicked pixel, or the centre of the region until there is one.
                pixel = state.pixel or (result.shape[1] // 2, result.shape[0] // 2)
                rendered = handlers.render_overview(result, colour_mode, baseline, pixel)
            except S3RNetError as exc:
                gr.Warning(str(exc))
                return [f"**Problem:** {exc}", state, *([gr.skip()] * (len(OVERVIEW_KEYS) + 1))]
            for note in result.notes:
                if note.startswith("S3RNet did not run"):
                    gr.Warning(note)
            return [
                handlers.status_text(result, "reused: same settings as an earlier run" if reused else ""),
                state, *to_updates(rendered, OVERVIEW_KEYS),
                gr.update(choices=rendered["baselines"], value=rendered["baseline"]),
            ]

        def details(colour_mode: str, wavelength_nm: float, baseline: str | None, state):
            """The other tabs' views of this session's last fusion: swipe, band views (the band
            nearest `wavelength_nm`), error maps, per-band PSNR and the SSAWB weights."""
            rendered = handlers.render_details(current(state), colour_mode, wavelength_nm, baseline)
            return to_updates(rendered, DETAIL_KEYS)

        fuse_inputs = [scene, region, msi, psf, lrhsi_no_noise, lrhsi_snr_db, hrmsi_no_noise, hrmsi_snr_db,
                       shift_rows, shift_cols, seed, methods, checkpoint, adapt, adapt_steps, project,
                       colour_mode, baseline, session]
        # The first tab comes back with the fusion; the other tabs fill in just after.
        fuse_button.click(
            fuse, fuse_inputs, [status, session, *overview_outputs, baseline],
            api_name="fuse", concurrency_id="fusion", concurrency_limit=1,
        ).then(details, [colour_mode, wavelength, baseline, session], detail_outputs,
               api_name="details", show_progress="hidden")

        # ---------------------------------------------------------------- views that need no new fusion
        def on_colour_mode(colour_mode, baseline, state):
            rendered = handlers.render_composites(current(state), colour_mode, baseline)
            return to_updates(rendered, ("rgb_truth", "rgb_lrhsi", "rgb_hrmsi", "rgb_fused", "rgb_baseline",
                                         "rgb_caption", "swipe"))

        colour_mode.change(on_colour_mode, [colour_mode, baseline, session],
                           [rgb_truth, rgb_lrhsi, rgb_hrmsi, rgb_fused, rgb_baseline, rgb_caption, swipe],
                           api_visibility="private", show_progress="hidden")

        def on_baseline(colour_mode, wavelength_nm, baseline, state):
            result = current(state)
            rendered = handlers.render_composites(result, colour_mode, baseline)
            rendered |= handlers.render_bands(result, wavelength_nm, baseline)
            rendered |= handlers.render_errors(result, baseline)
            return to_updates(rendered, ("rgb_baseline", "band_baseline", "error_sam_fused", "error_sam_baseline",
                                         "error_rmse_fused", "error_rmse_baseline"))

        baseline.change(on_baseline, [colour_mode, wavelength, baseline, session],
                        [rgb_baseline, band_baseline, error_sam_fused, error_sam_baseline, error_rmse_fused,
                         error_rmse_baseline], api_visibility="private", show_progress="hidden")

        band_keys = ("band_truth", "band_lrhsi", "band_hrmsi", "band_fused", "band_baseline", "band_caption")

        def show_band(wavelength_nm: float, baseline: str | None, state):
            """The band nearest `wavelength_nm` in the ground truth, LR-HSI, HR-MSI, fused result and baseline."""
            return to_updates(handlers.render_bands(current(state), wavelength_nm, baseline), band_keys)

        wavelength.change(show_band, [wavelength, baseline, session],
                          [band_truth, band_lrhsi, band_hrmsi, band_fused, band_baseline, band_caption],
                          api_name="band", show_progress="hidden", trigger_mode="always_last")

        # ---------------------------------------------------------------- spectra
        def spectrum(x: float, y: float, state):
            """The spectra at pixel (x = column, y = row) of this session's last fused result.

            Returns the spectra as JSON (wavelengths in nm, ground truth, upsampled LR-HSI, S3RNet
            and every baseline, in the scene's units) and the profile plot.
            """
            try:
                values, state = handlers.spectrum(x, y, state, startup)
            except S3RNetError as exc:
                gr.Warning(str(exc))
                return gr.skip(), gr.skip(), state
            return values, views.spectrum_figure(values), state

        spectrum_button.click(spectrum, [pixel_x, pixel_y, session], [spectra, profile, session],
                              api_name="spectrum", show_progress="minimal")

        def on_image_click(state, evt: gr.SelectData):
            try:
                x, y = handlers.click_to_pixel(evt.index, state, startup)
            except S3RNetError as exc:
                gr.Warning(str(exc))
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), state
            values, figure, state = spectrum(x, y, state)
            return x, y, values, figure, state

        for image in (rgb_truth, rgb_lrhsi, rgb_hrmsi, rgb_fused, rgb_baseline, band_truth, band_lrhsi,
                      band_hrmsi, band_fused, band_baseline, error_sam_fused, error_sam_baseline,
                      error_rmse_fused, error_rmse_baseline):
            image.select(on_image_click, [session], [pixel_x, pixel_y, spectra, profile, session],
                         api_visibility="private", show_progress="minimal")

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
                    gr.Warning(str(exc))
                    return gr.skip()
            handler.__name__ = f"export_{kind}"
            return handler

        export_cube_button.click(export("cube"), [session], [downloads], api_name="export_cube")
        export_metrics_button.click(export("metrics"), [session], [downloads], api_name="export_metrics")
        export_spectra_button.click(export("spectra"), [session], [downloads], api_name="export_spectra")

    demo.startup_result = startup
    demo.max_upload_bytes = max_bytes
    return demo


def _view_image(elem_id: str, view: tuple[Any, str]) -> gr.Image:
    """A result image showing ``view`` = (array, caption): not editable, PNG (exact colours), clickable."""
    return gr.Image(view[0], label=view[1], interactive=False, format="png", elem_id=elem_id,
                    elem_classes=["view-image"], buttons=["download", "fullscreen"], show_label=True)


def launch_options(max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB) -> dict[str, Any]:
    """Keyword arguments of ``demo.launch`` shared by ``python app/main.py`` and the tests."""
    return {
        "share": False,
        "max_file_size": f"{int(2 * max_upload_mb)}mb",
        "css": CSS,
        "theme": gr.themes.Default(text_size="lg"),
        "footer_links": ["api", "settings"],
        "show_error": True,
    }


def main() -> None:
    """Build the app and serve it (``python app/main.py``)."""
    demo = build_demo()
    port = int(os.environ.get("S3RNET_APP_PORT", "7860"))
    demo.queue(default_concurrency_limit=1).launch(
        server_name=os.environ.get("S3RNET_APP_HOST", "127.0.0.1"), server_port=port, **launch_options()
    )


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
