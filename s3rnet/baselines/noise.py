"""The LR-HSI's noise power, measured from the inputs alone.

Shared by the projection onto the inputs (:mod:`s3rnet.consistency`) and the classical methods
that denoise the LR-HSI by a known noise power (:mod:`s3rnet.baselines.pca_wiener_cnmf`).
"""

from __future__ import annotations

import numpy as np

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
