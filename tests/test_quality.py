"""No-reference quality and consistency, on real Indian Pines pairs, checked against torchmetrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchmetrics.functional.image import (
    quality_with_no_reference,
    spatial_distortion_index,
    spectral_distortion_index,
    universal_image_quality_index,
)

from s3rnet.baselines import get_method
from s3rnet.degrade import simulate, spatial_degrade
from s3rnet.quality import (
    ConsistencyAccumulator, consistency, d_lambda, d_lambda_khan, d_s, no_reference, q_index, qnr,
)


def tensor(cube: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(cube.transpose(2, 0, 1), dtype=np.float64))[None]


@pytest.fixture(scope="module")
def pair(test_region):
    """A 48x48 crop of the test region, OLI 4-band, box PSF, ratio 4, and two fusions of it."""
    crop = test_region.cube[:, 48:96]
    sim = simulate(crop, test_region.wavelengths, test_region.fwhm, msi="oli4")
    inputs = sim.inputs()
    return sim, get_method("bicubic")(inputs), get_method("gsa")(inputs)


def test_q_index_matches_torchmetrics_uqi(pair):
    sim, bicubic, _ = pair
    bands = [0, 50, 120]
    ours = q_index(sim.truth[:, :, bands], bicubic[:, :, bands])
    for k, band in enumerate(bands):
        theirs = universal_image_quality_index(tensor(sim.truth[:, :, [band]]), tensor(bicubic[:, :, [band]]))
        assert ours[k] == pytest.approx(float(theirs), rel=1e-6, abs=1e-9)
    assert q_index(sim.truth[:, :, bands], sim.truth[:, :, bands]) == pytest.approx(1.0, abs=1e-9)


def test_d_lambda_matches_torchmetrics_on_the_same_bands(pair):
    sim, bicubic, gsa = pair
    bands = np.linspace(0, 199, 6).round().astype(int)
    for fused in (bicubic, gsa):
        ours = d_lambda(fused[:, :, bands], sim.lrhsi[:, :, bands], bands=None)
        theirs = spectral_distortion_index(tensor(fused[:, :, bands]), tensor(sim.lrhsi[:, :, bands]))
        assert ours == pytest.approx(float(theirs), rel=1e-5)
        assert 0.0 < ours < 1.0


def test_d_s_and_qnr_match_torchmetrics_with_a_pan(pair):
    sim, _, gsa = pair
    bands = [10, 60, 100]
    pan = sim.hrmsi[:, :, [1]]
    pan_lr = spatial_degrade(pan, 4)
    ours = d_s(gsa[:, :, bands], sim.lrhsi[:, :, bands], pan, pan_lr)
    repeat = lambda image: np.repeat(image, len(bands), axis=2)  # noqa: E731
    theirs = spatial_distortion_index(
        tensor(gsa[:, :, bands]), tensor(sim.lrhsi[:, :, bands]), tensor(repeat(pan)), tensor(repeat(pan_lr))
    )
    assert ours == pytest.approx(float(theirs), rel=1e-5)
    spectral = d_lambda(gsa[:, :, bands], sim.lrhsi[:, :, bands], bands=None)
    theirs_qnr = quality_with_no_reference(
        tensor(gsa[:, :, bands]), tensor(sim.lrhsi[:, :, bands]), tensor(repeat(pan)), tensor(repeat(pan_lr))
    )
    assert qnr(spectral, ours) == pytest.approx(float(theirs_qnr), rel=1e-5)


def test_the_truth_scores_better_than_bicubic_without_a_reference(pair):
    sim, bicubic, _ = pair
    truth = no_reference(sim.truth, sim.lrhsi, sim.hrmsi, ratio=4)
    blurred = no_reference(bicubic, sim.lrhsi, sim.hrmsi, ratio=4)
    # Khan's D_lambda is 1 - Q of the truth's own degradation against the LR-HSI: exactly 0.
    assert truth["d_lambda_khan"] == pytest.approx(0.0, abs=1e-6)
    assert truth["hqnr"] > blurred["hqnr"]
    assert truth["d_s"] < blurred["d_s"]
    assert d_lambda_khan(bicubic, sim.lrhsi, 4) > 0.0


def test_consistency_of_the_truth_is_perfect_and_tiles_add_up(pair):
    sim, bicubic, _ = pair
    perfect = consistency(sim.truth, sim.lrhsi, sim.hrmsi, sim.srf, ratio=4)
    assert perfect["spatial"]["psnr"] > 100 and perfect["spectral"]["psnr"] > 100
    assert perfect["spatial"]["sam"] < 1e-3
    whole = consistency(bicubic, sim.lrhsi, sim.hrmsi, sim.srf, ratio=4)
    assert 15 < whole["spatial"]["psnr"] < 60 and whole["spectral"]["sam"] > 0.1
    # The same comparison added in four tiles of 24x24 HR pixels gives the same figures and map.
    tiles = ConsistencyAccumulator((12, 12), 4, block=4)
    product = bicubic @ sim.srf.T.astype(np.float32)
    for r in (0, 24):
        for c in (0, 24):
            tiles.add(r // 4, c // 4, product[r : r + 24, c : c + 24], sim.hrmsi[r : r + 24, c : c + 24])
    summary = tiles.summary()
    for key in ("psnr", "sam", "rmse"):
        assert summary[key] == pytest.approx(whole["spectral"][key], rel=1e-9)
    np.testing.assert_allclose(tiles.sam_map, whole["spectral"]["sam_map"], rtol=1e-6)
