"""S3RNet from a checkpoint as a fusion method, in the library and in ``python -m s3rnet evaluate``."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from s3rnet.baselines import get_method
from s3rnet.checkpoints import CheckpointError
from s3rnet.degrade import simulate
from s3rnet.evaluation import run_evaluation
from s3rnet.inference import CheckpointMethod, fuse_with_model, resolve_checkpoint
from s3rnet.models import count_parameters
from s3rnet.training import load_config, train, validate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny S3RNet trained for a few steps on the Indian Pines train split (oli4)."""
    out = tmp_path_factory.mktemp("smoke")
    config = load_config(ROOT / "configs" / "smoke.json").replace(steps=8, val_every=4, checkpoint_every=4)
    train(config, out, progress=False)
    return out / "last.safetensors"


def test_checkpoint_method_matches_training_validation(trained, test_region):
    method = CheckpointMethod(trained, device="cpu")
    simulation = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4")
    fused = method(simulation.inputs())
    assert fused.shape == simulation.truth.shape and fused.dtype == np.float32
    assert np.isfinite(fused).all()
    direct = fuse_with_model(method.model, simulation.inputs(), method.metadata["normalisation"])
    np.testing.assert_array_equal(fused, direct)
    scores = validate(method.model, simulation, method.metadata["normalisation"], method.device)
    from s3rnet.metrics import psnr

    assert psnr(simulation.truth, fused) == pytest.approx(scores["psnr"])


def test_a_network_correcting_the_hybrid_gets_its_trained_response_when_the_inputs_carry_none(tmp_path, test_region):
    """The hybrid estimate reads the MSI response; a checkpoint supplies the one it was trained with,
    so inputs without one fuse exactly as the training validated them."""
    config = load_config(ROOT / "configs" / "smoke.json").replace(
        steps=2, val_every=2, checkpoint_every=2, skip="hysime-wiener-hybrid"
    )
    train(config, tmp_path, progress=False)
    method = CheckpointMethod(tmp_path / "last.safetensors", device="cpu")
    assert method.estimate == "hysime-wiener-hybrid"
    simulation = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4", lrhsi_snr_db=15)
    with_response = simulation.inputs()
    without_response = dataclasses.replace(with_response, srf=None)
    validated = fuse_with_model(method.model, with_response, method.metadata["normalisation"], estimate=method.estimate)
    np.testing.assert_array_equal(method(without_response), validated)
    np.testing.assert_array_equal(method(with_response), validated)


def test_s3rnet_joins_the_evaluation_with_its_size(trained):
    result = run_evaluation("indian_pines", methods=["bicubic", "s3rnet"], checkpoint=str(trained))
    entry = result.methods["s3rnet"]
    model = CheckpointMethod(trained).model
    assert entry["params"] == count_parameters(model)
    assert entry["macs"] > 0 and np.isfinite(entry["psnr"])
    assert result.protocol["checkpoint"] == str(trained)


def test_checkpoint_refuses_another_msi_response(trained, test_region):
    simulation = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="s2-4")
    with pytest.raises(CheckpointError, match="trained with the MSI response 'oli4'"):
        CheckpointMethod(trained)(simulation.inputs())
    six = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli6")
    with pytest.raises(CheckpointError, match="expects a 4-band MSI .* no response to find its bands among them"):
        CheckpointMethod(trained)(dataclasses.replace(six.inputs(), srf=None))
    sentinel = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="s2-6")
    with pytest.raises(CheckpointError, match="another one that does not hold its bands"):
        CheckpointMethod(trained)(sentinel.inputs())


def test_a_wider_msi_that_holds_the_checkpoints_bands_is_fused_on_them(trained, test_region):
    """OLI's 6 bands hold the 4 of an oli4 checkpoint: the network sees those, and its correction
    goes onto its estimate made with all 6 (s3rnet.inference, as in fuse)."""
    method = CheckpointMethod(trained, ensemble=False)
    six = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli6").inputs()
    four = dataclasses.replace(six, hrmsi=six.hrmsi[..., :4], srf=six.srf[:4])
    assert method.check(six) == [0, 1, 2, 3] and method.check(four) is None
    fused = method.fuse(six)
    assert fused.msi_bands == [0, 1, 2, 3]
    estimate = get_method(method.estimate or "bicubic")
    np.testing.assert_allclose(fused.cube, method(four) + estimate(six) - estimate(four), rtol=1e-4, atol=1e-4)


def test_checkpoint_refuses_other_bands(trained, test_region):
    simulation = simulate(test_region.cube[:, :, :150], test_region.wavelengths[:150], test_region.fwhm[:150])
    with pytest.raises(CheckpointError, match="200 bands"):
        CheckpointMethod(trained)(simulation.inputs())


def test_unknown_checkpoint_name_is_an_error():
    with pytest.raises(CheckpointError, match="no checkpoint 'nonesuch'"):
        resolve_checkpoint("nonesuch")


def test_cli_evaluate_with_a_checkpoint(trained, tmp_path):
    out = tmp_path / "r.json"
    ok = subprocess.run(
        [sys.executable, "-m", "s3rnet", "evaluate", "--methods", "bicubic,s3rnet", "--checkpoint", str(trained),
         "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert ok.returncode == 0, ok.stderr
    assert "| s3rnet |" in ok.stdout
    assert set(json.loads(out.read_text())["methods"]["s3rnet"]) >= {"psnr", "sam", "params", "macs", "seconds"}
    missing = subprocess.run(
        [sys.executable, "-m", "s3rnet", "evaluate", "--methods", "s3rnet"], cwd=ROOT, capture_output=True,
        text=True, timeout=300,
    )
    assert missing.returncode == 2 and "needs a checkpoint" in missing.stderr
    wrong = subprocess.run(
        [sys.executable, "-m", "s3rnet", "evaluate", "--methods", "s3rnet", "--checkpoint", str(trained), "--msi", "s2-6"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert wrong.returncode == 2 and "trained with the MSI response 'oli4'" in wrong.stderr
    assert "does not hold its bands" in wrong.stderr and "Traceback" not in wrong.stderr


def test_whole_scene_on_request_with_the_simulation_kept(trained):
    result = run_evaluation("indian_pines", split="whole", methods=["bicubic", "s3rnet"], checkpoint=str(trained))
    assert result.protocol["region"] == {"rows": [0, 144], "cols": [0, 144]}
    assert result.simulation.truth.shape == (144, 144, 200)
    from s3rnet.metrics import psnr

    assert result.methods["bicubic"]["psnr"] == pytest.approx(psnr(result.simulation.truth, result.outputs["bicubic"]))
    # MACs counted once per configuration and size, and the same as counting the model itself.
    from s3rnet.models import count_macs

    model = CheckpointMethod(trained).model
    assert result.methods["s3rnet"]["macs"] == count_macs(model, 200, 4, 144)


def test_a_scene_without_fwhm_takes_the_checkpoint_widths(trained, indian_pines):
    from s3rnet.inference import prepare_scene

    metadata = CheckpointMethod(trained).metadata
    bare = indian_pines.with_cube(indian_pines.cube, fwhm=None)
    np.testing.assert_allclose(prepare_scene(bare, metadata).fwhm, metadata["fwhm_nm"])
