"""The "Your own pair" tab: upload an LR-HSI and an HR-MSI (or take the example pair), fuse, look without ground truth.

Every handler is a plain function of plain values (paths, names, numbers) returning plain values
(arrays, plotly figures, tables, paths), testable without a browser; :func:`build_pair_tab` only
lays out the components and wires them to the handlers. The science is :func:`s3rnet.fuse.fuse_pair`;
this module decides what to show: composites of the upsampled LR-HSI (each LR pixel enlarged to its
HR block) and of the fused file, one band at a time, the spectra of one pixel, the consistency maps,
the no-reference table, the estimated response, and the georeferenced file with its report.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from s3rnet.baselines import METHOD_INFO
from s3rnet.degrade import MSI_RESPONSES
from s3rnet.errors import S3RNetError
from s3rnet.fuse import PairFusion, fuse_pair, write_example_pair
from s3rnet.geo import IMAGE_SUFFIXES, open_image
from s3rnet.inference import list_checkpoints

AUTO = "auto: a published checkpoint that fits, else MTF-GLP-HPM (HySime-Wiener-Hybrid on a noisy LR-HSI)"
ESTIMATE = "estimate from the pair"
CSV = "from a CSV table"
# Band centres (nm) of the true-colour composite.
TRUE_COLOUR = (640.0, 550.0, 460.0)
# Longest side of a preview in screen pixels; larger outputs are read with a stride.
PREVIEW_SIDE = 384
STRETCH = (2.0, 98.0)
EXAMPLE_MSI = "s2-4"
EXAMPLE_SHIFT = (0.3, -0.2)


def method_choices() -> list[str]:
    """The methods offered: automatic choice, the classical methods, the published checkpoints."""
    return [AUTO, *METHOD_INFO, *(f"checkpoint {name}" for name in list_checkpoints())]


def response_choices() -> list[str]:
    return [ESTIMATE, *MSI_RESPONSES, CSV]


def session_folder() -> Path:
    """A fresh folder for one fusion's uploads and outputs (removed with the process's temp files)."""
    return Path(tempfile.mkdtemp(prefix="s3rnet-pair-"))


def example_pair(folder: Path | None = None) -> tuple[str, str]:
    """Two GeoTIFFs simulated from the shipped Indian Pines scene (Sentinel-2 bands 2, 3, 4, 8; a shift of a third of a pixel)."""
    lr, hr, _ = write_example_pair(folder or session_folder() / "example", msi=EXAMPLE_MSI, shift=EXAMPLE_SHIFT)
    return str(lr), str(hr)


def gather_upload(files: Sequence[str] | str | None, folder: Path, role: str) -> Path:
    """The image among uploaded files, copied with its companions into ``folder`` (an ENVI header
    needs its data file beside it, and the browser uploads each file on its own)."""
    if files is None or files == [] or files == "":
        raise S3RNetError(f"no {role} file: upload a GeoTIFF (.tif) or an ENVI header with its data file (.hdr + .img)")
    paths = [Path(f) for f in ([files] if isinstance(files, str) else files)]
    target = folder / role
    target.mkdir(parents=True, exist_ok=True)
    for path in paths:
        shutil.copy(path, target / path.name)
    images = [target / p.name for p in paths if p.suffix.lower() in IMAGE_SUFFIXES]
    if len(images) != 1:
        names = ", ".join(p.name for p in paths)
        raise S3RNetError(f"{role}: expected one .tif or one .hdr among the uploaded files ({names})")
    return images[0]


def parse_method(choice: str | None) -> tuple[str | None, str | None]:
    """``(method, checkpoint)`` for :func:`fuse_pair` from the dropdown's choice."""
    if not choice or choice == AUTO:
        return None, None
    if choice.startswith("checkpoint "):
        return None, choice.removeprefix("checkpoint ")
    return choice, None


def parse_response(choice: str | None, csv_file: str | None) -> str:
    if not choice or choice == ESTIMATE:
        return "estimate"
    if choice == CSV:
        if not csv_file:
            raise S3RNetError("a CSV response was chosen, but no table was uploaded (a header row, wavelength in nm, one column per MSI band)")
        return str(csv_file)
    return choice


