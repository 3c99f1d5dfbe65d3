"""Quality without ground truth: the QNR family adapted to HSI-MSI fusion, and consistency with the inputs.

A real pair has no reference cube, so a fusion is judged by how well it keeps what the two inputs
say. Two kinds of figures:

**No-reference indices** (all built on Wang and Bovik's universal image quality index Q, computed
in a sliding Gaussian window of 11 x 11 taps, sigma 1.5, on the pixels where the window fits, then
averaged: the convention of ``torchmetrics``' ``universal_image_quality_index``, against which the
tests check these functions):

* ``D_lambda`` (Alparone et al., 2008): spectral distortion, the change in the Q between every
  pair of bands from the LR-HSI to the fused cube,
  ``(1 / (K (K - 1)) sum_{i != j} |Q(F_i, F_j) - Q(L_i, L_j)|^p)^(1/p)``. An HSI has hundreds of
  bands, and the sum has K^2 terms: it runs on K evenly spaced bands (all when ``bands=None``).
  Equal to ``torchmetrics.functional.image.spectral_distortion_index`` on the same bands.
* ``D_lambda^K`` (Khan et al., 2009, the spectral index of HQNR): ``1 - mean_b Q(degrade(F)_b, L_b)``,
  the fused cube brought to the LR grid by the pair's PSF against the LR-HSI. Khan uses Q4 / Q2n over
  the bands jointly; for hundreds of bands we average the per-band Q (a simplification).
* ``D_s`` (Alparone et al., 2008): spatial distortion, the change in the Q between each HSI band and
  each MSI band ``P_j`` from the LR grid (``L_i`` against ``P_j`` degraded by the PSF) to the HR grid
  (``F_i`` against ``P_j``), ``(1 / (C M) sum_{i,j} |Q(F_i, P_j) - Q(L_i, P_j^L)|^q)^(1/q)``; with one
  MSI band (a panchromatic image) it is ``torchmetrics``' ``spatial_distortion_index`` given ``pan_lr``.
* ``QNR = (1 - D_lambda)^alpha (1 - D_s)^beta`` and ``HQNR = (1 - D_lambda^K)^alpha (1 - D_s)^beta``
  (Aiazzi et al., 2014), alpha = beta = 1. 1 is ideal for all three.

**Consistency** with the degradation model (DESIGN section 3): the fused cube brought back through
the PSF and decimation against the LR-HSI (spatial consistency) and through the MSI response against
the HR-MSI (spectral consistency, the MSI in the HSI's radiometry, see
:meth:`s3rnet.response.ResponseFit.to_hsi_units`): PSNR (per-band peak of the input, as
:func:`s3rnet.metrics.psnr`), SAM (degrees) and per-pixel maps. :class:`ConsistencyAccumulator` adds
them up tile by tile, so that they cover an output of any size.

References
----------
.. [1] Z. Wang and A. C. Bovik, "A universal image quality index", IEEE Signal Processing Letters
       9(3), 2002, pp. 81-84.
.. [2] L. Alparone, B. Aiazzi, S. Baronti, A. Garzelli, F. Nencini and M. Selva, "Multispectral and
       panchromatic data fusion assessment without reference", Photogrammetric Engineering & Remote
       Sensing 74(2), 2008, pp. 193-200.
.. [3] M. M. Khan, L. Alparone and J. Chanussot, "Pansharpening quality assessment using the
       modulation transfer functions of instruments", IEEE TGRS 47(11), 2009, pp. 3880-3891.
.. [4] B. Aiazzi, L. Alparone, S. Baronti, R. Carla, A. Garzelli and L. Santurri, "Full scale
       assessment of pansharpening methods and data products", Proc. SPIE 9244, 2014.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import correlate1d

from .degrade import spatial_degrade
from .errors import ShapeError

WINDOW = 11
SIGMA = 1.5
# torchmetrics adds the epsilon of its dtype to the denominator of Q; we compute in float64.
_EPS = float(np.finfo(np.float64).eps)
# Bands of D_lambda's pairwise sum in the fusion report (K^2 terms).
REPORT_BANDS = 32
# Bands whose local statistics are computed together (bounds the working memory).
_CHUNK = 16


def _taps() -> np.ndarray:
    distance = np.arange((1 - WINDOW) / 2, (1 + WINDOW) / 2)
    taps = np.exp(-0.5 * (distance / SIGMA) ** 2)
    return taps / taps.sum()


def local_mean(images: np.ndarray) -> np.ndarray:
    """Gaussian-weighted local mean where the window fits ("valid" correlation).

    Parameters
    ----------
    images : ndarray, shape (h, w, K)

    Returns
    -------
    ndarray, shape (h - 10, w - 10, K), float64
    """
    h, w = images.shape[:2]
    if h < WINDOW or w < WINDOW:
        raise ShapeError(f"Q needs images of at least {WINDOW}x{WINDOW} pixels; got {h}x{w}")
    taps, half = _taps(), WINDOW // 2
    # The borders' reflection never reaches the pixels kept: each keeps only its own window.
    rows = correlate1d(np.asarray(images, dtype=np.float64), taps, axis=0, mode="reflect")[half:-half]
    return correlate1d(rows, taps, axis=1, mode="reflect")[:, half:-half]


def _q_map(mean_a, sq_a, mean_b, sq_b, ab) -> np.ndarray:
    var_a = np.clip(sq_a - mean_a**2, 0.0, None)
    var_b = np.clip(sq_b - mean_b**2, 0.0, None)
    cov = ab - mean_a * mean_b
    return 4.0 * cov * mean_a * mean_b / ((mean_a**2 + mean_b**2) * (var_a + var_b) + _EPS)


def _chunks(bands: int) -> list[slice]:
    return [slice(start, min(start + _CHUNK, bands)) for start in range(0, bands, _CHUNK)]


def q_index(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Universal image quality index of each band pair ``(a_k, b_k)``, averaged over the valid window positions.

    Parameters
    ----------
    a, b : ndarray, shape (h, w, K)

    Returns
    -------
    ndarray, shape (K,), float64
        ``Q = 4 s_ab m_a m_b / ((m_a^2 + m_b^2)(s_a^2 + s_b^2) + eps)`` averaged; 1 for identical bands.
    """
    if a.shape != b.shape:
        raise ShapeError(f"Q compares images of one shape; got {a.shape} and {b.shape}")
    out = np.empty(a.shape[2])
    for run in _chunks(a.shape[2]):
        x, y = a[:, :, run].astype(np.float64), b[:, :, run].astype(np.float64)
        q = _q_map(local_mean(x), local_mean(x * x), local_mean(y), local_mean(y * y), local_mean(x * y))
        out[run] = q.mean(axis=(0, 1))
    return out


