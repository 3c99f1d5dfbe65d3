"""Tests of s3rnet.metrics: agreement with torchmetrics and the defining properties.

The cubes are real: the Indian Pines test region (ground truth) and its bicubic fusion from
the simulated LR-HSI (oli4, box PSF, ratio 4), compared in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage
from torchmetrics.functional.image import (
    error_relative_global_dimensionless_synthesis,
    peak_signal_noise_ratio,
    spectral_angle_mapper,
    structural_similarity_index_measure,
)

from s3rnet import metrics
from s3rnet.baselines import get_method
from s3rnet.errors import ConfigError, SceneDataError, ShapeError

RTOL = 1e-4


@pytest.fixture(scope="module")
def pair(oli4_simulation):
    """(reference, estimate): the test region and its bicubic fusion, float32 as produced."""
    return oli4_simulation.truth, get_method("bicubic")(oli4_simulation.inputs())


def as_torch(cube: np.ndarray) -> torch.Tensor:
    """(H, W, C) numpy -> (1, C, H, W) float64 tensor, the torchmetrics layout."""
    return torch.from_numpy(np.ascontiguousarray(cube.transpose(2, 0, 1), dtype=np.float64))[None]


# --------------------------------------------------------------------------------------------
# Agreement with torchmetrics
# --------------------------------------------------------------------------------------------


def test_psnr_per_band_matches_torchmetrics_with_band_peak(pair):
    reference, estimate = pair
    ref, est = as_torch(reference), as_torch(estimate)
    expected = np.array([
        peak_signal_noise_ratio(est[:, b], ref[:, b], data_range=float(reference[..., b].max())).item()
        for b in range(reference.shape[-1])
    ])
    np.testing.assert_allclose(metrics.psnr_per_band(reference, estimate), expected, rtol=RTOL)
    assert metrics.psnr(reference, estimate) == pytest.approx(expected.mean(), rel=RTOL)


def test_psnr_data_range_peak_matches_torchmetrics(pair):
    reference, estimate = pair
    ref, est = as_torch(reference), as_torch(estimate)
    span = float(reference.max() - reference.min())
    expected = np.mean([
        peak_signal_noise_ratio(est[:, b], ref[:, b], data_range=span).item()
        for b in range(reference.shape[-1])
    ])
    assert metrics.psnr(reference, estimate, peak="data-range") == pytest.approx(expected, rel=RTOL)


def test_sam_matches_torchmetrics_in_degrees(pair):
    reference, estimate = pair
    expected = np.degrees(spectral_angle_mapper(as_torch(estimate), as_torch(reference)).item())
    assert metrics.sam(reference, estimate) == pytest.approx(expected, rel=RTOL)


def test_ergas_matches_torchmetrics_ratio_4(pair):
    # torchmetrics computes 100 / ratio * sqrt(mean_b RMSE_b^2 / mu_b^2): the same ratio.
    reference, estimate = pair
    expected = error_relative_global_dimensionless_synthesis(
        as_torch(estimate), as_torch(reference), ratio=4
    ).item()
    assert metrics.ergas(reference, estimate, ratio=4) == pytest.approx(expected, rel=RTOL)


def torchmetrics_ssim_per_band(reference: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """torchmetrics' SSIM of each band in float64, data range = that band's range in the reference."""
    ref, est = as_torch(reference), as_torch(estimate)
    span = reference.max(axis=(0, 1)) - reference.min(axis=(0, 1))
    return np.array([
        structural_similarity_index_measure(
            est[:, b : b + 1], ref[:, b : b + 1], data_range=float(span[b])
        ).item()
        for b in range(reference.shape[-1])
    ])


def test_ssim_matches_torchmetrics_band_by_band(pair):
    reference, estimate = pair
    expected = torchmetrics_ssim_per_band(reference, estimate)
    np.testing.assert_allclose(metrics.ssim_per_band(reference, estimate), expected, rtol=RTOL)
    assert metrics.ssim(reference, estimate) == pytest.approx(expected.mean(), rel=RTOL)


def test_ssim_of_a_good_fusion_matches_torchmetrics_to_float64_precision(oli4_simulation, pair):
    # SSIM's error statistics are float32 (metrics.Scorer.ssim_per_band): on a fusion whose
    # error is small, where rounding would show first, they must still give float64's answer.
    reference, _ = pair
    estimate = get_method("gsa")(oli4_simulation.inputs())
    expected = torchmetrics_ssim_per_band(reference, estimate)
    np.testing.assert_allclose(metrics.ssim_per_band(reference, estimate), expected, rtol=0, atol=1e-7)


@pytest.mark.parametrize("shape", [(6, 6, 1), (7, 40, 3), (48, 144, 5), (50, 33, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_blur_is_scipys_mirrored_gaussian(shape, dtype, pair):
    # Real values: a corner of the test region, as many bands as asked.
    reference, _ = pair
    rows, cols, bands = shape
    images = np.resize(reference[:rows, :cols, :bands], shape).astype(dtype)
    expected = ndimage.gaussian_filter(images.astype(np.float64), 1.5, mode="mirror", radius=5, axes=(0, 1))
    blurred = metrics.gaussian_blur(images)
    assert blurred.shape == shape and blurred.dtype == dtype
    tolerance = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(blurred, expected, rtol=tolerance, atol=tolerance * np.abs(expected).max())
    stacked = metrics.gaussian_blur(np.stack([images, 2 * images]))
    np.testing.assert_allclose(stacked[1], 2 * blurred, rtol=tolerance, atol=tolerance * np.abs(expected).max())


def test_one_scorer_scores_every_estimate_as_a_fresh_one_would(oli4_simulation, pair):
    reference, bicubic = pair
    scorer = metrics.Scorer(reference)
    for estimate in (bicubic, get_method("gsa")(oli4_simulation.inputs()), reference):
        assert scorer.evaluate(estimate) == metrics.evaluate_all(reference, estimate)
    np.testing.assert_array_equal(scorer.sam_map(bicubic), metrics.sam_map(reference, bicubic))


def test_scores_with_kept_buffers_equal_fresh_ones(oli4_simulation, pair):
    # Inside reusing_buffers one set of working arrays serves every estimate in turn: nothing
    # of one estimate may leak into the next one's scores or maps.
    reference, bicubic = pair
    estimates = (bicubic, get_method("gsa")(oli4_simulation.inputs()), bicubic)
    fresh = [metrics.Scorer(reference).score(estimate) for estimate in estimates]
    scorer = metrics.Scorer(reference)
    with scorer.reusing_buffers():
        kept = [scorer.score(estimate) for estimate in estimates]
    for expected, got in zip(fresh, kept):
        assert got.summary() == expected.summary()
        for name in ("psnr_per_band", "sam_map", "rmse_map"):
            np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))
    assert kept[0].summary() != kept[1].summary()


def test_rmse_and_rmse_map_follow_their_definitions(pair):
    reference, estimate = pair
    diff = reference.astype(np.float64) - estimate
    assert metrics.rmse(reference, estimate) == pytest.approx(np.sqrt(np.mean(diff**2)), rel=1e-12)
    error_map = metrics.rmse_map(reference, estimate)
    assert error_map.shape == reference.shape[:2]
    np.testing.assert_allclose(error_map, np.sqrt(np.mean(diff**2, axis=-1)), rtol=1e-12)
    assert np.sqrt(np.mean(error_map**2)) == pytest.approx(metrics.rmse(reference, estimate))


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


def test_identical_cubes_score_perfectly(pair):
    reference, _ = pair
    scores = metrics.evaluate_all(reference, reference.copy())
    assert scores["psnr"] == np.inf
    assert scores["sam"] == 0.0
    assert scores["rmse"] == 0.0
    assert scores["ergas"] == 0.0
    assert scores["ssim"] == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.isposinf(metrics.psnr_per_band(reference, reference)))


def test_one_exact_band_makes_the_mean_psnr_infinite(pair):
    reference, estimate = pair
    estimate = estimate.copy()
    estimate[..., 7] = reference[..., 7]
    per_band = metrics.psnr_per_band(reference, estimate)
    assert np.isposinf(per_band[7]) and np.isfinite(np.delete(per_band, 7)).all()
    assert metrics.psnr(reference, estimate) == np.inf


def test_sam_is_invariant_to_per_pixel_scaling(pair):
    reference, estimate = pair
    rng = np.random.default_rng(0)
    gains = rng.uniform(0.2, 5.0, size=reference.shape[:2] + (1,))
    assert metrics.sam(reference, estimate * gains) == pytest.approx(
        metrics.sam(reference, estimate), rel=1e-10
    )
    assert metrics.sam(reference, reference * gains) == pytest.approx(0.0, abs=1e-6)


def test_sam_excludes_and_counts_zero_spectra(pair):
    reference, estimate = pair
    estimate = estimate.copy()
    reference = reference.copy()
    estimate[0, 0] = 0.0
    reference[5, 9] = 0.0
    angles = metrics.sam_map(reference, estimate)
    assert angles.shape == reference.shape[:2]
    assert np.isnan(angles[0, 0]) and np.isnan(angles[5, 9])
    assert np.isnan(angles).sum() == 2
    assert metrics.sam_excluded(reference, estimate) == 2
    assert metrics.sam(reference, estimate) == pytest.approx(np.nanmean(angles))


def test_sam_of_all_zero_spectra_is_an_error():
    zeros = np.zeros((8, 8, 3))
    with pytest.raises(SceneDataError, match="zero"):
        metrics.sam(zeros, zeros)


def test_sam_map_is_in_degrees():
    reference = np.zeros((1, 2, 2))
    reference[..., 0] = 1.0
    estimate = np.array([[[0.0, 1.0], [1.0, 1.0]]])
    np.testing.assert_allclose(metrics.sam_map(reference, estimate), [[90.0, 45.0]])


def test_ergas_scales_with_the_inverse_ratio(pair):
    reference, estimate = pair
    assert metrics.ergas(reference, estimate, ratio=2) == pytest.approx(
        2 * metrics.ergas(reference, estimate, ratio=4)
    )


def test_evaluate_all_returns_the_five_metrics_as_floats(pair):
    reference, estimate = pair
    scores = metrics.evaluate_all(reference, estimate)
    assert list(scores) == ["psnr", "sam", "rmse", "ergas", "ssim"]
    assert all(type(value) is float for value in scores.values())
    assert scores["psnr"] == pytest.approx(metrics.psnr(reference, estimate))
    assert scores["ergas"] == pytest.approx(metrics.ergas(reference, estimate, ratio=4))


def test_better_estimate_scores_better_everywhere(oli4_simulation, pair):
    reference, bicubic = pair
    fused = get_method("gsa")(oli4_simulation.inputs())
    worse, better = metrics.evaluate_all(reference, bicubic), metrics.evaluate_all(reference, fused)
    assert better["psnr"] > worse["psnr"] and better["ssim"] > worse["ssim"]
    assert better["sam"] < worse["sam"] and better["rmse"] < worse["rmse"]
    assert better["ergas"] < worse["ergas"]


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "function",
    [metrics.psnr, metrics.sam, metrics.rmse, metrics.ergas, metrics.ssim, metrics.evaluate_all],
)
def test_shape_mismatch_is_a_shape_error(function, pair):
    reference, estimate = pair
    with pytest.raises(ShapeError, match="must match"):
        function(reference, estimate[:, :-1])


def test_non_cube_is_a_shape_error(pair):
    reference, _ = pair
    with pytest.raises(ShapeError, match="rows, cols, bands"):
        metrics.rmse(reference[..., 0], reference[..., 0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_is_a_scene_data_error(bad, pair):
    reference, estimate = pair
    estimate = estimate.copy()
    estimate[3, 4, 5] = bad
    with pytest.raises(SceneDataError, match="estimate contains NaN"):
        metrics.evaluate_all(reference, estimate)


def test_unknown_psnr_peak_is_a_config_error(pair):
    with pytest.raises(ConfigError, match="band-max"):
        metrics.psnr(*pair, peak="max")


def test_non_positive_band_peak_is_a_scene_data_error():
    reference = -np.ones((8, 8, 2))
    with pytest.raises(SceneDataError, match="data-range"):
        metrics.psnr(reference, reference * 2)


def test_zero_mean_band_makes_ergas_an_error():
    reference = np.ones((8, 8, 2))
    reference[..., 1] = 0.0
    with pytest.raises(SceneDataError, match="mean 0"):
        metrics.ergas(reference, reference)


def test_ssim_of_a_constant_band_is_defined():
    reference = np.ones((16, 16, 2))
    reference[..., 1] = np.arange(256.0).reshape(16, 16)
    assert metrics.ssim(reference, reference) == pytest.approx(1.0)
