"""Training: config checks, batches, loss, learning, checkpoints of a run, and exact resume."""

from __future__ import annotations

import csv
import json
import math
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from s3rnet.checkpoints import CheckpointError, check_compatible, load_checkpoint
from s3rnet.errors import ConfigError
from s3rnet.inference import resolve_device
from s3rnet.training import (
    FolderSource,
    TrainConfig,
    TrainingError,
    degrade_patch,
    load_config,
    prepare_data,
    sample_batch,
    seeded_model,
    spectral_angle,
    train,
    validate,
    validate_all,
)

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "configs" / "smoke.json"


@pytest.fixture(scope="module")
def smoke() -> TrainConfig:
    return load_config(SMOKE)


def write_config(tmp_path, **changes) -> Path:
    data = json.loads(SMOKE.read_text()) | changes
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return path


def log_rows(out_dir: Path) -> list[dict[str, str]]:
    with (out_dir / "log.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def assert_same_weights(first: Path, second: Path) -> None:
    a, b = load_file(first), load_file(second)
    assert a.keys() == b.keys()
    for name in a:
        # Bitwise on the CPU in practice; the tolerance is the one the resume contract promises.
        torch.testing.assert_close(a[name], b[name], rtol=0.0, atol=1e-6, msg=name)


# --------------------------------------------------------------------------------------------
# Configs
# --------------------------------------------------------------------------------------------


def test_shipped_configs_load():
    assert load_config(SMOKE).preset == "tiny"
    lite = load_config(ROOT / "configs" / "lite-oli4.json")
    assert (lite.preset, lite.msi, lite.patch_size, lite.batch_size) == ("lite", "oli4", 48, 4)
    assert lite.skip == "gsa" and lite.spectral_gain > 0 and lite.noise_snr_db == (30.0, 50.0)
    # A config from before sources existed trains on its scene's train region, on its bands.
    assert lite.training_sources == ({"kind": "region", "weight": 1.0, "scene": "indian_pines", "region": "train"},)
    assert lite.grid == "scene" and not lite.val_synthetic and lite.clean_fraction == 0
    six = load_config(ROOT / "configs" / "lite-oli6.json")
    assert six.replace(msi="oli4", out_dir=lite.out_dir) == lite
    for recipe in ("paper", "generalise"):
        four, six = (load_config(ROOT / "configs" / f"{recipe}-oli{m}.json") for m in (4, 6))
        assert six.replace(msi="oli4", out_dir=four.out_dir) == four
        assert four.grid == "aviris-172" and four.val_synthetic and four.val_snrs[0] == math.inf
    paper = load_config(ROOT / "configs" / "paper-oli4.json")
    assert (paper.preset, paper.patch_size, paper.batch_size, paper.skip) == ("paper", 128, 4, "none")
    assert (paper.noise_snr_db, paper.noise_reference) == ((35.0, 35.0), "authors")
    for msi in ("oli4", "oli6"):
        # The fine-tuning stage changes the skip, the length and the start of the recipe's run.
        stage = load_config(ROOT / "configs" / f"generalise-{msi}-wiener.json")
        recipe = load_config(ROOT / "configs" / f"generalise-{msi}.json")
        assert (stage.skip, stage.init) == ("hysime-wiener-mtf", f"{recipe.out_dir}/best.safetensors")
        assert stage.replace(skip=recipe.skip, init=None, steps=recipe.steps, out_dir=recipe.out_dir) == recipe
        # The third stage starts from the second's best and changes its skip and length.
        third = load_config(ROOT / "configs" / f"generalise-{msi}-hybrid.json")
        assert (third.skip, third.init) == ("hysime-wiener-hybrid", f"{stage.out_dir}/best.safetensors")
        assert third.replace(skip=stage.skip, init=stage.init, steps=stage.steps, out_dir=stage.out_dir) == stage
        # The unpublished fourth starts from the third's best and weighs the SAM term 10 times more.
        fourth = load_config(ROOT / "configs" / "ablation" / f"stage4-{msi}-sam.json")
        assert (fourth.sam_weight, fourth.init) == (1.0, f"{third.out_dir}/best.safetensors")
        assert fourth.replace(sam_weight=third.sam_weight, init=third.init, steps=third.steps, out_dir=third.out_dir) == third
        # The Sentinel-2 weights start from the third stage of the OLI ones with the same band count.
        sentinel = load_config(ROOT / "configs" / f"generalise-s2-{msi[-1]}.json")
        assert (sentinel.msi, sentinel.init) == (f"s2-{msi[-1]}", f"{third.out_dir}/best.safetensors")
        assert sentinel.replace(msi=msi, init=third.init, steps=third.steps, out_dir=third.out_dir) == third
        # The fifth adds synthetic scenes that favour unmixing; its control keeps the third's sources.
        fifth = load_config(ROOT / "configs" / f"generalise-{msi}-unmixing.json")
        assert fifth.init == f"{third.out_dir}/best.safetensors" and len(fifth.training_sources) == 3
        # The sixth computes the skip on a 96 x 96 square; its control is the same run without.
        sixth = load_config(ROOT / "configs" / f"generalise-{msi}-context.json")
        control = load_config(ROOT / "configs" / "ablation" / f"stage6-{msi}-control.json")
        assert (sixth.estimate_context, sixth.context_size, control.context_size) == (96, 96, sixth.patch_size)
        assert sixth.init == f"{fifth.out_dir}/best.safetensors"
        assert sixth.replace(estimate_context=None, out_dir=control.out_dir) == control
        assert control.replace(steps=fifth.steps, init=fifth.init, out_dir=fifth.out_dir) == fifth
        # The Sentinel-2 runs take the sixth recipe, each from its own earlier run.
        sentinel_sixth = load_config(ROOT / "configs" / f"generalise-s2-{msi[-1]}-context.json")
        assert sentinel_sixth.init == f"{sentinel.out_dir}/best.safetensors"
        assert sentinel_sixth.replace(msi=msi, init=sixth.init, out_dir=sixth.out_dir) == sixth
    # Stage 6 and its control for oli4, repeated with another training seed and nothing else changed.
    for stem, repeat in (("generalise-oli4-context", "stage6-oli4-seed1"), ("ablation/stage6-oli4-control", "stage6-oli4-control-seed1")):
        first = load_config(ROOT / "configs" / f"{stem}.json")
        second = load_config(ROOT / "configs" / "ablation" / f"{repeat}.json")
        assert (first.seed, second.seed) == (0, 1)
        assert second.replace(seed=first.seed, out_dir=first.out_dir) == first
    # Stage 7 starts from the published weights with their recipes (oli4: the sixth; oli6: the
    # fifth) and changes the loss alone against a control; neither differs from its recipe otherwise.
    for msi, recipe in (("oli4", "generalise-oli4-context"), ("oli6", "generalise-oli6-unmixing")):
        base = load_config(ROOT / "configs" / f"{recipe}.json")
        seventh = load_config(ROOT / "configs" / f"generalise-{msi}-psnr.json")
        control = load_config(ROOT / "configs" / "ablation" / f"stage7-{msi}-control.json")
        assert (seventh.loss, seventh.init, control.loss, control.steps) == ("band-psnr", f"lite-{msi}", "band-balanced", 2500)
        assert seventh.replace(loss=control.loss, sam_weight=control.sam_weight, out_dir=control.out_dir) == control
        assert control.replace(steps=base.steps, init=base.init, out_dir=base.out_dir) == base
    # Its ablation keeps the second stage's skip for the third stage's length.
    same_skip = load_config(ROOT / "configs" / "ablation" / "stage3-oli4-wiener.json")
    third = load_config(ROOT / "configs" / "generalise-oli4-hybrid.json")
    assert same_skip.replace(skip="hysime-wiener-hybrid", out_dir=third.out_dir) == third
    new = load_config(ROOT / "configs" / "generalise-oli4.json")
    assert {s["kind"] for s in new.training_sources} == {"synthetic", "region"}
    assert (new.loss, new.skip, new.noise_snr_db, new.clean_fraction) == ("band-balanced", "hysime-mtf", (10.0, 50.0), 0.2)
    ablation = {path.stem: load_config(path) for path in (ROOT / "configs" / "ablation").glob("*.json")}
    assert {"plain", "bicubic", "gsa", "gsa-gain"} <= set(ablation)
    assert ablation["plain"].skip == "none" and ablation["plain"].spectral_gain == 0
    recipe = {path.stem: load_config(path) for path in (ROOT / "configs" / "ablation" / "generalise").glob("*.json")}
    reference = recipe.pop("recipe")
    assert (reference.skip, reference.loss, reference.training_sources) == (new.skip, new.loss, new.training_sources)
    # Each ablation run changes one thing of the recipe, at the same short budget.
    fields = ("skip", "loss", "noise_snr_db", "training_sources", "steps", "seed", "lr", "clean_fraction")
    for name, config in recipe.items():
        changed = [f for f in fields if getattr(config, f) != getattr(reference, f)]
        assert len(changed) == 1, (name, changed)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"learning_rate": 1e-3}, "unknown key.*'learning_rate'"),
        ({"patch_size": 30}, "'patch_size': 30 is not a multiple of the ratio 4"),
        ({"patch_size": 128}, "'patch_size': 128 does not fit"),
        ({"batch_size": 0}, "'batch_size': must be >= 1"),
        ({"steps": 2.5}, "'steps': expected an integer"),
        ({"lr": 0}, "'lr': the learning rate must be > 0"),
        ({"lr": -1e-4}, "'lr'"),
        ({"preset": "huge"}, "'preset': unknown value 'huge'"),
        ({"msi": "oli5"}, "'msi': unknown value 'oli5'"),
        ({"psf": "airy"}, "'psf': unknown value 'airy'"),
        ({"normalisation": "max"}, "'normalisation'"),
        ({"noise_snr_db": [50, 30]}, "'noise_snr_db': low 50.0 is above high 30.0"),
        ({"noise_snr_db": 35}, "'noise_snr_db': expected null or"),
        ({"msi_noise_snr_db": [40, 20]}, "'msi_noise_snr_db': low 40.0 is above high 20.0"),
        ({"msi_noise_snr_db": "30"}, "'msi_noise_snr_db': expected null or"),
        ({"val_region": "test"}, "'val_region': never train or select models on the test region"),
        ({"train_region": "holdout"}, "no region 'holdout'"),
        ({"skip": "yes"}, "'skip'"),
        ({"loss": "l2"}, "'loss': unknown value 'l2'"),
        ({"noise_reference": "truth"}, "'noise_reference': unknown value 'truth'"),
        ({"attention": "linear"}, "'attention': unknown value 'linear'"),
        ({"grid": "aviris-224"}, "'grid': unknown value 'aviris-224'"),
        ({"clean_fraction": 1.5}, "'clean_fraction': a share between 0 and 1"),
        ({"val_snr_db": []}, "'val_snr_db': an empty list"),
        ({"sources": []}, "'sources': expected a non-empty list"),
        ({"sources": [{"kind": "satellite"}]}, "entry 0: expected an object with \"kind\""),
        ({"sources": [{"kind": "synthetic", "seed": 3}]}, "entry 0: unknown key.*seed"),
        ({"sources": [{"kind": "synthetic", "weight": 0}]}, "entry 0: weight must be > 0"),
        ({"sources": [{"kind": "synthetic", "units": "dn"}]}, "entry 0: units must be among"),
        ({"sources": [{"kind": "synthetic", "variability": [1, 0]}]}, r"entry 0: variability must be .*0 <= low <= high <= 4"),
        ({"sources": [{"kind": "synthetic", "variants": [1, 2.5]}]}, "entry 0: variants must be a whole number"),
        ({"sources": [{"kind": "synthetic", "variants": 7}]}, r"entry 0: variants must .* <= 6, got 7"),
        ({"sources": [{"kind": "region", "region": "test"}]}, "entry 0: never train .* on the test region"),
        ({"sources": [{"kind": "folder", "path": "/no/such/folder"}]}, "entry 0: path '/no/such/folder' is not a folder"),
        ({"sources": [{"kind": "synthetic", "size": 16}], "patch_size": 32}, "synthetic scenes of size 16 are smaller"),
        ({"skip": "gsa", "estimate_context": 8}, "'estimate_context': must be >= 16, got 8"),
        ({"skip": "gsa", "estimate_context": 30}, "'estimate_context': 30 is not a multiple of the ratio 4"),
        ({"estimate_context": 32}, "'estimate_context': only with a classical estimate as the skip, not 'bicubic'"),
        ({"skip": "gsa", "estimate_context": 128}, "'estimate_context': 128 does not fit in the training region"),
        ({"skip": "gsa", "estimate_context": 48, "sources": [{"kind": "synthetic", "size": 32}]},
         "synthetic scenes of size 32 are smaller than the estimate_context 48"),
        ({"init": ""}, "'init': expected a checkpoint name or path"),
        ({"init": 4}, "'init': expected a checkpoint name or path"),
    ],
)
def test_bad_configs_are_refused_naming_the_key(tmp_path, changes, message):
    path = write_config(tmp_path, **changes)
    with pytest.raises(ConfigError, match=message) as error:
        load_config(path)
    assert str(path) in str(error.value)