def q_against(images: np.ndarray, pans: np.ndarray) -> np.ndarray:
    """Q of every band of ``images`` against every band of ``pans``, each image's statistics computed once.

    Parameters
    ----------
    images : ndarray, shape (h, w, C)
    pans : ndarray, shape (h, w, M)

    Returns
    -------
    ndarray, shape (C, M)
    """
    pans = pans.astype(np.float64)
    pan_mean, pan_sq = local_mean(pans), local_mean(pans * pans)
    out = np.empty((images.shape[2], pans.shape[2]))
    for run in _chunks(images.shape[2]):
        x = images[:, :, run].astype(np.float64)
        mean, sq = local_mean(x), local_mean(x * x)
        for j in range(pans.shape[2]):
            cross = local_mean(x * pans[:, :, j : j + 1])
            out[run, j] = _q_map(mean, sq, pan_mean[:, :, j : j + 1], pan_sq[:, :, j : j + 1], cross).mean(axis=(0, 1))
    return out


def spread_bands(total: int, count: int | None) -> np.ndarray:
    """``count`` evenly spaced band indices out of ``total`` (all when ``count`` is None or larger)."""
    if count is None or count >= total:
        return np.arange(total)
    return np.unique(np.linspace(0, total - 1, count).round().astype(int))


def _pairwise_q(cube: np.ndarray) -> np.ndarray:
    """Q between every pair of bands, shape (K, K), zero diagonal."""
    cube = cube.astype(np.float64)
    mean, sq = local_mean(cube), local_mean(cube * cube)
    bands = cube.shape[2]
    matrix = np.zeros((bands, bands))
    for i in range(bands - 1):
        cross = local_mean(cube[:, :, i : i + 1] * cube[:, :, i + 1 :])
        q = _q_map(mean[:, :, i : i + 1], sq[:, :, i : i + 1], mean[:, :, i + 1 :], sq[:, :, i + 1 :], cross)
        matrix[i, i + 1 :] = q.mean(axis=(0, 1))
    return matrix + matrix.T


