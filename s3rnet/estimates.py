"""Classical estimates a network may correct (skip ``"estimate"``).

The network learns the residual between the ground truth and one of these fusions, computed on
the normalised inputs of each problem, in training and at inference alike. Only those of
:data:`RESPONSE_ESTIMATES` are given the MSI's spectral response: ``"hysime-wiener-hybrid"`` to know
which bands the MSI covers; a network that corrects it is given the response it was trained with.
The others run without it, as the networks correcting them were trained (GSA would otherwise pair
bands by the response, not by correlation).
``"hysime-gsa"`` (GSA on the LR-HSI projected onto its HySime signal subspace) is the
noise-robust one: about 30 ms on a 48 x 48 x 172 training patch on one core, against 14 ms for GSA.

``"pca-wiener-cnmf"`` couples the two images through the response (``R X_h = X_m`` measures the
LR-HSI's noise and ties CNMF's two unmixings), so it is given the response in the units of the
normalised images (:data:`COUPLED_ESTIMATES`, :meth:`s3rnet.degrade.InputNormalisation.response`):
each image is divided by its own scale, and with the response as measured the mismatch reads as
noise (on the Indian Pines test region, oli4, clean: 31.26 dB rescaled, 10.22 as measured, 31.40
in the scene's units). About 0.6 s on a 48 x 48 x 172 training patch on one core, against 56 ms
for the hybrid; a 500-step study with it as the skip is in docs/training.md.
"""

from __future__ import annotations

import numpy as np

from .baselines import get_method
from .degrade import InputNormalisation
from .errors import ConfigError
from .fusion import FusionInputs

ESTIMATES = (
    "gsa", "mtf-glp-hpm", "hysime-gsa", "hysime-mtf", "hysime-wiener-mtf", "hysime-wiener-hybrid", "pca-wiener-cnmf",
)
RESPONSE_ESTIMATES = ("hysime-wiener-hybrid", "pca-wiener-cnmf")
# Estimates that read the response as the relation between the two images' values.
COUPLED_ESTIMATES = ("pca-wiener-cnmf",)


def classical_estimate(
    name: str,
    lrhsi: np.ndarray,
    hrmsi: np.ndarray,
    ratio: int,
    psf: str,
    wavelengths: np.ndarray | None = None,
    srf: np.ndarray | None = None,
    scales: InputNormalisation | None = None,
) -> np.ndarray:
    """The classical fusion ``name`` (one of :data:`ESTIMATES`) of two images.

    Parameters
    ----------
    name : str
    lrhsi : ndarray, shape (h, w, C)
    hrmsi : ndarray, shape (h * ratio, w * ratio, M)
    ratio : int
    psf : str
    wavelengths : ndarray, shape (C,), optional
        Band centres; HySime's noise regression takes neighbours in wavelength order.
    srf : ndarray, shape (M, C), optional
        The MSI's spectral response on the HSI's bands; passed on only to
        :data:`RESPONSE_ESTIMATES`.
    scales : InputNormalisation, optional
        How ``lrhsi`` and ``hrmsi`` were normalised; :data:`COUPLED_ESTIMATES` are given the
        response in their units (required for them when ``srf`` is given).

    Returns
    -------
    ndarray, shape (h * ratio, w * ratio, C), float32
    """
    if name not in ESTIMATES:
        raise ConfigError(f"unknown estimate {name!r}; choose one of {', '.join(ESTIMATES)}")
    srf = srf if name in RESPONSE_ESTIMATES else None
    if srf is not None and name in COUPLED_ESTIMATES:
        if scales is None:
            raise ConfigError(f"the estimate {name!r} needs the images' normalisation to read the response in their units")
        srf = scales.response(srf)
    inputs = FusionInputs(lrhsi, hrmsi, ratio=ratio, psf=psf, srf=srf, wavelengths=wavelengths)
    return get_method(name)(inputs).astype(np.float32)
