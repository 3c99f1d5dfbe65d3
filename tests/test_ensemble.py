"""A network blended with a classical partner: the weight chosen on validation data, recorded in
the checkpoint, applied by CheckpointMethod (and so by evaluate, report and the app)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from s3rnet.baselines import get_method
from s3rnet.checkpoints import CheckpointError, load_checkpoint
from s3rnet.degrade import simulate
from s3rnet.errors import ConfigError
from s3rnet.inference import CheckpointMethod, blend_outputs
from s3rnet.metrics import psnr
from s3rnet.training import (
    choose_ensemble, ensemble_scores, training_grid, validate_all, validation_problems,
    write_ensemble_checkpoint,
)

ROOT = Path(__file__).resolve().parents[1]


def test_blend_is_the_weighted_mean_and_refuses_weights_outside_0_1():
    network, partner = np.full((2, 2, 3), 1.0, np.float32), np.full((2, 2, 3), 3.0, np.float32)
    np.testing.assert_array_equal(blend_outputs(network, partner, 0.0), network)
    np.testing.assert_array_equal(blend_outputs(network, partner, 1.0), partner)
    np.testing.assert_allclose(blend_outputs(network, partner, 0.25), 1.5)
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        blend_outputs(network, partner, 1.5)


def test_scores_at_0_are_the_networks_and_at_1_the_partners(smoke_run):
    config, checkpoint = smoke_run
    model, metadata = load_checkpoint(checkpoint)
    problems, _ = validation_problems(config, training_grid(config))
    scores = ensemble_scores(model, problems, metadata["normalisation"], "gsa", metadata.get("estimate"), weights=(0.0, 0.5, 1.0))
    alone = validate_all(model, problems, metadata["normalisation"], model_device(model), metadata.get("estimate"))
    assert scores[0.0]["psnr"] == pytest.approx(alone["psnr"])
    problem = problems[0]
    gsa = get_method("gsa")(problem.simulation.inputs())
    assert scores[1.0]["psnr"] == pytest.approx(psnr(problem.simulation.truth, gsa))
    # A tiny network trained for 4 steps is far below GSA, so a blend beats it.
    assert scores[0.5]["psnr"] > scores[0.0]["psnr"]
    assert choose_ensemble(scores) in (0.5, 1.0)


def model_device(model):
    return next(model.parameters()).device


def test_choose_takes_the_best_and_the_smallest_of_equals():
    assert choose_ensemble({0.0: {"psnr": 30.0}, 0.1: {"psnr": 30.5}, 0.2: {"psnr": 30.2}}) == 0.1
    assert choose_ensemble({0.2: {"psnr": 30.0}, 0.0: {"psnr": 30.0}}) == 0.0
    with pytest.raises(ConfigError):
        choose_ensemble({})


def test_a_checkpoint_with_a_partner_blends_unless_asked_for_the_network_alone(smoke_run, test_region, tmp_path):
    _, checkpoint = smoke_run
    target = write_ensemble_checkpoint(checkpoint, tmp_path / "blended.safetensors", {"method": "gsa", "weight": 0.3})
    simulation = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4", lrhsi_snr_db=30, seed=1)
    inputs = simulation.inputs()
    blended = CheckpointMethod(target, device="cpu")
    alone = CheckpointMethod(target, device="cpu", ensemble=False)
    plain = CheckpointMethod(checkpoint, device="cpu")
    network = plain(inputs)
    np.testing.assert_array_equal(alone(inputs), network)
    result = blended.fuse(inputs)
    assert result.ensemble == {"method": "gsa", "weight": 0.3, "applied": True}
    np.testing.assert_allclose(result.cube, 0.7 * network + 0.3 * get_method("gsa")(inputs), rtol=1e-5, atol=1e-4)
    assert plain.fuse(inputs).ensemble is None


def test_bad_partners_are_refused_naming_the_sidecar(smoke_run, tmp_path):
    _, checkpoint = smoke_run
    with pytest.raises(ConfigError):
        write_ensemble_checkpoint(checkpoint, tmp_path / "bad.safetensors", {"method": "no-such-method", "weight": 0.1})
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        write_ensemble_checkpoint(checkpoint, tmp_path / "bad.safetensors", {"method": "gsa", "weight": 2})
    with pytest.raises(ConfigError, match="beside its source"):
        write_ensemble_checkpoint(checkpoint, checkpoint, {"method": "gsa", "weight": 0.1})
    target = write_ensemble_checkpoint(checkpoint, tmp_path / "edited.safetensors", {"method": "gsa", "weight": 0.1})
    sidecar = target.with_suffix(".json")
    data = json.loads(sidecar.read_text())
    data["ensemble"]["weight"] = -0.5
    sidecar.write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match=r"edited\.json.*ensemble"):
        load_checkpoint(target)


def test_cli_chooses_on_validation_and_writes_a_checkpoint_that_blends(smoke_run, tmp_path):
    config, checkpoint = smoke_run
    out = tmp_path / "chosen.safetensors"
    result = subprocess.run(
        [sys.executable, "-m", "s3rnet", "ensemble", "--checkpoint", str(checkpoint), "--config",
         str(ROOT / "configs" / "smoke.json"), "--method", "gsa", "--out", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    _, metadata = load_checkpoint(out)
    ensemble = metadata["ensemble"]
    assert ensemble["method"] == "gsa"
    best = max(ensemble["scores"].items(), key=lambda item: item[1]["psnr"])
    assert ensemble["weight"] == pytest.approx(float(best[0]))
    assert "indian_pines:val" in ensemble["chosen_on"] and ":test" not in ensemble["chosen_on"]
    assert f"weight {ensemble['weight']:g}" in result.stdout and "(chosen)" in result.stdout


def test_the_app_says_what_a_checkpoint_blends_in(smoke_run, tmp_path):
    from app import handlers

    _, checkpoint = smoke_run
    target = write_ensemble_checkpoint(checkpoint, tmp_path / "shown.safetensors",
                                       {"method": "hysime-wiener-cnmf", "weight": 0.3})
    text = handlers.checkpoint_summary(str(target))
    assert "blended with HySime-Wiener-CNMF's (30% HySime-Wiener-CNMF, 70% network" in text
    assert "blended" not in handlers.checkpoint_summary(str(checkpoint))


def test_a_partner_that_fails_leaves_the_networks_output_and_says_why(smoke_run, test_region, tmp_path, monkeypatch):
    """A classical partner that cannot run on a scene must not take the network's output with it
    (the failure is injected into the registry: no real scene makes GSA fail)."""
    import s3rnet.baselines as baselines

    _, checkpoint = smoke_run
    target = write_ensemble_checkpoint(checkpoint, tmp_path / "fragile.safetensors", {"method": "gsa", "weight": 0.3})
    simulation = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4")
    inputs = simulation.inputs()
    network = CheckpointMethod(checkpoint, device="cpu")(inputs)

    def refuses(_inputs):
        raise ConfigError("no intensity can be regressed")

    monkeypatch.setitem(baselines.METHODS, "gsa", refuses)
    result = CheckpointMethod(target, device="cpu").fuse(inputs)
    np.testing.assert_array_equal(result.cube, network)
    assert result.ensemble["applied"] is False and "gsa failed on these inputs (no intensity" in result.ensemble["why"]