def run_pair(
    lr_files, hr_files, response: str | None = None, method: str | None = None, csv_file: str | None = None,
    register: bool = True, out_format: str = ".tif", tile: int = 256, progress=None,
) -> dict[str, Any]:
    """Fuse an uploaded pair; the state the views read (paths, report, maps, response).

    Raises
    ------
    S3RNetError
        With the library's message (it names the file and the problem).
    """
    folder = session_folder()
    lr = gather_upload(lr_files, folder, "lrhsi")
    hr = gather_upload(hr_files, folder, "hrmsi")
    name, checkpoint = parse_method(method)
    out = folder / f"fused{out_format if out_format in ('.tif', '.hdr') else '.tif'}"
    result = fuse_pair(lr, hr, out, method=name, checkpoint=checkpoint, msi_response=parse_response(response, csv_file),
                       register="auto" if register else "off", tile=tile, report=folder / "report.json", progress=progress)
    return state_of(result, lr, folder)


def state_of(result: PairFusion, lr: Path, folder: Path) -> dict[str, Any]:
    """What the views need from a fusion, in plain values."""
    return {
        "output": str(result.output), "lrhsi": str(lr), "report": result.report, "report_path": str(folder / "report.json"),
        "maps": result.maps, "wavelengths": None if result.wavelengths is None else result.wavelengths.tolist(),
        "response": result.fit.response.tolist(), "response_bands": result.fit.band_names,
        "ratio": result.report["geometry"]["ratio"],
    }


# --------------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------------


def _stride(rows: int, cols: int) -> int:
    return max(1, int(np.ceil(max(rows, cols) / PREVIEW_SIDE)))


def _preview(path: str, bands: list[int], ratio: int = 1) -> np.ndarray:
    """Bands of an image at preview size (LR images enlarged by ``ratio``, each pixel a block)."""
    image = open_image(path)
    cube = image.read(bands=bands)
    if ratio > 1:
        cube = np.repeat(np.repeat(cube, ratio, axis=0), ratio, axis=1)
    step = _stride(cube.shape[0], cube.shape[1])
    return cube[::step, ::step]


def composite_bands(wavelengths: Sequence[float] | None, bands: int) -> list[int]:
    """Bands nearest to red, green and blue (the first three without wavelengths)."""
    if wavelengths is None:
        return [min(i, bands - 1) for i in (0, 1, 2)]
    wl = np.asarray(wavelengths)
    return [int(np.argmin(np.abs(wl - c))) for c in TRUE_COLOUR]