def test_config_file_problems(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"steps": 4,')
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(broken)


def test_cli_refuses_a_bad_config_before_training(tmp_path):
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "s3rnet", "train", "--config", str(write_config(tmp_path, patch_size=30)), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "'patch_size'" in lines[0]
    assert not out.exists()


def test_cuda_is_refused_without_a_gpu():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        resolve_device("cuda")
    assert resolve_device(None).type == "cpu"


# --------------------------------------------------------------------------------------------
# Batches and loss
# --------------------------------------------------------------------------------------------


def test_batches_are_reproducible_and_normalised_from_the_inputs(smoke):
    data = prepare_data(smoke)
    draw = lambda seed: sample_batch(data.train.cube, data.srf, smoke, np.random.default_rng(seed))  # noqa: E731
    lrhsi, hrmsi, truth = draw(3)
    assert lrhsi.shape == (2, 200, 4, 4) and hrmsi.shape == (2, 4, 16, 16) and truth.shape == (2, 200, 16, 16)
    for a, b in zip((lrhsi, hrmsi, truth), draw(3)):
        assert np.array_equal(a, b)
    assert not np.array_equal(lrhsi, draw(4)[0])
    # "band" normalisation: every band of each input averages 1 in absolute value.
    np.testing.assert_allclose(np.abs(lrhsi).mean(axis=(2, 3)), 1.0, rtol=1e-4)
    np.testing.assert_allclose(np.abs(hrmsi).mean(axis=(2, 3)), 1.0, rtol=1e-4)


def test_spectral_angle_is_finite_for_zero_spectra():
    estimate = torch.zeros(1, 5, 2, 2, requires_grad=True)
    reference = torch.rand(1, 5, 2, 2)
    reference[..., 0, 0] = 0.0
    angle = spectral_angle(estimate, reference)
    angle.backward()
    assert torch.isfinite(angle) and torch.isfinite(estimate.grad).all()
    same = spectral_angle(reference + 1.0, reference + 1.0)
    assert float(same) < 2e-3
    orthogonal = spectral_angle(torch.tensor([1.0, 0.0]).view(1, 2, 1, 1), torch.tensor([0.0, 1.0]).view(1, 2, 1, 1))
    assert float(orthogonal) == pytest.approx(np.pi / 2, rel=1e-5)


# --------------------------------------------------------------------------------------------
# Learning and the files of a run
# --------------------------------------------------------------------------------------------


def test_training_decreases_the_loss_and_improves_validation(smoke, tmp_path):
    config = smoke.replace(steps=40, val_every=40, checkpoint_every=40, noise_snr_db=None, skip="none")
    data = prepare_data(config)
    untrained = validate(seeded_model(config, 200, 4), data.validation, config.normalisation, torch.device("cpu"))
    result = train(config, tmp_path, progress=False)
    losses = np.array(result.losses)
    assert result.finished and losses.size == 40
    assert losses[-8:].mean() < 0.7 * losses[:8].mean()
    assert result.best["psnr"] > untrained["psnr"] + 1.0


def test_the_authors_recipe_trains_and_is_recorded(smoke, tmp_path):
    """Their loss, their SNR convention at 35 dB, their attention, min-max inputs: it learns, and
    the checkpoint says so and runs on the min-max normalisation it was trained with."""
    config = smoke.replace(
        steps=30, val_every=30, checkpoint_every=30, skip="none", loss="authors", noise_snr_db=(35, 35),
        noise_reference="authors", normalisation="minmax", attention="authors",
    )
    result = train(config, tmp_path, progress=False)
    losses = np.array(result.losses)
    assert losses[-6:].mean() < 0.8 * losses[:6].mean()
    model, metadata = load_checkpoint(tmp_path / "last.safetensors")
    assert model.config.attention == "authors" and metadata["normalisation"] == "minmax"
    recorded = metadata["training"]["config"]
    assert (recorded["loss"], recorded["noise_reference"]) == ("authors", "authors")
    assert metadata["architecture_version"] == 2


@pytest.fixture(scope="module")
def uninterrupted(smoke, tmp_path_factory):
    """Six steps of the smoke config with a state every 2 steps and a validation every 3."""
    config = smoke.replace(steps=6, checkpoint_every=2, val_every=3)
    out = tmp_path_factory.mktemp("uninterrupted")
    return config, train(config, out, progress=False)


def test_a_run_writes_its_files_and_checkpoints(uninterrupted):
    config, result = uninterrupted
    out = result.out_dir
    assert {p.name for p in out.iterdir()} == {
        "config.json", "log.csv", "state.safetensors", "state.json",
        "best.safetensors", "best.json", "last.safetensors", "last.json",
    }
    rows = log_rows(out)
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r["val_psnr"] != "" for r in rows] == [False, False, True, False, False, True]
    assert float(rows[0]["lr"]) == config.lr and float(rows[-1]["lr"]) < config.lr
    model, metadata = load_checkpoint(result.last_checkpoint)
    assert metadata["steps"] == 6 and metadata["validation"]["step"] == 6
    assert metadata["training"]["region"] == "train" and metadata["training"]["split_version"] == 1
    assert metadata["normalisation"] == "band" and metadata["psf"] == "box"
    check_compatible(metadata, 200, "oli4", ratio=4)
    _, best = load_checkpoint(result.best_checkpoint)
    assert best["validation"] == result.best
    with pytest.raises(CheckpointError, match="not a model checkpoint"):
        load_checkpoint(out / "state.safetensors")


