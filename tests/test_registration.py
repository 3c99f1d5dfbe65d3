"""Phase-correlation registration on real Indian Pines pairs with known shifts."""

from __future__ import annotations

import numpy as np
import pytest

from s3rnet.degrade import shift_image, simulate, spatial_degrade
from s3rnet.errors import ShapeError
from s3rnet.registration import correct_shift, estimate_shift, phase_correlation

# Stated tolerance: 0.05 LR pixel on 48x48 LR pixels (the measured error was at most 0.02).
TOLERANCE = 0.05


def views(sim, psf="box"):
    """The HR-MSI on the LR grid and the LR-HSI seen through the response: the same bands on one grid."""
    return spatial_degrade(sim.hrmsi, 4, psf), sim.lrhsi @ sim.srf.T.astype(np.float32)


@pytest.mark.parametrize("shift, psf, snr", [
    ((0.0, 0.0), "box", np.inf),
    ((0.4, -0.15), "box", np.inf),
    ((-1.3, 0.7), "gaussian", 35.0),
    ((2.6, -3.1), "box", 30.0),
])
def test_known_shifts_are_recovered(indian_pines, shift, psf, snr):
    cube = indian_pines.cube[:144, :144][48:144, :96]
    sim = simulate(cube, indian_pines.wavelengths, indian_pines.fwhm, msi="s2-4", psf=psf, shift=shift,
                   lrhsi_snr_db=snr, seed=3)
    reference, moving = views(sim, psf)
    estimate = estimate_shift(reference, moving)
    assert np.allclose(estimate, shift, atol=TOLERANCE), (estimate, shift)


def test_one_pass_is_coarser_than_the_iterated_estimate(indian_pines):
    sim = simulate(indian_pines.cube[48:144, :96], indian_pines.wavelengths, indian_pines.fwhm, msi="oli4",
                   shift=(0.45, 0.45))
    reference, moving = views(sim)
    once = np.abs(np.subtract(phase_correlation(reference, moving), (0.45, 0.45))).max()
    iterated = np.abs(np.subtract(estimate_shift(reference, moving), (0.45, 0.45))).max()
    assert iterated <= once and iterated < TOLERANCE


def test_correcting_the_shift_brings_the_images_together(indian_pines):
    sim = simulate(indian_pines.cube[48:144, :96], indian_pines.wavelengths, indian_pines.fwhm, msi="oli4",
                   shift=(0.5, -0.5))
    aligned = simulate(indian_pines.cube[48:144, :96], indian_pines.wavelengths, indian_pines.fwhm, msi="oli4")
    reference, moving = views(sim)
    fixed = correct_shift(sim.lrhsi, estimate_shift(reference, moving))
    inner = (slice(3, -3), slice(3, -3))
    before = np.abs(sim.lrhsi[inner] - aligned.lrhsi[inner]).mean()
    after = np.abs(fixed[inner] - aligned.lrhsi[inner]).mean()
    # Two cubic-spline resamplings (the simulated shift and its correction) smooth the image: the
    # error left is the smoothing (measured 0.40 of the error before), not misregistration.
    assert after < 0.5 * before


def test_sign_convention_follows_shift_image():
    rng = np.random.default_rng(0)
    image = np.cumsum(np.cumsum(rng.standard_normal((40, 40, 2)), axis=0), axis=1)
    moved = shift_image(image, (1.0, -2.0))
    assert np.allclose(estimate_shift(image, moved), (1.0, -2.0), atol=TOLERANCE)


def test_mismatched_or_tiny_images_are_refused():
    with pytest.raises(ShapeError, match="one shape"):
        phase_correlation(np.zeros((8, 8, 2)), np.zeros((8, 9, 2)))
    with pytest.raises(ShapeError, match="at least 4x4"):
        phase_correlation(np.ones((3, 3, 1)), np.ones((3, 3, 1)))