def _to_uint8(rgb: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    scaled = (rgb - low) / np.where(high > low, high - low, 1.0)
    return (255 * np.clip(scaled, 0.0, 1.0)).astype(np.uint8)


def composites(state: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """True-colour previews of the upsampled LR-HSI and of the fused file, with one stretch (the fused one's)."""
    wavelengths = state["wavelengths"]
    bands = composite_bands(wavelengths, open_image(state["output"]).bands)
    fused = _preview(state["output"], bands)
    low_res = _preview(state["lrhsi"], bands, state["ratio"])[: fused.shape[0], : fused.shape[1]]
    low, high = np.percentile(fused, STRETCH, axis=(0, 1))
    return _to_uint8(low_res, low, high), _to_uint8(fused, low, high)


def band_view(state: dict[str, Any], band: int) -> go.Figure:
    """One band of the upsampled LR-HSI and of the fused file, side by side on one grey scale."""
    fused = _preview(state["output"], [band])[..., 0]
    low_res = _preview(state["lrhsi"], [band], state["ratio"])[: fused.shape[0], : fused.shape[1], 0]
    low, high = np.percentile(fused, STRETCH)
    wl = state["wavelengths"]
    label = f"band {band + 1}" + (f" ({wl[band]:.0f} nm)" if wl else "")
    figure = make_subplots(rows=1, cols=2, subplot_titles=[f"upsampled LR-HSI, {label}", f"fused, {label}"])
    for column, image in enumerate((low_res, fused), start=1):
        figure.add_trace(go.Heatmap(z=image.tolist(), zmin=float(low), zmax=float(high), colorscale="gray",
                                    showscale=column == 2), row=1, col=column)
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(height=360, margin=dict(t=40, b=10, l=10, r=10))
    return figure


def pixel_spectra(state: dict[str, Any], row: int, col: int) -> tuple[go.Figure, dict[str, list[float]]]:
    """The spectrum of HR pixel (row, col) in the fused file and of the LR pixel under it."""
    output = open_image(state["output"])
    row = int(np.clip(row, 0, output.rows - 1))
    col = int(np.clip(col, 0, output.cols - 1))
    fused = output.read((row, row + 1), (col, col + 1))[0, 0]
    window = state["report"]["geometry"]["lr_window"]
    ratio = state["ratio"]
    lr_row, lr_col = window[0] + row // ratio, window[1] + col // ratio
    low = open_image(state["lrhsi"]).read((lr_row, lr_row + 1), (lr_col, lr_col + 1))[0, 0]
    wl = np.asarray(state["wavelengths"]) if state["wavelengths"] else np.arange(fused.size, dtype=float)
    order = np.argsort(wl)
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=wl[order].tolist(), y=low[order].tolist(), name="upsampled LR-HSI", line=dict(color="#9e9e9e")))
    figure.add_trace(go.Scatter(x=wl[order].tolist(), y=fused[order].tolist(), name="fused", line=dict(color="#d62728")))
    figure.update_layout(title=f"HR pixel row {row}, column {col}", xaxis_title="wavelength (nm)", height=340,
                         margin=dict(t=40, b=10))
    return figure, {"wavelength": wl[order].tolist(), "lrhsi": low[order].tolist(), "fused": fused[order].tolist()}


def consistency_figure(state: dict[str, Any]) -> go.Figure:
    """Per LR pixel: SAM of the fused cube against the LR-HSI (spatial) and against the HR-MSI (spectral)."""
    maps = state["maps"]
    figure = make_subplots(rows=1, cols=2, subplot_titles=["SAM vs LR-HSI (deg)", "SAM vs HR-MSI (deg, per LR pixel)"])
    for column, key in enumerate(("spatial_sam", "spectral_sam"), start=1):
        figure.add_trace(go.Heatmap(z=np.nan_to_num(np.asarray(maps[key])).tolist(), colorscale="Viridis",
                                    colorbar=dict(x=0.45 if column == 1 else 1.0)), row=1, col=column)
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(height=340, margin=dict(t=40, b=10))
    return figure


def quality_table(state: dict[str, Any]) -> pd.DataFrame:
    """The figures without ground truth, one row each, with what is ideal."""
    quality = state["report"]["quality"]
    rows = []
    for kind, label in (("spatial", "with the LR-HSI"), ("spectral", "with the HR-MSI")):
        scores = quality["consistency"][kind]
        rows.append({"figure": f"consistency {label}: PSNR (dB)", "value": round(scores["psnr"], 3), "ideal": "higher"})
        rows.append({"figure": f"consistency {label}: SAM (deg)", "value": round(scores["sam"], 4), "ideal": "0"})
    for key, label, ideal in (("d_lambda", "D_lambda", "0"), ("d_lambda_khan", "D_lambda (Khan)", "0"),
                              ("d_s", "D_s", "0"), ("qnr", "QNR", "1"), ("hqnr", "HQNR", "1")):
        if key in quality["no_reference"]:
            rows.append({"figure": label, "value": round(quality["no_reference"][key], 4), "ideal": ideal})
    return pd.DataFrame(rows)


