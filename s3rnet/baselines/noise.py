"""The inputs' noise, measured from the inputs alone.

The LR-HSI's noise power is shared by the projection onto the inputs (:mod:`s3rnet.consistency`)
and the classical methods that denoise the LR-HSI by a known noise power
(:mod:`s3rnet.baselines.pca_wiener_cnmf`); the HR-MSI's, band by band, is what ``fuse`` reports
of a real pair's HR-MSI (:func:`hrmsi_band_snr`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..fusion import FusionInputs
from ._common import degrade_like
from .hysime_gsa import estimate_noise, noise_variances, wavelength_order


def lrhsi_noise_power(inputs: FusionInputs) -> float:
    """The LR-HSI's noise power per value (white noise, in the inputs' units), from the inputs alone.

    With an MSI response, from what the two images disagree on: a noise-free pair satisfies
    ``R X_h = S B X_m``, so with a noise-free HR-MSI the mean square of ``R X_h - S B X_m`` over
    LR pixels and MSI bands is ``sigma^2 * ||R||_F^2 / M``. Without a response, HySime's
    regression of each band on its neighbours (:func:`s3rnet.baselines.hysime_gsa.estimate_noise`),
    which also counts what the neighbours cannot predict as noise.

    Parameters
    ----------
    inputs : FusionInputs

    Returns
    -------
    float
        ``sigma^2``, at least 0.

    Notes
    -----
    Anything else that breaks ``R X_h = S B X_m`` counts as noise: HR-MSI noise, a response or
    PSF that is not the one the images were made with, misregistration. That errs on the safe
    side: more noise means a smaller change to the fused cube, and a stronger denoiser.
    """
    lrhsi = inputs.lrhsi.astype(np.float64)
    if inputs.srf is None:
        pixels, _ = wavelength_order(lrhsi, inputs.wavelengths)
        return float(np.mean(noise_variances(*estimate_noise(pixels))))
    response = np.asarray(inputs.srf, dtype=np.float64)
    disagreement = lrhsi @ response.T - degrade_like(inputs.hrmsi.astype(np.float64), inputs)
    return float(np.sum(np.mean(np.square(disagreement), axis=(0, 1))) / np.sum(np.square(response)))


def lrhsi_band_noise(lrhsi: np.ndarray, wavelengths: np.ndarray | None = None) -> np.ndarray:
    """Each LR-HSI band's noise power, from the image alone (HySime's regression of each band on its
    neighbours in wavelength order, :func:`s3rnet.baselines.hysime_gsa.estimate_noise`).

    Parameters
    ----------
    lrhsi : ndarray, shape (h, w, C)
    wavelengths : ndarray, shape (C,), optional
        Band centres; the file's order is taken as the wavelengths' without them.

    Returns
    -------
    ndarray, shape (C,), float64
        In the file's band order; what the neighbours cannot predict counts as noise too.
    """
    pixels, order = wavelength_order(lrhsi, wavelengths)
    variances = np.empty(lrhsi.shape[-1])
    variances[order] = noise_variances(*estimate_noise(pixels))
    return variances


# Immerkaer's mask: the difference of two Laplacians, blind to a local plane and to most of a
# smooth image; white noise of variance sigma^2 leaves sigma^2 times the sum of its squared taps.
_NOISE_MASK = np.array([[1.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 1.0]])
# The median absolute deviation of a Gaussian, in standard deviations.
_MAD_TO_SIGMA = 1.4826


def hrmsi_noise_variances(hrmsi: np.ndarray) -> np.ndarray:
    """Each HR-MSI band's noise variance, from the image alone.

    Each band is filtered by Immerkaer's mask [1]_; what the other bands' filtered images explain
    (edges and texture that all bands share) is regressed out, and the variance is read from the
    median absolute deviation of the rest, so that the edges the regression leaves count little.

    Parameters
    ----------
    hrmsi : ndarray, shape (H, W, M)
        At least 3 x 3 pixels.

    Returns
    -------
    ndarray, shape (M,), float64

    Notes
    -----
    Texture that a band does not share with the others counts as noise, so the estimate errs
    towards more noise (a lower SNR), the more so the cleaner the band. On the validation scenes
    (the Indian Pines val region and 24 synthetic val scenes) with OLI 6-band / 4-band HR-MSIs and
    white noise added to each band at the SNR given (``benchmarks/msi_noise_estimate.py``;
    noise seed 1), the SNR read from it, lowest / median / highest over scenes and bands:

    ===========  =========================  =========================
    band SNR     OLI 6-band                 OLI 4-band
    ===========  =========================  =========================
    clean        30.4 / 37.2 / 46.5         26.7 / 36.0 / 44.4
    40 dB        27.9 / 33.9 / 37.9         24.7 / 32.8 / 37.5
    30 dB        22.7 / 27.5 / 29.6         21.9 / 26.9 / 29.6
    25 dB        20.3 / 23.4 / 25.1         20.5 / 23.1 / 25.0
    20 dB        17.6 / 19.0 / 20.2         17.8 / 19.0 / 20.2
    15 dB        13.8 / 14.5 / 15.3         14.1 / 14.6 / 15.4
    ===========  =========================  =========================

    References
    ----------
    .. [1] J. Immerkaer, "Fast noise variance estimation", Computer Vision and Image
           Understanding 64(2), 1996, pp. 300-302.
    """
    image = np.asarray(hrmsi, dtype=np.float64)
    if image.ndim != 3 or min(image.shape[:2]) < 3:
        raise ValueError(f"an HR-MSI of at least 3 x 3 pixels is needed (H, W, M), got shape {image.shape}")
    filtered = np.stack(
        [ndimage.convolve(image[..., band], _NOISE_MASK, mode="reflect")[1:-1, 1:-1] for band in range(image.shape[-1])],
        axis=-1,
    ).reshape(-1, image.shape[-1])
    variances = np.empty(image.shape[-1])
    for band in range(image.shape[-1]):
        rest = filtered[:, band]
        others = np.delete(filtered, band, axis=1)
        if others.shape[1]:
            beta, *_ = np.linalg.lstsq(others, rest, rcond=None)
            rest = rest - others @ beta
        deviation = _MAD_TO_SIGMA * np.median(np.abs(rest - np.median(rest)))
        variances[band] = deviation**2 / np.sum(np.square(_NOISE_MASK))
    return variances


def hrmsi_band_snr(hrmsi: np.ndarray) -> np.ndarray:
    """Each HR-MSI band's SNR in dB: its mean square over :func:`hrmsi_noise_variances`.

    Parameters
    ----------
    hrmsi : ndarray, shape (H, W, M)

    Returns
    -------
    ndarray, shape (M,), float64
        ``inf`` for a band without measurable noise (a constant or piecewise-planar one).
    """
    power = np.mean(np.square(np.asarray(hrmsi, dtype=np.float64)), axis=(0, 1))
    noise = hrmsi_noise_variances(hrmsi)
    with np.errstate(divide="ignore"):
        return np.where(noise > 0, 10.0 * np.log10(power / np.where(noise > 0, noise, 1.0)), np.inf)
