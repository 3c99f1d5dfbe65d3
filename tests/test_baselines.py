"""Tests of s3rnet.baselines on the real Indian Pines test region and on constructed inputs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from s3rnet import metrics
from s3rnet.baselines import METHOD_INFO, METHODS, get_method
from s3rnet.baselines._common import band_correlation, covering_band, upsample
from s3rnet.baselines.hysime_gsa import estimate_noise, noise_variances, project_onto_subspace, signal_subspace
from s3rnet.baselines.hysime_wiener_hybrid import gsa_weights
from s3rnet.baselines.hysime_wiener_mtf import denoise, fit_denoiser
from s3rnet.baselines.mtf_glp_hpm import fuse as mtf_glp_hpm
from s3rnet.baselines.noise import hrmsi_band_snr
from s3rnet.degrade import add_awgn, simulate, spatial_degrade
from s3rnet.errors import ConfigError
from s3rnet.fusion import FusionInputs

FUSING = [
    "gsa", "mtf-glp-hpm", "cnmf", "hysime-gsa", "hysime-mtf", "hysime-wiener-mtf", "hysime-wiener-hybrid",
    "hysime-wiener-cnmf", "pca-wiener-cnmf",
]


@pytest.fixture(scope="module")
def inputs(oli4_simulation):
    return oli4_simulation.inputs()


@pytest.fixture(scope="module")
def fused(inputs):
    """Every method's output on the evaluation protocol's inputs, computed once."""
    return {name: method(inputs) for name, method in METHODS.items()}


@pytest.fixture(scope="module")
def scores(oli4_simulation, fused):
    return {name: metrics.evaluate_all(oli4_simulation.truth, cube) for name, cube in fused.items()}


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


def test_registry_lists_the_methods_with_their_descriptions():
    assert list(METHODS) == [
        "bicubic", "gsa", "mtf-glp-hpm", "cnmf", "hysime-gsa", "hysime-mtf", "hysime-wiener-mtf", "hysime-wiener-hybrid",
        "hysime-wiener-cnmf", "pca-wiener-cnmf",
    ]
    assert set(METHOD_INFO) == set(METHODS)
    for info in METHOD_INFO.values():
        assert info.label and info.description and info.reference
    assert METHOD_INFO["cnmf"].needs_srf and not METHOD_INFO["gsa"].needs_srf


def test_get_method_returns_the_registered_function():
    for name, method in METHODS.items():
        assert get_method(name) is method


def test_unknown_method_is_a_config_error_listing_the_names():
    with pytest.raises(ConfigError, match="bicubic, gsa, mtf-glp-hpm, cnmf"):
        get_method("pca")


# --------------------------------------------------------------------------------------------
# On the real test region
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(METHODS))
def test_output_shape_dtype_and_finite(name, fused, inputs):
    cube = fused[name]
    assert cube.shape == inputs.shape == (48, 144, 200)
    assert cube.dtype == np.float32
    assert np.isfinite(cube).all()


def test_bicubic_scores_as_the_reference_study(scores):
    # The earlier study of this region reported 25.10 dB and 2.97 degrees for bicubic.
    assert scores["bicubic"]["psnr"] == pytest.approx(25.10, abs=0.01)
    assert scores["bicubic"]["sam"] == pytest.approx(2.97, abs=0.01)


@pytest.mark.parametrize("name", FUSING)
def test_fusion_beats_bicubic_in_psnr_and_sam(name, scores):
    assert scores[name]["psnr"] > scores["bicubic"]["psnr"] + 4.0
    assert scores[name]["sam"] < scores["bicubic"]["sam"]


@pytest.mark.parametrize("name", ["gsa", "mtf-glp-hpm"])
def test_without_srf_the_detail_methods_still_fuse(name, oli4_simulation, inputs, scores):
    cube = METHODS[name](dataclasses.replace(inputs, srf=None))
    assert metrics.psnr(oli4_simulation.truth, cube) > scores["bicubic"]["psnr"] + 4.0


def test_mtf_glp_hpm_band_pan_beats_bicubic(oli4_simulation, inputs, scores):
    cube = mtf_glp_hpm(inputs, pan="band")
    assert metrics.psnr(oli4_simulation.truth, cube) > scores["bicubic"]["psnr"] + 4.0
    with pytest.raises(ConfigError, match="regression, band"):
        mtf_glp_hpm(inputs, pan="mean")


def test_hard_protocol_stays_sane(test_region):
    """oli6, Gaussian PSF and 15 dB noise on the LR-HSI: finite, and still better than bicubic."""
    simulation = simulate(
        test_region.cube, test_region.wavelengths, test_region.fwhm,
        msi="oli6", psf="gaussian", ratio=4, lrhsi_snr_db=15,
    )
    problem = simulation.inputs()
    reference = metrics.psnr(simulation.truth, METHODS["bicubic"](problem))
    for name in FUSING:
        cube = METHODS[name](problem)
        assert np.isfinite(cube).all(), name
        assert metrics.psnr(simulation.truth, cube) > reference, name


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


def test_bicubic_of_a_constant_cube_is_that_constant():
    lrhsi = np.full((6, 5, 3), 2.75, dtype=np.float32)
    problem = FusionInputs(lrhsi=lrhsi, hrmsi=np.ones((24, 20, 2), np.float32), ratio=4)
    np.testing.assert_allclose(METHODS["bicubic"](problem), 2.75, rtol=1e-6)


def test_bicubic_redegraded_with_the_box_psf_gives_back_the_lrhsi(inputs, fused):
    # Bicubic is no exact inverse of the box average, but it sits on the same grid: 1.5% here,
    # against 3.3% with the corner-aligned geometry and 7% with a shift of half an LR pixel.
    again = spatial_degrade(fused["bicubic"], inputs.ratio, "box")
    error = np.linalg.norm(again - inputs.lrhsi) / np.linalg.norm(inputs.lrhsi)
    assert error < 0.02


def test_upsample_keeps_the_half_pixel_geometry():
    # LR pixel i centred on HR coordinate i * r + (r - 1) / 2: the bicubic ramp is symmetric
    # about each block centre, so box-averaging it gives the LR ramp back (away from the
    # replicated borders); any other alignment would shift it.
    lr = np.arange(10, dtype=np.float32)[None, :, None].repeat(3, axis=0)
    again = spatial_degrade(upsample(lr, 4), 4, "box")[1, :, 0]
    np.testing.assert_allclose(again[2:-2], np.arange(2, 8), atol=1e-5)


@pytest.mark.parametrize("name", ["gsa", "mtf-glp-hpm"])
def test_msi_without_spatial_detail_adds_none(name, inputs, fused):
    up = fused["bicubic"]
    # A spatially constant MSI is exactly its own low-pass: nothing to inject.
    flat = np.broadcast_to(inputs.hrmsi.mean(axis=(0, 1)), inputs.hrmsi.shape).copy()
    np.testing.assert_allclose(METHODS[name](dataclasses.replace(inputs, hrmsi=flat)), up, atol=1e-5)
    # The projection of the upsampled HSI is nearly its own low-pass: little to inject.
    projected = up @ inputs.srf.T.astype(np.float32)
    cube = METHODS[name](dataclasses.replace(inputs, hrmsi=projected))
    assert np.linalg.norm(cube - up) < 0.25 * np.linalg.norm(fused[name] - up)


def test_covering_band_follows_the_srf_and_correlation_elsewhere(inputs):
    lrmsi = spatial_degrade(inputs.hrmsi, inputs.ratio, inputs.psf)
    band = covering_band(inputs.lrhsi, lrmsi, inputs.srf)
    wavelengths = inputs.wavelengths
    # OLI band 2 (blue) covers 450-510 nm, band 5 (NIR) 850-880 nm.
    assert set(band[(wavelengths > 460) & (wavelengths < 500)]) == {0}
    assert set(band[(wavelengths > 855) & (wavelengths < 875)]) == {3}
    # In the SWIR, beyond every OLI VNIR band, the best correlated MSI band is used.
    swir = wavelengths > 1000
    best = np.argmax(band_correlation(inputs.lrhsi, lrmsi), axis=1)
    np.testing.assert_array_equal(band[swir], best[swir])
    np.testing.assert_array_equal(covering_band(inputs.lrhsi, lrmsi, None), best)


def test_cnmf_refuses_to_run_without_srf(inputs):
    with pytest.raises(ConfigError, match="spectral response"):
        METHODS["cnmf"](dataclasses.replace(inputs, srf=None))


@pytest.mark.parametrize("name", FUSING)
def test_same_inputs_give_the_same_output(name, inputs, fused):
    np.testing.assert_array_equal(METHODS[name](inputs), fused[name])


# --------------------------------------------------------------------------------------------
# HySime-GSA
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_lrhsi(test_region):
    """The test region's LR-HSI without noise, bands in wavelength order."""
    order = np.argsort(test_region.wavelengths)
    return spatial_degrade(test_region.cube, 4, "box")[..., order]


