"""The ensemble partner's share raised on each scene by how well each cube reproduces the inputs
(s3rnet.consistency.partner_share), on real Indian Pines; the checkpoint that asks for it, the
choice on validation data and the command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from s3rnet.baselines import get_method
from s3rnet.checkpoints import CheckpointError, load_checkpoint
from s3rnet.consistency import partner_share
from s3rnet.degrade import simulate
from s3rnet.errors import ConfigError
from s3rnet.inference import CheckpointMethod, blend_outputs
from s3rnet.metrics import psnr
from s3rnet.training import ensemble_scores, training_grid, validation_problems, write_ensemble_checkpoint

ROOT = Path(__file__).resolve().parents[1]


def simulated(region, snr_db=float("inf")):
    return simulate(region.cube, region.wavelengths, region.fwhm, msi="oli4", lrhsi_snr_db=snr_db, seed=2)


@pytest.fixture(scope="module")
def clean(test_region):
    simulation = simulated(test_region)
    return simulation, get_method("gsa")(simulation.inputs())


def test_the_cube_that_reproduces_the_inputs_takes_the_share(clean):
    simulation, gsa = clean
    inputs, truth = simulation.inputs(), simulation.truth
    # The ground truth reproduces clean inputs exactly, GSA does not: as the partner the truth
    # takes the whole share; as the network it keeps the floor.
    towards_truth = partner_share(gsa, truth, inputs, floor=0.2)
    assert towards_truth["consistent"] > 0.95 and towards_truth["reliability"] > 0.99
    assert towards_truth["weight"] > 0.95
    towards_gsa = partner_share(truth, gsa, inputs, floor=0.2)
    assert towards_gsa["consistent"] < 0.05
    assert towards_gsa["weight"] == pytest.approx(0.2)


def test_noise_hides_which_cube_explains_the_inputs_and_the_share_stays_near_its_floor(test_region, clean):
    simulation = simulated(test_region, snr_db=15)
    inputs = simulation.inputs()
    gsa = get_method("gsa")(inputs)
    share = partner_share(gsa, simulation.truth, inputs, floor=0.2)
    clean_share = partner_share(clean[1], clean[0].truth, clean[0].inputs(), floor=0.2)
    assert share["reliability"] < 0.5 * clean_share["reliability"]
    assert 0.2 <= share["weight"] < clean_share["weight"]
    assert share["weight"] == pytest.approx(0.2 + share["reliability"] * max(0.0, share["consistent"] - 0.2))


def blended_by_checkpoint(smoke_run, clean, tmp_path, share):
    """The smoke run's network alone, GSA, the inputs, and the smoke run blended with GSA at a
    floor of 0.2 with ``share``, as a checkpoint fuses them."""
    _, checkpoint = smoke_run
    target = write_ensemble_checkpoint(checkpoint, tmp_path / f"{share}.safetensors",
                                       {"method": "gsa", "weight": 0.2, "share": share})
    simulation, gsa = clean
    inputs = simulation.inputs()
    network = CheckpointMethod(checkpoint, device="cpu")(inputs)
    return network, gsa, inputs, CheckpointMethod(target, device="cpu").fuse(inputs)


def test_a_checkpoint_that_raises_its_share_blends_at_the_scenes_share_and_says_so(smoke_run, clean, tmp_path):
    network, gsa, inputs, result = blended_by_checkpoint(smoke_run, clean, tmp_path, "consistency")
    record = result.ensemble
    assert record["applied"] is True and record["share"] == "consistency" and record["floor"] == 0.2
    # A network trained for 4 steps explains the inputs far worse than GSA: its partner's share rises.
    assert record["weight"] > 0.5
    assert record["weight"] == pytest.approx(partner_share(network, gsa, inputs, floor=0.2)["weight"], rel=1e-6)
    np.testing.assert_allclose(result.cube, blend_outputs(network, gsa, record["weight"]), rtol=1e-5, atol=1e-4)


def test_unknown_shares_are_refused_naming_the_sidecar(smoke_run, tmp_path):
    _, checkpoint = smoke_run
    with pytest.raises(ConfigError, match="share"):
        write_ensemble_checkpoint(checkpoint, tmp_path / "bad.safetensors", {"method": "gsa", "weight": 0.2, "share": "magic"})
    target = write_ensemble_checkpoint(checkpoint, tmp_path / "edited.safetensors", {"method": "gsa", "weight": 0.2})
    sidecar = target.with_suffix(".json")
    data = json.loads(sidecar.read_text())
    data["ensemble"]["share"] = "per-pixel"
    sidecar.write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match=r"edited\.json.*share"):
        load_checkpoint(target)


def test_validation_scores_a_raised_share_at_least_as_the_fixed_one_for_a_weak_network(smoke_run):
    config, checkpoint = smoke_run
    model, metadata = load_checkpoint(checkpoint)
    problems, _ = validation_problems(config, training_grid(config))
    args = (model, problems, metadata["normalisation"], "gsa", metadata.get("estimate"))
    fixed = ensemble_scores(*args, weights=(0.0, 1.0))
    raised = ensemble_scores(*args, weights=(0.0, 1.0), share="consistency")
    assert raised[1.0]["psnr"] == pytest.approx(fixed[1.0]["psnr"])
    assert raised[0.0]["psnr"] > fixed[0.0]["psnr"] + 1.0


def test_cli_records_the_share_and_evaluate_prints_the_scenes_share(smoke_run, tmp_path):
    _, checkpoint = smoke_run
    out = tmp_path / "raised.safetensors"
    chosen = subprocess.run(
        [sys.executable, "-m", "s3rnet", "ensemble", "--checkpoint", str(checkpoint), "--config",
         str(ROOT / "configs" / "smoke.json"), "--method", "gsa", "--share", "consistency", "--out", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert chosen.returncode == 0, chosen.stderr
    assert load_checkpoint(out)[1]["ensemble"]["share"] == "consistency"
    assert "raised on each scene by consistency" in chosen.stdout
    floored = write_ensemble_checkpoint(checkpoint, tmp_path / "floored.safetensors",
                                        {"method": "gsa", "weight": 0.2, "share": "consistency"})
    evaluated = subprocess.run(
        [sys.executable, "-m", "s3rnet", "evaluate", "--scene", "indian_pines", "--split", "test", "--msi", "oli4",
         "--methods", "s3rnet", "--checkpoint", str(floored)],
        capture_output=True, text=True, check=False,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    stated = re.search(r"blended with gsa at weight ([0-9.]+), raised from 0.2 on this scene", evaluated.stdout)
    assert stated and float(stated.group(1)) > 0.5, evaluated.stdout


def test_each_band_takes_the_share_of_the_cube_that_reproduces_it(clean):
    """Two cubes, each the truth in half of the bands and GSA in the other: band by band, the
    share goes to the one that reproduces that band of the clean LR-HSI, and the blend is the
    truth again; one share for the scene cannot tell them apart."""
    simulation, gsa = clean
    inputs, truth = simulation.inputs(), simulation.truth
    first = np.arange(truth.shape[-1]) < truth.shape[-1] // 2
    network, partner = np.where(first, truth, gsa), np.where(first, gsa, truth)
    share = partner_share(network, partner, inputs, floor=0.2, per_band=True)
    weights = share["weights"]
    assert weights.shape == first.shape
    assert np.all(weights[first] < 0.25) and np.all(weights[~first] > 0.95), weights
    assert share["weight"] == pytest.approx(weights.mean())
    blended = blend_outputs(network, partner, weights)
    whole_scene = blend_outputs(network, partner, partner_share(network, partner, inputs, floor=0.2)["weight"])
    assert psnr(truth, blended) > psnr(truth, whole_scene) + 5.0


def test_a_checkpoint_with_a_share_for_each_band_blends_band_by_band_and_records_them(smoke_run, clean, tmp_path):
    network, gsa, inputs, result = blended_by_checkpoint(smoke_run, clean, tmp_path, "band-consistency")
    record = result.ensemble
    assert record["share"] == "band-consistency" and len(record["weights"]) == network.shape[-1]
    expected = partner_share(network, gsa, inputs, floor=0.2, per_band=True)["weights"]
    np.testing.assert_allclose(record["weights"], expected, atol=1e-4)
    assert min(record["weights"]) >= 0.2 and record["weight"] == pytest.approx(float(np.mean(expected)))
    np.testing.assert_allclose(result.cube, blend_outputs(network, gsa, expected), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(("share", "above"), [("band-consistency", "0.2"),
                                              ("scene-band-consistency", r"the scene's [0-9.]+ \(floor 0.2\)")])
def test_the_command_line_and_the_app_say_that_a_checkpoint_blends_band_by_band(smoke_run, tmp_path, share, above):
    from app import handlers

    _, checkpoint = smoke_run
    banded = write_ensemble_checkpoint(checkpoint, tmp_path / "banded.safetensors",
                                       {"method": "gsa", "weight": 0.2, "share": share})
    evaluated = subprocess.run(
        [sys.executable, "-m", "s3rnet", "evaluate", "--scene", "indian_pines", "--split", "test", "--msi", "oli4",
         "--methods", "s3rnet", "--checkpoint", str(banded)],
        capture_output=True, text=True, check=False,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    stated = re.search(rf"blended with gsa band by band at weights ([0-9.]+)-([0-9.]+) \(mean ([0-9.]+); above {above}",
                       evaluated.stdout)
    assert stated, evaluated.stdout
    lowest, highest, mean = (float(stated.group(i)) for i in (1, 2, 3))
    assert 0.2 <= lowest <= mean <= highest <= 1.0
    if share == "band-consistency":
        assert highest > lowest
    else:
        # The smoke run explains the inputs far worse than GSA: the scene's share rises, and no band falls below it.
        scene = float(re.search(r"above the scene's ([0-9.]+)", evaluated.stdout).group(1))
        assert scene > 0.5 and lowest >= scene - 1e-3
    summary = handlers.checkpoint_summary(str(banded))
    assert "blended with GSA's band by band (at least 20% GSA in each band" in summary


def test_each_band_can_be_raised_from_the_scenes_share_instead_of_the_floor(clean):
    """``"above-scene"``: the scene's share (raised from the floor) is each band's floor. A cube that
    is the truth in a quarter of the bands against one that is the truth in the rest, on real Indian
    Pines (GSA elsewhere): the scene's share rises, the network's quarter keeps that share instead of
    falling to the floor, and the partner's bands go to the partner."""
    simulation, gsa = clean
    inputs, truth = simulation.inputs(), simulation.truth
    first = np.arange(truth.shape[-1]) < truth.shape[-1] // 4
    network, partner = np.where(first, truth, gsa), np.where(first, gsa, truth)
    scene = partner_share(network, partner, inputs, floor=0.2)
    above = partner_share(network, partner, inputs, floor=0.2, per_band="above-scene")
    from_floor = partner_share(network, partner, inputs, floor=0.2, per_band=True)["weights"]
    assert above["scene_weight"] == pytest.approx(scene["weight"]) and above["floor"] == 0.2
    assert scene["weight"] > 0.3, scene
    np.testing.assert_allclose(above["weights"][first], scene["weight"], atol=1e-6)
    assert np.all(from_floor[first] < 0.25)
    assert np.all(above["weights"][~first] > 0.95)


def test_a_checkpoint_whose_bands_rise_from_the_scenes_share_blends_and_records_both(smoke_run, clean, tmp_path):
    network, gsa, inputs, result = blended_by_checkpoint(smoke_run, clean, tmp_path, "scene-band-consistency")
    record = result.ensemble
    scene = partner_share(network, gsa, inputs, floor=0.2)["weight"]
    assert record["share"] == "scene-band-consistency" and record["floor"] == 0.2
    assert record["scene_weight"] == pytest.approx(scene, rel=1e-6) and scene > 0.5
    assert min(record["weights"]) >= scene - 1e-4
    expected = partner_share(network, gsa, inputs, floor=0.2, per_band="above-scene")["weights"]
    np.testing.assert_allclose(result.cube, blend_outputs(network, gsa, expected), rtol=1e-5, atol=1e-4)
