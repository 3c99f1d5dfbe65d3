"""Tests of s3rnet.analysis: channel energy and sparsity, linear CKA, SSAWB weight statistics.

Real inputs come from the Indian Pines cube (conftest fixture ``indian_pines``, 145 x 145 x 200
radiance): its pixels are examples and its bands features or channels.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from s3rnet.analysis import (
    WEIGHT_RANGE,
    branch_weight_maps,
    branch_weight_stats,
    channel_energy,
    describe_branch_weights,
    energy_sparsity,
    features_to_samples,
    layerwise_cka,
    linear_cka,
    sparsity,
)
from s3rnet.errors import ConfigError, SceneDataError, ShapeError


def random_orthogonal(size: int, seed: int) -> np.ndarray:
    """A random ``size x size`` orthogonal matrix (QR of a Gaussian matrix)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((size, size)))
    return q * np.sign(np.diag(r))


def hsic_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA from n x n Gram matrices: HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)).

    Kornblith et al. (2019), eq. 3-4, with ``HSIC(K, L) = tr(K H L H) / (n - 1)^2`` and
    ``H = I - 11^T / n``: an independent route to the feature-space formula.
    """
    n = x.shape[0]
    centring = np.eye(n) - np.ones((n, n)) / n
    gram_x = centring @ (x @ x.T) @ centring
    gram_y = centring @ (y @ y.T) @ centring

    def hsic(a, b):
        return np.trace(a @ b) / (n - 1) ** 2

    return hsic(gram_x, gram_y) / math.sqrt(hsic(gram_x, gram_x) * hsic(gram_y, gram_y))


@pytest.fixture(scope="module")
def pixels(indian_pines) -> np.ndarray:
    """Indian Pines as a (21025, 200) float64 sample matrix: one row per pixel, bands as features."""
    return indian_pines.cube.reshape(-1, indian_pines.cube.shape[-1]).astype(np.float64)


@pytest.fixture(scope="module")
def band_maps(indian_pines) -> np.ndarray:
    """Indian Pines as a (200, 145, 145) channel-first map."""
    return indian_pines.cube.transpose(2, 0, 1)


# --------------------------------------------------------------------------------------------
# Channel energy and sparsity
# --------------------------------------------------------------------------------------------


def test_channel_energy_is_normalised_and_sorted(band_maps):
    energy = channel_energy(band_maps)
    assert energy.shape == (200,)
    assert energy.sum() == pytest.approx(1.0, abs=1e-12)
    assert (energy >= 0).all()
    assert (np.diff(energy) <= 0).all()


def test_channel_energy_definition_and_batch_handling():
    features = np.random.default_rng(0).standard_normal((3, 5, 4, 6))
    features[:, 2] *= 3.0
    expected = (features**2).mean(axis=(0, 2, 3))
    expected /= expected.sum()
    unsorted = channel_energy(torch.from_numpy(features).float(), sort=False)
    np.testing.assert_allclose(unsorted, expected, rtol=1e-6)
    assert np.argmax(unsorted) == 2
    np.testing.assert_allclose(channel_energy(features), np.sort(expected)[::-1], rtol=1e-12)
    # A (N, H, W) map is one batch item.
    np.testing.assert_allclose(channel_energy(features[0]), channel_energy(features[:1]), rtol=1e-12)


def test_channel_energy_rejects_zero_and_bad_shapes():
    with pytest.raises(SceneDataError):
        channel_energy(np.zeros((4, 3, 3)))
    with pytest.raises(ShapeError):
        channel_energy(np.ones((4, 3)))


@pytest.mark.parametrize("n", [1, 10, 30, 200])
def test_sparsity_of_one_hot_and_uniform(n):
    one_hot = np.zeros(n)
    one_hot[n // 2] = 1.0
    peaked = energy_sparsity(one_hot)
    assert peaked["gini"] == pytest.approx(1.0 - 1.0 / n, abs=1e-12)
    assert peaked["top10_share"] == pytest.approx(1.0)
    assert peaked["effective_channels"] == pytest.approx(1.0)

    flat = energy_sparsity(np.full(n, 1.0 / n))
    assert flat["gini"] == pytest.approx(0.0, abs=1e-12)
    assert flat["effective_channels"] == pytest.approx(n)
    # ceil(n / 10) channels: exactly 3 of 30 (no floating-point 0.1 * 30 > 3 off-by-one).
    assert flat["top10_share"] == pytest.approx(math.ceil(n / 10) / n)


def test_gini_matches_mean_absolute_difference_definition():
    energy = np.random.default_rng(1).exponential(size=37)
    p = energy / energy.sum()
    expected = np.abs(p[:, None] - p[None, :]).sum() / (2 * p.size)
    figures = energy_sparsity(energy)
    assert figures["gini"] == pytest.approx(expected, abs=1e-12)
    # Scale and order do not matter.
    assert energy_sparsity(5.0 * energy[::-1]) == pytest.approx(figures)


def test_energy_sparsity_rejects_invalid_distributions():
    with pytest.raises(SceneDataError):
        energy_sparsity([0.5, -0.1, 0.6])
    with pytest.raises(SceneDataError):
        energy_sparsity(np.zeros(4))
    with pytest.raises(ShapeError):
        energy_sparsity(np.ones((2, 2)))


def test_raw_radiance_energy_is_concentrated(band_maps):
    """Radiance energy follows the solar spectrum and the atmosphere, far from uniform over bands.

    Measured on Indian Pines: Gini 0.662, the top 20 of 200 bands hold 40.0% of the energy and the
    effective number of bands is 88.6. The bright visible/NIR bands carry most of the energy, the
    SWIR and the water-absorption bands (radiance near zero) almost none. The bounds leave a
    margin of about 0.06 (Gini), 0.05 (share) and 11 bands below/above these values, and are far
    from the uniform figures (0, 0.1, 200).
    """
    figures = sparsity(band_maps)
    assert figures["gini"] > 0.6
    assert figures["top10_share"] > 0.35
    assert figures["effective_channels"] < 100


def test_standardised_bands_have_uniform_energy(band_maps):
    """Each band scaled to zero mean and unit variance has mean square exactly 1: no sparsity."""
    cube = band_maps.astype(np.float64)
    mean = cube.mean(axis=(1, 2), keepdims=True)
    std = cube.std(axis=(1, 2), keepdims=True)
    figures = sparsity((cube - mean) / std)
    assert figures["gini"] == pytest.approx(0.0, abs=1e-9)
    assert figures["effective_channels"] == pytest.approx(200.0, rel=1e-9)


# --------------------------------------------------------------------------------------------
# Linear CKA
# --------------------------------------------------------------------------------------------


def test_cka_of_a_representation_with_itself_is_one(pixels):
    assert linear_cka(pixels, pixels) == pytest.approx(1.0, abs=1e-12)


def test_cka_invariant_to_rotation_and_isotropic_scaling(pixels):
    rotated = pixels @ random_orthogonal(pixels.shape[1], seed=2)
    assert linear_cka(pixels, rotated) == pytest.approx(1.0, abs=1e-10)
    assert linear_cka(pixels, 0.003 * rotated) == pytest.approx(1.0, abs=1e-10)
    # Adding a constant offset is absorbed by the centring.
    assert linear_cka(pixels, rotated + 7.0) == pytest.approx(1.0, abs=1e-10)


def test_cka_not_invariant_to_general_linear_maps(pixels):
    """Per-band standardisation (a diagonal invertible map) changes CKA: measured 0.956."""
    standardised = (pixels - pixels.mean(axis=0)) / pixels.std(axis=0)
    assert linear_cka(pixels, standardised) < 0.99
    anisotropic = random_orthogonal(8, seed=3) @ np.diag(np.geomspace(1.0, 100.0, 8))
    x = np.random.default_rng(4).standard_normal((2000, 8))
    assert linear_cka(x, x @ anisotropic) < 0.9


def test_cka_of_independent_features_is_near_zero():
    """For independent Gaussians E[CKA] ~ sqrt(p q) / n = 5e-4 here; the bound is 10x that."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((20000, 10))
    y = rng.standard_normal((20000, 10))
    assert 0.0 <= linear_cka(x, y) < 5e-3