def test_hysime_noise_estimate_finds_the_added_noise_power(clean_lrhsi):
    def estimated(cube):
        noise, regressors = estimate_noise(cube.reshape(-1, cube.shape[-1]))
        return np.mean(noise_variances(noise, regressors))

    noisy = add_awgn(clean_lrhsi, 25.0, np.random.default_rng(0))
    added = np.mean(np.square(noisy - clean_lrhsi))
    # What the estimate finds in the scene itself (its own noise, the regression's misfit) is
    # there before the noise is added; the regressors' own noise passes into the residual and
    # makes the estimate of the added noise too large (by 20% here), never too small.
    excess = estimated(noisy) - estimated(clean_lrhsi)
    assert added < excess < 1.3 * added


def test_hysime_keeps_fewer_components_as_the_noise_grows(clean_lrhsi):
    rng = np.random.default_rng(1)
    dimensions = [project_onto_subspace(add_awgn(clean_lrhsi, snr, rng))[1] for snr in (float("inf"), 35.0, 15.0)]
    assert dimensions[0] > dimensions[1] > dimensions[2] >= 2, dimensions


def test_hysime_finds_the_rank_of_a_low_rank_image_in_noise():
    # Many pixels, 6 spectra from a smooth family, white noise 20 dB under the signal: HySime's regime.
    rng = np.random.default_rng(2)
    bands = np.linspace(0.0, 1.0, 60)
    spectra = np.stack([np.exp(-((bands - c) / 0.25) ** 2) + 0.2 for c in np.linspace(0, 1, 6)])
    abundances = rng.dirichlet(np.ones(6), size=5000)
    signal = abundances @ spectra
    noisy = signal + rng.normal(0.0, 0.1 * signal.std(), signal.shape)
    basis, delta = signal_subspace(noisy)
    assert basis.shape[1] == 6, delta[:10]
    np.testing.assert_allclose(basis.T @ basis, np.eye(6), atol=1e-10)


