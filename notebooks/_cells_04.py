"""Cells of 04_real_pair.ipynb (see build_notebooks.py)."""

CELLS = [
("md", r"""
# 4. Fusing your own pair: two georeferenced files, no ground truth

Notebooks 1 to 3 start from a ground-truth cube and degrade it. A researcher's real job is the other
way round: a hyperspectral image (Hyperion, PRISMA, EnMAP, AVIRIS) and a multispectral image of the
same place (Sentinel-2, Landsat, ALI) from two instruments, with no ground truth. This notebook goes
through what `python -m s3rnet fuse` does with such a pair, step by step, with `s3rnet.fuse`:

1. the pair: two GeoTIFF files with their own grids, coordinate system and wavelengths;
2. the geometry: common extent and ratio from the pixel sizes;
3. the MSI's spectral response, estimated from the pair;
4. the co-registration of the two images;
5. the fusion, tile by tile, into a georeferenced file;
6. judging it without ground truth: consistency with both inputs, and the QNR family;
7. whether those no-reference figures rank methods as the ground truth does.

So that we can check each estimate, the pair is simulated from the Indian Pines scene with a known
response (Sentinel-2 bands 2, 3, 4, 8), a known shift and a known ratio; the pipeline sees only the
two files. With your own pair, replace the two paths in section 1. `S3RNET_QUICK=1` (set by CI)
uses a 96-pixel pair instead of 144; everything here takes seconds.
"""),
("code", r"""
import json
import os
import tempfile
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from IPython.display import Markdown, display
from plotly.subplots import make_subplots

from s3rnet.fuse import fuse_pair, pair_geometry, write_example_pair
from s3rnet.geo import open_image
from s3rnet.metrics import psnr, sam
from s3rnet.response import centroids, response_distance

QUICK = os.environ.get("S3RNET_QUICK") == "1"
RECORD = os.environ.get("S3RNET_NOTEBOOK_RECORD")
# The pair and the fused files go here, never inside the repository.
OUT = Path(os.environ.get("S3RNET_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="s3rnet-nb04-"))
OUT.mkdir(parents=True, exist_ok=True)
recorded = {}


def record(key, value):
    # Keep a number this notebook reports (and write them all to $S3RNET_NOTEBOOK_RECORD if set).
    recorded[key] = value
    if RECORD:
        Path(RECORD).write_text(json.dumps(recorded, indent=2, default=float))


SIZE = 96 if QUICK else 144
TRUE_SHIFT = (0.3, -0.2)
print("quick mode:", QUICK, "| pair of", SIZE, "x", SIZE, "HR pixels")
"""),
("md", r"""
## 1. The pair: two GeoTIFF files

`write_example_pair` simulates the two images from the lower part of Indian Pines and writes them as
GeoTIFFs in UTM zone 16 North: the LR-HSI with 20 m pixels and its 200 AVIRIS wavelengths, the HR-MSI
with 5 m pixels and the centres and widths of its 4 bands in the band metadata. The LR-HSI is shifted
by a third of an LR pixel, as two instruments' grids never quite agree. `open_image` reads what a
pipeline can know from the files: size, coordinate system, grid, wavelengths.
"""),
("code", r"""
lr_path, hr_path, simulation = write_example_pair(OUT / "pair", msi="s2-4", size=SIZE, shift=TRUE_SHIFT)
hsi, msi = open_image(lr_path), open_image(hr_path)
pd.DataFrame({
    "file": [lr_path.name, hr_path.name],
    "rows x cols x bands": [f"{i.rows} x {i.cols} x {i.bands}" for i in (hsi, msi)],
    "CRS": [str(i.crs) for i in (hsi, msi)],
    "pixel (m)": [i.pixel_size[0] for i in (hsi, msi)],
    "upper-left corner": [f"{i.transform.c:.0f} E, {i.transform.f:.0f} N" for i in (hsi, msi)],
    "wavelengths (nm)": [f"{i.wavelengths.min():.0f}-{i.wavelengths.max():.0f}" for i in (hsi, msi)],
})
"""),
("md", r"""
## 2. Geometry: the ratio comes from the pixel sizes

Both files are georeferenced in the same coordinate system, so the ratio is the ratio of their pixel
sizes (an integer, or the pipeline refuses), and the common extent is cut out: the LR-HSI's whole
pixels inside both images and the HR-MSI's pixels under them. The output will be georeferenced like
that window of the HR-MSI.
"""),
("code", r"""
geometry = pair_geometry(hsi, msi)
for step in geometry.steps:
    print("-", step)
record("ratio", geometry.ratio)
"""),
("md", r"""
## 3 to 6. The whole pipeline, and what it found

`fuse_pair` (what `python -m s3rnet fuse` runs) estimates the MSI's response from the pair (a
non-negative, smooth least-squares fit of the HR-MSI, degraded to the LR grid, on the LR-HSI bands,
as in HySure, restricted to the HSI bands near each MSI band's recorded centre), measures the shift
by phase correlation and corrects it when it exceeds 0.1 LR pixel, fuses tile by tile, and measures
the result without ground truth. Every choice goes to the report.
"""),
("code", r"""
result = fuse_pair(lr_path, hr_path, OUT / "fused-mtf-glp-hpm.tif", method="mtf-glp-hpm", tile=48,
                   report=OUT / "report.json")
report = result.report
registration = report["registration"]
print("method:", report["method"]["name"], "-", report["method"]["reason"])
print("tiles:", report["tiling"]["tiles"], "of", report["tiling"]["tile_hr_px"], "HR pixels, halo",
      report["tiling"]["halo_hr_px"])
print(f"shift measured: {registration['shift_lr_px'][0]:+.3f}, {registration['shift_lr_px'][1]:+.3f} LR px "
      f"(true {TRUE_SHIFT[0]:+.3f}, {TRUE_SHIFT[1]:+.3f}); corrected: {registration['corrected']}")
print("response fit, variance explained per MSI band:", np.round(report["response"]["explained_variance"], 4))
fused_file = open_image(result.output)
print("output:", result.output.name, fused_file.shape, fused_file.crs, "upper-left", fused_file.transform.c, fused_file.transform.f)
record("shift_lr_px", registration["shift_lr_px"])
record("response_distance", response_distance(result.fit.response, simulation.srf).tolist())
record("report", {k: report[k] for k in ("geometry", "registration", "quality", "method", "tiling")})
record("output_transform", list(fused_file.transform)[:6])
"""),
("md", r"""
### The estimated response against the true one

Sentinel-2's official responses (from `pyrsr`) on the AVIRIS bands, and the pipeline's estimate.
The estimate only saw the two images. The total-variation distance (0: identical, 1: disjoint) and
the shift of each band's centroid say how close it came.
"""),
("code", r"""
wl = hsi.wavelengths
order = np.argsort(wl)
fig = go.Figure()
colours = ["#1f77b4", "#2ca02c", "#d62728", "#9467bd"]
for band, colour in enumerate(colours):
    fig.add_trace(go.Scatter(x=wl[order].tolist(), y=simulation.srf[band, order].tolist(), name=f"true band {band + 1}",
                             line=dict(color=colour, dash="dot")))
    fig.add_trace(go.Scatter(x=wl[order].tolist(), y=result.fit.response[band, order].tolist(),
                             name=f"estimated band {band + 1}", line=dict(color=colour)))
fig.update_layout(xaxis_title="wavelength (nm)", yaxis_title="weight (each band sums to 1)", height=380,
                  xaxis_range=[400, 1000])
fig.show()
table = pd.DataFrame({
    "TV distance": response_distance(result.fit.response, simulation.srf),
    "centroid error (nm)": centroids(result.fit.response, wl) - centroids(simulation.srf, wl),
    "variance explained": result.fit.explained,
}, index=[f"MSI band {i + 1}" for i in range(4)]).round(3)
table
"""),
("md", r"""
### Looking at the result: composites, a band slider, spectra

True-colour composites of the upsampled LR-HSI (bicubic) and the fused cube, read back from the
GeoTIFF, then any band with the slider, then the spectra of one pixel. The truth is shown because this
pair was simulated; yours will not have one.
"""),
("code", r"""
fused = fused_file.read()
upsampled = open_image(fuse_pair(lr_path, hr_path, OUT / "upsampled.tif", method="bicubic").output).read()


def composite(cube, centres=(640.0, 550.0, 460.0)):
    bands = [int(np.argmin(np.abs(wl - c))) for c in centres]
    rgb = cube[:, :, bands]
    low, high = np.percentile(rgb, (2, 98), axis=(0, 1))
    return np.clip((rgb - low) / (high - low), 0, 1)


panels = {"upsampled LR-HSI": upsampled, "fused (MTF-GLP-HPM)": fused, "truth (simulation only)": simulation.truth}
fig = make_subplots(rows=1, cols=3, subplot_titles=list(panels))
for i, cube in enumerate(panels.values(), start=1):
    fig.add_trace(go.Image(z=(255 * composite(cube)).astype(np.uint8)), row=1, col=i)
fig.update_layout(height=340, margin=dict(t=40, b=10))
fig.show()

band_slider = widgets.SelectionSlider(options=[(f"{w:.0f} nm", int(i)) for i, w in zip(order, wl[order])],
                                      value=int(order[40]), description="band")
band_figure = go.FigureWidget(make_subplots(rows=1, cols=2, subplot_titles=["upsampled LR-HSI", "fused"]))
for i in (1, 2):
    band_figure.add_trace(go.Heatmap(z=[[0]], colorscale="gray", showscale=False), row=1, col=i)
band_figure.update_yaxes(autorange="reversed")
band_figure.update_layout(height=320, margin=dict(t=40, b=10))


def show_band(change=None):
    band = band_slider.value
    with band_figure.batch_update():
        band_figure.data[0].z = upsampled[:, :, band].tolist()
        band_figure.data[1].z = fused[:, :, band].tolist()


band_slider.observe(show_band, names="value")
show_band()
display(widgets.VBox([band_slider, band_figure]))

row, col = SIZE // 2, SIZE // 3
fig = go.Figure()
for name, cube in panels.items():
    fig.add_trace(go.Scatter(x=wl[order].tolist(), y=cube[row, col, order].tolist(), name=name))
fig.update_layout(title=f"pixel ({row}, {col})", xaxis_title="wavelength (nm)", yaxis_title=hsi.units[:40], height=340)
fig.show()
"""),
("md", r"""
### Quality without ground truth

**Consistency**: the fused cube brought back through the PSF and decimation should give the LR-HSI,
and through the estimated response the HR-MSI (in the HSI's radiometry); PSNR and SAM say how far it
is, the maps where. **No-reference indices**: D_lambda (spectral distortion), D_s (spatial
distortion), QNR and HQNR (1 is ideal), with the conventions in `s3rnet.quality`'s docstring.
"""),
("code", r"""
consistency = report["quality"]["consistency"]
fig = make_subplots(rows=1, cols=2, subplot_titles=["SAM vs LR-HSI (degrees)", "SAM vs HR-MSI (degrees, per LR pixel)"])
fig.add_trace(go.Heatmap(z=result.maps["spatial_sam"].tolist(), colorscale="Viridis", coloraxis="coloraxis"), row=1, col=1)
fig.add_trace(go.Heatmap(z=result.maps["spectral_sam"].tolist(), colorscale="Viridis", coloraxis="coloraxis"), row=1, col=2)
fig.update_yaxes(autorange="reversed")
fig.update_layout(height=330, coloraxis=dict(colorscale="Viridis"), margin=dict(t=40, b=10))
fig.show()
pd.DataFrame({
    "with the LR-HSI": consistency["spatial"], "with the HR-MSI": consistency["spectral"],
}).round(3)
"""),
("md", r"""
## 7. Do the no-reference figures rank methods as the truth does?

Here we can check, because the pair was simulated: the same pipeline with four methods, scored
against the truth (PSNR, SAM) and without it. On a real pair only the right-hand columns exist.
"""),
("code", r"""
methods = ["bicubic", "gsa", "mtf-glp-hpm"] + ([] if QUICK else ["cnmf"])
rows = {}
for method in methods:
    run = fuse_pair(lr_path, hr_path, OUT / f"fused-{method}.tif", method=method)
    cube = open_image(run.output).read()
    scores = run.report["quality"]
    rows[method] = {
        "PSNR vs truth (dB)": psnr(simulation.truth, cube), "SAM vs truth (deg)": sam(simulation.truth, cube),
        "consistency LR-HSI (dB)": scores["consistency"]["spatial"]["psnr"],
        "consistency HR-MSI (dB)": scores["consistency"]["spectral"]["psnr"],
        "D_lambda": scores["no_reference"]["d_lambda"], "D_s": scores["no_reference"]["d_s"],
        "QNR": scores["no_reference"]["qnr"], "HQNR": scores["no_reference"]["hqnr"],
    }
comparison = pd.DataFrame(rows).T
record("comparison", rows)
comparison.round(3)
"""),
("code", r"""
by_truth = comparison["PSNR vs truth (dB)"].sort_values(ascending=False).index.tolist()
by_hqnr = comparison["HQNR"].sort_values(ascending=False).index.tolist()
record("ranking", {"psnr": by_truth, "hqnr": by_hqnr})
agree = "agree" if by_truth == by_hqnr else "do not agree"
display(Markdown(
    f"Ranked by PSNR against the truth: **{', '.join(by_truth)}**. Ranked by HQNR (no truth): "
    f"**{', '.join(by_hqnr)}**: the two rankings {agree} on this pair. A no-reference index measures "
    f"how well the fused cube keeps relations between the inputs, not its error, so the rankings need "
    f"not agree; the consistency figures and the maps are worth a look too."
))
print("The same fusion from a shell:")
print(f"python -m s3rnet fuse --lrhsi {lr_path} --hrmsi {hr_path} --out fused.tif --method mtf-glp-hpm --report report.json")
"""),
("md", r"""
## 8. An MSI with more bands than the network learned

A real Sentinel-2 product has more than the 4 or 6 bands the published networks learned; a stack of
its 10 and 20 m bands has 10 (`s2-10`: B2-B8A, B11, B12). `fuse` then runs the checkpoint on the
pair's bands nearest its own (`s3rnet.response.nearest_bands`), and adds the network's correction
of its classical estimate to that estimate made with every band, so the other bands still count.
The report says which bands the network saw (`method.msi_bands`, counted from 0).
"""),
("code", r"""
wide_lr, wide_hr, wide_simulation = write_example_pair(OUT / "pair-s2-10", msi="s2-10", size=SIZE, shift=(0.0, 0.0))
wide = fuse_pair(wide_lr, wide_hr, OUT / "fused-s2-10.tif", msi_response="s2-10")
classical = fuse_pair(wide_lr, wide_hr, OUT / "fused-s2-10-mtf.tif", msi_response="s2-10", method="mtf-glp-hpm")
method = wide.report["method"]
names = wide.report["response"]["bands"]
record("wide_msi", {"checkpoint": method["name"], "msi_bands": method.get("msi_bands")})
display(Markdown(
    f"**{method['name']}** ({method['kind']}) fused the 10-band pair; the network saw Sentinel-2 bands "
    f"{', '.join('B' + names[b] for b in method.get('msi_bands', []))}."
))
pd.DataFrame({
    name: {"PSNR vs truth (dB)": psnr(wide_simulation.truth, open_image(run.output).read()),
           "SAM vs truth (deg)": sam(wide_simulation.truth, open_image(run.output).read())}
    for name, run in ((method["name"] + " (as fuse runs it)", wide), ("mtf-glp-hpm, every band", classical))
}).T.round(3)
"""),
]