def test_cka_is_symmetric_and_accepts_tensors(pixels):
    x = pixels[::50, :30]
    y = np.tanh(pixels[::50, 100:120] / 5.0)
    value = linear_cka(x, y)
    assert 0.0 < value < 1.0
    assert linear_cka(y, x) == pytest.approx(value, abs=1e-14)
    assert linear_cka(torch.from_numpy(x), torch.from_numpy(y)) == pytest.approx(value, abs=1e-14)


def test_cka_matches_gram_matrix_formulation(pixels):
    rng = np.random.default_rng(6)
    rows = rng.choice(pixels.shape[0], size=60, replace=False)
    x = pixels[rows, ::20]
    y = np.maximum(x @ rng.standard_normal((x.shape[1], 7)), 0.0)
    assert linear_cka(x, y) == pytest.approx(hsic_cka(x, y), abs=1e-10)


def test_cka_undefined_and_invalid_inputs():
    assert math.isnan(linear_cka(np.ones((5, 2)), np.arange(10.0).reshape(5, 2)))
    with pytest.raises(ShapeError):
        linear_cka(np.ones((5, 2)), np.ones((4, 2)))
    with pytest.raises(ShapeError):
        linear_cka(np.ones(5), np.ones(5))
    with pytest.raises(SceneDataError):
        linear_cka(np.full((5, 2), np.nan), np.ones((5, 2)))


