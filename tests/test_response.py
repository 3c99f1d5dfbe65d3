"""The MSI response: named, from CSV, and estimated from real Indian Pines pairs against the true OLI and Sentinel-2 responses.

Stated tolerances (measured values in brackets; the smoothness weight was chosen on the training
rows 0:96 and these run on the test region):

* clean pair, no band support: each band's centroid within 15 nm of the truth [at most 8.6, S2 band
  3] and total-variation distance within 0.3 [0.22, OLI band 7];
* 40 dB noise on both images, with the MSI's band centres and widths as support (HySure's band
  intersections): centroids within 5 nm [2.5], distances within 0.45 [0.35, OLI]; without the
  support the centroids miss by 260-320 nm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from s3rnet.degrade import sensor_response_table, simulate, spatial_degrade, spectral_degrade, spectral_response
from s3rnet.errors import ResponseRangeError, SceneFormatError, ShapeError
from s3rnet.response import (
    nearest_bands,
    MIN_EXPLAINED, band_support, centroids, emulate_bands, estimate_response, fit_gain_offset, noise_attenuation,
    read_response_csv, response_distance,
)


ROOT = Path(__file__).resolve().parents[1]


def pair(region, msi, snr=np.inf):
    cube = region.cube[:, :144]
    sim = simulate(cube, region.wavelengths, region.fwhm, msi=msi, lrhsi_snr_db=snr, hrmsi_snr_db=snr, seed=1)
    return sim, spatial_degrade(sim.hrmsi, 4)


def sensor_bands(name):
    """Centroid and half-maximum width (nm) of each band of a pyrsr table."""
    grid, table = sensor_response_table(name)
    table = table / table.sum(axis=1, keepdims=True)
    widths = np.array([(row > 0.5 * row.max()).sum() for row in table], dtype=float)
    return table @ grid, widths


@pytest.mark.parametrize("msi", ["oli4", "s2-4", "oli6"])
def test_estimate_on_a_clean_pair_finds_the_true_response(test_region, msi):
    sim, lrmsi = pair(test_region, msi)
    fit = estimate_response(sim.lrhsi, lrmsi, test_region.wavelengths)
    wl = test_region.wavelengths
    assert np.abs(centroids(fit.response, wl) - centroids(sim.srf, wl)).max() < 15.0
    assert response_distance(fit.response, sim.srf).max() < 0.3
    assert (fit.explained > 0.9999).all()
    # The MSI is the truth seen through the response, so gain 1 and offset 0 come back.
    np.testing.assert_allclose(fit.gain, 1.0, rtol=0.05)
    assert np.abs(fit.offset).max() < 0.05 * np.abs(lrmsi).mean()


@pytest.mark.parametrize("msi", ["oli4", "s2-4"])
def test_estimate_with_noise_needs_the_band_support(test_region, msi):
    sim, lrmsi = pair(test_region, msi, snr=40.0)
    wl = test_region.wavelengths
    centres, widths = sensor_bands(msi)
    supported = estimate_response(sim.lrhsi, lrmsi, wl, support=band_support(centres, widths, wl))
    assert np.abs(centroids(supported.response, wl) - centroids(sim.srf, wl)).max() < 5.0
    assert response_distance(supported.response, sim.srf).max() < 0.45
    # Without support the weight spreads far from the bands (what the docstring warns of).
    free = estimate_response(sim.lrhsi, lrmsi, wl)
    assert np.abs(centroids(free.response, wl) - centroids(sim.srf, wl)).max() > 50.0


def test_gain_and_offset_of_a_known_response_in_other_units(test_region):
    sim, lrmsi = pair(test_region, "oli4")
    fit = fit_gain_offset(sim.lrhsi, 3.0 * lrmsi + 7.0, sim.srf, "oli4", ["2", "3", "4", "5"])
    np.testing.assert_allclose(fit.gain, 3.0, rtol=1e-5)
    np.testing.assert_allclose(fit.offset, 7.0, rtol=1e-4)
    np.testing.assert_allclose(fit.to_hsi_units(3.0 * lrmsi + 7.0), lrmsi, rtol=1e-4, atol=1e-4)
    assert fit.warnings() == []
    noisy = fit_gain_offset(sim.lrhsi, lrmsi[..., ::-1], sim.srf, "oli4", ["2", "3", "4", "5"])
    assert any(w.startswith("MSI band 2") for w in noisy.warnings()) and min(noisy.explained) < MIN_EXPLAINED


def test_csv_table_gives_the_sensor_response(tmp_path, test_region):
    grid, table = sensor_response_table("s2-4")
    path = tmp_path / "s2.csv"
    rows = ["wavelength_nm,B2,B3,B4,B8"] + [",".join([f"{g:g}"] + [f"{v:.6f}" for v in table[:, i]]) for i, g in enumerate(grid)]
    path.write_text("\n".join(rows) + "\n")
    response, names = read_response_csv(path, test_region.wavelengths, test_region.fwhm)
    assert names == ["B2", "B3", "B4", "B8"]
    expected = spectral_response("s2-4", test_region.wavelengths, test_region.fwhm)
    np.testing.assert_allclose(response, expected, atol=1e-6)


def test_csv_errors_name_the_file(tmp_path, test_region):
    bad = tmp_path / "bad.csv"
    bad.write_text("wavelength,B1\nabc,1\n")
    with pytest.raises(SceneFormatError, match=r"bad\.csv: not a response table"):
        read_response_csv(bad, test_region.wavelengths)
    far = tmp_path / "far.csv"
    far.write_text("wavelength,B1\n2500,0\n2550,1\n2600,0\n")
    with pytest.raises(ResponseRangeError, match=r"far\.csv: only \d+% of MSI band B1's response"):
        read_response_csv(far, test_region.wavelengths)


def test_support_and_shapes_are_checked(test_region):
    sim, lrmsi = pair(test_region, "oli4")
    with pytest.raises(ShapeError, match="support"):
        estimate_response(sim.lrhsi, lrmsi, support=np.zeros((4, 200), dtype=bool))
    support = band_support([482.0], [60.0], test_region.wavelengths)
    assert support.shape == (1, 200) and 3 <= support.sum() <= 15


@pytest.mark.parametrize("narrow, wide, expected", [
    ("s2-6", "s2-10", [0, 1, 2, 6, 8, 9]),  # B2, B3, B4, B8, B11, B12 of B2-B8A, B11, B12
    ("s2-4", "s2-10", [0, 1, 2, 6]),
    ("oli6", "oli7", [1, 2, 3, 4, 5, 6]),  # all but the coastal aerosol band
    ("oli4", "oli7", [1, 2, 3, 4]),
])
def test_nearest_bands_find_a_sensors_bands_in_a_wider_set(test_region, narrow, wide, expected):
    wavelengths, fwhm = test_region.wavelengths, test_region.fwhm
    bands, distances = nearest_bands(spectral_response(narrow, wavelengths, fwhm), spectral_response(wide, wavelengths, fwhm))
    assert bands.tolist() == expected
    np.testing.assert_allclose(distances, 0.0, atol=1e-9)  # the same bands of the same sensor


def test_nearest_bands_of_another_sensor_and_shapes(test_region):
    wavelengths, fwhm = test_region.wavelengths, test_region.fwhm
    bands, distances = nearest_bands(spectral_response("oli6", wavelengths, fwhm), spectral_response("s2-10", wavelengths, fwhm))
    assert bands.tolist() == [0, 1, 2, 7, 8, 9]  # OLI's NIR (851-879 nm) is nearest Sentinel-2's B8A (865 nm)
    assert (distances > 0).all() and len(set(bands.tolist())) == 6
    with pytest.raises(ShapeError, match="cannot be matched"):
        nearest_bands(spectral_response("s2-10", wavelengths, fwhm), spectral_response("oli6", wavelengths, fwhm))


def test_the_noise_attenuation_restores_what_the_true_response_explains_of_a_noisy_pair(test_region):
    """With the LR-HSI at 15 dB the true OLI response, fitted with a gain and an offset, explains
    much less of the dark SWIR bands than of a clean pair: the noise in its regressor. Divided by
    ``1 - s_m``, with the noise read from the LR-HSI alone by HySime, it explains about all again."""
    from s3rnet.baselines.noise import lrhsi_band_noise

    sim, lrmsi = pair(test_region, "oli6", snr=15.0)
    band_noise = lrhsi_band_noise(sim.lrhsi, test_region.wavelengths)
    added = float(np.mean(np.square(sim.lrhsi - spatial_degrade(sim.truth, 4))))
    assert float(np.mean(band_noise)) == pytest.approx(added, rel=0.3)
    raw = fit_gain_offset(sim.lrhsi, spatial_degrade(sim.truth @ sim.srf.T, 4), sim.srf, "oli6").explained
    attenuation = noise_attenuation(sim.lrhsi, sim.srf, band_noise)
    assert raw.min() < 0.8 and (attenuation > 0).all() and attenuation.max() > 0.2
    corrected = raw / (1.0 - attenuation)
    assert (corrected > 0.97).all(), corrected


def test_a_sensors_bands_are_emulated_from_another_sensors_that_cover_them(test_region):
    """OLI's six bands from EO-1 ALI's nine (box bands at its published edges): the ALI bands are
    wider than OLI's (MS-5 1550-1750 nm against SWIR1's 1566-1651), so no band of ALI is an OLI
    band, but combinations of them are, to 1% of each band's variance on Indian Pines."""
    wavelengths, fwhm = test_region.wavelengths, test_region.fwhm
    ali = read_response_csv(ROOT / "benchmarks" / "responses" / "ali-box.csv", wavelengths, fwhm)[0]
    oli = spectral_response("oli6", wavelengths, fwhm)
    assert response_distance(oli, ali[nearest_bands(oli, ali)[0]]).max() > 0.25  # too far to run on directly
    lrhsi = spatial_degrade(test_region.cube, 4)
    lrmsi = spatial_degrade(spectral_degrade(test_region.cube, ali), 4)
    emulation = emulate_bands(lrhsi, lrmsi, oli)
    assert emulation.weights.shape == (9, 6) and (emulation.explained > 0.99).all(), emulation.explained
    # Applied at HR, the emulated bands are the OLI image.
    truth = spectral_degrade(test_region.cube, oli / oli.sum(axis=1, keepdims=True))
    emulated = emulation.apply(spectral_degrade(test_region.cube, ali))
    assert np.abs(emulated - truth).mean() < 0.02 * np.abs(truth).mean()
    # A band that is a combination of the MSI's is found exactly, its weights and offset included.
    mixed = (ali[1] / ali[1].sum() + 3.0 * ali[2] / ali[2].sum())[None]
    exact = emulate_bands(lrhsi, lrmsi @ np.diag(1.0 / ali.sum(axis=1)) + 5.0, mixed)
    np.testing.assert_allclose(exact.weights[:, 0], [0, 0.25, 0.75, 0, 0, 0, 0, 0, 0], atol=1e-5)
    np.testing.assert_allclose(exact.offset, [-5.0], atol=1e-3)


def test_swir_bands_are_predicted_less_well_from_a_vnir_sensor(test_region):
    """WorldView-2's VNIR bands give OLI's VNIR bands to 2%, and its SWIR bands only as far as the
    scene's spectra correlate (96.8% and 97.9% here): fuse does not emulate a band where the MSI
    does not look (s3rnet.fuse.EMULATION_REACH_NM, tests/test_fuse.py)."""
    wavelengths, fwhm = test_region.wavelengths, test_region.fwhm
    wv2 = read_response_csv(ROOT / "benchmarks" / "responses" / "wv2-box.csv", wavelengths, fwhm)[0]
    lrhsi = spatial_degrade(test_region.cube, 4)
    emulation = emulate_bands(lrhsi, spatial_degrade(spectral_degrade(test_region.cube, wv2), 4),
                              spectral_response("oli6", wavelengths, fwhm))
    assert (emulation.explained[:4] > 0.99).all(), emulation.explained  # blue, green, red, NIR
    assert (emulation.explained[4:] < 0.98).all(), emulation.explained  # SWIR1, SWIR2