def test_hysime_gsa_removes_most_of_the_noise_gsa_passes_on(test_region):
    simulation = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4", lrhsi_snr_db=15)
    problem = simulation.inputs()
    gsa_psnr = metrics.psnr(simulation.truth, METHODS["gsa"](problem))
    assert metrics.psnr(simulation.truth, METHODS["hysime-gsa"](problem)) > gsa_psnr + 6


def test_hysime_projection_follows_wavelength_order_not_list_order(clean_lrhsi):
    # The noise regression uses neighbours in wavelength: shuffling the bands, with their
    # wavelengths, gives the same projection.
    noisy = add_awgn(clean_lrhsi, 30.0, np.random.default_rng(3))
    wavelengths = np.linspace(400, 2500, noisy.shape[-1])
    shuffle = np.random.default_rng(4).permutation(noisy.shape[-1])
    projected, k = project_onto_subspace(noisy, wavelengths)
    shuffled, k_shuffled = project_onto_subspace(noisy[..., shuffle], wavelengths[shuffle])
    assert k == k_shuffled
    np.testing.assert_allclose(shuffled, projected[..., shuffle], rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------------------------
# HySime-Wiener-MTF
# --------------------------------------------------------------------------------------------


def test_wiener_residual_keeps_what_the_subspace_drops_of_clean_inputs(clean_lrhsi):
    basis, gains = fit_denoiser(clean_lrhsi)
    projected, _ = project_onto_subspace(clean_lrhsi)
    denoised = denoise(clean_lrhsi, basis, gains)
    assert gains.mean() > 0.5
    # Closer to the (clean) LR-HSI than the projection (50.4 against 40.4 dB when written):
    # most of the dropped signal is back.
    assert metrics.psnr(clean_lrhsi, denoised) > metrics.psnr(clean_lrhsi, projected) + 5


def test_wiener_residual_of_noisy_inputs_is_the_projection(clean_lrhsi):
    noisy = add_awgn(clean_lrhsi, 15.0, np.random.default_rng(5))
    basis, gains = fit_denoiser(noisy)
    projected, k = project_onto_subspace(noisy)
    assert basis.shape[1] == k and gains.max() < 0.1
    error = {
        "projected": np.mean(np.square(projected - clean_lrhsi)),
        "wiener": np.mean(np.square(denoise(noisy, basis, gains) - clean_lrhsi)),
    }
    assert error["wiener"] < 1.01 * error["projected"], error


def test_hysime_wiener_mtf_is_near_mtf_glp_hpm_clean_and_hysime_mtf_in_noise(test_region):
    clean = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli6").inputs()
    noisy_simulation = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli6",
                                lrhsi_snr_db=15)
    truth, noisy = noisy_simulation.truth, noisy_simulation.inputs()
    psnr = {name: metrics.psnr(truth, METHODS[name](clean)) for name in ("mtf-glp-hpm", "hysime-mtf", "hysime-wiener-mtf")}
    assert psnr["hysime-wiener-mtf"] > psnr["hysime-mtf"] + 0.5 and psnr["hysime-wiener-mtf"] > psnr["mtf-glp-hpm"] - 0.3, psnr
    noisy_psnr = {name: metrics.psnr(truth, METHODS[name](noisy)) for name in ("hysime-mtf", "hysime-wiener-mtf")}
    assert abs(noisy_psnr["hysime-wiener-mtf"] - noisy_psnr["hysime-mtf"]) < 0.05, noisy_psnr


