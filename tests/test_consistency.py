"""Projection of a fused cube onto the degradation model, on Indian Pines."""

from __future__ import annotations

import dataclasses

import numpy as np

from s3rnet.baselines import get_method
from s3rnet.consistency import project_onto_inputs
from s3rnet.degrade import simulate, spatial_degrade
from s3rnet.metrics import psnr


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
    projected = project_onto_inputs(bicubic, inputs)
    assert _relative(spatial_degrade(projected, 4), inputs.lrhsi) < 1e-4
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
