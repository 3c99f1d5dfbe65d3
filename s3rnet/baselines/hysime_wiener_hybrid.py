"""HySime-Wiener-Hybrid: on the LR-HSI denoised as in HySime-Wiener-MTF, GSA's additive detail
injection in the bands the MSI covers where the denoiser found them noisy, MTF-GLP-HPM's
multiplicative modulation everywhere else.

On a denoised but still noisy LR-HSI the two detail models fail differently. MTF-GLP-HPM
(:mod:`s3rnet.baselines.mtf_glp_hpm`) multiplies each upsampled band by ``P / P_low``, so the
noise left in the band scales the detail it receives; GSA (:mod:`s3rnet.baselines.gsa`) adds the
detail of the MSI band that covers it, with a gain regressed over the whole image. On the Indian
Pines val region at 15 dB (aviris-172 grid, box PSF, ratio 4) GSA on the HySime-projected LR-HSI
beat MTF-GLP-HPM on it by 1.3-1.5 dB in the bands an MSI band covers and lost by up to 0.7 dB in
the others; on clean inputs MTF-GLP-HPM is the better of the two in every band.

The Wiener gain ``g_l`` of :func:`s3rnet.baselines.hysime_wiener_mtf.residual_gains` says how
much of band ``l`` outside the signal subspace is signal: about 0.7 on clean inputs, 0.00-0.01
from 35 dB down. Each covered band takes ``w_l = 1 - g_l`` of GSA and ``1 - w_l`` of MTF-GLP-HPM;
a band no MSI band covers takes MTF-GLP-HPM alone. Without the MSI's spectral response nothing
counts as covered and the method is HySime-Wiener-MTF.

Measured on the validation problems of the training configs (Indian Pines val region and the
four synthetic val seeds in both units, aviris-172 grid), PSNR in dB, clean / 35 / 25 / 15 dB,
against HySime-Wiener-MTF:

* oli4, Indian Pines val: 30.71 / 30.15 / 28.76 / 24.69 against 30.68 / 30.05 / 28.59 / 24.36;
  synthetic val: 34.07 / 33.47 / 32.18 / 29.09 against 34.20 / 33.52 / 31.87 / 28.46;
* oli6, Indian Pines val: 37.66 / 34.96 / 31.60 / 25.79 against 37.63 / 34.37 / 30.79 / 24.97;
  synthetic val: 38.62 / 37.73 / 35.77 / 31.55 against 38.83 / 37.76 / 35.22 / 30.47.

GSA alone on the denoised LR-HSI scored 0.2-2.5 dB under this blend in 14 of the 16 cases; it led
on oli6 Indian Pines val at 25 and 15 dB (31.66 and 26.13 dB).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..fusion import FusionInputs
from . import gsa, mtf_glp_hpm
from ._common import covered_bands
from .hysime_wiener_mtf import denoise, fit_denoiser


def gsa_weights(gains: np.ndarray, srf: np.ndarray | None) -> np.ndarray:
    """The share of GSA in each band: ``1 - gains`` where an MSI band covers it, else 0.

    Parameters
    ----------
    gains : ndarray, shape (C,)
        The Wiener gains of the LR-HSI's residual outside its signal subspace.
    srf : ndarray, shape (M, C), optional

    Returns
    -------
    ndarray, shape (C,), float64, in [0, 1]
    """
    if srf is None:
        return np.zeros(len(gains))
    return np.where(covered_bands(srf), 1.0 - np.asarray(gains, dtype=np.float64), 0.0)


def blend(gsa_cube: np.ndarray, mtf_cube: np.ndarray, weights: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``weights * gsa_cube + (1 - weights) * mtf_cube`` band by band, float32.

    Parameters
    ----------
    gsa_cube, mtf_cube : ndarray, shape (H, W, C)
    weights : ndarray, shape (C,)
    out : ndarray, shape (H, W, C), float32, optional
        Where to write the blend; it may be ``gsa_cube`` itself (a tile's fusion does so, to hold
        no third cube).
    """
    blended = np.subtract(gsa_cube, mtf_cube, out=out, dtype=np.float32)
    blended *= weights.astype(np.float32)
    blended += mtf_cube
    return blended


def fuse(inputs: FusionInputs) -> np.ndarray:
    """GSA and MTF-GLP-HPM of the LR-HSI denoised by
    :func:`s3rnet.baselines.hysime_wiener_mtf.denoise`, blended band by band by
    :func:`gsa_weights`.

    Parameters
    ----------
    inputs : FusionInputs
        ``srf`` decides which bands the MSI covers; without it this is HySime-Wiener-MTF.

    Returns
    -------
    ndarray, shape (H, W, C), float32

    References
    ----------
    .. [1] J. M. Bioucas-Dias and J. M. P. Nascimento, "Hyperspectral subspace identification",
           IEEE Transactions on Geoscience and Remote Sensing 46(8), 2008, pp. 2435-2445.
    .. [2] B. Aiazzi, S. Baronti and M. Selva, "Improving component substitution pansharpening
           through multivariate regression of MS+Pan data", IEEE Transactions on Geoscience
           and Remote Sensing 45(10), 2007, pp. 3230-3239.
    .. [3] B. Aiazzi, L. Alparone, S. Baronti, A. Garzelli and M. Selva, "MTF-tailored
           multiscale fusion of high-resolution MS and Pan imagery", Photogrammetric
           Engineering & Remote Sensing 72(5), 2006, pp. 591-596.
    """
    basis, gains = fit_denoiser(inputs.lrhsi, inputs.wavelengths)
    denoised = dataclasses.replace(inputs, lrhsi=denoise(inputs.lrhsi, basis, gains))
    weights = gsa_weights(gains, inputs.srf)
    mtf_cube = mtf_glp_hpm.fuse(denoised)
    if not weights.any():
        return mtf_cube
    return blend(gsa.fuse(denoised), mtf_cube, weights)