# --------------------------------------------------------------------------------------------
# HySime-Wiener-Hybrid
# --------------------------------------------------------------------------------------------


def test_hybrid_takes_gsa_only_in_covered_bands_and_as_far_as_they_are_noisy(test_region):
    from s3rnet.degrade import spectral_response

    srf = spectral_response("oli4", test_region.wavelengths, test_region.fwhm)
    gains = np.linspace(0.0, 1.0, test_region.bands)
    weights = gsa_weights(gains, srf)
    visible = (test_region.wavelengths > 450) & (test_region.wavelengths < 860)
    swir = test_region.wavelengths > 1000
    # OLI's blue-to-NIR bands cover some bands between 450 and 860 nm and none in the SWIR.
    assert (weights[swir] == 0).all() and (weights[visible] > 0).any()
    covered = weights > 0
    np.testing.assert_allclose(weights[covered], 1.0 - gains[covered])
    assert not gsa_weights(gains, None).any()


def test_hybrid_gains_on_noisy_inputs_keeps_clean_ones_and_needs_the_response(test_region):
    """Measured when written (oli6, test region): clean 35.63 against HySime-Wiener-MTF's 35.60 dB,
    15 dB 24.71 against 23.86 (HySime-GSA 24.64)."""
    clean = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli6").inputs()
    noisy_simulation = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli6",
                                lrhsi_snr_db=15)
    truth, noisy = noisy_simulation.truth, noisy_simulation.inputs()
    names = ("hysime-wiener-mtf", "hysime-wiener-hybrid")
    clean_psnr = {name: metrics.psnr(truth, METHODS[name](clean)) for name in names}
    noisy_psnr = {name: metrics.psnr(truth, METHODS[name](noisy)) for name in names}
    assert abs(clean_psnr["hysime-wiener-hybrid"] - clean_psnr["hysime-wiener-mtf"]) < 0.1, clean_psnr
    assert noisy_psnr["hysime-wiener-hybrid"] > noisy_psnr["hysime-wiener-mtf"] + 0.5, noisy_psnr
    without_response = dataclasses.replace(noisy, srf=None)
    np.testing.assert_array_equal(
        METHODS["hysime-wiener-hybrid"](without_response), METHODS["hysime-wiener-mtf"](without_response)
    )


def test_only_the_estimates_that_need_the_response_are_given_it(test_region):
    """Networks correcting GSA were trained on estimates made without the response (GSA then pairs
    bands by correlation); the hybrid's estimate needs it (PCA-Wiener-CNMF's too, below)."""
    from s3rnet.estimates import classical_estimate

    simulation = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4", lrhsi_snr_db=15)
    lr, hr, wl, srf = simulation.lrhsi, simulation.hrmsi, test_region.wavelengths, simulation.srf
    for name in ("gsa", "hysime-gsa"):
        np.testing.assert_array_equal(classical_estimate(name, lr, hr, 4, "box", wl, srf),
                                      classical_estimate(name, lr, hr, 4, "box", wl))
    hybrid = classical_estimate("hysime-wiener-hybrid", lr, hr, 4, "box", wl, srf)
    np.testing.assert_array_equal(hybrid, METHODS["hysime-wiener-hybrid"](simulation.inputs()))
    assert not np.array_equal(hybrid, classical_estimate("hysime-wiener-hybrid", lr, hr, 4, "box", wl))


