"""Cells of 02_training.ipynb (see build_notebooks.py)."""

CELLS = [
("md", r"""
# 2. Training S3RNet on many scenes, and adapting it to one

A network learns to fuse by seeing many examples of the problem whose answer is known. Examples
are **simulated on the fly**: cut a patch of a scene, degrade it exactly as in notebook 1 (PSF,
decimation, MSI response, noise), and ask the network to recover the patch. Where the patches come
from decides what the network can do: this notebook teaches the recipe the published weights are
trained with (`configs/generalise-oli4.json`), which draws them from **many sources** (a stream of
synthetic AVIRIS-like scenes and the train region of Indian Pines, optionally a folder of your own
scenes), all on one 172-band grid. It:

1. looks at the training configuration: its sources, its band grid, its validation set and the
   spatial split of Indian Pines;
2. draws one batch from the multi-source sampler: where each row came from, the noise it got, and
   the classical estimate the network corrects;
3. trains the CPU preset (`lite`) for a short while, with a live loss and validation plot;
4. compares the result with the published checkpoint and the classical methods;
5. adapts the published network to the test scene (test-time adaptation, Wald's protocol);
6. explains why a network trained on one scene may not transfer, and what in the recipe is there
   for that;
7. shows how to run the full training from the command line, on a GPU, and on several GPUs.

**Quick mode** (`S3RNET_QUICK=1`, what CI runs): a few dozen training steps on small patches,
validated on fewer problems, and a short adaptation: about a minute on two CPU cores. That is
enough to see every piece work, not to train a good network: the network of section 3 will be
poor, and the published checkpoint is what section 4 measures. With `S3RNET_QUICK` unset the
notebook runs the whole training configuration: its 4,000 steps take an hour or more on two CPU
cores; a GPU, used automatically when present, is much faster.
"""),
("code", r"""
import json
import os
import shutil
import tempfile
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
from IPython.display import display
from plotly.subplots import make_subplots

import s3rnet
from s3rnet.data import load_scene, load_split
from s3rnet.data.synthetic_split import load_synthetic_split
from s3rnet.evaluation import run_evaluation
from s3rnet.inference import CheckpointMethod, list_checkpoints
from s3rnet.metrics import psnr
from s3rnet.training import (draw_batch, estimate_name, load_config, prepare_data, seeded_model, train,
                             validate_all)

QUICK = os.environ.get("S3RNET_QUICK") == "1"
RECORD = os.environ.get("S3RNET_NOTEBOOK_RECORD")
# Everything this notebook writes (the training run) goes here: a fresh temporary folder unless
# S3RNET_NOTEBOOK_OUT names one. Nothing is written inside the repository.
OUT = Path(os.environ.get("S3RNET_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="s3rnet-nb02-"))
OUT.mkdir(parents=True, exist_ok=True)
# The repository's training configurations (this notebook runs from a clone).
CONFIGS = Path(s3rnet.__file__).resolve().parents[1] / "configs"
recorded = {}


def record(key, value):
    # Keep a number this notebook reports (and write them all to $S3RNET_NOTEBOOK_RECORD if set).
    recorded[key] = value
    if RECORD:
        Path(RECORD).write_text(json.dumps(recorded, indent=2, default=float))


def stretch(image, low=2, high=98):
    # Display only: scale each channel of an (H, W, k) image to 0-255 between two percentiles.
    image = np.asarray(image, dtype=np.float64)
    lo, hi = np.percentile(image, low, axis=(0, 1)), np.percentile(image, high, axis=(0, 1))
    return (255 * np.clip((image - lo) / np.maximum(hi - lo, 1e-12), 0, 1)).astype(np.uint8)


def rgb_bands(wavelengths):
    # Display only: the bands nearest red, green and blue.
    return [int(np.argmin(np.abs(np.asarray(wavelengths) - nm))) for nm in (640, 550, 460)]


def spectrum_line(wavelengths, values):
    # Display only: a spectrum as x, y lists broken (None) across gaps of the grid, such as the
    # water-vapour windows, so that no line is drawn where there are no bands.
    x, y = [], []
    step = np.median(np.diff(wavelengths))
    for i, (w, v) in enumerate(zip(wavelengths, values)):
        if i and w - wavelengths[i - 1] > 1.5 * step:
            x.append(None)
            y.append(None)
        x.append(float(w))
        y.append(float(v))
    return dict(x=x, y=y)


scene = load_scene("indian_pines")
print(f"quick mode: {QUICK}; output folder: {OUT}")
"""),
("md", r"""
## 1. The configuration: sources, grid, validation, split

A training run is defined by one JSON file. `configs/generalise-oli4.json` is the recipe of the
published `lite-oli4` weights (`generalise-oli6.json` the same with the 6-band MSI). Its main keys:

* **`sources`**, a list of weighted sources of ground-truth patches. Here a stream of
  **synthetic** AVIRIS-like scenes (weight 3: a new seeded scene for every batch, in radiance or in
  reflectance, with water, shadow and sensor artefacts; notebook 1 shows how one is made) and the
  **train region of Indian Pines** (weight 1). The weights are the shares of the patches.
* **`grid`: `"aviris-172"`**, the 172 bands from 405 to 2395 nm outside the water-vapour windows.
  Every patch is brought onto it (real scenes are resampled, synthetic ones are made on it), so the
  network's bands are the grid's, not Indian Pines' 200: a checkpoint on this grid runs on any
  VNIR-SWIR scene that covers it (AVIRIS, EnMAP, Hyperion), its missing bands filled within stated
  limits and left out of the scores.
* **the validation set**, on which the best weights are chosen: the **val region** of Indian Pines
  and, with `"val_synthetic": true`, the fixed **synthetic validation seeds** declared in
  `s3rnet/data/splits/synthetic/seeds.json`, each simulated clean and at 15 dB (`val_snr_db`). The
  selection score is the mean of the two sets' PSNRs, so the real region counts as much as all the
  synthetic scenes together. The **test** region and the synthetic **test** seeds are never used
  for training or selection: they are only for reporting, which is what makes their numbers honest.
* the noise (`noise_snr_db`, `clean_fraction`), the skip (`"skip": "hysime-mtf"`) and the loss
  (`"loss": "band-balanced"`), explained in sections 2 and 6.
"""),
("code", r"""
full_config = load_config(CONFIGS / "generalise-oli4.json")
if QUICK:
    # Same recipe, much shorter: 30 steps on 32 x 32 patches, validated twice and at 15 dB only
    # (the same Indian Pines val region and synthetic val seeds, half the validation problems).
    config = full_config.replace(steps=30, patch_size=32, val_every=15, checkpoint_every=15, val_snr_db=15)
else:
    config = full_config
display(pd.DataFrame({"published recipe": full_config.to_dict(), "this notebook": config.to_dict()})
        .astype(str))

data = prepare_data(config)
print(f"training grid: {data.grid.name}, {data.grid.bands} bands, "
      f"{data.grid.centres.min():.0f}-{data.grid.centres.max():.0f} nm")
display(pd.DataFrame(data.sampler.describe()).style.format({"share": "{:.2f}"}))

synthetic_split = load_synthetic_split()
print("synthetic seeds: training draws in", synthetic_split.train_seeds, "| validation:",
      synthetic_split.val_seeds, "| test (never used for selection):", synthetic_split.test_seeds)
display(pd.DataFrame([{"validation set": p.set, "problem": p.name} for p in data.problems]))
"""),
("md", r"""
The real scene is cut into three rectangles declared in a versioned file: the network learns on
**train**, the best weights are chosen on **val** (with the synthetic val scenes), and **test** is
only used to report results.
"""),
("code", r"""
split = load_split(config.scene)
split_fig = go.Figure(go.Image(z=stretch(scene.cube[..., rgb_bands(scene.wavelengths)])))
for name, colour in (("train", "#2ca02c"), ("val", "#ff7f0e"), ("test", "#d62728")):
    (r0, r1), (c0, c1) = split.region(name)
    split_fig.add_shape(type="rect", x0=c0 - 0.5, x1=c1 - 0.5, y0=r0 - 0.5, y1=r1 - 0.5,
                        line=dict(color=colour, width=3))
    split_fig.add_annotation(x=(c0 + c1) / 2, y=(r0 + r1) / 2, text=name, showarrow=False,
                             font=dict(color="white", size=18))
split_fig.update_layout(height=380, width=420, margin=dict(t=10, b=10, l=10, r=10))
split_fig.show()
"""),
("md", r"""
### Adding your own scenes

A researcher with a folder of scenes (for example the paper's 1,678 AVIRIS tiles) adds one source
to the list; nothing else changes:

```json
"sources": [
  {"kind": "synthetic", "weight": 3, "size": 96, "units": ["radiance", "reflectance"], "artefacts": true},
  {"kind": "region", "scene": "indian_pines", "region": "train", "weight": 1},
  {"kind": "folder", "path": "/data/aviris_tiles", "weight": 2, "recursive": true}
]
```

A folder source takes `path` (a folder), `weight` (default 1) and `recursive` (default `true`:
subfolders too). Every ENVI (`.hdr`), MATLAB `.mat`, `.npy` / `.npz` and GeoTIFF (`.tif`) file in
it is a scene; each patch comes from a random file and a random window of it (ENVI and GeoTIFF
files are read one window at a time, so thousands of tiles never sit in memory), resampled onto
the grid. A file must carry its wavelengths (ENVI header, a `wavelengths` array) unless it is
already on the grid's 172 bands, and be at least `patch_size` pixels on each side; a file that
breaks a rule stops the run with a message naming it. A `region` source takes `scene` and
`region` (any region of the scene's declared split but `test`); a `synthetic` source takes
`size`, `units`, `artefacts`, and `variability` and `variants`, each a value or a `[low, high]`
range drawn per scene (how much the pixels of one material differ; see notebook 1).
"""),
("md", r"""
## 2. One batch from the multi-source sampler

`draw_batch` (the training loop's `sample_batch`, which also says what it drew) draws
`batch_size` problems from the config's sources, from the run's seeded generator. For each: a
source picked by weight, a random square of `patch_size` pixels of it, one of the 8 flips and
quarter turns (a scene has no preferred orientation), a smooth random spectral gain (so that the
network meets many spectral shapes), then the degradation of notebook 1 with white noise on the
LR-HSI at an SNR drawn between 10 and 50 dB (a share `clean_fraction` of the samples stays
noise-free). Each problem is then scaled by statistics of its two inputs only (never of the truth,
which a real user does not have), and the classical estimate the network corrects is computed:
**HySime-MTF**, MTF-GLP-HPM on the LR-HSI projected onto its signal subspace (HySime chooses the
subspace's dimension from the data, so most of the noise, which lies outside it, is dropped).

Each row below is one problem: the truth the network must recover, its two inputs, and the
HySime-MTF estimate it starts from.
"""),
("code", r"""
batch, draws = draw_batch(data.sampler, data.srf, config, np.random.default_rng(config.seed),
                          data.grid.centres)
# (B, C, h, w), (B, M, H, W), (B, C, H, W), (B, C, H, W) in normalised units; the last is the
# classical estimate of the configuration's skip.
lrhsi, hrmsi, truth, estimate = batch
print("LR-HSI", lrhsi.shape, " HR-MSI", hrmsi.shape, " truth", truth.shape, " estimate", estimate.shape)
rows = pd.DataFrame([{
    "source": d.source,
    "LR-HSI SNR drawn (dB)": "clean" if np.isinf(d.snr_db) else f"{d.snr_db:.1f}",
    f"PSNR of the {estimate_name(config.skip)} estimate (dB)": psnr(truth[i].transpose(1, 2, 0),
                                                                    estimate[i].transpose(1, 2, 0)),
} for i, d in enumerate(draws)])
display(rows.style.format(precision=2))
record("batch", [{"source": d.source, "snr_db": d.snr_db} for d in draws])

RGB = rgb_bands(data.grid.centres)
n = lrhsi.shape[0]
titles = ("truth patch", "LR-HSI input", "HR-MSI input (OLI 4-3-2)", f"{estimate_name(config.skip)} estimate")
batch_fig = make_subplots(rows=n, cols=4, vertical_spacing=0.03, horizontal_spacing=0.02,
                          subplot_titles=titles,
                          row_titles=[f"{d.source}, {'clean' if np.isinf(d.snr_db) else f'{d.snr_db:.0f} dB'}"
                                      for d in draws])
for i in range(n):
    batch_fig.add_trace(go.Image(z=stretch(truth[i][RGB].transpose(1, 2, 0))), row=i + 1, col=1)
    batch_fig.add_trace(go.Image(z=stretch(lrhsi[i][RGB].transpose(1, 2, 0)), dx=config.ratio,
                                 dy=config.ratio), row=i + 1, col=2)
    batch_fig.add_trace(go.Image(z=stretch(hrmsi[i][[2, 1, 0]].transpose(1, 2, 0))), row=i + 1, col=3)
    batch_fig.add_trace(go.Image(z=stretch(estimate[i][RGB].transpose(1, 2, 0))), row=i + 1, col=4)
batch_fig.update_xaxes(showticklabels=False)
batch_fig.update_yaxes(showticklabels=False)
batch_fig.update_annotations(font_size=11)
batch_fig.update_layout(height=180 * n, width=820, margin=dict(t=30, b=10, l=10, r=40))
batch_fig.show()
"""),
("md", r"""
One pixel of the noisiest row, as spectra: the truth, the noisy LR-HSI pixel that covers it, and
the HySime-MTF estimate the network starts from.
"""),
("code", r"""
noisiest = int(np.argmin([d.snr_db for d in draws]))
y = x = config.patch_size // 2
wl = data.grid.centres
pixel_fig = go.Figure()
pixel_fig.add_trace(go.Scatter(**spectrum_line(wl, lrhsi[noisiest][:, y // config.ratio, x // config.ratio]),
                               name="LR-HSI (noisy input)", line=dict(color="#bbbbbb")))
pixel_fig.add_trace(go.Scatter(**spectrum_line(wl, estimate[noisiest][:, y, x]),
                               name=f"{estimate_name(config.skip)} estimate", line=dict(color="#1f77b4")))
pixel_fig.add_trace(go.Scatter(**spectrum_line(wl, truth[noisiest][:, y, x]), name="truth",
                               line=dict(color="black", dash="dot")))
snr_text = "clean" if np.isinf(draws[noisiest].snr_db) else f"{draws[noisiest].snr_db:.1f} dB"
pixel_fig.update_layout(height=320, xaxis_title="wavelength (nm)", yaxis_title="normalised value",
                        title=f"row {noisiest + 1} ({draws[noisiest].source}, {snr_text}), pixel ({y}, {x})",
                        margin=dict(t=40, b=40, l=40, r=10))
pixel_fig.show()

brightness = np.abs(truth).mean(axis=(0, 2, 3))
print(f"in this batch the brightest band of the truth is {brightness.max() / brightness.min():.0f} times "
      f"as bright as the darkest ({wl[np.argmax(brightness)]:.0f} nm vs {wl[np.argmin(brightness)]:.0f} nm)")
record("band_brightness_ratio", float(brightness.max() / brightness.min()))
"""),
("md", r"""
## 3. A short training run, watched live

The loss is drawn after every step: with `"loss": "band-balanced"`, each band's L1 error divided
by that band's mean brightness in the batch, plus 0.1 times the spectral angle (section 6 says
why). Every `val_every` steps the network fuses every validation problem and its selection score
(the mean of the two sets' PSNRs) is added (right axis).

The network adds a correction to the HySime-MTF estimate, and its last layer starts at zero, so
the untrained network returns the estimate itself: its score, computed first, is the bar to
clear (dashed). `train(config, out_dir, callback=f)` calls `f` after every step; here it redraws
the figure. The run directory holds the best and last weights, a log and a resumable state (see
section 7).
"""),
("code", r"""
untrained = seeded_model(config, data.grid.bands, data.srf.shape[0])
skip_alone = validate_all(untrained, data.problems, config.normalisation, torch.device("cpu"),
                          estimate_name(config.skip))

live = go.FigureWidget(make_subplots(specs=[[{"secondary_y": True}]]))
live.add_trace(go.Scatter(x=[], y=[], name="training loss", line=dict(width=1)), secondary_y=False)
live.add_trace(go.Scatter(x=[], y=[], name="validation score", mode="lines+markers"), secondary_y=True)
live.add_trace(go.Scatter(x=[0, config.steps], y=[skip_alone["psnr"]] * 2, mode="lines",
                          name=f"{estimate_name(config.skip)} alone (step 0)",
                          line=dict(dash="dash", color="black")), secondary_y=True)
live.update_layout(height=380, width=900, xaxis_title="step", margin=dict(t=30, b=40, l=40, r=10))
live.update_yaxes(title_text="loss", type="log", secondary_y=False)
live.update_yaxes(title_text="validation PSNR (dB)", secondary_y=True)
status = widgets.HTML()
display(widgets.VBox([status, live]))

run_dir = OUT / "train-lite"
losses, validations = [], []
redraw_every = max(1, config.steps // 200)  # at most ~200 redraws, however long the run


def on_step(info):
    # Called by train() after every step: loss, learning rate, validation (or None), seconds.
    losses.append(info["loss"])
    if info["validation"] is not None:
        validations.append(info["validation"])
    if info["step"] % redraw_every == 0 or info["validation"] is not None:
        with live.batch_update():
            live.data[0].update(x=list(range(1, len(losses) + 1)), y=losses)
            live.data[1].update(x=[v["step"] for v in validations], y=[v["psnr"] for v in validations])
        status.value = f"step {info['step']}/{config.steps}, {info['seconds']:.0f} s"


result = train(config, run_dir, progress=False, callback=on_step)
status.value = (f"{result.step} steps, {result.seconds_per_step:.2f} s per step; best validation score "
                f"{result.best['psnr']:.2f} dB at step {result.best['step']}")
print(status.value)
print("weights:", result.best_checkpoint)
display(pd.DataFrame({
    f"{estimate_name(config.skip)} alone (step 0)": {name: s["psnr"] for name, s in skip_alone["sets"].items()}
    | {"selection score": skip_alone["psnr"]},
    f"best of this run (step {result.best['step']})": {name: s["psnr"] for name, s in result.best["sets"].items()}
    | {"selection score": result.best["psnr"]},
}).style.format(precision=2))
record("skip_alone", skip_alone)
record("train", {"steps": result.step, "best": result.best, "checkpoint": str(result.best_checkpoint)})
"""),
("md", r"""
## 4. Our run against the published checkpoint

Both networks, and the classical methods, on the Indian Pines **test** region (never seen in
training or selection), with the protocol of `python -m s3rnet evaluate`: box PSF, ratio 4, OLI
4-band MSI, clean and with 15 dB of noise on the LR-HSI. The networks work on their checkpoint's
band grid; `run_evaluation` resamples the 200-band scene onto it first and scores every method
there, on the same inputs. The table says on how many bands each row was scored (200: Indian
Pines' own; 172: the `aviris-172` grid), and the line above it what the published checkpoint was
trained on (from its sidecar).
"""),
("code", r"""
print("published checkpoints:", list_checkpoints())
PRETRAINED = "lite-oli4"
sidecar = CheckpointMethod(PRETRAINED, device="cpu").metadata
trained_on = sidecar["training"]
print(f"{PRETRAINED}: {sidecar['bands']} bands ({trained_on.get('grid') or 'the scene grid'}), "
      f"{sidecar['steps']} steps, corrects {sidecar.get('estimate')}, sources "
      f"{[s['source'] for s in trained_on.get('sources') or []] or [trained_on['scene'] + ':' + str(trained_on['region'])]}")

# The classical methods, and the estimate the published network corrects (section 2) among them.
corrected = sidecar.get("estimate") or "gsa"
CLASSICAL = list(dict.fromkeys(["bicubic", "gsa", "mtf-glp-hpm", "hysime-mtf", corrected]))
protocol = dict(split="test", msi=config.msi, psf=config.psf, ratio=config.ratio)
protocol_noisy = dict(protocol, snr_db=15.0, seed=0)
published = run_evaluation(scene, methods=[*CLASSICAL, "s3rnet"], checkpoint=PRETRAINED, **protocol)
published_noisy = run_evaluation(scene, methods=[*CLASSICAL, "s3rnet"], checkpoint=PRETRAINED, **protocol_noisy)
ours = run_evaluation(scene, methods=["s3rnet"], checkpoint=str(result.best_checkpoint), **protocol)
ours_noisy = run_evaluation(scene, methods=["s3rnet"], checkpoint=str(result.best_checkpoint), **protocol_noisy)


def rows_of(clean, noisy, rename):
    return {rename.get(m, m): {"bands scored": len(clean.details[m].psnr_per_band), "PSNR": s["psnr"], "SAM": s["sam"],
                               "ERGAS": s["ergas"], "PSNR at 15 dB": noisy.methods[m]["psnr"],
                               "SAM at 15 dB": noisy.methods[m]["sam"]}
            for m, s in clean.methods.items()}


table = pd.DataFrame(rows_of(published, published_noisy, {"s3rnet": f"s3rnet ({PRETRAINED})"})
                     | rows_of(ours, ours_noisy, {"s3rnet": "s3rnet (this notebook's run)"})).T.astype({"bands scored": int})
display(table.style.format(precision=3, subset=["PSNR", "SAM", "ERGAS", "PSNR at 15 dB", "SAM at 15 dB"]))
record("published", {"checkpoint": PRETRAINED, "protocol": protocol, "methods": published.methods})
record("published_15db", {"checkpoint": PRETRAINED, "protocol": protocol_noisy, "methods": published_noisy.methods})
record("ours", {"checkpoint": str(result.best_checkpoint), "protocol": protocol, "methods": ours.methods})
"""),
("md", r"""
Where do the errors sit? The spectral angle of every pixel (degrees; 0 is a perfect spectrum),
for the classical estimate the published network corrects and for the network itself, on one
colour scale (clean inputs).
"""),
("code", r"""
angles = {corrected: published.details[corrected].sam_map, PRETRAINED: published.details["s3rnet"].sam_map}
top = float(np.nanpercentile(np.concatenate([a.ravel() for a in angles.values()]), 99))
err_fig = make_subplots(rows=2, cols=1, vertical_spacing=0.12,
                        subplot_titles=[f"{name}: spectral angle (deg)" for name in angles])
for row, angle in enumerate(angles.values(), start=1):
    err_fig.add_trace(go.Heatmap(z=angle, zmin=0, zmax=top, colorscale="Magma",
                                 showscale=row == 1), row=row, col=1)
err_fig.update_yaxes(autorange="reversed")
err_fig.update_layout(height=420, margin=dict(t=40, b=20, l=20, r=10))
err_fig.show()
"""),
("md", r"""
## 5. Test-time adaptation (Wald's protocol)

At test time there is no truth, but the scene contains a fusion problem one scale down: blur and
decimate the LR-HSI and the HR-MSI once more by the ratio, and the LR-HSI itself is the answer.
`CheckpointMethod(name, adapt_steps=N)` fine-tunes a copy of the network on that problem for `N`
steps before fusing the scene at full resolution, so that it meets this scene's own spectra and
textures. The assumption is Wald's: what relates the two images does not depend on the scale.
`python -m s3rnet evaluate ... --adapt N` does the same.
"""),
("code", r"""
ADAPT_STEPS = 10 if QUICK else 100  # 100: what the published scores use
adapted = run_evaluation(scene, methods=["s3rnet"], checkpoint=PRETRAINED, adapt_steps=ADAPT_STEPS,
                         **protocol)
before, after = published.methods["s3rnet"], adapted.methods["s3rnet"]
fusion = adapted.extras["s3rnet"]
display(pd.DataFrame({f"{PRETRAINED} as trained": before,
                      f"after {ADAPT_STEPS} adaptation steps": after}).T
        [["psnr", "sam", "rmse", "ergas", "ssim"]].style.format(precision=3))
print(f"adaptation took {fusion.adapt_seconds:.1f} s")
record("adapted", {"checkpoint": PRETRAINED, "adapt_steps": ADAPT_STEPS, "protocol": protocol,
                   "methods": adapted.methods})

# Per-band PSNR on the checkpoint's grid (the bands both evaluations scored).
gain = adapted.details["s3rnet"].psnr_per_band - published.details["s3rnet"].psnr_per_band
grid_wl = published.simulation.wavelengths
order = np.argsort(grid_wl)
tta_fig = go.Figure(go.Bar(x=grid_wl[order], y=gain[order], width=8,  # nm: band centres are ~10 nm apart
                           marker_color=np.where(gain[order] >= 0, "#2ca02c", "#d62728").tolist()))
tta_fig.update_layout(height=320, xaxis_title="wavelength (nm)",
                      yaxis_title="PSNR change per band (dB)", margin=dict(t=20, b=40, l=40, r=10))
tta_fig.show()
"""),
("md", r"""
The bars show which bands the adaptation helped (green) or hurt (red). Adaptation is cheap
here because the reduced problem is tiny (the test region's LR-HSI is 12 x 36 pixels), and it
cannot see anything finer than the LR-HSI's own detail: it tunes the network's spectral
behaviour to the scene more than its spatial sharpening.
"""),
("md", r"""
## 6. Why a network trained on one scene may not transfer, and what the recipe does about it

The earlier published weights learned one 145 x 145 field, the train region of Indian Pines: a
few hundred distinct spectra, in radiance, under one illumination. On other scenes (other
materials, reflectance instead of radiance) they met inputs outside everything they had learned,
and their "correction" made their own GSA estimate worse. The classical methods fit their few
parameters on each scene, so they do not care.

We can try it without a second scene: `run_evaluation(..., spectral_shift=True)` (the CLI's
`--spectral-shift`) multiplies the test region by a fixed smooth spectral gain, rising from
$e^{-1.3}$ at 500 nm to $e^{2.7}$ at 2400 nm, which is about how far a reflectance spectrum is
from a radiance spectrum of the same surface. The spatial content is untouched; only the shape of
every spectrum changes.
"""),
("code", r"""
shifted = run_evaluation(scene, methods=["bicubic", "gsa", "hysime-mtf", "s3rnet"], checkpoint=PRETRAINED,
                         spectral_shift=True, **protocol)
compare = pd.DataFrame({
    "PSNR, test region": {m: published.methods[m]["psnr"] for m in shifted.methods},
    "PSNR, spectrally shifted": {m: s["psnr"] for m, s in shifted.methods.items()},
    "SAM, test region": {m: published.methods[m]["sam"] for m in shifted.methods},
    "SAM, spectrally shifted": {m: s["sam"] for m, s in shifted.methods.items()},
})
display(compare.style.format(precision=2))
record("spectral_shift", {"checkpoint": PRETRAINED, "protocol": protocol, "methods": shifted.methods})
"""),
("md", r"""
Each ingredient of the recipe answers one of these problems:

* **Many sources.** Most patches come from synthetic scenes, each new: thousands of layouts,
  materials from a spectral library, radiance and reflectance, random illumination, water, shadow
  and sensor artefacts. The network cannot memorise one field, so it must learn what relates the
  two inputs to the truth in general. Indian Pines stays in the mix as real data, and a folder of
  your own scenes can join it (section 1).
* **Noise down to 10 dB.** Real LR-HSIs are noisy, and one SNR for the whole image hides how
  uneven it is: notebook 1 shows that 30 dB per image already leaves the dark bands of Indian
  Pines below 10 dB. A network trained only on mild noise passes heavy noise through; drawing the
  SNR between 10 and 50 dB, with a share of clean samples so that it does not smooth clean inputs
  either, teaches it both.
* **A noise-robust skip.** The network only corrects an estimate (its last layer starts at zero,
  so an unsure network does little harm). If that estimate is GSA of the noisy LR-HSI, it carries
  all the noise, and the network must learn to remove it, slowly. HySime-MTF first projects the
  LR-HSI onto its signal subspace, which drops most of the noise (section 2's spectra, and the 15
  dB columns of section 4), so the network starts from a denoised estimate and spends its capacity
  on the detail.
* **The band-balanced loss.** PSNR, as every table here scores it, is averaged over bands with each
  band's own peak, so a dark band counts as much as a bright one. A plain L1 loss weighs each band
  by its brightness (section 2 measured the spread in one batch) and neglects the dark bands that
  the score counts fully; dividing each band's error by its brightness makes the loss weigh what is
  scored.
* As before: **strong spectral augmentation** (`"spectral_gain"`), normalisation by statistics of
  the inputs only, selection on validation data only (scores on unseen data peak early, then fall
  as a network memorises), and test-time adaptation on the new scene (section 5).

`configs/ablation/` holds runs that each change one thing; `python -m s3rnet report` measures
them. Its table is shown below when `docs/results.json` has one.
"""),
("code", r"""
results_file = CONFIGS.parent / "docs" / "results.json"
ablation = json.loads(results_file.read_text()).get("ablation") if results_file.is_file() else None
if ablation:
    display(pd.DataFrame({
        label: {"skip": row["training"]["skip"], "spectral gain": row["training"]["spectral_gain"],
                "steps": row["training"]["steps"], "PSNR, test region": row["test"]["psnr"],
                "PSNR, spectrally shifted": row["shifted"]["psnr"],
                "SAM, spectrally shifted": row["shifted"]["sam"]}
        for label, row in ablation.items()
    }).T)
else:
    print("no ablation table yet: `python -m s3rnet report --ablation LABEL=CHECKPOINT ...` writes it")
"""),
("md", r"""
## 7. The full training, from the command line

The notebook called the same function as the command line. To train the published configuration
(from the repository root; the output folder `runs/` is ignored by git):

```bash
python -m s3rnet train --config configs/generalise-oli4.json --out runs/generalise-oli4
python -m s3rnet train --config configs/generalise-oli4.json --out runs/generalise-oli4 --resume   # after an interruption
```

The published weights were trained in three stages, each starting from the previous stage's best
weights (`"init"`) with a better skip:

1. `configs/generalise-oli4.json`: 4,000 steps correcting HySime-MTF;
2. `configs/generalise-oli4-wiener.json` (`"init": "runs/generalise-oli4/best.safetensors"`):
   7,000 steps correcting **HySime-Wiener-MTF**, HySime-MTF plus, band by band, the part of the
   LR-HSI the subspace drops, kept by a Wiener gain that is near 1 where that part is signal (clean
   inputs) and 0 where it is noise;
3. `configs/generalise-oli4-hybrid.json`: 5,000 steps correcting **HySime-Wiener-Hybrid**, which
   takes GSA's additive detail instead of MTF-GLP-HPM's modulation in the bands the MSI covers, as
   far as the Wiener gain says the band is noisy.

`"init"` takes any model checkpoint of the same network, a published name too, so you can
fine-tune `lite-oli4` on a folder of your own scenes:

```bash
python -m s3rnet train --config configs/generalise-oli4-wiener.json --out runs/generalise-oli4-wiener
python -m s3rnet train --config configs/generalise-oli4-hybrid.json --out runs/generalise-oli4-hybrid
```

On a machine with a CUDA GPU it is used automatically (`--device cuda` to insist, `--device cpu` to
refuse it); the GPU runs in bf16 autocast, the CPU in float32. The paper-size network needs a GPU:
`configs/paper-oli4.json` (26.8 M parameters, 128 x 128 patches as the authors).

On several GPUs, PyTorch's own launcher starts one process per GPU (distributed data parallel):

```bash
torchrun --standalone --nproc_per_node=4 -m s3rnet train --config configs/generalise-oli4.json --out runs/generalise-oli4-ddp
```

Then score the result on the test region, with or without test-time adaptation:

```bash
python -m s3rnet evaluate --split test --msi oli4 --methods all \
    --checkpoint runs/generalise-oli4/best.safetensors --json result.json
python -m s3rnet evaluate --split test --msi oli4 --snr-db 15 --methods hysime-wiener-hybrid,s3rnet --checkpoint lite-oli4
python -m s3rnet evaluate --split test --msi oli4 --methods s3rnet --checkpoint lite-oli4 --adapt 100
```
"""),
("md", r"""
## Exercises

1. Why does the dashed line of section 3 equal the network's score before training, and not
   near zero?

<details><summary>Answer</summary>

The configuration has a global skip (`"skip": "hysime-mtf"`): the network's output is added to
the HySime-MTF fusion of the same inputs, and its last layer starts at zero. The untrained network
therefore returns exactly the HySime-MTF estimate; training only has to learn a correction, and
the dashed line is the score it must beat.
</details>

2. In quick mode our run is far worse than the published checkpoint. Name two reasons.

<details><summary>Answer</summary>

It took a few dozen steps instead of the configuration's thousands, on smaller patches (32 instead
of 48 pixels, so less context per example), and the cosine schedule annealed the learning rate to
zero within those few steps; it saw a few dozen synthetic scenes instead of thousands. Its
selection used the val problems at 15 dB only.
</details>

3. Why are the synthetic validation and test scenes named by fixed seeds outside the training
   range, rather than drawn like the training scenes?

<details><summary>Answer</summary>

So that no validation or test scene is ever trained on, and so that every run is selected and
reported on the same scenes: a score on scenes the network has seen measures memorisation, and a
score on scenes that change from run to run cannot be compared.
</details>

4. Test-time adaptation uses the LR-HSI as the target. What would go wrong if we adapted on the
   full-resolution problem with the ground truth instead?

<details><summary>Answer</summary>

That is cheating: a real user has no ground truth, and the score would measure memorisation of the
test region, not fusion. Wald's protocol only uses the two inputs, so it is allowed at test time.
</details>

5. Run section 3 twice. Are the losses identical? Why?

<details><summary>Answer</summary>

Yes on a CPU: the initial weights come from the seed, every random draw (sources, synthetic scene
seeds, patch positions, flips, gains, SNRs, noise) from one generator seeded with it, and the CPU
computes in float32 deterministically. Each run writes to a new temporary folder, so nothing
carries over.
</details>
"""),
("md", r"""
## Tidying up

The training runs of this notebook went to a temporary folder; this removes it (set
`S3RNET_NOTEBOOK_OUT` to a folder of your choice before starting JupyterLab to keep them).
"""),
("code", r"""
if not os.environ.get("S3RNET_NOTEBOOK_OUT"):
    shutil.rmtree(OUT, ignore_errors=True)
    print(f"removed {OUT}")
"""),
]
