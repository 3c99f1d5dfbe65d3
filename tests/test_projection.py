"""A checkpoint's projection onto its inputs: the noise factor chosen on validation data,
recorded in the checkpoint, applied by CheckpointMethod (and so by evaluate, report and the app),
off for the network alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from s3rnet.checkpoints import CheckpointError, load_checkpoint
from s3rnet.consistency import lrhsi_noise_power, project_onto_inputs
from s3rnet.degrade import simulate
from s3rnet.errors import ConfigError
from s3rnet.inference import CheckpointMethod
from s3rnet.metrics import psnr
from s3rnet.training import (
    choose_projection, projection_scores, training_grid, validation_problems,
    write_ensemble_checkpoint, write_projection_checkpoint,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def noisy_inputs(test_region):
    simulation = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4", lrhsi_snr_db=30, seed=1)
    return simulation


def test_a_projecting_checkpoint_projects_its_blend_unless_asked_for_the_network_alone(smoke_run, noisy_inputs, tmp_path):
    _, checkpoint = smoke_run
    blended = write_ensemble_checkpoint(checkpoint, tmp_path / "blended.safetensors", {"method": "gsa", "weight": 0.3})
    target = write_projection_checkpoint(blended, tmp_path / "projected.safetensors", {"factor": 4.0})
    inputs = noisy_inputs.inputs()
    blend = CheckpointMethod(blended, device="cpu")(inputs)
    result = CheckpointMethod(target, device="cpu").fuse(inputs)
    noise_power = lrhsi_noise_power(inputs)
    assert result.projection == {"factor": 4.0, "noise_power": pytest.approx(noise_power)}
    np.testing.assert_allclose(result.cube, project_onto_inputs(blend, inputs, factor=4.0), rtol=1e-5, atol=1e-5)
    assert not np.allclose(result.cube, blend)
    alone = CheckpointMethod(target, device="cpu", ensemble=False).fuse(inputs)
    assert alone.projection is None and alone.ensemble is None
    np.testing.assert_array_equal(alone.cube, CheckpointMethod(checkpoint, device="cpu")(inputs))
    # Asked for, the network alone is projected too, with the checkpoint's factor.
    forced = CheckpointMethod(target, device="cpu", ensemble=False, project=True).fuse(inputs)
    assert forced.projection["factor"] == 4.0


def test_scores_without_projection_are_the_checkpoints_and_projection_helps_a_weak_network(smoke_run):
    config, checkpoint = smoke_run
    problems, _ = validation_problems(config, training_grid(config))
    method = CheckpointMethod(checkpoint, device="cpu")
    scores = projection_scores(method, problems, factors=(1.0, 4.0))
    problem = problems[0]
    truth, inputs = problem.simulation.truth, problem.simulation.inputs()
    assert scores[None]["psnr"] == pytest.approx(psnr(truth, method(inputs)))
    # Four training steps leave the network far from its inputs: the projection pulls it back.
    assert scores[4.0]["psnr"] > scores[None]["psnr"] + 1.0
    assert choose_projection(scores) in (1.0, 4.0)


def test_choose_takes_the_best_and_no_projection_on_a_tie():
    assert choose_projection({None: {"psnr": 30.0}, 1.0: {"psnr": 30.5}, 4.0: {"psnr": 30.2}}) == 1.0
    assert choose_projection({4.0: {"psnr": 30.0}, None: {"psnr": 30.0}}) is None
    assert choose_projection({None: {"psnr": 30.0}, 1.0: {"psnr": 30.2}, 16.0: {"psnr": 30.2 + 1e-9}}) == 1.0
    with pytest.raises(ConfigError):
        choose_projection({})


def test_bad_projections_are_refused_naming_the_sidecar(smoke_run, tmp_path):
    _, checkpoint = smoke_run
    for factor in (0, -1.0, "4", None):
        with pytest.raises(ConfigError, match="factor"):
            write_projection_checkpoint(checkpoint, tmp_path / "bad.safetensors", {"factor": factor})
    target = write_projection_checkpoint(checkpoint, tmp_path / "edited.safetensors", {"factor": 4.0})
    with pytest.raises(ConfigError, match="already projects"):
        projection_scores(CheckpointMethod(target, device="cpu"), [])
    sidecar = target.with_suffix(".json")
    data = json.loads(sidecar.read_text())
    data["projection"]["factor"] = -2
    sidecar.write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match=r"edited\.json.*projection"):
        load_checkpoint(target)


def test_cli_chooses_on_validation_and_evaluate_reports_the_projection(smoke_run, tmp_path):
    out = tmp_path / "chosen.safetensors"
    _, checkpoint = smoke_run
    result = subprocess.run(
        [sys.executable, "-m", "s3rnet", "project", "--checkpoint", str(checkpoint), "--config",
         str(ROOT / "configs" / "smoke.json"), "--out", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    _, metadata = load_checkpoint(out)
    projection = metadata["projection"]
    best = max(score["psnr"] for score in projection["scores"].values())
    assert projection["scores"][f"{projection['factor']:g}"]["psnr"] == pytest.approx(best, abs=2e-4)
    assert "indian_pines:val" in projection["chosen_on"] and ":test" not in projection["chosen_on"]
    assert f"factor {projection['factor']:g}" in result.stdout and "(chosen)" in result.stdout
    evaluated = subprocess.run(
        [sys.executable, "-m", "s3rnet", "evaluate", "--scene", "indian_pines", "--split", "test", "--msi", "oli4",
         "--snr-db", "25", "--methods", "s3rnet", "--checkpoint", str(out), "--json", str(tmp_path / "e.json")],
        capture_output=True, text=True, check=False,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert f"projected onto its inputs with noise factor {projection['factor']:g}" in evaluated.stdout
    protocol = json.loads((tmp_path / "e.json").read_text())["protocol"]
    assert protocol["projection"]["factor"] == projection["factor"] and protocol["projection"]["noise_power"] > 0


def test_the_app_says_that_a_checkpoint_projects(smoke_run, tmp_path):
    from app import handlers

    _, checkpoint = smoke_run
    target = write_projection_checkpoint(checkpoint, tmp_path / "shown.safetensors", {"factor": 4.0})
    assert "reproduces its two inputs, as far as their estimated noise allows" in handlers.checkpoint_summary(str(target))
    assert "reproduces its two inputs" not in handlers.checkpoint_summary(str(checkpoint))