# --------------------------------------------------------------------------------------------
# Pixel samples and the layer-wise CKA matrix
# --------------------------------------------------------------------------------------------


def test_features_to_samples_layout_and_seeded_subset():
    features = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    rows = features_to_samples(features)
    assert rows.shape == (40, 3) and rows.dtype == np.float64
    # Row index is (b, h, w) in C order; columns are channels.
    np.testing.assert_array_equal(rows[1 * 20 + 2 * 5 + 3], features[1, :, 2, 3])

    subset = features_to_samples(torch.from_numpy(features), max_samples=7, seed=3)
    assert subset.shape == (7, 3)
    assert len({tuple(r) for r in subset}) == 7
    assert all(any((r == rows).all(axis=1)) for r in subset)
    np.testing.assert_array_equal(subset, features_to_samples(features, max_samples=7, seed=3))
    assert not np.array_equal(subset, features_to_samples(features, max_samples=7, seed=4))
    np.testing.assert_array_equal(features_to_samples(features, max_samples=1000), rows)
    with pytest.raises(ConfigError):
        features_to_samples(features, max_samples=0)


@pytest.fixture(scope="module")
def indian_pines_layers(band_maps):
    """Four 'branches' of three (1, 16, 145, 145) 'layers': random projections of the bands."""
    rng = np.random.default_rng(7)
    cube = torch.from_numpy(band_maps.astype(np.float32))[None]
    layers = {}
    for branch in ("Z", "Q", "K", "V"):  # dict order must not matter
        layers[branch] = [
            torch.relu(torch.einsum("oc,bchw->bohw", torch.from_numpy(rng.standard_normal((16, 200))).float(), cube))
            for _ in range(3)
        ]
    return layers


def test_layerwise_cka_matrix(indian_pines_layers):
    labels, matrix = layerwise_cka(indian_pines_layers, max_samples=2048, seed=1)
    assert labels == [f"{b}{i}" for b in "QKVZ" for i in (1, 2, 3)]
    assert matrix.shape == (12, 12)
    np.testing.assert_allclose(np.diag(matrix), 1.0, atol=1e-12)
    np.testing.assert_array_equal(matrix, matrix.T)
    assert ((matrix > 0) & (matrix <= 1 + 1e-12)).all()
    # Every entry is CKA on the same seeded pixel subset.
    q1 = features_to_samples(indian_pines_layers["Q"][0], max_samples=2048, seed=1)
    z3 = features_to_samples(indian_pines_layers["Z"][2], max_samples=2048, seed=1)
    assert matrix[0, 11] == pytest.approx(linear_cka(q1, z3), abs=1e-12)


def test_layerwise_cka_sees_a_rotated_layer_as_identical(band_maps):
    cube = band_maps[None, :40].astype(np.float64)
    rotated = np.einsum("oc,bchw->bohw", random_orthogonal(40, seed=8), cube)
    labels, matrix = layerwise_cka({"Q": [cube], "K": [rotated], "V": [cube[:, :5]]}, max_samples=None)
    assert labels == ["Q1", "K1", "V1"]
    assert matrix[0, 1] == pytest.approx(1.0, abs=1e-10)
    assert matrix[0, 2] < 1.0