def response_figure(state: dict[str, Any]) -> go.Figure:
    """The MSI response used (estimated or given), one line per MSI band, with its variance explained."""
    response = np.asarray(state["response"])
    wl = np.asarray(state["wavelengths"]) if state["wavelengths"] else np.arange(response.shape[1], dtype=float)
    order = np.argsort(wl)
    explained = state["report"]["response"]["explained_variance"]
    figure = go.Figure()
    for band, name in enumerate(state["response_bands"]):
        figure.add_trace(go.Scatter(x=wl[order].tolist(), y=response[band, order].tolist(),
                                    name=f"MSI band {name} ({100 * explained[band]:.1f}% explained)"))
    figure.update_layout(title=f"MSI response: {state['report']['response']['source']}", xaxis_title="wavelength (nm)",
                         yaxis_title="weight (sums to 1)", height=340, margin=dict(t=40, b=10))
    return figure


def status_text(state: dict[str, Any]) -> str:
    report = state["report"]
    registration = report["registration"]
    shift = registration["shift_lr_px"]
    lines = [
        f"**{report['method']['name']}** ({report['method']['reason']}); ratio {report['geometry']['ratio']}, "
        f"output {' x '.join(str(v) for v in report['output']['shape'])} ({report['output']['crs'] or 'no georeferencing'}).",
        f"Shift {shift[0]:+.2f}, {shift[1]:+.2f} LR pixels, {'corrected' if registration['corrected'] else 'not corrected'}.",
        f"LR-HSI noise: SNR about {report['lrhsi_noise']['snr_db']:.1f} dB (HySime, from the image; it reads what "
        "neighbouring bands cannot predict as noise: clean validation images read 32-50 dB).",
        "HR-MSI noise, SNR per band estimated from the image: "
        + ", ".join("none measurable" if v is None else f"{v:.1f} dB" for v in report["hrmsi_noise"]["band_snr_db"]) + ".",
        *[f"- {step}" for step in report["geometry"]["steps"]],
        *[f"- warning: {w}" for w in report["warnings"]],
    ]
    return "\n".join(lines)


def export_files(state: dict[str, Any]) -> list[str]:
    """The georeferenced output (an ENVI header and data zipped together) and the JSON report."""
    output = Path(state["output"])
    if output.suffix == ".hdr":
        archive = output.with_suffix(".zip")
        with zipfile.ZipFile(archive, "w") as bundle:
            bundle.write(output, output.name)
            bundle.write(output.with_suffix(".img"), output.with_suffix(".img").name)
        output = archive
    return [str(output), state["report_path"]]


def views(state: dict[str, Any], band: int, row: int, col: int) -> tuple:
    """Every view of one fusion, in the order of :func:`build_pair_tab`'s outputs."""
    low_res, fused = composites(state)
    spectra, _ = pixel_spectra(state, row, col)
    return (status_text(state), low_res, fused, band_view(state, band), spectra, consistency_figure(state),
            quality_table(state), response_figure(state), export_files(state))


# --------------------------------------------------------------------------------------------
# The tab
# --------------------------------------------------------------------------------------------