def d_lambda(fused: np.ndarray, lrhsi: np.ndarray, p: int = 1, bands: int | None = REPORT_BANDS) -> float:
    """Spectral distortion index ``D_lambda`` of Alparone et al. (2008); 0 is ideal.

    Parameters
    ----------
    fused : ndarray, shape (H, W, C)
    lrhsi : ndarray, shape (h, w, C)
    p : int
        Exponent of the differences.
    bands : int or None
        Number of evenly spaced bands in the pairwise sum (all when None).
    """
    if fused.shape[2] != lrhsi.shape[2]:
        raise ShapeError(f"fused cube has {fused.shape[2]} bands, the LR-HSI {lrhsi.shape[2]}")
    chosen = spread_bands(fused.shape[2], bands)
    if chosen.size < 2:
        return 0.0
    difference = np.abs(_pairwise_q(fused[:, :, chosen]) - _pairwise_q(lrhsi[:, :, chosen])) ** p
    k = chosen.size
    return float((difference.sum() / (k * (k - 1))) ** (1.0 / p))


def d_lambda_khan(fused: np.ndarray, lrhsi: np.ndarray, ratio: int, psf: str = "box", mtf: float = 0.3) -> float:
    """Khan's spectral distortion ``1 - mean_b Q(degrade(F)_b, L_b)``; 0 is ideal (see the module docstring)."""
    return float(1.0 - q_index(spatial_degrade(fused.astype(np.float32), ratio, psf, mtf), lrhsi).mean())


def d_s(fused: np.ndarray, lrhsi: np.ndarray, hrmsi: np.ndarray, lrmsi: np.ndarray, q: int = 1) -> float:
    """Spatial distortion index ``D_s`` of Alparone et al. (2008) with every MSI band as a pan; 0 is ideal.

    Parameters
    ----------
    fused : ndarray, shape (H, W, C)
    lrhsi : ndarray, shape (h, w, C)
    hrmsi : ndarray, shape (H, W, M)
    lrmsi : ndarray, shape (h, w, M)
        The HR-MSI degraded by the pair's PSF to the LR grid.
    q : int
        Exponent of the differences.
    """
    high = q_against(fused, hrmsi)
    low = q_against(lrhsi, lrmsi)
    return float(np.mean(np.abs(high - low) ** q) ** (1.0 / q))


def qnr(d_spectral: float, d_spatial: float, alpha: float = 1.0, beta: float = 1.0) -> float:
    """``(1 - D_spectral)^alpha (1 - D_spatial)^beta``: QNR with ``D_lambda``, HQNR with ``D_lambda^K``."""
    return float((1.0 - d_spectral) ** alpha * (1.0 - d_spatial) ** beta)


def no_reference(
    fused: np.ndarray, lrhsi: np.ndarray, hrmsi: np.ndarray, ratio: int, psf: str = "box", mtf: float = 0.3,
    bands: int | None = REPORT_BANDS,
) -> dict[str, float]:
    """D_lambda, D_lambda^K, D_s, QNR and HQNR of one fused cube (see the module docstring).

    Parameters
    ----------
    fused : ndarray, shape (H, W, C)
    lrhsi : ndarray, shape (H / ratio, W / ratio, C)
    hrmsi : ndarray, shape (H, W, M)
    ratio, psf, mtf
        The pair's degradation (:func:`s3rnet.degrade.spatial_degrade`).
    bands : int or None
        Bands of D_lambda's pairwise sum.
    """
    lrmsi = spatial_degrade(hrmsi.astype(np.float32), ratio, psf, mtf)
    spectral = d_lambda(fused, lrhsi, bands=bands)
    khan = d_lambda_khan(fused, lrhsi, ratio, psf, mtf)
    spatial = d_s(fused, lrhsi, hrmsi, lrmsi)
    return {
        "d_lambda": spectral, "d_lambda_khan": khan, "d_s": spatial,
        "qnr": qnr(spectral, spatial), "hqnr": qnr(khan, spatial),
    }


# --------------------------------------------------------------------------------------------
# Consistency with the inputs
# --------------------------------------------------------------------------------------------


def _angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel spectral angle in degrees (NaN where a spectrum is zero)."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = np.einsum("...k,...k->...", a, b) / norms
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