def test_resume_in_process_matches_the_uninterrupted_run(uninterrupted, tmp_path):
    config, full = uninterrupted
    first = train(config, tmp_path, progress=False, max_steps_this_run=4)
    assert (first.step, first.finished, first.last_checkpoint) == (4, False, None)
    second = train(config, tmp_path, resume=True, progress=False)
    assert (second.first_step, second.step, second.finished) == (4, 6, True)
    assert first.losses + second.losses == full.losses
    assert_same_weights(second.last_checkpoint, full.last_checkpoint)
    assert_same_weights(tmp_path / "state.safetensors", full.out_dir / "state.safetensors")
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(log_rows(tmp_path)) == strip(log_rows(full.out_dir))


def test_resume_refusals(uninterrupted, tmp_path):
    config, full = uninterrupted
    with pytest.raises(CheckpointError, match="no training state"):
        train(config, tmp_path, resume=True, progress=False)
    with pytest.raises(TrainingError, match="already holds a training run"):
        train(config, full.out_dir, progress=False)
    with pytest.raises(ConfigError, match="steps: 6 then, 8 now"):
        train(config.replace(steps=8), full.out_dir, resume=True, progress=False)
    old = tmp_path / "old"
    shutil.copytree(full.out_dir, old)
    state = json.loads((old / "state.json").read_text())
    del state["architecture_version"]  # a run started before the V/Z fix
    (old / "state.json").write_text(json.dumps(state))
    with pytest.raises(CheckpointError, match="V and Z branches had their inputs swapped"):
        train(config, old, resume=True, progress=False)


