"""Building blocks shared by the classical baselines.

All functions are pure and work on ``(rows, cols, bands)`` numpy arrays.
"""

from __future__ import annotations

import numpy as np
import torch

from ..degrade import spatial_degrade
from ..fusion import FusionInputs

# A band of the HSI counts as covered by an MSI band where that band's response reaches this
# share of its own peak; below it, the Gaussian tails of the band models would make every MSI
# band "cover" every HSI band.
_SUPPORT_SHARE = 0.05

# Bands upsampled at a time by :func:`upsample`.
UPSAMPLE_BANDS = 16


def upsample(cube: np.ndarray, ratio: int) -> np.ndarray:
    """Bicubic upsampling of every band by an integer ratio.

    The geometry is the half-pixel one of :func:`s3rnet.degrade.psf_matrix`: LR pixel ``i`` is
    centred on HR coordinate ``i * ratio + (ratio - 1) / 2`` (``align_corners=False``), so that
    the upsampled cube lies on the grid of the HR-MSI. Borders replicate the edge pixels
    (PyTorch's bicubic convolution, ``a = -0.75``).

    Parameters
    ----------
    cube : ndarray, shape (h, w, C)
    ratio : int

    Returns
    -------
    ndarray, shape (h * ratio, w * ratio, C), float32

    References
    ----------
    .. [1] R. Keys, "Cubic convolution interpolation for digital image processing", IEEE
           Transactions on Acoustics, Speech, and Signal Processing 29(6), 1981.
    """
    h, w, bands = cube.shape
    out = np.empty((h * ratio, w * ratio, bands), dtype=np.float32)
    # Band by band in groups: the bands are independent, and the interpolation's (C, H, W) result
    # is then never held beside the (H, W, C) cube it is copied into.
    for start in range(0, bands, UPSAMPLE_BANDS):
        group = slice(start, min(start + UPSAMPLE_BANDS, bands))
        tensor = torch.from_numpy(np.ascontiguousarray(cube[..., group].transpose(2, 0, 1), dtype=np.float32))
        with torch.no_grad():
            up = torch.nn.functional.interpolate(
                tensor[None], size=(h * ratio, w * ratio), mode="bicubic", align_corners=False
            )[0]
        out[..., group] = up.numpy().transpose(1, 2, 0)
    return out


def degrade_like(cube: np.ndarray, inputs: FusionInputs) -> np.ndarray:
    """Blur and decimate an HR cube with the PSF and ratio that produced the LR-HSI.

    Parameters
    ----------
    cube : ndarray, shape (H, W, K)
    inputs : FusionInputs

    Returns
    -------
    ndarray, shape (H / ratio, W / ratio, K)
    """
    return spatial_degrade(cube, inputs.ratio, inputs.psf, inputs.mtf)


def low_pass(cube: np.ndarray, inputs: FusionInputs) -> np.ndarray:
    """The part of an HR cube that the LR-HSI can see: degraded, then upsampled back.

    Parameters
    ----------
    cube : ndarray, shape (H, W, K)
    inputs : FusionInputs

    Returns
    -------
    ndarray, shape (H, W, K), float32
    """
    return upsample(degrade_like(cube, inputs), inputs.ratio)


def band_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation between every band of ``a`` and every band of ``b``.

    Parameters
    ----------
    a : ndarray, shape (h, w, K)
    b : ndarray, shape (h, w, L)

    Returns
    -------
    ndarray, shape (K, L), float64
        0 where a band is constant.
    """
    a = a.reshape(-1, a.shape[-1]).astype(np.float64)
    b = b.reshape(-1, b.shape[-1]).astype(np.float64)
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    scale = np.outer(np.linalg.norm(a, axis=0), np.linalg.norm(b, axis=0))
    return np.divide(a.T @ b, scale, out=np.zeros_like(scale), where=scale > 0)


def covering_band(
    lrhsi: np.ndarray, lrmsi: np.ndarray, srf: np.ndarray | None
) -> np.ndarray:
    """The MSI band that best stands for each HSI band.

    An HSI band inside the support of some MSI band (response at least 5% of that band's peak)
    takes the MSI band that responds most to it. Any other band (SWIR bands beside a VNIR
    MSI), and every band when the response is unknown, takes the MSI band whose degraded
    version correlates best with it at low resolution.

    Parameters
    ----------
    lrhsi : ndarray, shape (h, w, C)
    lrmsi : ndarray, shape (h, w, M)
        The HR-MSI degraded to the LR-HSI's grid.
    srf : ndarray, shape (M, C), optional

    Returns
    -------
    ndarray, shape (C,), int
        Index of an MSI band for each HSI band.
    """
    best = np.argmax(band_correlation(lrhsi, lrmsi), axis=1)
    if srf is None:
        return best
    relative = srf / srf.max(axis=1, keepdims=True)
    return np.where(covered_bands(srf), np.argmax(relative, axis=0), best)


def covered_bands(srf: np.ndarray) -> np.ndarray:
    """Whether each HSI band lies inside the support of some MSI band (a response of at least 5%
    of that MSI band's peak).

    Parameters
    ----------
    srf : ndarray, shape (M, C)

    Returns
    -------
    ndarray of bool, shape (C,)
    """
    relative = srf / srf.max(axis=1, keepdims=True)
    return relative.max(axis=0) >= _SUPPORT_SHARE


def match_moments(image: np.ndarray, mean: np.ndarray, std: np.ndarray, own_std: np.ndarray) -> np.ndarray:
    """Shift and scale each band of ``image`` to a given mean and standard deviation.

    Parameters
    ----------
    image : ndarray, shape (H, W, K)
    mean, std : ndarray, shape (K,)
        Target moments.
    own_std : ndarray, shape (K,)
        Standard deviation to scale from (the image's own, or that of its low-pass version).

    Returns
    -------
    ndarray, shape (H, W, K)
        ``(image - mean(image)) * std / own_std + mean``; bands with ``own_std == 0`` are only
        shifted.
    """
    gain = np.divide(std, own_std, out=np.ones_like(std, dtype=np.float64), where=own_std > 0)
    return (image - image.mean(axis=(0, 1))) * gain + mean