def test_the_coupled_estimate_reads_the_response_in_the_units_of_the_normalised_images(test_region):
    """PCA-Wiener-CNMF ties the two images by ``R X_h = X_m``; each is normalised by its own scale,
    so the response must be rescaled with them. Measured when written (oli4, test region, clean):
    31.40 dB in the scene's units, 31.26 on the normalised images with the rescaled response, 10.22
    with the response as measured (the mismatch is read as noise and CNMF couples wrong values)."""
    from s3rnet.degrade import InputNormalisation
    from s3rnet.estimates import classical_estimate

    simulation = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4")
    inputs, truth = simulation.inputs(), simulation.truth
    scales = InputNormalisation.fit(inputs.lrhsi, inputs.hrmsi, "global")
    low, high = scales.normalise(inputs.lrhsi, inputs.hrmsi)
    in_units = metrics.psnr(truth, METHODS["pca-wiener-cnmf"](inputs))
    rescaled = metrics.psnr(truth, scales.denormalise(
        classical_estimate("pca-wiener-cnmf", low, high, 4, "box", test_region.wavelengths, simulation.srf, scales)))
    as_measured = metrics.psnr(truth, scales.denormalise(
        METHODS["pca-wiener-cnmf"](dataclasses.replace(inputs, lrhsi=low, hrmsi=high))))
    assert rescaled > in_units - 0.3 and as_measured < rescaled - 10.0, (in_units, rescaled, as_measured)
    with pytest.raises(ConfigError, match="needs the images' normalisation"):
        classical_estimate("pca-wiener-cnmf", low, high, 4, "box", test_region.wavelengths, simulation.srf)


# --------------------------------------------------------------------------------------------
# HySime-Wiener-CNMF
# --------------------------------------------------------------------------------------------


def test_hysime_wiener_cnmf_is_cnmf_of_the_denoised_lrhsi_and_survives_noise(test_region):
    """Measured when written (oli4, test region, 200 bands): clean CNMF 31.40, HySime-Wiener-CNMF
    31.18 dB; 15 dB CNMF 15.23, HySime-Wiener-CNMF 24.16 (HySime-Wiener-Hybrid 23.94)."""
    from s3rnet.baselines import cnmf

    clean = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4").inputs()
    noisy_simulation = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4",
                                lrhsi_snr_db=15)
    truth, noisy = noisy_simulation.truth, noisy_simulation.inputs()
    denoised = METHODS["hysime-wiener-cnmf"](noisy)
    basis, gains = fit_denoiser(noisy.lrhsi, noisy.wavelengths)
    np.testing.assert_array_equal(denoised, cnmf.fuse(dataclasses.replace(noisy, lrhsi=denoise(noisy.lrhsi, basis, gains))))
    noisy_psnr = {"cnmf": metrics.psnr(truth, cnmf.fuse(noisy)), "hysime-wiener-cnmf": metrics.psnr(truth, denoised)}
    assert noisy_psnr["hysime-wiener-cnmf"] > noisy_psnr["cnmf"] + 5.0, noisy_psnr
    clean_psnr = {name: metrics.psnr(truth, METHODS[name](clean)) for name in ("cnmf", "hysime-wiener-cnmf")}
    assert clean_psnr["hysime-wiener-cnmf"] > clean_psnr["cnmf"] - 0.5, clean_psnr
    with pytest.raises(ConfigError, match="HySime-Wiener-CNMF needs the spectral response"):
        METHODS["hysime-wiener-cnmf"](dataclasses.replace(noisy, srf=None))


# --------------------------------------------------------------------------------------------
# PCA-Wiener-CNMF
# --------------------------------------------------------------------------------------------