# --------------------------------------------------------------------------------------------
# A real kill
# --------------------------------------------------------------------------------------------


def cli_train(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "s3rnet", "train", "--config", str(SMOKE), "--out", str(out), *extra]


def saved_step(out: Path) -> int:
    try:
        return json.loads((out / "state.json").read_text())["step"]
    except FileNotFoundError:
        return 0


def logged_steps(out: Path) -> int:
    try:
        return len((out / "log.csv").read_text().splitlines()) - 1
    except FileNotFoundError:
        return 0


def test_sigkill_then_resume_ends_with_the_weights_of_an_uninterrupted_run(smoke, tmp_path):
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    process = subprocess.Popen(cli_train(killed), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Kill once steps after the saved state are logged, so the resumed run must drop them.
        deadline = time.monotonic() + 120
        while not logged_steps(killed) > saved_step(killed) >= smoke.checkpoint_every and process.poll() is None:
            assert time.monotonic() < deadline, "no training state appeared"
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    k = saved_step(killed)
    assert 0 < k < smoke.steps and process.returncode == -signal.SIGKILL, "the run ended before it was killed"
    assert k % smoke.checkpoint_every == 0
    assert not (killed / "last.safetensors").exists()

    resumed = subprocess.run(cli_train(killed, "--resume"), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    straight = subprocess.run(cli_train(reference), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert straight.returncode == 0, straight.stderr

    assert_same_weights(killed / "last.safetensors", reference / "last.safetensors")
    rows, expected = log_rows(killed), log_rows(reference)
    assert [int(r["step"]) for r in rows] == list(range(1, smoke.steps + 1))
    assert [r["loss"] for r in rows] == [r["loss"] for r in expected]
    assert not list(killed.glob(".*.tmp"))


# --------------------------------------------------------------------------------------------
# Many sources on one grid, the recipe switches
# --------------------------------------------------------------------------------------------


def write_folder(folder: Path) -> Path:
    """Three of the user's own scenes: an .npz with wavelengths (Indian Pines bands), an ENVI
    file and a GeoTIFF, cut from the Indian Pines train region (never its val or test pixels)."""
    from spectral.io import envi

    from s3rnet.data import load_scene, split_region
    from s3rnet.geo import write_image

    region = split_region(load_scene("indian_pines"), "train")
    folder.mkdir()
    np.savez(folder / "tile_a.npz", cube=region.cube[:40, :40], wavelengths=region.wavelengths, fwhm=region.fwhm)
    envi.save_image(
        str(folder / "tile_b.hdr"), region.cube[40:80, 40:90], dtype=np.float32,
        metadata={"wavelength": region.wavelengths.tolist(), "fwhm": region.fwhm.tolist()},
    )
    write_image(folder / "tile_c.tif", region.cube[50:96, :36], wavelengths=region.wavelengths, fwhm=region.fwhm)
    return folder


def test_a_synthetic_source_draws_variability_and_variants_in_its_ranges(smoke):
    config = smoke.replace(
        sources=[{"kind": "synthetic", "size": 32, "variability": [0, 0.5], "variants": [1, 3]}], grid="aviris-172",
    )
    source = prepare_data(config).sampler.sources[0]
    drawn = [source.scene(np.random.default_rng(k)).meta for k in range(12)]
    assert all(0 <= m["variability"] <= 0.5 for m in drawn) and len({m["variability"] for m in drawn}) == 12
    assert {m["variants"] for m in drawn} == {1, 2, 3}
    # The same generator state gives the same scene, options included.
    again = source.scene(np.random.default_rng(4))
    assert again.name == source.scene(np.random.default_rng(4)).name and "variants=" in again.name


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # a bare tile, as users have
def test_every_source_lands_on_the_training_grid_and_draws_are_reproducible(smoke, tmp_path):
    from s3rnet.data.synthetic_split import load_synthetic_split

    folder = write_folder(tmp_path / "mine")
    config = smoke.replace(
        sources=[{"kind": "synthetic", "size": 32, "units": ["radiance", "reflectance"]},
                 {"kind": "region", "weight": 2}, {"kind": "folder", "path": str(folder)}],
        grid="aviris-172", batch_size=6, skip="hysime-gsa",
    )
    data = prepare_data(config)
    assert data.grid.bands == 172 and data.srf.shape == (4, 172)
    assert [s["source"] for s in data.sampler.describe()] == ["synthetic", "indian_pines:train", f"folder:{folder}"]
    assert [round(s["share"], 3) for s in data.sampler.describe()] == [0.25, 0.5, 0.25]
    folder_source = data.sampler.sources[2]
    assert [p.name for p in folder_source.files] == ["tile_a.npz", "tile_b.hdr", "tile_c.tif"]
    one_file_each = [FolderSource((path,), data.grid, path.name) for path in folder_source.files]
    for source in [*data.sampler.sources, *one_file_each]:
        rng = np.random.default_rng(1)
        for _ in range(3):
            source.new_batch()
            assert source.patch(rng, 16).shape == (16, 16, 172)
    # Synthetic training seeds come from the declared training range, never a val or test seed.
    split = load_synthetic_split()
    synthetic = data.sampler.sources[0]
    seeds = {synthetic.scene(np.random.default_rng(k)).meta["seed"] for k in range(20)}
    assert all(split.train_seeds[0] <= seed < split.train_seeds[1] for seed in seeds)
    assert not seeds & set(split.val_seeds + split.test_seeds)
    assert {synthetic.scene(np.random.default_rng(k)).meta["variants"] for k in range(3)} == {6}

    draw = lambda seed: sample_batch(data.sampler, data.srf, config, np.random.default_rng(seed), data.grid.centres)  # noqa: E731
    first = draw(7)
    assert [a.shape for a in first] == [(6, 172, 4, 4), (6, 4, 16, 16), (6, 172, 16, 16), (6, 172, 16, 16)]
    assert all(np.array_equal(a, b) for a, b in zip(first, draw(7)))
    assert not np.array_equal(first[2], draw(8)[2])


def test_estimate_context_computes_the_skip_on_the_larger_square_then_cuts_the_patch(smoke):
    from s3rnet.estimates import classical_estimate

    config = smoke.replace(
        sources=[{"kind": "region"}], grid="aviris-172", skip="hysime-wiener-hybrid", noise_snr_db=(15, 15),
        normalisation="global", estimate_context=64,
    )
    data = prepare_data(config)
    context = np.ascontiguousarray(data.sampler.sources[0].patch(np.random.default_rng(0), 64))
    sample = degrade_patch(context, data.srf, config, np.random.default_rng(3), data.grid.centres)
    assert [a.shape for a in sample] == [(4, 4, 172), (16, 16, 4), (16, 16, 172), (16, 16, 172)]
    # The same draws on the whole 64 x 64 square: noise, normalisation and estimate of the context.
    whole = degrade_patch(
        context, data.srf, config.replace(estimate_context=None, patch_size=64), np.random.default_rng(3), data.grid.centres
    )
    corners = [(r, c) for r in range(0, 49, 4) for c in range(0, 49, 4)
               if np.array_equal(whole[2][r:r + 16, c:c + 16], sample[2])]
    assert len(corners) == 1
    row, col = corners[0]
    np.testing.assert_array_equal(whole[0][row // 4:row // 4 + 4, col // 4:col // 4 + 4], sample[0])
    np.testing.assert_array_equal(whole[1][row:row + 16, col:col + 16], sample[1])
    np.testing.assert_array_equal(whole[3][row:row + 16, col:col + 16], sample[3])
    # On the 16 x 16 patch alone (16 LR pixels for 172 bands) the estimate is another one.
    alone = classical_estimate("hysime-wiener-hybrid", sample[0], sample[1], 4, "box", data.grid.centres, data.srf)
    assert np.abs(alone - sample[3]).mean() > 0.01 * np.abs(sample[3]).mean()


def test_draw_batch_says_where_each_sample_came_from_and_its_noise(smoke):
    from s3rnet.degrade import spatial_degrade
    from s3rnet.training import draw_batch

    config = smoke.replace(
        sources=[{"kind": "synthetic", "size": 32}, {"kind": "region"}], grid="aviris-172", batch_size=8,
        noise_snr_db=(10, 20), clean_fraction=0.4, normalisation="global",
    )
    data = prepare_data(config)
    batch, draws = draw_batch(data.sampler, data.srf, config, np.random.default_rng(5), data.grid.centres)
    # The same draws as sample_batch: the training loop's batches are unchanged.
    same = sample_batch(data.sampler, data.srf, config, np.random.default_rng(5), data.grid.centres)
    assert all(np.array_equal(a, b) for a, b in zip(batch, same))
    assert len(draws) == 8
    assert {d.source for d in draws} == {"synthetic", "indian_pines:train"}
    assert any(math.isinf(d.snr_db) for d in draws) and any(math.isfinite(d.snr_db) for d in draws)
    lrhsi, _, truth = batch
    for row, drawn in enumerate(draws):
        # "global" normalisation divides the LR-HSI and the truth by one number: the SNR survives it.
        clean = spatial_degrade(truth[row].transpose(1, 2, 0), config.ratio, config.psf).transpose(2, 0, 1)
        noise = lrhsi[row] - clean
        if math.isinf(drawn.snr_db):
            assert np.abs(noise).max() <= 1e-5 * np.abs(clean).max()
        else:
            assert 10 <= drawn.snr_db <= 20
            measured = 10 * np.log10(np.mean(np.square(clean, dtype=np.float64)) / np.mean(np.square(noise, dtype=np.float64)))
            assert measured == pytest.approx(drawn.snr_db, abs=0.5)


def test_msi_noise_is_drawn_per_patch_and_set_band_by_band(smoke):
    """With ``msi_noise_snr_db`` each sample's HR-MSI carries AWGN at its drawn SNR in every band,
    dark bands included (Indian Pines, OLI bands 2-7: band 7 has 22 dB less power than band 5);
    without it nothing is drawn, so the batches of every existing config stay as they were."""
    from s3rnet.degrade import spectral_degrade
    from s3rnet.training import draw_batch

    config = smoke.replace(msi="oli6", patch_size=32, batch_size=6, msi_noise_snr_db=(20, 30), normalisation="global")
    data = prepare_data(config)
    batch, draws = draw_batch(data.sampler, data.srf, config, np.random.default_rng(3), data.grid.centres)
    _, hrmsi, truth = batch
    assert len({d.msi_snr_db for d in draws}) == 6 and all(20 <= d.msi_snr_db <= 30 for d in draws)
    for row, drawn in enumerate(draws):
        clean = spectral_degrade(truth[row].transpose(1, 2, 0).astype(np.float64), data.srf).transpose(2, 0, 1)
        noisy = hrmsi[row].astype(np.float64)
        # "global" normalisation scales the HR-MSI and the truth by one number each: fit that ratio.
        clean *= np.vdot(clean, noisy) / np.vdot(clean, clean)
        noise = noisy - clean
        measured = 10 * np.log10(np.mean(clean**2, axis=(1, 2)) / np.mean(noise**2, axis=(1, 2)))
        assert measured == pytest.approx(np.full(6, drawn.msi_snr_db), abs=1.0), (drawn, measured)
    plain = smoke.replace(msi="oli6", patch_size=32, batch_size=6, normalisation="global")
    (_, quiet, same_truth), plain_draws = draw_batch(data.sampler, data.srf, plain, np.random.default_rng(3), data.grid.centres)
    assert all(math.isinf(d.msi_snr_db) for d in plain_draws)
    # The first sample is drawn alike up to its HR-MSI noise; without the key its HR-MSI is exact.
    np.testing.assert_array_equal(same_truth[0], truth[0])
    clean = spectral_degrade(truth[0].transpose(1, 2, 0).astype(np.float64), data.srf).transpose(2, 0, 1)
    clean *= np.vdot(clean, quiet[0]) / np.vdot(clean, clean)
    assert np.abs(quiet[0] - clean).max() <= 1e-4 * np.abs(clean).max()


def test_folder_problems_name_the_folder_or_the_file(smoke, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match=f"{empty}: no scene files"):
        prepare_data(smoke.replace(sources=[{"kind": "folder", "path": str(empty)}]))
    small = tmp_path / "small"
    small.mkdir()
    np.save(small / "tiny.npy", np.ones((8, 8, 200), np.float32))
    with pytest.raises(ConfigError, match=r"tiny.npy: 8x8 pixels, smaller than the 16 x 16 square training cuts \(patch_size"):
        prepare_data(smoke.replace(sources=[{"kind": "folder", "path": str(small)}]))
    bare = tmp_path / "bare"
    bare.mkdir()
    np.save(bare / "no_wavelengths.npy", np.ones((32, 32, 50), np.float32))
    data = prepare_data(smoke.replace(sources=[{"kind": "folder", "path": str(bare)}]))
    with pytest.raises(ConfigError, match=r"no_wavelengths.npy: no wavelengths, and 50 bands"):
        sample_batch(data.sampler, data.srf, smoke, np.random.default_rng(0), data.grid.centres)


def test_validation_uses_val_seeds_only_and_scores_each_set(smoke):
    from s3rnet.data.synthetic_split import load_synthetic_split

    config = smoke.replace(grid="aviris-172", val_synthetic=True, val_snr_db=[None, 15])
    data = prepare_data(config)
    split = load_synthetic_split()
    names = [p.name for p in data.problems]
    assert len(names) == 2 * (1 + len(split.val_seeds) * len(split.units))
    assert {p.set for p in data.problems} == {"indian_pines:val", "synthetic:val"}
    used = {int(name.split(":")[1].split("?")[0]) for name in names if name.startswith("synthetic:")}
    assert used == set(split.val_seeds) and not used & set(split.test_seeds)
    assert sum(name.endswith("at 15 dB") for name in names) == len(names) // 2
    model = seeded_model(config, 172, 4)
    scores = validate_all(model, data.problems, config.normalisation, torch.device("cpu"))
    sets = scores["sets"]
    assert scores["psnr"] == pytest.approx((sets["indian_pines:val"]["psnr"] + sets["synthetic:val"]["psnr"]) / 2)


def test_clean_fraction_leaves_that_share_of_inputs_noise_free(smoke):
    data = prepare_data(smoke)
    truth = np.ascontiguousarray(data.train.cube[:16, :16])
    clean = degrade_patch(truth, data.srf, smoke.replace(noise_snr_db=None), np.random.default_rng(0))[0]
    config = smoke.replace(noise_snr_db=(10, 10), clean_fraction=0.3)
    rng = np.random.default_rng(0)
    untouched = [np.array_equal(degrade_patch(truth, data.srf, config, rng)[0], clean) for _ in range(400)]
    assert 0.24 < np.mean(untouched) < 0.36
    never = smoke.replace(noise_snr_db=(10, 10))
    assert not any(np.array_equal(degrade_patch(truth, data.srf, never, rng)[0], clean) for _ in range(20))


def test_band_balanced_loss_weighs_a_dark_band_like_a_bright_one():
    from s3rnet.losses import band_balanced_l1, training_loss

    generator = torch.Generator().manual_seed(0)
    reference = torch.rand(2, 3, 8, 8, generator=generator) + 0.5
    estimate = reference + 0.1 * torch.randn(2, 3, 8, 8, generator=generator)
    darker = torch.tensor([1.0, 0.01, 1.0]).view(1, 3, 1, 1)
    # Scaling a band (truth and error alike) leaves its relative error, and this loss, unchanged.
    assert float(band_balanced_l1(estimate * darker, reference * darker)) == pytest.approx(float(band_balanced_l1(estimate, reference)), rel=1e-5)
    l1 = lambda e, r: float((e - r).abs().mean())  # noqa: E731
    assert l1(estimate * darker, reference * darker) < 0.7 * l1(estimate, reference)
    estimate.requires_grad_(True)
    loss = training_loss("band-balanced", estimate, reference, 0.1)
    loss.backward()
    assert torch.isfinite(estimate.grad).all()
    black = torch.zeros(1, 2, 4, 4)
    assert torch.isfinite(band_balanced_l1(black + 0.1, black))


def test_band_psnr_loss_moves_with_the_mean_band_psnr_the_models_are_scored_with(indian_pines):
    from s3rnet.losses import band_balanced_l1, band_psnr, training_loss
    from s3rnet.metrics import psnr_per_band

    truth = indian_pines.cube[:48, :48].astype(np.float64)
    rng = np.random.default_rng(0)
    # A fused cube whose bands range from about 25 to 50 dB, as a network's do.
    band_psnr_db = np.linspace(25.0, 50.0, truth.shape[-1])
    sigma = truth.max(axis=(0, 1)) * 10 ** (-band_psnr_db / 20)
    error = rng.standard_normal(truth.shape) * sigma
    tensor = lambda cube: torch.from_numpy(cube.transpose(2, 0, 1)[None].copy())  # noqa: E731
    reference = tensor(truth)

    def scores(cube_error: np.ndarray) -> tuple[float, float, float]:
        estimate = tensor(truth + cube_error)
        return (
            float(band_psnr(estimate, reference)), float(band_balanced_l1(estimate, reference)),
            float(psnr_per_band(truth, truth + cube_error).mean()),
        )

    base = scores(error)
    # Halving the error of a poor band (25 dB) and of a good one (50 dB) gains each band 6.02 dB.
    poor, good = error.copy(), error.copy()
    poor[..., 0] /= 2
    good[..., -1] /= 2
    gains = {name: scores(cube) for name, cube in (("poor", poor), ("good", good))}
    for name, (psnr_loss, _, mean_psnr) in gains.items():
        assert mean_psnr - base[2] == pytest.approx(6.02 / truth.shape[-1], rel=1e-3)
        # The loss is minus the mean band PSNR up to a constant, but for its 60 dB floor (relative
        # to the band's mean, about 56 dB to its maximum here), which damps the 50 dB band a little.
        assert base[0] - psnr_loss == pytest.approx(mean_psnr - base[2], rel=0.02 if name == "poor" else 0.1), name
    # A loss linear in the error weighs the poor band's gain about 18 times (25 dB) the good one's.
    assert (base[1] - gains["poor"][1]) > 10 * (base[1] - gains["good"][1]) > 0
    # Per sample: a noisy patch in the batch does not drown a noise-free one.
    clean, noisy = tensor(truth + error), tensor(truth + 30 * error)
    pair = float(band_psnr(torch.cat([clean, noisy]), torch.cat([reference, reference])))
    assert pair == pytest.approx((float(band_psnr(clean, reference)) + float(band_psnr(noisy, reference))) / 2, abs=1e-6)
    estimate = tensor(truth + error).float().requires_grad_(True)
    training_loss("band-psnr", estimate, reference.float(), 30.0).backward()
    assert torch.isfinite(estimate.grad).all()


def test_a_many_source_run_resumes_exactly_and_records_its_recipe(smoke, tmp_path):
    config = smoke.replace(
        sources=[{"kind": "synthetic", "size": 32, "units": ["radiance", "reflectance"]}, {"kind": "region"}],
        grid="aviris-172", steps=4, checkpoint_every=2, val_every=4, noise_snr_db=(10, 50), clean_fraction=0.25,
        loss="band-balanced", skip="hysime-gsa", normalisation="global",
    )
    straight = train(config, tmp_path / "straight", progress=False)
    first = train(config, tmp_path / "resumed", progress=False, max_steps_this_run=2)
    second = train(config, tmp_path / "resumed", resume=True, progress=False)
    assert first.losses + second.losses == straight.losses
    assert_same_weights(second.last_checkpoint, straight.last_checkpoint)
    model, metadata = load_checkpoint(straight.last_checkpoint)
    assert metadata["bands"] == 172 and metadata["estimate"] == "hysime-gsa"
    assert len(metadata["wavelengths_nm"]) == 172 and metadata["training"]["grid"] == "aviris-172"
    assert [s["source"] for s in metadata["training"]["sources"]] == ["synthetic", "indian_pines:train"]
    recorded = metadata["training"]["config"]
    assert (recorded["loss"], recorded["clean_fraction"], recorded["noise_snr_db"]) == ("band-balanced", 0.25, [10.0, 50.0])


def test_a_run_started_from_a_checkpoint_continues_it_and_says_so(uninterrupted, tmp_path):
    config, first = uninterrupted
    tuned = config.replace(init=str(first.last_checkpoint), steps=2, val_every=2, checkpoint_every=2, lr=1e-12)
    result = train(tuned, tmp_path / "tuned", progress=False)
    # A learning rate of 1e-12 leaves the weights where they started: the first run's.
    start, started = load_checkpoint(first.last_checkpoint)
    after, metadata = load_checkpoint(result.last_checkpoint)
    for name, tensor in start.state_dict().items():
        torch.testing.assert_close(after.state_dict()[name], tensor, rtol=0.0, atol=1e-6, msg=name)
    init = metadata["training"]["init"]
    assert init["checkpoint"] == str(first.last_checkpoint) and init["steps"] == config.steps
    assert init["config"] == started["training"]["config"] and init["estimate"] == started["estimate"]
    # Interrupted and resumed, the run still records where it started.
    train(tuned, tmp_path / "resumed", progress=False, max_steps_this_run=1)
    resumed = train(tuned, tmp_path / "resumed", resume=True, progress=False)
    assert load_checkpoint(resumed.last_checkpoint)[1]["training"]["init"] == init


def test_a_checkpoint_of_another_network_is_refused_as_a_start(uninterrupted, tmp_path):
    config, first = uninterrupted
    with pytest.raises(ConfigError, match=r"key 'init': .* another network .*fusion 'ssawb' against 'sum'"):
        train(config.replace(init=str(first.last_checkpoint), fusion="sum"), tmp_path, progress=False)
    with pytest.raises(CheckpointError, match="no checkpoint 'no-such-weights'"):
        train(config.replace(init="no-such-weights"), tmp_path / "missing", progress=False)


def test_a_state_saved_before_sources_existed_resumes(uninterrupted, tmp_path):
    config, full = uninterrupted
    train(config, tmp_path, progress=False, max_steps_this_run=4)
    state = json.loads((tmp_path / "state.json").read_text())
    for key in ("sources", "grid", "val_synthetic", "clean_fraction"):
        del state["config"][key]
    (tmp_path / "state.json").write_text(json.dumps(state))
    resumed = train(config, tmp_path, resume=True, progress=False)
    assert resumed.step == 6
    assert_same_weights(resumed.last_checkpoint, full.last_checkpoint)


def test_the_paper_config_runs_on_the_cpu_at_a_tiny_size(tmp_path):
    """configs/paper-oli4.json is for torchrun on a GPU; here its recipe (grid, sources,
    validation, loss, noise convention) runs two steps with the network and patches made tiny."""
    config = load_config(
        ROOT / "configs" / "paper-oli4.json", preset="tiny", patch_size=32, batch_size=2, steps=2, val_every=2,
        checkpoint_every=2, val_snr_db=35,
    )
    result = train(config, tmp_path, progress=False)
    assert result.finished and np.isfinite(result.losses).all()
    assert set(result.best["sets"]) == {"indian_pines:val", "synthetic:val"}
    _, metadata = load_checkpoint(result.last_checkpoint)
    assert metadata["bands"] == 172 and metadata["normalisation"] == "minmax"
    assert metadata["training"]["config"]["noise_reference"] == "authors"
    assert "val_psnr[synthetic:val]" in log_rows(tmp_path)[0]
