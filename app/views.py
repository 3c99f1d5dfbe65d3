"""Pictures and plots of a :class:`~app.compute.FusionResult`, as plain arrays and plotly figures.

Nothing here computes a score: the numbers come from the library (through ``app.compute``);
this module only decides how to show them. Images are returned as ``uint8`` arrays already
enlarged by an integer factor (:func:`display_factor`), because the browser does not upscale
small images; a click at display pixel (x, y) is pixel (x // factor, y // factor) of the cube.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from PIL import Image, ImageDraw, ImageFont

from .compute import LOW_RES, METHOD_LABELS, TRUTH, FusionResult

# Band centres (nm) picked for the composites: red, green, blue for true colour; near infrared,
# red, green for the classic false-colour view in which vegetation shows red.
COLOUR_MODES = {
    "true colour": (640.0, 550.0, 460.0),
    "false colour (NIR, red, green)": (860.0, 650.0, 550.0),
}
DEFAULT_COLOUR_MODE = "true colour"
# Longest side of a displayed image in screen pixels: one image fills the results column of a
# 1024 or 1280 px projector (the browser shrinks it where the column is narrower, never enlarges it).
DISPLAY_SIDE = 600
STRETCH_PERCENTILES = (2.0, 98.0)
# A jump between consecutive sorted wavelengths larger than this many typical spacings is a gap
# in the band list (water absorption, removed bands): plots leave it empty instead of bridging it.
GAP_FACTOR = 3.0
SERIES_COLOURS = {
    TRUTH: "#111111",
    LOW_RES: "#9e9e9e",
    "S3RNet": "#d62728",
    "Bicubic": "#7f7f7f",
    "GSA": "#1f77b4",
    "MTF-GLP-HPM": "#2ca02c",
    "CNMF": "#9467bd",
}
BRANCH_NAMES = ("Q", "K", "V", "Z")
# The branches' inputs (the paper's Fig. 3): V joins the LR-HSI with the downsampled HR-MSI at
# the low resolution (upsampled by the ratio before fusion), Z the upsampled LR-HSI with the HR-MSI at the
# high resolution; the SSAWB's channel attention A adds Conv1x1(A V) to Z.
BRANCH_MEANINGS = {
    "Q": "Q: LR-HSI",
    "K": "K: HR-MSI",
    "V": "V: LR-HSI + down(MSI)",
    "Z": "Z: up(LR-HSI) + MSI",
}
FONT_SIZE = 18


def label(method: str) -> str:
    """Display name of a method."""
    return METHOD_LABELS.get(method, method)


def display_factor(height: int, width: int) -> int:
    """Integer enlargement that brings the longest side near :data:`DISPLAY_SIDE`."""
    return max(1, DISPLAY_SIDE // max(height, width))


def placeholder(height: int, width: int, text: str) -> np.ndarray:
    """A light grey (height, width, 3) image with ``text`` written in its middle: what an image
    slot shows when its method did not run."""
    image = Image.new("RGB", (width, height), (238, 238, 238))
    draw = ImageDraw.Draw(image)
    font = _font(FONT_SIZE + 4)
    size = draw.textbbox((0, 0), text, font=font)
    draw.text(((width - size[2]) / 2, (height - size[3]) / 2), text, fill=(34, 34, 34), font=font)
    return np.asarray(image)


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Repeat each pixel ``factor`` times along both axes (crisp pixels, exact click mapping)."""
    if factor == 1:
        return image
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def nearest_bands(wavelengths: np.ndarray | None, bands: int, targets: tuple[float, ...]) -> list[int]:
    """The band nearest each target wavelength; evenly spread bands when there are no wavelengths."""
    if wavelengths is None:
        return [int(round(f * (bands - 1))) for f in np.linspace(0.75, 0.25, len(targets))]
    return [int(np.argmin(np.abs(wavelengths - t))) for t in targets]


