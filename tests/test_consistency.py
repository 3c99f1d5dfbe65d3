"""Projection of a fused cube onto its inputs as far as their noise allows, on Indian Pines."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from s3rnet.baselines import get_method
from s3rnet.consistency import lrhsi_noise_power, project_onto_inputs
from s3rnet.degrade import simulate, spatial_degrade
from s3rnet.errors import ConfigError
from s3rnet.metrics import psnr


def _rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(a, dtype=np.float64))))


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


def test_projected_cube_reproduces_both_inputs_and_loses_nothing(oli4_simulation):
    inputs = oli4_simulation.inputs()
    gsa = get_method("gsa")(inputs)
    projected = project_onto_inputs(gsa, inputs)
    assert _relative(spatial_degrade(gsa, 4), inputs.lrhsi) > 1e-2
    assert _relative(spatial_degrade(projected, 4), inputs.lrhsi) < 1e-4
    assert _relative(projected @ inputs.srf.T, inputs.hrmsi) < 1e-4
    assert psnr(oli4_simulation.truth, projected) >= psnr(oli4_simulation.truth, gsa)


def test_without_a_response_only_the_lrhsi_is_reproduced(oli4_simulation):
    inputs = dataclasses.replace(oli4_simulation.inputs(), srf=None)
    bicubic = get_method("bicubic")(inputs)
    projected = project_onto_inputs(bicubic, inputs, noise_power=0.0)
    assert _relative(spatial_degrade(projected, 4), inputs.lrhsi) < 1e-4
    # Without a response the noise is HySime's estimate, which counts what neighbouring bands
    # cannot predict as noise: part of the residual stays, more of it the more noise is weighed.
    residual = [_rms(spatial_degrade(cube, 4) - inputs.lrhsi)
                for cube in (bicubic, *(project_onto_inputs(bicubic, inputs, factor=k) for k in (16.0, 1.0)))]
    assert residual[0] > residual[1] > residual[2] > 0.1 * residual[0]
    assert residual[2] < 0.7 * residual[0]
    # Bicubic's error is mostly spatial detail the LR-HSI cannot see: the change stays small.
    assert np.abs(projected - bicubic).mean() < np.abs(oli4_simulation.truth - bicubic).mean()


def test_gaussian_psf_residual_shrinks(test_region):
    simulation = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4", psf="gaussian")
    inputs = simulation.inputs()
    gsa = get_method("gsa")(inputs)
    projected = project_onto_inputs(gsa, inputs, iterations=20)
    low = lambda cube: spatial_degrade(cube, 4, "gaussian")  # noqa: E731
    assert _relative(low(projected), inputs.lrhsi) < 0.1 * _relative(low(gsa), inputs.lrhsi)
    assert np.isfinite(projected).all()


def _noisy(test_region, snr_db):
    return simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4", lrhsi_snr_db=snr_db, seed=0)


def _added_noise_power(simulation) -> float:
    return float(np.mean(np.square(simulation.lrhsi - spatial_degrade(simulation.truth, 4))))


def test_the_lrhsi_noise_is_read_off_what_the_two_images_disagree_on(test_region, oli4_simulation):
    for snr_db in (35, 15):
        simulation = _noisy(test_region, snr_db)
        assert lrhsi_noise_power(simulation.inputs()) == pytest.approx(_added_noise_power(simulation), rel=0.1)
    # Noise-free inputs agree up to rounding.
    assert lrhsi_noise_power(oli4_simulation.inputs()) < 1e-8 * _added_noise_power(_noisy(test_region, 35))


def test_noisy_inputs_are_reproduced_only_as_far_as_their_noise_allows(test_region):
    simulation = _noisy(test_region, 35)
    inputs = simulation.inputs()
    estimate = get_method("hysime-wiener-hybrid")(inputs)
    projected = project_onto_inputs(estimate, inputs)
    assert np.isfinite(projected).all()
    assert psnr(simulation.truth, projected) > psnr(simulation.truth, estimate)
    # The HR-MSI is taken as noise-free and reproduced.
    assert _relative(projected @ inputs.srf.T, inputs.hrmsi) < 1e-3
    # Taken as noise-free, the same inputs put their noise back with a gain: the damping is what
    # keeps the projection from blowing up.
    undamped = project_onto_inputs(estimate, inputs, noise_power=0.0)
    assert psnr(simulation.truth, undamped) < psnr(simulation.truth, estimate) - 3.0


def test_the_noise_factor_must_be_a_positive_number(oli4_simulation):
    inputs = oli4_simulation.inputs()
    cube = get_method("bicubic")(inputs)
    for factor in (0.0, -1.0, float("inf"), True):
        with pytest.raises(ConfigError, match="noise factor"):
            project_onto_inputs(cube, inputs, factor=factor)
