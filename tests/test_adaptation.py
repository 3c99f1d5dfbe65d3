"""Test-time adaptation (Wald's protocol) and the classical-estimate skip, on Indian Pines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from s3rnet.adaptation import adapt_model, reduced_resolution_problem
from s3rnet.data import crop, resample
from s3rnet.data.grids import SpectralGrid
from s3rnet.errors import ShapeError
from s3rnet.evaluation import run_evaluation
from s3rnet.inference import CheckpointMethod, prepare_scene
from s3rnet.losses import fusion_loss
from s3rnet.metrics import psnr
from s3rnet.training import load_config, train

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gsa_checkpoint(tmp_path_factory):
    """A tiny S3RNet correcting GSA, trained for a few steps with spectral-gain augmentation."""
    out = tmp_path_factory.mktemp("gsa")
    config = load_config(ROOT / "configs" / "smoke.json").replace(
        steps=6, val_every=6, checkpoint_every=6, skip="gsa", spectral_gain=0.5, normalisation="global"
    )
    train(config, out, progress=False)
    return out / "last.safetensors"


def test_reduced_resolution_problem_is_the_scene_one_scale_down(oli4_simulation):
    inputs = oli4_simulation.inputs()
    low, high, target, guess = reduced_resolution_problem(inputs, "global", "gsa")
    assert low.shape == (3, 9, 200) and high.shape == (12, 36, 4)
    assert target.shape == inputs.lrhsi.shape and guess.shape == target.shape
    scale = inputs.lrhsi.mean() / target.mean()
    np.testing.assert_allclose(target * scale, inputs.lrhsi, rtol=1e-5)


def test_adaptation_lowers_the_reduced_resolution_loss_and_leaves_the_checkpoint_alone(gsa_checkpoint, oli4_simulation):
    method = CheckpointMethod(gsa_checkpoint, device="cpu")
    inputs = oli4_simulation.inputs()
    before = {k: v.clone() for k, v in method.model.state_dict().items()}
    low, high, target, guess = (torch.from_numpy(a.transpose(2, 0, 1)[None].copy())
                                for a in reduced_resolution_problem(inputs, "global", "gsa"))

    def loss(model):
        with torch.no_grad():
            return fusion_loss(model(low, high, estimate=guess), target, 0.1).item()

    adapted = adapt_model(method.model, inputs, 30, normalisation="global", estimate="gsa", lr=1e-3)
    assert loss(adapted) < loss(method.model)
    for name, tensor in method.model.state_dict().items():
        assert torch.equal(tensor, before[name])


def test_adaptation_refuses_a_scene_too_small(gsa_checkpoint, test_region):
    from s3rnet.degrade import simulate

    small = crop(test_region, (0, 16), (0, 16))
    simulation = simulate(small.cube, small.wavelengths, small.fwhm, msi="oli4")
    with pytest.raises(ShapeError, match="too small to adapt"):
        CheckpointMethod(gsa_checkpoint, adapt_steps=2).fuse(simulation.inputs())


def test_fuse_reports_weights_features_and_adaptation(gsa_checkpoint, oli4_simulation):
    inputs = oli4_simulation.inputs()
    plain = CheckpointMethod(gsa_checkpoint).fuse(inputs)
    calls = []
    adapted = CheckpointMethod(gsa_checkpoint, adapt_steps=3).fuse(inputs, progress=lambda f, m: calls.append(f))
    height, width, bands = inputs.shape
    assert plain.weights.shape == (4, height, width) and ((plain.weights > 0) & (plain.weights < 1)).all()
    assert plain.fused_features.shape[1:] == (height, width)
    assert plain.layers is None
    layered = CheckpointMethod(gsa_checkpoint).fuse(inputs, keep_layers=True)
    assert set(layered.layers) == {"Q", "K", "V", "Z"} and layered.layers["Q"][0].shape[1:] == (height, width)
    np.testing.assert_array_equal(layered.cube, plain.cube)
    assert plain.adapt_seconds == 0 and adapted.adapt_seconds > 0 and calls == pytest.approx([1 / 3, 2 / 3, 1])
    assert not np.array_equal(plain.cube, adapted.cube)
    assert psnr(oli4_simulation.truth, plain.cube) > 20


def test_evaluation_keeps_the_network_extras_and_times_the_adaptation(gsa_checkpoint):
    result = run_evaluation("indian_pines", methods=["gsa", "s3rnet"], checkpoint=str(gsa_checkpoint), adapt_steps=2)
    assert result.extras["s3rnet"].weights.shape == (4, 48, 144)
    assert result.methods["s3rnet"]["seconds"] >= result.extras["s3rnet"].adapt_seconds > 0
    assert result.protocol["adapt_steps"] == 2


def test_a_scene_on_other_bands_is_resampled_to_the_checkpoint_grid(gsa_checkpoint, indian_pines):
    metadata = CheckpointMethod(gsa_checkpoint).metadata
    tile = crop(indian_pines, (96, 144), (0, 144))
    # Another sensor's calibration: every band centre 4 nm further, in ascending order.
    shifted = SpectralGrid("shifted", np.sort(tile.wavelengths) + 4.0, np.sort(tile.wavelengths) * 0 + 10.0)
    other = resample(tile, shifted)
    back = prepare_scene(other, metadata)
    assert back.bands == 200
    np.testing.assert_allclose(back.wavelengths, metadata["wavelengths_nm"])
    assert psnr(tile.cube, back.cube) > 25
    assert prepare_scene(tile, metadata) is tile