def stretch_limits(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel 2nd and 98th percentiles of an (H, W, k) or (H, W) image."""
    flat = image.reshape(-1, image.shape[-1] if image.ndim == 3 else 1)
    low, high = np.percentile(flat, STRETCH_PERCENTILES, axis=0)
    high = np.where(high > low, high, low + 1e-6)
    return low, high


def to_uint8(image: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Linear stretch of ``low..high`` to 0..255, clipped."""
    if image.ndim == 2:
        low, high = float(np.ravel(low)[0]), float(np.ravel(high)[0])
    scaled = (image.astype(np.float32) - low) / (high - low)
    return (np.clip(scaled, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Composites and single bands
# --------------------------------------------------------------------------------------------


def composite_views(result: FusionResult, mode: str, baseline: str | None) -> dict[str, tuple[np.ndarray, str]]:
    """RGB composites of the ground truth, upsampled LR-HSI, HR-MSI, fused result and a baseline.

    All five share one stretch: the 2-98 percentiles of the ground truth's composite (the HR-MSI
    bands are weighted means of the same radiances, so the same limits apply).

    Returns
    -------
    dict
        ``"truth"``, ``"lrhsi"``, ``"hrmsi"``, ``"fused"``, ``"baseline"`` -> (uint8 image, caption),
        and ``"caption"`` -> (None, what the composites show).
    """
    targets = COLOUR_MODES.get(mode, COLOUR_MODES[DEFAULT_COLOUR_MODE])
    bands = nearest_bands(result.wavelengths, result.shape[2], targets)
    truth = result.truth[:, :, bands]
    low, high = stretch_limits(truth)
    factor = display_factor(*result.shape[:2])

    def show(cube: np.ndarray) -> np.ndarray:
        return enlarge(to_uint8(cube[:, :, bands], low, high), factor)

    msi_bands, msi_names = _msi_bands(result, targets)
    msi = enlarge(to_uint8(result.hrmsi[:, :, msi_bands], low, high), factor)
    truth_image = show(result.truth)
    views = {
        "truth": (truth_image, "Ground truth"),
        "lrhsi": (show(result.upsampled_lrhsi), f"LR-HSI ({result.lrhsi.shape[0]} x {result.lrhsi.shape[1]} px)"),
        "hrmsi": (msi, f"HR-MSI ({result.settings.msi})"),
        "fused": fused_view(result, show, truth_image.shape),
        "caption": (None, f"{mode.capitalize()}: hyperspectral bands at {_band_names(result, bands)}; "
                          f"HR-MSI bands {msi_names}. One stretch for all: 2-98 percentiles of the ground truth. "
                          f"Click a pixel to see its spectrum below."),
    }
    if baseline in result.outputs:
        views["baseline"] = (show(result.outputs[baseline]), f"Baseline: {label(baseline)}")
    else:
        views["baseline"] = (np.zeros_like(views["truth"][0]), "Baseline: none run")
    return views


def fused_view(result: FusionResult, show, shape: tuple[int, ...]) -> tuple[np.ndarray, str]:
    """The fused result's slot: S3RNet (or the first method when S3RNet was not chosen), or a
    grey panel saying that S3RNet did not run, never another method in its place."""
    fused = result.fused_method
    if fused is None:
        return placeholder(shape[0], shape[1], "S3RNet did not run"), "S3RNet did not run: see the status above"
    return show(result.outputs[fused]), f"Fused: {label(fused)}"


def _band_names(result: FusionResult, bands: list[int]) -> str:
    if result.wavelengths is None:
        return "bands " + ", ".join(str(b) for b in bands)
    return ", ".join(f"{result.wavelengths[b]:.0f}" for b in bands) + " nm"


def msi_band_centres(result: FusionResult) -> np.ndarray | None:
    """Response-weighted centre (nm) of each MSI band, from its response on the cube's bands."""
    if result.wavelengths is None:
        return None
    return result.srf @ result.wavelengths / result.srf.sum(axis=1)


def _msi_bands(result: FusionResult, targets: tuple[float, ...]) -> tuple[list[int], str]:
    centres = msi_band_centres(result)
    if centres is None:
        count = result.hrmsi.shape[2]
        picks = [min(count - 1, i) for i in (2, 1, 0)]
        return picks, ", ".join(str(p + 1) for p in picks)
    picks = [int(np.argmin(np.abs(centres - t))) for t in targets]
    return picks, ", ".join(f"{p + 1} ({centres[p]:.0f} nm)" for p in picks)


# Range of the band slider (nm): fixed, so that the API accepts the same values in every session;
# it spans the AVIRIS range (365-2500 nm) and more. Each value shows the nearest band.
SLIDER_NM = (350.0, 2550.0)


def nearest_band(result: FusionResult, wavelength: float) -> int:
    """The band whose centre is nearest ``wavelength``; without wavelengths, the band at the same
    relative position of the slider's range."""
    bands = result.shape[2]
    if result.wavelengths is None:
        low, high = SLIDER_NM
        return int(np.clip(round((float(wavelength) - low) / (high - low) * (bands - 1)), 0, bands - 1))
    return int(np.argmin(np.abs(result.wavelengths - float(wavelength))))


def band_views(result: FusionResult, wavelength: float, baseline: str | None) -> tuple[dict[str, tuple[np.ndarray, str]], str]:
    """One band of the ground truth, the upsampled LR-HSI, the fused result and a baseline, plus
    the HR-MSI band that responds most there, on the ground-truth band's 2-98 percentile stretch.

    Returns
    -------
    views : dict
        ``"truth"``, ``"lrhsi"``, ``"fused"``, ``"baseline"``, ``"hrmsi"`` -> (uint8 image, caption).
    title : str
        Which band is shown, in nm.
    """
    band = nearest_band(result, wavelength)
    factor = display_factor(*result.shape[:2])
    low, high = stretch_limits(result.truth[:, :, band])

    def show(cube: np.ndarray) -> np.ndarray:
        return enlarge(to_uint8(cube[:, :, band], low, high), factor)

    where = f"band {band + 1}" + ("" if result.wavelengths is None else f", {result.wavelengths[band]:.1f} nm")
    msi_band = int(np.argmax(result.srf[:, band]))
    msi_centres = msi_band_centres(result)
    msi_image = result.hrmsi[:, :, msi_band]
    msi_low, msi_high = stretch_limits(msi_image)
    share = result.srf[msi_band, band] / max(result.srf[:, band].sum(), 1e-12)
    truth_image = show(result.truth)
    views = {
        "truth": (truth_image, "Ground truth"),
        "lrhsi": (show(result.upsampled_lrhsi), "LR-HSI"),
        "fused": fused_view(result, show, truth_image.shape),
        "hrmsi": (
            enlarge(to_uint8(msi_image, msi_low, msi_high), factor),
            f"HR-MSI band {msi_band + 1}" + (" (sees almost nothing here)" if share == 0 or result.srf[msi_band, band] < 1e-6 else ""),
        ),
    }
    if baseline in result.outputs:
        views["baseline"] = (show(result.outputs[baseline]), f"Baseline: {label(baseline)}")
    else:
        views["baseline"] = (np.zeros_like(views["truth"][0]), "Baseline: none run")
    msi_where = "" if msi_centres is None else f" (centre {msi_centres[msi_band]:.0f} nm)"
    caption = (f"Showing {where} (each image on the ground truth band's 2-98 percentile stretch); "
               f"the HR-MSI has no such band: its band {msi_band + 1}{msi_where} responds most there.")
    return views, caption


def swipe_pair(result: FusionResult, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Ground truth and fused composites for the swipe comparison (a grey panel when S3RNet did not run)."""
    views = composite_views(result, mode, None)
    return views["truth"][0], views["fused"][0]


# --------------------------------------------------------------------------------------------
# Colour-mapped maps (error maps, SSAWB weights)
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _lookup_table(name: str) -> np.ndarray:
    from matplotlib import colormaps

    return (colormaps[name](np.linspace(0.0, 1.0, 256))[:, :3] * 255.0 + 0.5).astype(np.uint8)


@functools.lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def colour_map(values: np.ndarray, vmin: float, vmax: float, cmap: str) -> np.ndarray:
    """An (H, W) array as an (H, W, 3) uint8 image through a matplotlib colour map."""
    span = vmax - vmin if vmax > vmin else 1.0
    index = np.clip((values - vmin) / span * 255.0, 0, 255).astype(np.uint8)
    return _lookup_table(cmap)[index]


def with_colour_bar(image: np.ndarray, vmin: float, vmax: float, cmap: str, unit: str) -> np.ndarray:
    """The image with a horizontal colour bar and its limits written underneath."""
    width = image.shape[1]
    ramp = colour_map(np.tile(np.linspace(vmin, vmax, width), (14, 1)), vmin, vmax, cmap)
    text = Image.new("RGB", (width, FONT_SIZE + 10), "white")
    draw = ImageDraw.Draw(text)
    font = _font(FONT_SIZE)
    draw.text((2, 3), f"{vmin:.3g}", fill="black", font=font)
    right = f"{vmax:.3g} {unit}".strip()
    draw.text((width - 2 - draw.textlength(right, font=font), 3), right, fill="black", font=font)
    gap = np.full((4, width, 3), 255, np.uint8)
    return np.concatenate([image, gap, ramp, np.asarray(text)], axis=0)


def error_views(result: FusionResult, baseline: str | None) -> dict[str, tuple[np.ndarray, str]]:
    """Per-pixel SAM and RMSE maps of the fused result and a baseline.

    Each metric has one colour scale shared by the two methods (0 to the 99th percentile of
    both maps), so that the maps can be compared by eye.
    """
    slots = {"fused": result.fused_method, "baseline": baseline if baseline in result.outputs else None}
    maps = {m: result.error_maps(m) for m in slots.values() if m is not None}
    factor = display_factor(*result.shape[:2])
    height, width = result.shape[0] * factor, result.shape[1] * factor
    views: dict[str, tuple[np.ndarray, str]] = {}
    for index, (metric, unit, cmap) in enumerate((("SAM", "deg", "magma"), ("RMSE", "", "viridis"))):
        top = float(max((np.percentile(m[index], 99) for m in maps.values()), default=1.0)) or 1.0
        for slot, method in slots.items():
            if method is None:
                text = "S3RNet did not run" if slot == "fused" else "no baseline run"
                views[f"{metric.lower()}_{slot}"] = (placeholder(height, width, text), text)
                continue
            image = enlarge(colour_map(maps[method][index], 0.0, top, cmap), factor)
            mean = float(np.mean(maps[method][index]))
            views[f"{metric.lower()}_{slot}"] = (
                with_colour_bar(image, 0.0, top, cmap, unit),
                f"{metric} per pixel, {label(method)} (mean {mean:.3g} {unit})".replace(" )", ")"),
            )
    return views


def _titled_panel(image: np.ndarray, title: str) -> np.ndarray:
    band = Image.new("RGB", (image.shape[1], FONT_SIZE + 10), "white")
    ImageDraw.Draw(band).text((4, 3), title, fill="black", font=_font(FONT_SIZE))
    return np.concatenate([np.asarray(band), image], axis=0)


def weight_maps_view(result: FusionResult) -> tuple[np.ndarray | None, str]:
    """The four SSAWB per-pixel weight maps side by side: on one colour scale (0 to 1) above, each
    stretched to its own 1st-99th percentile range below, so that a weak pattern shows too."""
    if result.model is None or getattr(result.model, "weights", None) is None:
        return None, "S3RNet did not run (or has no SSAWB): no branch weights to show."
    from .library import branch_weights_summary

    maps, _ = branch_weights_summary(result.model.weights)
    factor = display_factor(*maps.shape[1:])
    rows = []
    for stretched in (False, True):
        panels = []
        for name, weight_map in zip(BRANCH_NAMES, maps):
            low, high = (np.percentile(weight_map, [1, 99]) if stretched else (0.0, 1.0))
            high = max(float(high), float(low) + 1e-6)
            title = f"{name} stretched: {low:.2f}-{high:.2f}" if stretched else BRANCH_MEANINGS[name]
            panels.append(_titled_panel(enlarge(colour_map(weight_map, float(low), high, "viridis"), factor), title))
            panels.append(np.full((panels[-1].shape[0], 8, 3), 255, np.uint8))
        rows.append(np.concatenate(panels[:-1], axis=1))
        rows.append(np.full((12, rows[-1].shape[1], 3), 255, np.uint8))
    # A white band on top keeps the component's label badge off the panel titles.
    strip = np.concatenate([np.full((32, rows[0].shape[1], 3), 255, np.uint8), *rows[:-1]], axis=0)
    return (with_colour_bar(strip, 0.0, 1.0, "viridis", "weight (top row)"),
            "SSAWB branch weights per pixel: top on one scale 0-1; bottom each map stretched to its own range")


# --------------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------------


def with_gaps(x: list[float], y: list[float]) -> tuple[list[float | None], list[float | None]]:
    """Insert ``None`` where consecutive (ascending) x values jump by much more than usual.

    A jump larger than :data:`GAP_FACTOR` times the median spacing is a gap in the band list
    (for example the water-absorption bands removed from Indian Pines), which a line should
    not bridge.
    """
    if len(x) < 3:
        return list(x), list(y)
    steps = np.diff(np.asarray(x, dtype=float))
    typical = float(np.median(steps[steps > 0])) if np.any(steps > 0) else 0.0
    xs: list[float | None] = [x[0]]
    ys: list[float | None] = [y[0]]
    for i in range(1, len(x)):
        if typical > 0 and x[i] - x[i - 1] > GAP_FACTOR * typical:
            xs.append(None)
            ys.append(None)
        xs.append(x[i])
        ys.append(y[i])
    return xs, ys


_AXIS_STYLE = {"gridcolor": "#e3e3e3", "zerolinecolor": "#c8c8c8", "linecolor": "#888888", "showline": True}


def _layout(figure: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    # No plotly template: applying one deep-copies it (tens of ms per figure) and ships it to
    # the browser; the few styles that matter are set here.
    figure.update_layout(
        title={"text": title, "font": {"size": 20}},
        xaxis={"title": {"text": x_title}, **_AXIS_STYLE},
        yaxis={"title": {"text": y_title}, **_AXIS_STYLE},
        font={"size": 16},
        template=None,
        plot_bgcolor="white",
        paper_bgcolor="white",
        colorway=["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"],
        margin={"l": 70, "r": 20, "t": 60, "b": 60},
        height=460,
    )
    return figure


def empty_figure(title: str) -> go.Figure:
    """A plot with a title and nothing in it (what a plot shows when there is no result)."""
    return _layout(go.Figure(), title, "", "")


def spectrum_figure(spectra: dict[str, Any] | None) -> go.Figure:
    """The spectral profile of one pixel: one line per series, gaps left at missing bands."""
    figure = go.Figure()
    if spectra is None:
        return _layout(figure, "Click a pixel on any image to see its spectrum", "wavelength (nm)", "")
    x = spectra["wavelengths_nm"]
    for name, values in on_top_last(spectra["spectra"]).items():
        xs, ys = with_gaps(x, values)
        figure.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", name=name,
            line={"color": SERIES_COLOURS.get(name), "width": 3 if name in (TRUTH, "S3RNet") else 2,
                  "dash": "dot" if name == LOW_RES else None},
        ))
    title = f"Pixel x={spectra['x']}, y={spectra['y']} (scene row {spectra['row']}, col {spectra['col']})"
    _layout(figure, title, spectra["axis"], short_units(spectra["units"]))
    # The legend goes under the plot, so that the curves keep the width of a narrow column.
    figure.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0}, height=580,
                         margin={"b": 170})
    return figure


def on_top_last(series: dict[str, Any]) -> dict[str, Any]:
    """The series in drawing order: S3RNet and the ground truth last, so that no baseline's line hides them."""
    last = [name for name in ("S3RNet", TRUTH) if name in series]
    return {name: series[name] for name in [*(n for n in series if n not in last), *last]}


def short_units(units: str) -> str:
    """Units without the conversion note (``radiance (uW ...; from DN = ...)`` -> ``radiance (uW ...)``)."""
    head = units.split(";")[0].strip()
    return head + ")" if head.count("(") > head.count(")") else head


def psnr_figure(result: FusionResult) -> go.Figure:
    """Per-band PSNR of every method on the wavelength axis."""
    figure = go.Figure()
    if result.wavelengths is not None:
        order = np.argsort(result.wavelengths, kind="stable")
        x = result.wavelengths[order].tolist()
        axis = "wavelength (nm)"
    else:
        order = np.arange(result.shape[2])
        x = order.astype(float).tolist()
        axis = "band number"
    for name, method in on_top_last({label(m): m for m in result.methods}).items():
        xs, ys = with_gaps(x, result.psnr_per_band(method)[order].tolist())
        figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name,
                                    line={"color": SERIES_COLOURS.get(name), "width": 3 if name == "S3RNet" else 2}))
    return _layout(figure, "PSNR per band (peak = band maximum of the ground truth)", axis, "PSNR (dB)")


def weights_reading(result: FusionResult) -> str:
    """What the weight maps show, in plain words (:func:`s3rnet.analysis.describe_branch_weights`)."""
    if result.model is None or getattr(result.model, "weights", None) is None:
        return "*S3RNet did not run: no branch weights to read.*"
    from .library import branch_weights_summary, describe_branch_weights

    _, stats = branch_weights_summary(result.model.weights)
    return f"**What the maps show.** {describe_branch_weights(stats)}"


def weights_figure(result: FusionResult) -> go.Figure:
    """Mean SSAWB weight of each branch, with its spread over the pixels."""
    figure = go.Figure()
    if result.model is None or getattr(result.model, "weights", None) is None:
        return _layout(figure, "No SSAWB weights (S3RNet did not run)", "branch", "mean weight")
    from .library import branch_weights_summary

    _, stats = branch_weights_summary(result.model.weights)
    names = [f"{b}<br>largest on {100 * stats[b]['dominant_share']:.0f}%" for b in BRANCH_NAMES]
    figure.add_trace(go.Bar(
        x=names, y=[stats[b]["mean"] for b in BRANCH_NAMES],
        error_y={"type": "data", "array": [stats[b]["std"] for b in BRANCH_NAMES]},
        text=[f"{stats[b]['mean']:.2f}" for b in BRANCH_NAMES], textposition="outside", textfont={"size": 16},
        marker_color=["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"],
        hovertext=[BRANCH_MEANINGS[b] for b in BRANCH_NAMES],
    ))
    figure.update_yaxes(range=[0, 1.15])
    _layout(figure, "Mean weight per branch<br><sup>whiskers: 1 std over pixels; below: where it weighs most</sup>",
            "", "mean weight")
    figure.update_layout(margin={"b": 90})
    return figure


def energy_figure(result: FusionResult) -> go.Figure:
    """Sorted, normalised channel energy of the fused features (the paper's Fig. 1)."""
    figure = go.Figure()
    features = None if result.model is None else getattr(result.model, "fused_features", None)
    if features is None:
        return _layout(figure, "No fused features (S3RNet did not run)", "channel rank", "energy share")
    from .library import channel_energy_summary

    energy, sparsity = channel_energy_summary(features)
    figure.add_trace(go.Bar(x=list(range(1, energy.size + 1)), y=energy.tolist(), name="S3RNet", marker_color="#d62728"))
    figure.add_hline(y=1.0 / energy.size, line_dash="dot", annotation_text="uniform")
    title = (f"Channel energy of the fused features<br><sup>Gini {sparsity['gini']:.2f}, "
             f"top 10% of channels hold {100 * sparsity['top10_share']:.0f}%, "
             f"{sparsity['effective_channels']:.1f} effective channels of {energy.size}</sup>")
    return _layout(figure, title, "channel (sorted by energy)", "share of energy")


METRIC_COLUMNS = (("psnr", "PSNR dB", 2), ("sam", "SAM °", 3), ("rmse", "RMSE", 4),
                  ("ergas", "ERGAS", 3), ("ssim", "SSIM", 4), ("seconds", "time s", 2))


def metrics_table(result: FusionResult) -> pd.DataFrame:
    """Methods x PSNR, SAM, RMSE, ERGAS, SSIM, seconds, rounded for reading (the JSON has all digits)."""
    rows = []
    for method, scores in result.metrics.items():
        row: dict[str, Any] = {"method": label(method)}
        for key, title, digits in METRIC_COLUMNS:
            row[title] = round(float(scores[key]), digits)
        rows.append(row)
    return pd.DataFrame(rows, columns=["method", *(title for _, title, _ in METRIC_COLUMNS)])
