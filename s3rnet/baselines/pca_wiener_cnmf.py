"""PCA-Wiener-CNMF: CNMF on the LR-HSI denoised by the noise power the two images disagree on.

HySime-Wiener-CNMF (:mod:`s3rnet.baselines.hysime_wiener_cnmf`) denoises with HySime's noise
estimate, a regression of each band on its neighbours. On clean inputs that regression still
finds "noise" (what the neighbours cannot predict), so the denoiser removes signal: on the
Indian Pines val region (oli4, clean) it left CNMF's 32.00 dB / 1.994 deg at 31.83 / 2.131.
With an MSI response the noise power can be measured instead, from what the LR-HSI and the
HR-MSI disagree on (:func:`s3rnet.baselines.noise.lrhsi_noise_power`): about 0 on clean inputs,
within 4% of the added noise on noisy ones.

With that power ``sigma^2``, the LR-HSI's pixels are denoised in the eigenvectors ``e_i`` of
their correlation matrix ``R_y = Y^T Y / N`` (``N`` pixels, ``L`` bands):

* an eigenvector is kept when its eigenvalue exceeds ``(1 + sqrt(L / N))^2 sigma^2``, the
  largest eigenvalue that white noise alone gives in ``N`` samples (the Marchenko-Pastur edge);
  the Indian Pines regions have 288-576 LR pixels for 172 bands, where the edge is 2.4-3.1
  times the noise power, and HySime's rule (twice) would keep noise;
* what the kept eigenvectors leave out is kept per band by the Wiener gain of
  :func:`s3rnet.baselines.hysime_wiener_mtf.residual_gains`, with the measured ``sigma^2``;

then CNMF (:mod:`s3rnet.baselines.cnmf`) fuses the denoised LR-HSI. Clean inputs keep every
eigenvector, and the method is CNMF.

Measured on the Indian Pines val region (aviris-172 grid, 288 LR pixels, edge 3.13, box PSF,
ratio 4, noise seed 0), PSNR dB / SAM deg, clean / 35 / 15 dB:

* oli4: 32.00 / 1.994, 30.73 / 2.059 (24 components), 23.34 / 3.482 (5); CNMF 32.00 / 1.994,
  30.28 / 2.069, 16.49 / 6.468; HySime-Wiener-CNMF 31.83 / 2.131, 31.09 / 2.238, 24.87 / 3.187;
  with the eigenvalue threshold at 2 / 4 / 8 times the noise power instead of the edge (44 / 20 /
  15 components at 35 dB, 30 / 4 / 2 at 15 dB), 35 dB 30.58 / 2.062, 30.78 / 2.064 and
  31.00 / 2.071, 15 dB 17.57 / 5.868, 24.34 / 3.292 and 24.08 / 3.538;
* oli6: 35.60 / 1.926, 32.64 / 1.995, 24.16 / 3.321.

So it has CNMF's SAM where CNMF is good and keeps most of it at 35 dB, and at 15 dB it is 1.5 dB
under HySime-Wiener-CNMF: a component just above the edge is kept whole, noise and all (the fifth
at 15 dB costs 1 dB); shrinking the kept components too is not tried here. As the
published networks' ensemble partner it beats HySime-Wiener-CNMF on every validation set
(docs/synthetic.md).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import ConfigError
from ..fusion import FusionInputs
from . import cnmf
from .hysime_wiener_mtf import denoise, residual_gains
from .noise import lrhsi_noise_power


def noise_edge(pixels: int, bands: int) -> float:
    """``(1 + sqrt(L / N))^2``: the largest eigenvalue of the correlation matrix of ``N`` samples
    of unit white noise in ``L`` bands, as ``N`` and ``L`` grow (Marchenko-Pastur)."""
    return (1.0 + np.sqrt(bands / pixels)) ** 2


def fit_known_noise_denoiser(cube: np.ndarray, noise_power: float) -> tuple[np.ndarray, np.ndarray]:
    """The eigenvectors of an image that stand above white noise of a known power, and the Wiener
    gains of what they leave out.

    Parameters
    ----------
    cube : ndarray, shape (h, w, L)
    noise_power : float
        ``sigma^2`` per value, in the cube's units.

    Returns
    -------
    basis : ndarray, shape (L, k), float64
        Orthonormal columns, at least one (the leading eigenvector).
    gains : ndarray, shape (L,), float64
        In [0, 1]; for :func:`s3rnet.baselines.hysime_wiener_mtf.denoise`.
    """
    pixels = cube.reshape(-1, cube.shape[-1]).astype(np.float64)
    count, bands = pixels.shape
    eigenvalues, vectors = np.linalg.eigh(pixels.T @ pixels / count)
    keep = eigenvalues > noise_edge(count, bands) * noise_power
    keep[-1] = True
    basis = vectors[:, keep]
    return basis, residual_gains(pixels, basis, np.full(bands, noise_power))


def fuse(inputs: FusionInputs) -> np.ndarray:
    """CNMF (:func:`s3rnet.baselines.cnmf.fuse`) of the LR-HSI denoised with
    :func:`fit_known_noise_denoiser` at the noise power the inputs disagree on.

    Parameters
    ----------
    inputs : FusionInputs
        ``srf`` is required (the noise measurement and CNMF both read it).

    Returns
    -------
    ndarray, shape (H, W, C), float32

    Raises
    ------
    ConfigError
        Without ``inputs.srf``.

    References
    ----------
    .. [1] V. A. Marchenko and L. A. Pastur, "Distribution of eigenvalues for some sets of random
           matrices", Mathematics of the USSR-Sbornik 1(4), 1967, pp. 457-483.
    .. [2] N. Yokoya, T. Yairi and A. Iwasaki, "Coupled nonnegative matrix factorization unmixing
           for hyperspectral and multispectral data fusion", IEEE Transactions on Geoscience and
           Remote Sensing 50(2), 2012, pp. 528-537.
    """
    if inputs.srf is None:
        raise ConfigError("PCA-Wiener-CNMF needs the spectral response of the MSI (FusionInputs.srf), and it is missing")
    basis, gains = fit_known_noise_denoiser(inputs.lrhsi, lrhsi_noise_power(inputs))
    return cnmf.fuse(dataclasses.replace(inputs, lrhsi=denoise(inputs.lrhsi, basis, gains)))
