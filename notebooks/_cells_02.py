"""Cells of 02_training.ipynb (see build_notebooks.py)."""

CELLS = [
("md", r"""
# 2. Training S3RNet, and adapting it to a scene

A network learns to fuse by seeing many examples of the problem whose answer is known. We have
one real scene, so examples are **simulated on the fly**: cut a patch of the scene, degrade it
exactly as in notebook 1 (PSF, decimation, MSI response, noise), and ask the network to recover
the patch. This notebook:

1. looks at the training configuration and the spatial split of the scene;
2. draws a batch from the patch sampler, with its augmentations;
3. trains the CPU preset (`lite`) for a short while, with a live loss and validation plot;
4. compares the result with the published checkpoint and the classical methods;
5. adapts the published network to the test scene (test-time adaptation, Wald's protocol);
6. explains why a network trained on one scene may not work on another;
7. shows how to run the full training from the command line, on a GPU, and on several GPUs.

**Quick mode** (`S3RNET_QUICK=1`, what CI runs): a few dozen training steps on small patches and
a short adaptation, a couple of minutes on two CPU cores. That is enough to see every piece work,
not to train a good network: the network of section 3 will be poor, and the published checkpoint
is what section 4 measures. With `S3RNET_QUICK` unset the notebook runs the whole training
configuration (tens of minutes on two CPU cores, a few minutes on a GPU, which is used
automatically when present).
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
from IPython.display import Markdown, display
from plotly.subplots import make_subplots

import s3rnet
from s3rnet.data import load_scene, load_split
from s3rnet.evaluation import evaluation_region, run_evaluation
from s3rnet.inference import list_checkpoints
from s3rnet.metrics import psnr_per_band, sam_map
from s3rnet.training import load_config, prepare_data, sample_batch, train

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


scene = load_scene("indian_pines")
wl = scene.wavelengths
RGB = [int(np.argmin(np.abs(wl - nm))) for nm in (640, 550, 460)]  # bands nearest red, green, blue
print(f"quick mode: {QUICK}; output folder: {OUT}")
"""),
("md", r"""
## 1. The configuration and the split

A training run is defined by one JSON file; `configs/lite-oli4.json` made the published `lite-oli4`
weights. The scene is cut into three rectangles declared in a versioned file: the network learns
on **train**, the best weights are chosen on **val**, and **test** is only used to report results.
Never choosing anything on the test region is what makes its numbers honest.
"""),
("code", r"""
full_config = load_config(CONFIGS / "lite-oli4.json")
if QUICK:
    # Same recipe, much shorter: 30 steps on 32 x 32 patches, validated every 10 steps.
    config = full_config.replace(steps=30, patch_size=32, val_every=10, checkpoint_every=10)
else:
    config = full_config
display(pd.DataFrame({"published run": full_config.to_dict(), "this notebook": config.to_dict()})
        .astype(str))

split = load_split(config.scene)
split_fig = go.Figure(go.Image(z=stretch(scene.cube[..., RGB])))
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
## 2. The patch sampler and its augmentations

`sample_batch` draws `batch_size` problems. For each: a random square of `patch_size` pixels in
the training region, one of the 8 flips and quarter turns (the scene has no preferred
orientation, so the network should not learn one), optionally a smooth random spectral gain
(so that it meets spectra other than this field's), then the degradation of notebook 1 with
noise at an SNR drawn in `noise_snr_db`. Each problem is then scaled by statistics of its two
inputs only (never of the truth, which a real user does not have). Each row below is one
problem: the truth the network must recover, and the two inputs it gets.
"""),
("code", r"""
data = prepare_data(config)
batch = sample_batch(data.train.cube, data.srf, config, np.random.default_rng(config.seed),
                     wavelengths=data.train.wavelengths)
# (B, C, h, w), (B, M, H, W), (B, C, H, W) in normalised units; then the classical estimate the
# network corrects, when the configuration's skip names one.
lrhsi, hrmsi, truth = batch[:3]
print("LR-HSI", lrhsi.shape, " HR-MSI", hrmsi.shape, " truth", truth.shape)
n = lrhsi.shape[0]
batch_fig = make_subplots(rows=n, cols=3, vertical_spacing=0.02, horizontal_spacing=0.02,
                          subplot_titles=("truth patch", "LR-HSI input", "HR-MSI input (OLI 4-3-2)"))
for i in range(n):
    batch_fig.add_trace(go.Image(z=stretch(truth[i][RGB].transpose(1, 2, 0))), row=i + 1, col=1)
    batch_fig.add_trace(go.Image(z=stretch(lrhsi[i][RGB].transpose(1, 2, 0)), dx=config.ratio,
                                 dy=config.ratio), row=i + 1, col=2)
    batch_fig.add_trace(go.Image(z=stretch(hrmsi[i][[2, 1, 0]].transpose(1, 2, 0))), row=i + 1, col=3)
batch_fig.update_xaxes(showticklabels=False)
batch_fig.update_yaxes(showticklabels=False)
batch_fig.update_layout(height=190 * n, width=560, margin=dict(t=30, b=10, l=10, r=10))
batch_fig.show()
"""),
("md", r"""
## 3. A short training run, watched live

The loss (L1 plus 0.1 times the spectral angle, on normalised values) is drawn after every step;
every `val_every` steps the network fuses the whole validation region and its PSNR is added
(right axis). The dashed lines are the classical methods on the same validation problem, the bar
to clear. `train(config, out_dir, callback=f)` calls `f` after every step; here it redraws the
figure. The run directory holds the best and last weights, a log and a resumable state (see
section 7).
"""),
("code", r"""
val_snr = float("inf") if config.val_snr_db is None else config.val_snr_db
reference = run_evaluation(scene, split=config.val_region, methods=["bicubic", "gsa"], msi=config.msi,
                           psf=config.psf, ratio=config.ratio, snr_db=val_snr, seed=config.val_seed)

live = go.FigureWidget(make_subplots(specs=[[{"secondary_y": True}]]))
live.add_trace(go.Scatter(x=[], y=[], name="training loss", line=dict(width=1)), secondary_y=False)
live.add_trace(go.Scatter(x=[], y=[], name="validation PSNR", mode="lines+markers"), secondary_y=True)
for name, colour in (("bicubic", "grey"), ("gsa", "black")):
    level = reference.methods[name]["psnr"]
    live.add_trace(go.Scatter(x=[0, config.steps], y=[level, level], mode="lines", name=f"{name} (val)",
                              line=dict(dash="dash", color=colour)), secondary_y=True)
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
status.value = (f"{result.step} steps, {result.seconds_per_step:.2f} s per step; best validation PSNR "
                f"{result.best['psnr']:.2f} dB at step {result.best['step']}")
print(status.value)
print("weights:", result.best_checkpoint)
record("train", {"steps": result.step, "best": result.best, "checkpoint": str(result.best_checkpoint)})
"""),
("md", r"""
## 4. Our run against the published checkpoint

Both networks, and the classical methods, on the **test** region (never seen in training or
selection), with the protocol of `python -m s3rnet evaluate`: box PSF, ratio 4, OLI 4-band MSI,
no noise. The published `lite-oli4` was trained with the full configuration.
"""),
("code", r"""
print("published checkpoints:", list_checkpoints())
PRETRAINED = "lite-oli4"
protocol = dict(split="test", msi=config.msi, psf=config.psf, ratio=config.ratio)
published = run_evaluation(scene, methods=["bicubic", "gsa", "mtf-glp-hpm", "s3rnet"],
                           checkpoint=PRETRAINED, **protocol)
ours = run_evaluation(scene, methods=["s3rnet"], checkpoint=str(result.best_checkpoint), **protocol)
rows = dict(published.methods)
rows[f"s3rnet ({PRETRAINED})"] = rows.pop("s3rnet")
rows["s3rnet (this notebook's run)"] = ours.methods["s3rnet"]
table = pd.DataFrame(rows).T[["psnr", "sam", "rmse", "ergas", "ssim", "seconds"]]
display(table.style.format(precision=3))
record("published", {"checkpoint": PRETRAINED, "protocol": protocol, "methods": published.methods})
record("ours", {"checkpoint": str(result.best_checkpoint), "protocol": protocol,
                "methods": ours.methods})
"""),
("md", r"""
Where do the errors sit? The spectral angle of every pixel (degrees; 0 is a perfect spectrum),
for GSA and the published network, on one colour scale.
"""),
("code", r"""
truth_test = evaluation_region(scene, "test", config.ratio).cube
angles = {name: sam_map(truth_test, published.outputs[name]) for name in ("gsa", "s3rnet")}
top = float(np.percentile(np.concatenate([a.ravel() for a in angles.values()]), 99))
err_fig = make_subplots(rows=2, cols=1, vertical_spacing=0.12,
                        subplot_titles=("GSA: spectral angle (deg)", f"{PRETRAINED}: spectral angle (deg)"))
for row, (name, angle) in enumerate(angles.items(), start=1):
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

gain = psnr_per_band(truth_test, adapted.outputs["s3rnet"]) - psnr_per_band(truth_test, published.outputs["s3rnet"])
order = np.argsort(wl)
tta_fig = go.Figure(go.Bar(x=wl[order], y=gain[order], width=8,  # nm: some band centres are ~1 nm apart
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
## 6. Why a network trained on one scene may not transfer

A network trained on the fields of Indian Pines has seen a few hundred distinct spectra, in
radiance, under one illumination. Another scene (other materials, reflectance instead of
radiance, another season) brings inputs outside everything it learned, and a plain network can
then fail badly, below simple bicubic upsampling. The classical methods fit their few parameters
on each scene, so they do not care.

We can try it without a second scene: `run_evaluation(..., spectral_shift=True)` (the CLI's
`--spectral-shift`) multiplies the test region by a fixed smooth spectral gain, rising from
$e^{-1.3}$ at 500 nm to $e^{2.7}$ at 2400 nm, which is about how far a reflectance spectrum is
from a radiance spectrum of the same surface. The spatial content is untouched; only the shape of
every spectrum changes.
"""),
("code", r"""
shifted = run_evaluation(scene, methods=["bicubic", "gsa", "s3rnet"], checkpoint=PRETRAINED,
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
The published configuration already carries the remedies that an ablation of ours found
necessary (`configs/ablation/` holds its runs, `docs/results.md` the measured table, shown below
when `docs/results.json` exists; `python -m s3rnet report` writes both):

* a **global skip**: the network only corrects an estimate (`"skip": "gsa"`: the GSA fusion,
  with the last layer starting at zero), so an unsure network does little harm;
* **strong spectral augmentation** (`"spectral_gain"`): every training patch is multiplied by a
  random smooth gain, so that the network meets many spectral shapes;
* normalisation by statistics of the inputs only, and selection of the weights on a validation
  region (scores on unseen data peak early, then fall as the network memorises its one scene);
* test-time adaptation on the new scene (section 5).
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
python -m s3rnet train --config configs/lite-oli4.json --out runs/lite-oli4
python -m s3rnet train --config configs/lite-oli4.json --out runs/lite-oli4 --resume   # after an interruption
```

On a machine with a CUDA GPU it is used automatically (`--device cuda` to insist, `--device cpu` to
refuse it); the GPU runs in bf16 autocast, the CPU in float32. The paper-size network needs a GPU:
write a config with `"preset": "paper"` (26.8 M parameters).

On several GPUs, PyTorch's own launcher starts one process per GPU (distributed data parallel):

```bash
torchrun --standalone --nproc_per_node=4 -m s3rnet train --config configs/lite-oli4.json --out runs/lite-oli4-ddp
```

Then score the result on the test region, with or without test-time adaptation:

```bash
python -m s3rnet evaluate --split test --msi oli4 --methods bicubic,gsa,s3rnet \
    --checkpoint runs/lite-oli4/best.safetensors --json result.json
python -m s3rnet evaluate --split test --msi oli4 --methods s3rnet --checkpoint lite-oli4 --adapt 100
```
"""),
("md", r"""
## Exercises

1. Why does the validation PSNR start at GSA's, and not near zero?

<details><summary>Answer</summary>

The configuration has a global skip (`"skip": "gsa"`): the network's output is added to the GSA
fusion of the same inputs, and its last layer starts at zero. The untrained network therefore
returns exactly the GSA estimate; training only has to learn a correction.
</details>

2. In quick mode our run is far worse than the published checkpoint. Name two reasons.

<details><summary>Answer</summary>

It took a few dozen steps instead of the configuration's full count, on smaller patches (32
instead of 48 pixels, so less context per example), and the cosine schedule annealed the learning
rate to zero within those few steps. The published weights saw over a thousand batches.
</details>

3. Test-time adaptation uses the LR-HSI as the target. What would go wrong if we adapted on the
   full-resolution problem with the ground truth instead?

<details><summary>Answer</summary>

That is cheating: a real user has no ground truth, and the score would measure memorisation of the
test region, not fusion. Wald's protocol only uses the two inputs, so it is allowed at test time.
</details>

4. Run section 3 twice. Are the losses identical? Why?

<details><summary>Answer</summary>

Yes on a CPU: the initial weights come from the seed, every random draw (patch positions, flips,
SNRs, noise) from one generator seeded with it, and the CPU computes in float32 deterministically.
Each run writes to a new temporary folder, so nothing carries over.
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
