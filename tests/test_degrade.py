"""The degradation model on real Indian Pines data (DESIGN section 3)."""

from __future__ import annotations

import numpy as np
import pytest

from s3rnet.degrade import (
    InputNormalisation,
    add_awgn,
    authors_noise_sigma,
    binning_response,
    gaussian_sigma,
    psf_matrix,
    response_holds,
    shift_image,
    simulate,
    spatial_degrade,
    spectral_degrade,
    spectral_response,
)
from s3rnet.errors import ConfigError, ResponseRangeError, ShapeError, WavelengthError


def measured_snr_db(clean, noisy, axis=None):
    return 10 * np.log10(np.mean(clean.astype(np.float64) ** 2, axis=axis) / np.mean((noisy - clean).astype(np.float64) ** 2, axis=axis))


def test_box_psf_is_the_mean_of_each_block(test_region):
    cube = test_region.cube
    low = spatial_degrade(cube, 4, "box")
    blocks = cube.reshape(12, 4, 36, 4, 200).mean(axis=(1, 3))
    np.testing.assert_allclose(low, blocks, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("psf", ["box", "gaussian"])
def test_psf_rows_sum_to_one_and_keep_constants(psf):
    op = psf_matrix(48, 4, psf)
    assert op.shape == (12, 48)
    np.testing.assert_allclose(op.sum(axis=1), 1.0)
    constant = np.full((48, 48, 3), 2.5, dtype=np.float32)
    np.testing.assert_allclose(spatial_degrade(constant, 4, psf), 2.5, rtol=1e-6)


def test_gaussian_psf_has_the_requested_mtf_at_nyquist():
    for mtf in (0.2, 0.3, 0.45):
        sigma = gaussian_sigma(4, mtf)
        taps = np.arange(-20, 21)
        kernel = np.exp(-0.5 * (taps / sigma) ** 2)
        kernel /= kernel.sum()
        gain = np.abs(np.sum(kernel * np.exp(-2j * np.pi * taps / 8)))  # f = 1 / (2 * ratio)
        assert gain == pytest.approx(mtf, abs=0.01)


def test_gaussian_borders_are_reflected_not_zero_padded():
    op = psf_matrix(32, 4, "gaussian")
    # The first LR pixel's weights fold back inside the image instead of leaking out of it.
    assert op[0].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(op[0], op[-1][::-1], atol=1e-12)


def test_size_not_a_multiple_of_the_ratio_is_named(indian_pines):
    with pytest.raises(ShapeError, match="145 rows is not a multiple of the ratio 4"):
        spatial_degrade(indian_pines.cube, 4)
    with pytest.raises(ConfigError, match="unknown PSF 'airy'"):
        psf_matrix(16, 4, "airy")


@pytest.mark.parametrize(
    "name, centres",
    [
        ("oli4", [482.6, 561.3, 654.6, 864.6]),
        ("oli6", [482.6, 561.3, 654.6, 864.6, 1609.1, 2201.2]),
        ("s2-4", [492.4, 559.8, 664.6, 832.8]),
        ("s2-6", [492.4, 559.8, 664.6, 832.8, 1613.7, 2202.4]),
    ],
)
def test_sensor_responses_sit_at_the_official_band_centres(indian_pines, name, centres):
    srf = spectral_response(name, indian_pines.wavelengths, indian_pines.fwhm)
    assert srf.shape == (len(centres), 200)
    np.testing.assert_allclose(srf.sum(axis=1), 1.0)
    assert (srf >= 0).all()
    centroids = srf @ indian_pines.wavelengths
    np.testing.assert_allclose(centroids, centres, atol=8.0)


def test_sensor_response_outside_the_cube_is_refused(indian_pines):
    vnir = indian_pines.wavelengths < 1000
    with pytest.raises(ResponseRangeError, match="band 6's response"):
        spectral_response("oli6", indian_pines.wavelengths[vnir], indian_pines.fwhm[vnir])
    with pytest.raises(WavelengthError, match="needs the cube's wavelengths"):
        spectral_response("s2-4", None, n_bands=200)
    with pytest.raises(ConfigError, match="unknown MSI response"):
        spectral_response("worldview", indian_pines.wavelengths)


def test_binning_groups_contiguous_bands_in_wavelength_order(indian_pines):
    srf = binning_response(200, 4)
    assert [int(np.count_nonzero(r)) for r in srf] == [50, 50, 50, 50]
    sorted_srf = spectral_response("binning6", indian_pines.wavelengths)
    order = np.argsort(indian_pines.wavelengths)
    # AVIRIS lists overlap: binning follows wavelength, not file order.
    groups = np.argmax(sorted_srf[:, order], axis=0)
    assert np.all(np.diff(groups) >= 0)
    msi = spectral_degrade(indian_pines.cube, sorted_srf)
    assert msi.shape == (145, 145, 6)


def test_awgn_hits_the_snr_per_image_and_per_band(test_region):
    clean = spatial_degrade(test_region.cube, 4)
    rng = np.random.default_rng(7)
    noisy = add_awgn(clean, 25.0, rng)
    assert measured_snr_db(clean, noisy) == pytest.approx(25.0, abs=0.1)
    noisy_bands = add_awgn(clean, 15.0, np.random.default_rng(7), per_band=True)
    per_band = measured_snr_db(clean, noisy_bands, axis=(0, 1))
    assert np.median(per_band) == pytest.approx(15.0, abs=0.3)
    np.testing.assert_array_equal(add_awgn(clean, np.inf, rng), clean)


def test_simulation_is_seeded(test_region):
    args = (test_region.cube, test_region.wavelengths, test_region.fwhm)
    a = simulate(*args, lrhsi_snr_db=20, hrmsi_snr_db=30, seed=3)
    b = simulate(*args, lrhsi_snr_db=20, hrmsi_snr_db=30, seed=3)
    c = simulate(*args, lrhsi_snr_db=20, hrmsi_snr_db=30, seed=4)
    np.testing.assert_array_equal(a.lrhsi, b.lrhsi)
    np.testing.assert_array_equal(a.hrmsi, b.hrmsi)
    assert not np.array_equal(a.lrhsi, c.lrhsi)


def test_simulation_records_every_choice(test_region):
    sim = simulate(
        test_region.cube, test_region.wavelengths, test_region.fwhm, ratio=4, psf="gaussian", mtf=0.25,
        msi="s2-6", lrhsi_snr_db=35, shift=(0.5, -1), seed=11,
    )
    assert sim.lrhsi.shape == (12, 36, 200) and sim.hrmsi.shape == (48, 144, 6)
    assert sim.meta == {
        "ratio": 4, "psf": "gaussian", "mtf": 0.25, "msi": "s2-6", "msi_bands": 6,
        "lrhsi_snr_db": 35.0, "hrmsi_snr_db": "inf", "noise": "per image", "snr_reference": "scene",
        "shift_lr_px": [0.5, -1.0], "seed": 11, "truth_shape": [48, 144, 200],
    }
    inputs = sim.inputs()
    assert inputs.shape == sim.truth.shape and inputs.psf == "gaussian"


def test_hrmsi_is_the_response_applied_to_the_truth(oli4_simulation):
    sim = oli4_simulation
    expected = np.einsum("hwc,mc->hwm", sim.truth.astype(np.float64), sim.srf)
    np.testing.assert_allclose(sim.hrmsi, expected, rtol=1e-4)


def test_integer_and_subpixel_misregistration(test_region):
    low = spatial_degrade(test_region.cube, 4)
    moved = shift_image(low, (1, 2))
    np.testing.assert_array_equal(moved[1:, 2:], low[:-1, :-2])
    ramp = np.tile(np.arange(40, dtype=np.float32)[None, :, None], (6, 1, 2))
    half = shift_image(ramp, (0, 0.5))
    np.testing.assert_allclose(half[:, 10:-10], ramp[:, 10:-10] - 0.5, atol=1e-3)


def test_input_normalisation_uses_only_the_inputs(oli4_simulation):
    sim = oli4_simulation
    for mode in ("global", "band"):
        norm = InputNormalisation.fit(sim.lrhsi, sim.hrmsi, mode)
        hsi, msi = norm.normalise(sim.lrhsi, sim.hrmsi)
        assert abs(float(np.abs(hsi).mean()) - 1) < 0.5
        np.testing.assert_allclose(norm.denormalise(hsi), sim.lrhsi, rtol=1e-5, atol=1e-6)
    with pytest.raises(ConfigError):
        InputNormalisation.fit(sim.lrhsi, sim.hrmsi, "truth")


def test_authors_snr_sigma_against_a_direct_computation(test_region):
    truth = test_region.cube
    low = spatial_degrade(truth, 4)
    t_min, t_max = float(truth.min()), float(truth.max())
    # Their steps: map the tile to [-1, 1] by the truth's range, noise power = mean square / 10^(SNR/10),
    # then back to scene units.
    mapped = 2 * (low.astype(np.float64) - t_min) / (t_max - t_min) - 1
    sigma_mapped = np.sqrt(np.sum(mapped**2) / mapped.size / 10 ** (15 / 10))
    assert authors_noise_sigma(low, 15, t_min, t_max) == pytest.approx(sigma_mapped * (t_max - t_min) / 2, rel=1e-12)
    noisy = add_awgn(low, 15, np.random.default_rng(0), reference="authors", truth_range=(t_min, t_max))
    assert np.std(noisy - low) == pytest.approx(sigma_mapped * (t_max - t_min) / 2, rel=0.01)
    with pytest.raises(ConfigError, match="ground truth's range"):
        add_awgn(low, 15, np.random.default_rng(0), reference="authors")


@pytest.mark.parametrize(("theirs", "ours"), [(35, 32.56), (15, 12.56)])
def test_authors_snr_is_about_2_5_db_lower_in_our_convention(test_region, theirs, ours):
    """On the Indian Pines test region (radiance), their 35 and 15 dB are 32.56 and 12.56 dB of ours."""
    sim = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, lrhsi_snr_db=theirs, snr_reference="authors")
    clean = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm)
    assert measured_snr_db(clean.lrhsi, sim.lrhsi) == pytest.approx(ours, abs=0.05)
    assert sim.meta["snr_reference"] == "authors"


def test_minmax_normalisation_round_trips(oli4_simulation):
    sim = oli4_simulation
    norm = InputNormalisation.fit(sim.lrhsi, sim.hrmsi, "minmax")
    hsi, msi = norm.normalise(sim.lrhsi, sim.hrmsi)
    assert min(hsi.min(), msi.min()) == pytest.approx(-1, abs=1e-5)
    assert max(hsi.max(), msi.max()) == pytest.approx(1, abs=1e-5)
    np.testing.assert_allclose(norm.denormalise(hsi), sim.lrhsi, rtol=1e-5, atol=1e-4)


def test_which_responses_hold_anothers_bands():
    assert response_holds("oli7", "oli6") and response_holds("oli6", "oli4") and response_holds("s2-10", "s2-6")
    assert response_holds("s2-6", "s2-6")
    assert not response_holds("oli4", "oli6")  # fewer bands
    assert not response_holds("s2-10", "oli6")  # another instrument
    assert not response_holds("binning6", "binning4")  # the groups differ