def build_pair_tab() -> dict[str, Any]:
    """Lay out the "Your own pair" tab inside the current ``gr.Blocks`` and wire it; returns its components.

    Endpoints (for ``gradio_client``): ``pair_example`` (the example pair's two paths),
    ``pair_fuse`` (fuse and return every view) and ``pair_pixel`` (the spectra of one pixel).
    """
    import gradio as gr

    def fuse_handler(lr_files, hr_files, response, method, csv_file, register, out_format, band, row, col,
                     progress=gr.Progress()):
        try:
            state = run_pair(lr_files, hr_files, response, method, csv_file, register, out_format,
                             progress=lambda fraction, message: progress(fraction, desc=message))
        except S3RNetError as exc:
            raise gr.Error(str(exc)) from exc
        band = int(min(band, len(state["wavelengths"] or [0]) - 1))
        return (state, *views(state, band, row, col))

    def band_handler(state, band):
        if not state:
            return None
        return band_view(state, int(min(band, len(state["wavelengths"] or [0]) - 1)))

    def pixel_handler(state, row, col):
        if not state:
            return None
        return pixel_spectra(state, int(row), int(col))[0]

    components: dict[str, Any] = {}
    with gr.Tab("Your own pair", elem_id="pair-tab"):
        gr.Markdown(
            "Fuse a real low-resolution hyperspectral image with a high-resolution multispectral (or panchromatic) "
            "image of the same place: GeoTIFF (.tif) or ENVI (.hdr with its .img). There is no ground truth: the "
            "result is judged by its consistency with both inputs and by the QNR family."
        )
        state = gr.State(None)
        with gr.Row():
            lr_files = gr.File(label="LR-HSI (.tif, or .hdr + .img)", file_count="multiple", elem_id="pair-lrhsi")
            hr_files = gr.File(label="HR-MSI (.tif, or .hdr + .img)", file_count="multiple", elem_id="pair-hrmsi")
        with gr.Row():
            example = gr.Button("Use the example pair (from Indian Pines)", elem_id="pair-example")
            response = gr.Dropdown(response_choices(), value=ESTIMATE, label="MSI response", elem_id="pair-response")
            csv_file = gr.File(label="response table (CSV)", file_types=[".csv"], elem_id="pair-csv")
            method = gr.Dropdown(method_choices(), value=AUTO, label="method", elem_id="pair-method")
        with gr.Row():
            register = gr.Checkbox(True, label="correct a shift above 0.1 LR pixel", elem_id="pair-register")
            out_format = gr.Radio([".tif", ".hdr"], value=".tif", label="output format", elem_id="pair-format")
            fuse_button = gr.Button("Fuse", variant="primary", elem_id="pair-fuse")
        status = gr.Markdown(elem_id="pair-status")
        with gr.Row():
            low_res = gr.Image(label="upsampled LR-HSI (true colour)", elem_id="pair-lr-composite")
            fused = gr.Image(label="fused (true colour)", elem_id="pair-fused-composite")
        band = gr.Slider(0, 199, value=40, step=1, label="band", elem_id="pair-band")
        band_plot = gr.Plot(label="one band", elem_id="pair-band-plot")
        with gr.Row():
            row = gr.Number(48, label="pixel row", precision=0, elem_id="pair-row")
            col = gr.Number(48, label="pixel column", precision=0, elem_id="pair-col")
        spectra = gr.Plot(label="spectra", elem_id="pair-spectra")
        maps = gr.Plot(label="consistency maps", elem_id="pair-maps")
        table = gr.Dataframe(label="quality without ground truth", elem_id="pair-quality")
        response_plot = gr.Plot(label="MSI response", elem_id="pair-response-plot")
        downloads = gr.File(label="georeferenced output and report", file_count="multiple", elem_id="pair-downloads")

        example.click(lambda: tuple([path] for path in example_pair()), outputs=[lr_files, hr_files],
                      api_name="pair_example")
        fuse_button.click(
            fuse_handler, inputs=[lr_files, hr_files, response, method, csv_file, register, out_format, band, row, col],
            outputs=[state, status, low_res, fused, band_plot, spectra, maps, table, response_plot, downloads],
            # Its own lane: a large pair never holds up the simulated fusions of a class.
            api_name="pair_fuse", concurrency_id="pair", concurrency_limit=1,
        )
        band.release(band_handler, inputs=[state, band], outputs=band_plot, api_name="pair_band")
        for control in (row, col):
            control.submit(pixel_handler, inputs=[state, row, col], outputs=spectra, api_name=False)
        gr.Button("Show the spectra of this pixel", elem_id="pair-pixel").click(
            pixel_handler, inputs=[state, row, col], outputs=spectra, api_name="pair_pixel")
    components.update(state=state, lr_files=lr_files, hr_files=hr_files, response=response, method=method,
                      fuse=fuse_button, status=status, downloads=downloads, band=band)
    return components


__all__ = [
    "AUTO", "CSV", "ESTIMATE", "band_view", "build_pair_tab", "composites", "consistency_figure", "example_pair",
    "export_files", "gather_upload", "method_choices", "parse_method", "parse_response", "pixel_spectra",
    "quality_table", "response_choices", "response_figure", "run_pair", "state_of", "status_text", "views",
]