def test_layerwise_cka_rejects_mismatched_layers():
    with pytest.raises(ConfigError):
        layerwise_cka({"X": [np.ones((1, 2, 3, 3))]})
    with pytest.raises(ShapeError):
        layerwise_cka({"Q": [np.ones((1, 2, 3, 3))], "K": [np.ones((1, 2, 4, 3))]})
    with pytest.raises(ShapeError):
        layerwise_cka({"Q": []})


# --------------------------------------------------------------------------------------------
# SSAWB branch weights
# --------------------------------------------------------------------------------------------


@pytest.fixture
def constructed_weights() -> torch.Tensor:
    """(2, 4, 4, 5) weights: Q dominates 20 of 40 pixels, K 10, V 10, Z never.

    The dominant branch gets 0.9, the others 0.1, 0.2 and 0.3 in turn, so every value is known.
    """
    weights = torch.empty(2, 4, 4, 5)
    dominant = torch.zeros(2, 4, 5, dtype=torch.long)  # Q everywhere in item 0
    dominant[1, :2] = 1  # K on the first two rows of item 1
    dominant[1, 2:] = 2  # V on the last two
    for b in range(2):
        for i in range(4):
            for j in range(5):
                others = iter((0.1, 0.2, 0.3))
                for k in range(4):
                    weights[b, k, i, j] = 0.9 if k == dominant[b, i, j] else next(others)
    return weights


def test_branch_weight_stats_exact_shares(constructed_weights):
    stats = branch_weight_stats(constructed_weights)
    assert list(stats) == ["Q", "K", "V", "Z"]
    shares = {name: s["dominant_share"] for name, s in stats.items()}
    assert shares == {"Q": 0.5, "K": 0.25, "V": 0.25, "Z": 0.0}
    # Q: 0.9 on 20 pixels, 0.1 on 20 -> mean 0.5, std 0.4.
    assert stats["Q"]["mean"] == pytest.approx(0.5)
    assert stats["Q"]["std"] == pytest.approx(0.4)
    assert (stats["Q"]["min"], stats["Q"]["max"]) == pytest.approx((0.1, 0.9))
    # Z: 0.3 everywhere.
    assert stats["Z"] == pytest.approx({"mean": 0.3, "std": 0.0, "min": 0.3, "max": 0.3, "dominant_share": 0.0})
    # A (4, H, W) map is one batch item.
    single = branch_weight_stats(constructed_weights[0].numpy(), names=("a", "b", "c", "d"))
    assert single["a"]["dominant_share"] == 1.0


def test_branch_weight_stats_ties_go_to_the_first_branch():
    stats = branch_weight_stats(np.full((4, 2, 2), 0.5))
    assert [s["dominant_share"] for s in stats.values()] == [1.0, 0.0, 0.0, 0.0]


def test_branch_weight_maps(constructed_weights):
    maps = branch_weight_maps(constructed_weights)
    assert maps.shape == (4, 4, 5) and maps.dtype == np.float32
    np.testing.assert_array_equal(maps, constructed_weights[0].numpy())
    assert WEIGHT_RANGE == (0.0, 1.0)
    assert WEIGHT_RANGE[0] <= maps.min() and maps.max() <= WEIGHT_RANGE[1]


def test_branch_weights_validation():
    sigmoid = torch.sigmoid(torch.randn(1, 4, 3, 3, generator=torch.Generator().manual_seed(0)))
    with pytest.raises(ConfigError):
        branch_weight_stats(None)
    with pytest.raises(ShapeError):
        branch_weight_stats(sigmoid[:, :3])
    with pytest.raises(SceneDataError):
        branch_weight_maps(sigmoid + 1.0)


def test_the_reading_of_the_branch_weights_follows_their_spatial_spread():
    rng = np.random.default_rng(0)
    weights = np.stack([
        np.full((32, 32), 0.2),                         # Q: flat
        0.8 + 0.03 * rng.standard_normal((32, 32)),     # K: a little
        np.linspace(0.2, 0.9, 32 * 32).reshape(32, 32),  # V: a visible ramp
        0.1 + 0.02 * rng.standard_normal((32, 32)),     # Z: a little
    ])
    stats = branch_weight_stats(weights)
    reading = describe_branch_weights(stats)
    assert reading.startswith(f"Branch K gets the most weight (mean {stats['K']['mean']:.2f})")
    assert "V changes visibly" in reading and "K, Z vary a little" in reading and "Q is flat" in reading
    assert f"V {stats['V']['std']:.3f}" in reading