def test_pca_wiener_cnmf_is_cnmf_on_clean_inputs_and_denoises_by_the_measured_noise(test_region):
    """Measured when written (oli4, test region, 200 bands): clean CNMF and PCA-Wiener-CNMF both
    31.40 dB; at 15 dB CNMF 15.23, PCA-Wiener-CNMF 22.91 (5 components), HySime-Wiener-CNMF 24.16."""
    from s3rnet.baselines import cnmf, pca_wiener_cnmf
    from s3rnet.baselines.noise import lrhsi_noise_power

    clean = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4").inputs()
    basis, _ = pca_wiener_cnmf.fit_known_noise_denoiser(clean.lrhsi, lrhsi_noise_power(clean))
    assert basis.shape[1] == clean.lrhsi.shape[-1]
    np.testing.assert_allclose(METHODS["pca-wiener-cnmf"](clean), cnmf.fuse(clean), atol=1e-4)

    noisy_simulation = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4",
                                lrhsi_snr_db=15)
    truth, noisy = noisy_simulation.truth, noisy_simulation.inputs()
    noise_power = lrhsi_noise_power(noisy)
    basis, gains = pca_wiener_cnmf.fit_known_noise_denoiser(noisy.lrhsi, noise_power)
    assert 1 <= basis.shape[1] <= 10 and gains.mean() < 0.1, (basis.shape, gains.mean())
    pixels = noisy.lrhsi.reshape(-1, noisy.lrhsi.shape[-1]).astype(np.float64)
    assert np.all(np.linalg.eigvalsh(basis.T @ (pixels.T @ pixels / len(pixels)) @ basis)
                  > pca_wiener_cnmf.noise_edge(*pixels.shape) * noise_power)
    fused = METHODS["pca-wiener-cnmf"](noisy)
    np.testing.assert_array_equal(fused, cnmf.fuse(dataclasses.replace(noisy, lrhsi=denoise(noisy.lrhsi, basis, gains))))
    assert metrics.psnr(truth, fused) > metrics.psnr(truth, cnmf.fuse(noisy)) + 5.0
    with pytest.raises(ConfigError, match="PCA-Wiener-CNMF needs the spectral response"):
        METHODS["pca-wiener-cnmf"](dataclasses.replace(noisy, srf=None))


def test_noise_edge_is_the_largest_eigenvalue_of_white_noise():
    from s3rnet.baselines.pca_wiener_cnmf import noise_edge

    rng = np.random.default_rng(0)
    for pixels, bands in ((576, 172), (2304, 172)):
        noise = rng.standard_normal((pixels, bands))
        largest = np.linalg.eigvalsh(noise.T @ noise / pixels)[-1]
        assert 0.9 < largest / noise_edge(pixels, bands) < 1.1, (pixels, largest, noise_edge(pixels, bands))


def test_methods_all_names_every_registered_method_and_s3rnet_with_a_checkpoint():
    from s3rnet.evaluation import method_names

    assert method_names("all") == list(METHODS)
    assert method_names("all", checkpoint="lite-oli4") == [*METHODS, "s3rnet"]
    assert method_names("hysime-gsa, all") == ["hysime-gsa", *(m for m in METHODS if m != "hysime-gsa")]
    with pytest.raises(ConfigError, match="no method"):
        method_names(" , ")


# --------------------------------------------------------------------------------------------
# The HR-MSI's noise, estimated from the image
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_hrmsi(test_region):
    """The test region seen by OLI's 6 bands, without noise."""
    return simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli6").hrmsi


def test_hrmsi_band_snr_reads_the_noise_added_to_each_band(clean_hrmsi):
    clean = hrmsi_band_snr(clean_hrmsi)
    assert clean.shape == (6,) and clean.min() > 30.0, clean
    for snr in (20.0, 15.0):
        noisy = add_awgn(clean_hrmsi, snr, np.random.default_rng(1), per_band=True)
        estimated = hrmsi_band_snr(noisy)
        # Texture a band shares with no other counts as noise: the estimate errs low, a little.
        assert np.all((estimated > snr - 1.5) & (estimated < snr + 0.5)), (snr, estimated)


def test_hrmsi_band_snr_finds_the_one_noisy_band(clean_hrmsi):
    rng = np.random.default_rng(2)
    noisy = clean_hrmsi.copy()
    noisy[..., 5] = add_awgn(clean_hrmsi[..., 5:6], 15.0, rng)[..., 0]
    estimated = hrmsi_band_snr(noisy)
    assert 13.5 < estimated[5] < 15.5
    assert np.delete(estimated, 5).min() > 30.0, estimated


def test_hrmsi_band_snr_of_a_band_without_noise_is_infinite():
    rows, cols = np.mgrid[0:32, 0:32].astype(np.float64)
    plane = np.stack([rows + 2 * cols + 10, np.full_like(rows, 5.0)], axis=-1)
    assert np.all(np.isinf(hrmsi_band_snr(plane)))
