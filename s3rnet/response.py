"""The MSI's spectral response on the HSI's bands: by sensor name, from a CSV table, or estimated.

A real pair comes from two instruments. The fusion model needs the response ``R`` (M x C) that
turns an HSI spectrum into the MSI's bands, ``X_m ~= R Y`` (DESIGN section 3), and the two images
rarely share units (radiance and reflectance, other gains), so every response comes with a
per-band radiometric fit: ``msi_m ~= gain_m * (R_m . hsi) + offset_m`` on the LR grid, where
``R_m`` sums to one. Three sources:

* a sensor name of :data:`s3rnet.degrade.MSI_RESPONSES` (the official ``pyrsr`` tables);
* a CSV table: a first column of wavelengths (nm) and one column per MSI band;
* ``estimate``: the non-negative, smooth least-squares fit of the LR-degraded MSI on the LR-HSI,
  as in HySure (Simoes et al., 2015): for each MSI band,
  ``min_{r >= 0, b} ||Y r + b - z||^2 + lambda ||D r||^2`` with ``D`` the first differences
  along the sorted wavelengths, ``lambda`` relative to the mean eigenvalue of ``Y^T Y``. The gain
  is the sum of ``r``.

The share of each MSI band's variance that the fit explains (R^2 on the LR grid) is reported;
below :data:`MIN_EXPLAINED` it is a warning: the band sees something the HSI does not (another
date, clouds, a band outside the HSI's range) or the pair is misregistered.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.linalg import solve_triangular
from scipy.optimize import linear_sum_assignment, nnls

from .degrade import response_on_cube_bands
from .errors import ConfigError, SceneFormatError, ShapeError, WavelengthError

# A response fit explaining less than this share of an MSI band's variance gets a warning.
MIN_EXPLAINED = 0.9
# Smoothness weight of the estimate, relative to the mean eigenvalue of the centred HSI Gram
# matrix; chosen on the Indian Pines training region (rows 0:96) with the OLI response, checked
# on the test region with OLI and Sentinel-2 (tests/test_response.py).
SMOOTHNESS = 1e-3


@dataclass(frozen=True)
class ResponseFit:
    """A spectral response with its radiometric fit to an HR-MSI.

    Attributes
    ----------
    response : ndarray, shape (M, C)
        Non-negative, each row sums to one (on the HSI's bands, in their file order).
    gain, offset : ndarray, shape (M,)
        ``msi_m ~= gain_m * (response_m . hsi) + offset_m``.
    explained : ndarray, shape (M,)
        R^2 of that fit on the LR grid, per MSI band.
    source : str
        ``estimate``, a sensor name, or the CSV file.
    band_names : list of str
    smoothness : float or None
        The estimate's relative smoothness weight (None for a given response).
    """

    response: np.ndarray
    gain: np.ndarray
    offset: np.ndarray
    explained: np.ndarray
    source: str
    band_names: list[str] = field(default_factory=list)
    smoothness: float | None = None

    def to_hsi_units(self, msi: np.ndarray) -> np.ndarray:
        """The MSI in the HSI's radiometry, ``(msi - offset) / gain``, so that it ``~= hsi @ response.T``.

        Parameters
        ----------
        msi : ndarray, shape (..., M)
        """
        return ((msi - self.offset) / self.gain).astype(np.float32)

    def warnings(self) -> list[str]:
        """One line per MSI band whose fit explains less than :data:`MIN_EXPLAINED` of its variance."""
        return [
            f"MSI band {name}: the response fit explains only {100 * share:.1f}% of its variance "
            f"(below {100 * MIN_EXPLAINED:.0f}%); another date, clouds, a band the HSI does not cover, "
            f"or misregistration"
            for name, share in zip(self.band_names, self.explained) if share < MIN_EXPLAINED
        ]

    def to_json(self, wavelengths: np.ndarray | None = None) -> dict:
        entry = {
            "source": self.source,
            "bands": list(self.band_names),
            "gain": self.gain.tolist(),
            "offset": self.offset.tolist(),
            "explained_variance": self.explained.tolist(),
            "smoothness": self.smoothness,
            "response": self.response.tolist(),
        }
        if wavelengths is not None:
            entry["centroid_nm"] = centroids(self.response, wavelengths).tolist()
        return entry


# --------------------------------------------------------------------------------------------
# Responses from tables
# --------------------------------------------------------------------------------------------


def response_on_bands(
    grid: np.ndarray, table: np.ndarray, wavelengths: np.ndarray, fwhm: np.ndarray | None = None,
    band_names: list[str] | None = None, source: str = "table",
) -> np.ndarray:
    """A tabulated response, resampled to 1 nm, on the HSI's bands
    (:func:`s3rnet.degrade.response_on_cube_bands`, the model of the sensor responses).

    Parameters
    ----------
    grid : ndarray, shape (L,)
        Wavelengths (nm) of the table, ascending.
    table : ndarray, shape (M, L)
        Each MSI band's relative response (negative values are taken as 0).
    wavelengths, fwhm : ndarray, shape (C,)
        HSI band centres and widths (nm); widths default to the band spacing.

    Returns
    -------
    ndarray, shape (M, C)
        Rows sum to one.

    Raises
    ------
    ResponseRangeError
        When less than 90% of a band's response falls on the HSI's bands.
    """
    # Resampled to 1 nm first, so that a coarse table is integrated as finely as pyrsr's.
    fine = np.arange(np.floor(grid.min()), np.ceil(grid.max()) + 1.0)
    table = np.stack([np.interp(fine, grid, np.clip(row, 0.0, None), left=0.0, right=0.0) for row in table])
    return response_on_cube_bands(fine, table, wavelengths, fwhm, band_names, source)


def read_response_csv(
    path: str | Path, wavelengths: np.ndarray, fwhm: np.ndarray | None = None
) -> tuple[np.ndarray, list[str]]:
    """A response from a CSV file: a header row, wavelengths (nm) in the first column, one column per band.

    Wavelengths below 100 are read as micrometres.

    Returns
    -------
    response : ndarray, shape (M, C)
    band_names : list of str
        The header of each band's column.
    """
    path = Path(path)
    try:
        with open(path, newline="") as handle:
            rows = [row for row in csv.reader(handle) if row and not row[0].lstrip().startswith("#")]
        header, body = rows[0], np.asarray(rows[1:], dtype=float)
    except (OSError, IndexError, ValueError) as exc:
        raise SceneFormatError(
            f"{path}: not a response table (a header row, then wavelength in nm and one column per MSI "
            f"band; {exc})"
        ) from exc
    if body.ndim != 2 or body.shape[1] < 2 or body.shape[0] < 2:
        raise SceneFormatError(f"{path}: a response table needs a wavelength column and at least one band column")
    grid = body[:, 0] * (1000.0 if body[:, 0].max() < 100 else 1.0)
    order = np.argsort(grid)
    names = [name.strip() for name in header[1:]]
    return response_on_bands(grid[order], body[order, 1:].T, wavelengths, fwhm, names, str(path)), names


def named_response(name: str, wavelengths: np.ndarray | None, fwhm: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """A sensor's response by name (:data:`s3rnet.degrade.MSI_RESPONSES`), with its band names."""
    from .degrade import _SENSOR_BANDS, spectral_response

    if wavelengths is None:
        raise WavelengthError(f"the MSI response {name!r} needs the HSI's wavelengths, and it has none")
    response = spectral_response(name, wavelengths, fwhm)
    names = list(_SENSOR_BANDS[name][2]) if name in _SENSOR_BANDS else [str(i + 1) for i in range(response.shape[0])]
    return response, names


# --------------------------------------------------------------------------------------------
# Fits
# --------------------------------------------------------------------------------------------


def _pixels(lrhsi: np.ndarray, lrmsi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if lrhsi.shape[:2] != lrmsi.shape[:2]:
        raise ShapeError(f"LR-HSI {lrhsi.shape[:2]} and degraded MSI {lrmsi.shape[:2]} are not on one grid")
    return (lrhsi.reshape(-1, lrhsi.shape[-1]).astype(np.float64),
            lrmsi.reshape(-1, lrmsi.shape[-1]).astype(np.float64))


def explained_variance(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    """R^2 of each column: ``1 - SS_res / SS_tot`` (1 for a constant column predicted exactly).

    Parameters
    ----------
    prediction, target : ndarray, shape (N, M)
    """
    residual = np.sum((target - prediction) ** 2, axis=0)
    total = np.sum((target - target.mean(axis=0)) ** 2, axis=0)
    return 1.0 - np.divide(residual, total, out=np.zeros_like(residual), where=total > 0)


def fit_gain_offset(
    lrhsi: np.ndarray, lrmsi: np.ndarray, response: np.ndarray, source: str, band_names: list[str] | None = None,
) -> ResponseFit:
    """The radiometric fit ``msi_m ~= gain_m * (response_m . hsi) + offset_m`` of a known response.

    Parameters
    ----------
    lrhsi : ndarray, shape (h, w, C)
    lrmsi : ndarray, shape (h, w, M)
        The HR-MSI degraded to the LR-HSI's grid.
    response : ndarray, shape (M, C)
    """
    y, z = _pixels(lrhsi, lrmsi)
    if response.shape != (z.shape[1], y.shape[1]):
        raise ShapeError(
            f"the response {source} has {response.shape[0]} bands over {response.shape[1]} HSI bands; the "
            f"pair has {z.shape[1]} MSI bands and {y.shape[1]} HSI bands"
        )
    response = response / response.sum(axis=1, keepdims=True)
    seen = y @ response.T
    centred = seen - seen.mean(axis=0)
    variance = np.sum(centred**2, axis=0)
    gain = np.divide(np.sum(centred * (z - z.mean(axis=0)), axis=0), variance, out=np.ones(z.shape[1]), where=variance > 0)
    offset = z.mean(axis=0) - gain * seen.mean(axis=0)
    explained = explained_variance(seen * gain + offset, z)
    names = band_names or [str(i + 1) for i in range(z.shape[1])]
    return ResponseFit(response, gain, offset, explained, source, names)


def noise_attenuation(lrhsi: np.ndarray, response: np.ndarray, band_noise: np.ndarray) -> np.ndarray:
    """The share of each ``response_m . hsi``'s variance that the LR-HSI's noise makes up.

    Noise in the regressor of :func:`fit_gain_offset` lowers its R^2 by the factor ``1 - s_m``
    (regression dilution), with ``s_m = sum_l r_ml^2 sigma_l^2 / var(r_m . hsi)`` for noise
    independent between bands; ``R^2 / (1 - s_m)`` is the R^2 the response would reach on a
    noise-free LR-HSI (Spearman's correction for attenuation).

    Parameters
    ----------
    lrhsi : ndarray, shape (h, w, C)
    response : ndarray, shape (M, C)
        Rows are normalised to sum to one, as in :func:`fit_gain_offset`.
    band_noise : ndarray, shape (C,)
        Each band's noise power (:func:`s3rnet.baselines.noise.lrhsi_band_noise`).

    Returns
    -------
    ndarray, shape (M,), in [0, 1]
    """
    response = np.asarray(response, dtype=np.float64)
    response = response / response.sum(axis=1, keepdims=True)
    seen = lrhsi.reshape(-1, lrhsi.shape[-1]).astype(np.float64) @ response.T
    variance = seen.var(axis=0)
    noise = np.square(response) @ np.asarray(band_noise, dtype=np.float64)
    return np.clip(np.divide(noise, variance, out=np.ones_like(noise), where=variance > 0), 0.0, 1.0)


def difference_operator(wavelengths: np.ndarray | None, bands: int) -> np.ndarray:
    """First differences between neighbouring bands in wavelength order (file order without wavelengths).

    Returns
    -------
    ndarray, shape (C - 1, C)
    """
    order = np.arange(bands) if wavelengths is None else np.argsort(np.asarray(wavelengths), kind="stable")
    operator = np.zeros((bands - 1, bands))
    operator[np.arange(bands - 1), order[:-1]] = -1.0
    operator[np.arange(bands - 1), order[1:]] = 1.0
    return operator


def estimate_response(
    lrhsi: np.ndarray, lrmsi: np.ndarray, wavelengths: np.ndarray | None = None,
    smoothness: float = SMOOTHNESS, band_names: list[str] | None = None, support: np.ndarray | None = None,
) -> ResponseFit:
    """The MSI response estimated from the pair: non-negative, smooth least squares (HySure-style).

    For each MSI band ``m``: ``min_{r >= 0, b} ||Y r + b - z_m||^2 + lambda ||D r||^2``, where ``Y``
    holds the LR-HSI's pixels, ``z_m`` the MSI band degraded to the LR grid, ``D`` the first
    differences along the sorted wavelengths and ``lambda = smoothness * trace(Yc^T Yc) / C``
    (``Yc``: ``Y`` centred, the free offset ``b`` absorbing the means). The quadratic problem is
    solved as an NNLS on its Cholesky factor (C unknowns whatever the number of pixels).

    Parameters
    ----------
    lrhsi : ndarray, shape (h, w, C)
    lrmsi : ndarray, shape (h, w, M)
    wavelengths : ndarray, shape (C,), optional
        Orders the bands for the smoothness term (AVIRIS lists are not monotonic).
    smoothness : float
        Relative weight of the smoothness term.
    support : ndarray of bool, shape (M, C), optional
        The HSI bands each MSI band may respond to (:func:`band_support`, from the MSI's band
        centres and widths when its file records them), as HySure's band intersections. Without
        it the fit is unconstrained: exact on clean data, but with noise in the LR-HSI (40 dB)
        its weight spreads over correlated bands far from the band (see tests/test_response.py).

    Returns
    -------
    ResponseFit
        ``response`` normalised to rows summing to one, ``gain`` the sum of each raw ``r``.

    References
    ----------
    .. [1] M. Simoes, J. Bioucas-Dias, L. B. Almeida and J. Chanussot, "A convex formulation for
           hyperspectral image superresolution via subspace-based regularization", IEEE
           Transactions on Geoscience and Remote Sensing 53(6), 2015, pp. 3373-3388.
    """
    if smoothness < 0:
        raise ConfigError(f"smoothness must be >= 0, got {smoothness}")
    y, z = _pixels(lrhsi, lrmsi)
    bands = y.shape[1]
    if support is None:
        support = np.ones((z.shape[1], bands), dtype=bool)
    if support.shape != (z.shape[1], bands) or not support.any(axis=1).all():
        raise ShapeError(f"the support must be a ({z.shape[1]}, {bands}) mask with a band in every row")
    wavelengths = None if wavelengths is None else np.asarray(wavelengths, dtype=float)
    y_mean, z_mean = y.mean(axis=0), z.mean(axis=0)
    yc, zc = y - y_mean, z - z_mean
    raw = np.zeros((z.shape[1], bands))
    for m in range(z.shape[1]):
        keep = np.flatnonzero(support[m])
        raw[m, keep] = _smooth_nnls(yc[:, keep], zc[:, m], None if wavelengths is None else wavelengths[keep], smoothness)
    gain = raw.sum(axis=1)
    if (gain <= 0).any():
        band = int(np.argmin(gain))
        raise ShapeError(
            f"MSI band {(band_names or [str(i + 1) for i in range(z.shape[1])])[band]} is not explained by any "
            f"non-negative combination of the HSI bands (it anticorrelates with all of them)"
        )
    offset = z_mean - y_mean @ raw.T
    explained = explained_variance(y @ raw.T + offset, z)
    names = band_names or [str(i + 1) for i in range(z.shape[1])]
    return ResponseFit(raw / gain[:, None], gain, offset, explained, "estimate", names, smoothness)


def _smooth_nnls(yc: np.ndarray, zc: np.ndarray, wavelengths: np.ndarray | None, smoothness: float) -> np.ndarray:
    """``argmin_{r >= 0} ||yc r - zc||^2 + lambda ||D r||^2``, as an NNLS on the Cholesky factor."""
    bands = yc.shape[1]
    gram = yc.T @ yc
    scale = max(np.trace(gram) / bands, 1e-300)
    difference = difference_operator(wavelengths, bands)
    system = gram + smoothness * scale * (difference.T @ difference) + 1e-10 * scale * np.eye(bands)
    factor = np.linalg.cholesky(system)  # system = L L^T, so ||L^T r - L^-1 yc^T zc||^2 is the objective
    target = solve_triangular(factor, yc.T @ zc, lower=True)
    return nnls(factor.T, target, maxiter=50 * bands)[0]


def band_support(
    msi_centres: np.ndarray, msi_fwhm: np.ndarray | None, wavelengths: np.ndarray, margin_nm: float = 10.0
) -> np.ndarray:
    """The HSI bands within one FWHM (plus a margin) of each MSI band's centre.

    Parameters
    ----------
    msi_centres : ndarray, shape (M,)
        MSI band centres (nm).
    msi_fwhm : ndarray, shape (M,), optional
        MSI band widths (nm); 40 nm when unknown.
    wavelengths : ndarray, shape (C,)
        HSI band centres (nm).

    Returns
    -------
    ndarray of bool, shape (M, C)
        Each row has at least the HSI band nearest to the MSI band's centre.
    """
    centres = np.asarray(msi_centres, dtype=float)
    widths = np.full_like(centres, 40.0) if msi_fwhm is None else np.asarray(msi_fwhm, dtype=float)
    wavelengths = np.asarray(wavelengths, dtype=float)
    distance = np.abs(wavelengths[None, :] - centres[:, None])
    support = distance <= widths[:, None] + margin_nm
    support[np.arange(centres.size), np.argmin(distance, axis=1)] = True
    return support


# --------------------------------------------------------------------------------------------
# Comparing responses
# --------------------------------------------------------------------------------------------


def centroids(response: np.ndarray, wavelengths: np.ndarray) -> np.ndarray:
    """Response-weighted mean wavelength of each band (nm), shape (M,)."""
    response = response / response.sum(axis=1, keepdims=True)
    return response @ np.asarray(wavelengths, dtype=float)


def nearest_bands(wanted: np.ndarray, available: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each band of one response, a different band of another, the pairs as near as possible.

    The assignment minimises the sum of the total-variation distances (:func:`response_distance`)
    between the paired bands: a 6-band OLI response finds bands 2-7 of a 7-band Landsat 8 one,
    a 6-band Sentinel-2 response bands 2, 3, 4, 8, 11 and 12 of a 10-band Sentinel-2 one.

    Parameters
    ----------
    wanted : ndarray, shape (K, C)
    available : ndarray, shape (M, C), M >= K

    Returns
    -------
    bands : ndarray of int, shape (K,)
        The band of ``available`` paired with each band of ``wanted``.
    distances : ndarray, shape (K,)
    """
    if wanted.shape[1] != available.shape[1] or wanted.shape[0] > available.shape[0]:
        raise ShapeError(f"a response of shape {wanted.shape} cannot be matched within one of shape {available.shape}")
    a = wanted / wanted.sum(axis=1, keepdims=True)
    b = available / available.sum(axis=1, keepdims=True)
    distance = 0.5 * np.abs(a[:, None, :] - b[None, :, :]).sum(axis=2)
    rows, bands = linear_sum_assignment(distance)  # rows come back in order
    return bands, distance[rows, bands]


@dataclass(frozen=True)
class BandEmulation:
    """Another sensor's MSI bands as linear combinations of a pair's (:func:`emulate_bands`).

    Attributes
    ----------
    weights : ndarray, shape (M, K)
        ``emulated = msi @ weights + offset`` for an MSI of M bands, in the HSI's units.
    offset : ndarray, shape (K,)
    explained : ndarray, shape (K,)
        R^2 of each emulated band on the sample it was fitted on.
    """

    weights: np.ndarray
    offset: np.ndarray
    explained: np.ndarray

    def apply(self, msi: np.ndarray) -> np.ndarray:
        """The emulated bands of an MSI cube, shape (..., M) -> (..., K), float32."""
        emulated = msi.astype(np.float32, copy=False) @ self.weights.astype(np.float32)
        emulated += self.offset.astype(np.float32)
        return emulated

    def to_json(self) -> dict:
        return {"weights": self.weights.tolist(), "offset": self.offset.tolist(), "explained": self.explained.tolist()}


def emulate_bands(lrhsi: np.ndarray, lrmsi: np.ndarray, response: np.ndarray) -> BandEmulation:
    """The bands of a response ``response`` that a pair's MSI does not have, emulated from the bands it has.

    Each band ``response_k . hsi`` (rows normalised to sum to one, so in the HSI's units) is fitted
    by least squares, with an offset, as a linear combination of the MSI's bands on the LR grid: the
    spectral band adjustment that harmonises one multispectral sensor with another (Landsat and
    Sentinel-2 in HLS, Claverie et al. 2018), fitted here on the pair's own LR-HSI instead of a
    spectral library. The LR-HSI's noise sits in the target only, so the fit is unbiased by it; it
    lowers R^2 as :func:`noise_attenuation` says.

    Parameters
    ----------
    lrhsi : ndarray, shape (h, w, C)
    lrmsi : ndarray, shape (h, w, M)
        The HR-MSI degraded to the LR-HSI's grid.
    response : ndarray, shape (K, C)

    Returns
    -------
    BandEmulation
    """
    y, z = _pixels(lrhsi, lrmsi)
    if response.shape[1] != y.shape[1]:
        raise ShapeError(f"a response over {response.shape[1]} bands cannot read an HSI of {y.shape[1]}")
    response = np.asarray(response, dtype=np.float64)
    target = y @ (response / response.sum(axis=1, keepdims=True)).T
    z_mean, t_mean = z.mean(axis=0), target.mean(axis=0)
    weights = np.linalg.lstsq(z - z_mean, target - t_mean, rcond=None)[0]
    offset = t_mean - z_mean @ weights
    return BandEmulation(weights, offset, explained_variance(z @ weights + offset, target))


def response_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Total-variation distance between the rows of two responses: ``0.5 * sum |a_m - b_m|``.

    0 for identical responses, 1 for responses on disjoint bands; rows are normalised first.

    Returns
    -------
    ndarray, shape (M,)
    """
    if a.shape != b.shape:
        raise ShapeError(f"responses of shapes {a.shape} and {b.shape} cannot be compared")
    a = a / a.sum(axis=1, keepdims=True)
    b = b / b.sum(axis=1, keepdims=True)
    return 0.5 * np.abs(a - b).sum(axis=1)


__all__ = [
    "BandEmulation", "MIN_EXPLAINED", "ResponseFit", "SMOOTHNESS", "band_support", "centroids", "difference_operator",
    "emulate_bands", "estimate_response", "explained_variance", "fit_gain_offset", "named_response", "nearest_bands",
    "read_response_csv", "response_distance", "response_on_bands",
]