class ConsistencyAccumulator:
    """PSNR, SAM and maps of one comparison (a product of the fused cube against an input), tile by tile.

    Parameters
    ----------
    shape : (int, int)
        Size of the maps (the LR grid).
    bands : int
        Bands of the compared images.
    block : int
        HR pixels per map pixel along each axis (1 for comparisons on the LR grid, the ratio for
        comparisons on the HR grid: their maps are averaged over each LR pixel's block).
    """

    def __init__(self, shape: tuple[int, int], bands: int, block: int = 1) -> None:
        self.block = block
        self.squared = np.zeros(bands)
        self.peak = np.full(bands, -np.inf)
        self.count = 0
        self.angle_sum = 0.0
        self.angle_count = 0
        self.sam_map = np.full(shape, np.nan, dtype=np.float32)
        self.rmse_map = np.full(shape, np.nan, dtype=np.float32)

    def add(self, row: int, col: int, product: np.ndarray, observed: np.ndarray) -> None:
        """Add one tile: ``product`` (the fused cube seen like the input) against ``observed``.

        ``row, col`` are the tile's upper-left pixel on the map's grid; the tile's sides are
        multiples of ``block``.
        """
        if product.shape != observed.shape:
            raise ShapeError(f"consistency compares arrays of one shape; got {product.shape} and {observed.shape}")
        error = product.astype(np.float64) - observed
        self.squared += np.einsum("hwk,hwk->k", error, error)
        self.peak = np.maximum(self.peak, observed.max(axis=(0, 1)))
        self.count += error.shape[0] * error.shape[1]
        angles = _angles(product, observed)
        valid = np.isfinite(angles)
        self.angle_sum += float(angles[valid].sum())
        self.angle_count += int(valid.sum())
        h, w = error.shape[0] // self.block, error.shape[1] // self.block
        blocks = (h, self.block, w, self.block)
        with np.errstate(invalid="ignore"):
            self.sam_map[row : row + h, col : col + w] = np.nanmean(angles.reshape(blocks), axis=(1, 3))
        self.rmse_map[row : row + h, col : col + w] = np.sqrt(
            np.mean(np.square(error).reshape(*blocks, -1), axis=(1, 3, 4))
        )

    def summary(self) -> dict[str, float]:
        """PSNR (mean over bands, peak = band maximum of the input), SAM (degrees), RMSE."""
        mse = self.squared / max(self.count, 1)
        peak = np.where(self.peak > 0, self.peak, np.nan)
        with np.errstate(divide="ignore"):
            psnr = 10.0 * np.log10(peak**2 / mse)
        return {
            "psnr": float(np.nanmean(psnr)),
            "sam": self.angle_sum / max(self.angle_count, 1),
            "rmse": float(np.sqrt(mse.mean())),
        }


def consistency(
    fused: np.ndarray, lrhsi: np.ndarray, hrmsi: np.ndarray | None, response: np.ndarray | None,
    ratio: int, psf: str = "box", mtf: float = 0.3,
) -> dict[str, dict]:
    """Spatial and spectral consistency of a whole fused cube (see the module docstring).

    Parameters
    ----------
    fused : ndarray, shape (H, W, C)
    lrhsi : ndarray, shape (H / ratio, W / ratio, C)
    hrmsi : ndarray, shape (H, W, M), optional
        In the HSI's radiometry.
    response : ndarray, shape (M, C), optional

    Returns
    -------
    dict
        ``{"spatial": {...}, "spectral": {...}}``, each with ``psnr``, ``sam``, ``rmse`` and the maps
        ``sam_map`` and ``rmse_map`` on the LR grid.
    """
    h, w, c = lrhsi.shape
    spatial = ConsistencyAccumulator((h, w), c)
    spatial.add(0, 0, spatial_degrade(fused.astype(np.float32), ratio, psf, mtf), lrhsi)
    result = {"spatial": {**spatial.summary(), "sam_map": spatial.sam_map, "rmse_map": spatial.rmse_map}}
    if hrmsi is not None and response is not None:
        spectral = ConsistencyAccumulator((h, w), hrmsi.shape[2], block=ratio)
        spectral.add(0, 0, fused @ response.T.astype(np.float32), hrmsi)
        result["spectral"] = {**spectral.summary(), "sam_map": spectral.sam_map, "rmse_map": spectral.rmse_map}
    return result


__all__ = [
    "ConsistencyAccumulator", "REPORT_BANDS", "consistency", "d_lambda", "d_lambda_khan", "d_s", "local_mean",
    "no_reference", "q_against", "q_index", "qnr", "spread_bands",
]
