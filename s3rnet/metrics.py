"""Full-reference quality metrics of a fused cube against the ground truth.

Every function takes ``(reference, estimate)``, both ``(H, W, C)`` arrays in the scene's units,
reference first, and computes in float64 whatever the input dtype (SSIM's local statistics of
the error excepted, see :meth:`Scorer.ssim_per_band`). The conventions are those of the S3RNet
paper's tables and, where one exists, of the matching ``torchmetrics`` function, so that numbers
can be compared with other implementations:

========  ===================================================  =================================
metric    convention                                           torchmetrics equivalent
========  ===================================================  =================================
PSNR      mean over bands, peak = max of the reference band    ``peak_signal_noise_ratio`` per
                                                               band, ``data_range`` = that peak
SAM       degrees, mean over pixels, zero spectra excluded     ``spectral_angle_mapper`` (rad)
RMSE      over every value                                     --
ERGAS     ``100 / ratio * sqrt(mean_b RMSE_b^2 / mu_b^2)``     ``error_relative_global_...``
SSIM      per band (Gaussian 11 / 1.5, reflected borders),     ``structural_similarity_index_
          data range = max - min of the reference band         measure`` per band
========  ===================================================  =================================

Scoring several estimates against one ground truth (every method of an evaluation) goes
through one :class:`Scorer`, which computes what depends on the reference alone once; the
functions below build a scorer for a single call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .errors import ConfigError, SceneDataError, ShapeError

PSNR_PEAKS = ("band-max", "data-range")

# SSIM window of Wang et al. (2004): Gaussian of standard deviation 1.5 on 11 x 11 taps.
_SSIM_SIGMA = 1.5
_SSIM_RADIUS = 5
_SSIM_K1 = 0.01
_SSIM_K2 = 0.03
# Rows (columns) of output per banded matrix product of the Gaussian filter: small enough that
# the band's zeros cost little, large enough that each product keeps BLAS busy.
_BLUR_BLOCK = 16
# Bands per run of SSIM's computation: its working arrays scale with a run, not with the cube.
_SSIM_BANDS_PER_RUN = 48


def _check_cube(array: np.ndarray, name: str) -> None:
    if array.ndim != 3:
        raise ShapeError(f"metrics expect (rows, cols, bands) cubes; got a {name} of shape {array.shape}")
    if array.size == 0:
        raise SceneDataError(f"cannot score empty cubes of shape {array.shape}")
    if not np.isfinite(array).all():
        raise SceneDataError(f"{name} contains NaN or Inf values")


def _gaussian_taps() -> np.ndarray:
    offsets = np.arange(-_SSIM_RADIUS, _SSIM_RADIUS + 1)
    taps = np.exp(-0.5 * np.square(offsets / _SSIM_SIGMA))
    return taps / taps.sum()


class _AxisBlur:
    """The SSIM Gaussian along one axis of arrays shaped ``outer + (length,) + inner``.

    The axis is padded by reflection (``d c b | a b c d``: scipy's ``mirror``, torch's
    ``reflect``) and cut into blocks of ``_BLUR_BLOCK`` outputs; each block is one product of
    the ``(block, block + 10)`` banded matrix with the block's padded window. The padded copy
    and the products live in arrays kept between calls.
    """

    def __init__(self, outer: tuple[int, ...], length: int, inner: tuple[int, ...], dtype: np.dtype) -> None:
        self.outer, self.length, self.inner = outer, length, inner
        self.blocks = -(-length // _BLUR_BLOCK)
        batch, width = int(np.prod(outer, dtype=int)), int(np.prod(inner, dtype=int))
        self.padded = np.zeros((batch, self.blocks * _BLUR_BLOCK + 2 * _SSIM_RADIUS, width), dtype=dtype)
        self.products = np.empty((batch, self.blocks, _BLUR_BLOCK, width), dtype=dtype)
        s_batch, s_row, s_column = self.padded.strides
        self.windows = as_strided(
            self.padded, (batch, self.blocks, _BLUR_BLOCK + 2 * _SSIM_RADIUS, width),
            (s_batch, _BLUR_BLOCK * s_row, s_row, s_column), writeable=False,
        )

    def __call__(self, source: np.ndarray, band_matrix: np.ndarray) -> np.ndarray:
        radius, length = _SSIM_RADIUS, self.length
        lead = (slice(None),) * len(self.outer)
        axis = len(self.outer)
        padded = self.padded.reshape(*self.outer, -1, *self.inner)
        padded[lead + (slice(radius, radius + length),)] = source
        padded[lead + (slice(0, radius),)] = source[lead + (slice(radius, 0, -1),)]
        padded[lead + (slice(radius + length, 2 * radius + length),)] = np.flip(
            source[lead + (slice(length - 1 - radius, length - 1),)], axis=axis
        )
        np.matmul(band_matrix, self.windows, out=self.products)
        return self.products.reshape(*self.outer, -1, *self.inner)[lead + (slice(0, length),)]


class GaussianBlur:
    """SSIM's local mean: the 11 x 11 Gaussian (sigma 1.5) of each channel, borders mirrored,
    for stacks of images of one shape.

    Equal to ``scipy.ndimage.gaussian_filter(image, 1.5, mode="mirror", radius=5, axes=(0, 1))``
    for each image up to rounding, as two passes of banded matrix products: on 144 x 144 x 600
    float32 values, 33 ms on 2 cores against scipy's 100 ms, once the working arrays exist
    (they are kept between calls; allocating them afresh doubled the time).

    Parameters
    ----------
    shape : (S, H, W, K)
        Images, rows, columns and channels; each side at least 6 pixels.
    dtype : float32 or float64
    """

    def __init__(self, shape: tuple[int, int, int, int], dtype: np.dtype = np.float32) -> None:
        count, height, width, channels = shape
        if min(height, width) <= _SSIM_RADIUS:
            raise ShapeError(f"SSIM needs at least {_SSIM_RADIUS + 1} rows and columns, got {(height, width)}")
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        taps = _gaussian_taps().astype(self.dtype)
        self._band_matrix = np.zeros((_BLUR_BLOCK, _BLUR_BLOCK + 2 * _SSIM_RADIUS), dtype=self.dtype)
        for row in range(_BLUR_BLOCK):
            self._band_matrix[row, row:row + taps.size] = taps
        self._rows = _AxisBlur((count,), height, (width * channels,), self.dtype)
        self._columns = _AxisBlur((count, height), width, (channels,), self.dtype)

    @property
    def nbytes(self) -> int:
        """Bytes of the working arrays kept between calls."""
        return sum(axis.padded.nbytes + axis.products.nbytes for axis in (self._rows, self._columns))

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Blur ``images`` (S, H, W, K); the result is a view that the next call overwrites."""
        if images.shape != self.shape:
            raise ShapeError(f"this blur takes images of shape {self.shape}, got {images.shape}")
        count, height, width, channels = self.shape
        along_rows = self._rows(images.reshape(count, height, width * channels), self._band_matrix)
        return self._columns(along_rows.reshape(count, height, width, channels), self._band_matrix)


def gaussian_blur(images: np.ndarray) -> np.ndarray:
    """SSIM's local mean of each channel of one image or a stack of them (see :class:`GaussianBlur`).

    Parameters
    ----------
    images : ndarray, shape (H, W, K) or (S, H, W, K)
        Float32 or float64; each side at least 6 pixels.

    Returns
    -------
    ndarray, same shape and dtype
    """
    stack = images.reshape((-1, *images.shape[-3:]))
    return GaussianBlur(stack.shape, images.dtype)(stack).reshape(images.shape)


class _Workspace:
    """The arrays one scoring works in, kept between the scorings of one evaluation."""

    def __init__(self, shape: tuple[int, int, int]) -> None:
        self.copy = np.empty(shape, dtype=np.float64)
        self.error = np.empty(shape, dtype=np.float64)
        self._shape = shape
        self._ssim: dict[int, tuple[np.ndarray, GaussianBlur]] = {}

    def ssim_arrays(self, bands: int) -> tuple[np.ndarray, GaussianBlur]:
        """SSIM's (3, H, W, bands) float32 stack and its blur, for a run of ``bands`` bands."""
        if bands not in self._ssim:
            height, width, _ = self._shape
            shape = (3, height, width, bands)
            self._ssim[bands] = (np.empty(shape, dtype=np.float32), GaussianBlur(shape, np.float32))
        return self._ssim[bands]

    @property
    def nbytes(self) -> int:
        blurs = sum(blur.nbytes + stack.nbytes for stack, blur in self._ssim.values())
        return self.copy.nbytes + self.error.nbytes + blurs


def _band_runs(bands: int) -> list[slice]:
    """Consecutive runs of at most ``_SSIM_BANDS_PER_RUN`` bands, of nearly equal lengths."""
    edges = np.linspace(0, bands, -(-bands // _SSIM_BANDS_PER_RUN) + 1).round().astype(int)
    return [slice(int(start), int(stop)) for start, stop in zip(edges[:-1], edges[1:])]


@dataclass(frozen=True)
class Scores:
    """The metrics of one estimate: the five numbers of the tables and the maps behind them.

    Attributes
    ----------
    psnr, sam, rmse, ergas, ssim : float
        As :func:`evaluate_all` gives them.
    psnr_per_band : ndarray, shape (C,)
        dB (:func:`psnr_per_band`, band-max peak).
    sam_map : ndarray, shape (H, W)
        Degrees, NaN where a spectrum is all zeros (:func:`sam_map`).
    rmse_map : ndarray, shape (H, W)
        Scene units (:func:`rmse_map`).
    """

    psnr: float
    sam: float
    rmse: float
    ergas: float
    ssim: float
    psnr_per_band: np.ndarray
    sam_map: np.ndarray
    rmse_map: np.ndarray

    def summary(self) -> dict[str, float]:
        """``psnr``, ``sam``, ``rmse``, ``ergas`` and ``ssim``, as :func:`evaluate_all` returns them."""
        return {"psnr": self.psnr, "sam": self.sam, "rmse": self.rmse, "ergas": self.ergas, "ssim": self.ssim}


class Scorer:
    """The metrics of any number of estimates against one reference cube.

    What depends on the reference alone (band peaks and means, unit spectra, SSIM's local means
    and variances) is computed on first use and kept, so that scoring the methods of an
    evaluation costs one pass over each estimate's error. Inside :meth:`reusing_buffers` the
    working arrays are kept between scorings as well. Calls on one scorer from several threads
    take turns.

    Parameters
    ----------
    reference : ndarray, shape (H, W, C)
        Ground truth, finite.
    ratio : float
        Resolution ratio between the LR-HSI and the fused cube, for ERGAS.

    Raises
    ------
    ShapeError, SceneDataError, ConfigError
        A reference that is not a finite, non-empty cube; a ratio that is not positive.
    """

    def __init__(self, reference: np.ndarray, ratio: float = 4) -> None:
        reference = np.asarray(reference)
        _check_cube(reference, "reference")
        if ratio <= 0:
            raise ConfigError(f"ERGAS ratio must be positive, got {ratio}")
        self.reference = reference.astype(np.float64)
        self.ratio = float(ratio)
        self._lock = threading.RLock()
        self._kept: _Workspace | None = None

    @contextmanager
    def reusing_buffers(self) -> Iterator[Scorer]:
        """Keep the working arrays (about 40 bytes per value of the cube) until the block ends.

        Allocating them afresh costs about as much as the scoring itself; an evaluation scores
        all its methods inside one such block. Other threads wait for the block to end.
        """
        with self._lock:
            self._kept = _Workspace(self.reference.shape)
            try:
                yield self
            finally:
                self._kept = None

    def matches(self, reference: np.ndarray, ratio: float = 4) -> bool:
        """Whether this scorer scores against ``reference`` at ``ratio`` (values compared)."""
        reference = np.asarray(reference)
        return (
            float(ratio) == self.ratio and reference.shape == self.reference.shape
            and bool(np.array_equal(reference, self.reference))
        )

    # ------------------------------------------------------------------ inputs
    def _load(self, estimate: np.ndarray) -> _Workspace:
        """Check an estimate; return a workspace holding it (float64, ``copy``) and its ``error``."""
        estimate = np.asarray(estimate)
        if estimate.ndim != 3:
            raise ShapeError(
                f"metrics expect (rows, cols, bands) cubes; got shapes {self.reference.shape} (reference) "
                f"and {estimate.shape} (estimate)"
            )
        if estimate.shape != self.reference.shape:
            raise ShapeError(
                f"reference is {self.reference.shape} but the estimate is {estimate.shape}; they must match"
            )
        _check_cube(estimate, "estimate")
        work = self._kept or _Workspace(self.reference.shape)
        np.copyto(work.copy, estimate)
        np.subtract(work.copy, self.reference, out=work.error)
        return work

    def _band_mse(self, error: np.ndarray) -> np.ndarray:
        height, width, _ = error.shape
        return np.einsum("ijk,ijk->k", error, error) / (height * width)

    # ------------------------------------------------------------------ what the reference alone gives
    @cached_property
    def _band_max(self) -> np.ndarray:
        return self.reference.max(axis=(0, 1))

    @cached_property
    def _band_min(self) -> np.ndarray:
        return self.reference.min(axis=(0, 1))

    @cached_property
    def _band_mean(self) -> np.ndarray:
        return self.reference.mean(axis=(0, 1))

    @cached_property
    def _unit_spectra(self) -> tuple[np.ndarray, np.ndarray]:
        norm = np.sqrt(np.einsum("ijk,ijk->ij", self.reference, self.reference))
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.reference / norm[..., None], norm > 0

    @cached_property
    def _ssim_reference(self) -> list[tuple[slice, dict[str, np.ndarray]]]:
        """For each run of bands, the reference's SSIM statistics as contiguous float32 arrays."""
        reference = self.reference
        data_range = self._band_max - self._band_min
        whole_range = reference.max() - reference.min()
        data_range = np.where(data_range > 0, data_range, whole_range if whole_range > 0 else 1.0)
        c1 = np.square(_SSIM_K1 * data_range)
        c2 = np.square(_SSIM_K2 * data_range)
        runs = []
        for run in _band_runs(reference.shape[-1]):
            # The reference's own statistics are float64; centring before squaring keeps
            # E[x^2] - mu^2 from cancelling away the variance of flat regions.
            centred = reference[..., run] - self._band_mean[run]
            mu_centred, mean_square = gaussian_blur(np.stack([centred, np.square(centred)]))
            mu = mu_centred + self._band_mean[run]
            variance = np.maximum(mean_square - np.square(mu_centred), 0.0)
            mu32, variance32 = mu.astype(np.float32), variance.astype(np.float32)
            luminance_base = (np.square(mu) + c1[run]).astype(np.float32)
            contrast_base = (variance + c2[run]).astype(np.float32)
            runs.append((run, {
                "mu": mu32,
                "mu_centred": mu_centred.astype(np.float32),
                "centred": centred.astype(np.float32),
                "variance": variance32,
                # The parts of SSIM's two fractions that the estimate does not change, summed in
                # float32 as _ssim_per_band sums the denominators, so that an exact estimate gives 1.
                "luminance_base": luminance_base,
                "luminance_exact": luminance_base + np.square(mu32),
                "contrast_base": contrast_base,
                "contrast_exact": contrast_base + variance32,
            }))
        return runs

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays this scorer keeps: the reference and the statistics computed so far,
        plus the working arrays inside :meth:`reusing_buffers`."""
        kept = [self.reference]
        if "_unit_spectra" in self.__dict__:
            kept += list(self._unit_spectra)
        if "_ssim_reference" in self.__dict__:
            kept += [array for _, arrays in self._ssim_reference for array in arrays.values()]
        return sum(array.nbytes for array in kept) + (self._kept.nbytes if self._kept is not None else 0)

    # ------------------------------------------------------------------ metrics
    def psnr_per_band(self, estimate: np.ndarray, peak: str = "band-max") -> np.ndarray:
        """Per-band PSNR in dB; see :func:`psnr_per_band`."""
        if peak not in PSNR_PEAKS:
            raise ConfigError(f"unknown PSNR peak {peak!r}; choose one of {', '.join(PSNR_PEAKS)}")
        with self._lock:
            return self._psnr_from_mse(self._band_mse(self._load(estimate).error), peak)

    def _psnr_from_mse(self, band_mse: np.ndarray, peak: str = "band-max") -> np.ndarray:
        if peak == "band-max":
            peaks = self._band_max
        else:
            peaks = np.full(band_mse.shape, self._band_max.max() - self._band_min.min())
        if np.any(peaks <= 0):
            bad = np.flatnonzero(peaks <= 0)
            raise SceneDataError(
                f"PSNR peak is not positive for band(s) {bad[:10].tolist()} (peak={peak!r}); "
                f"the reference must have a positive maximum in every band, or use peak='data-range'"
            )
        with np.errstate(divide="ignore"):
            return 10.0 * np.log10(np.square(peaks) / band_mse)

    def sam_map(self, estimate: np.ndarray) -> np.ndarray:
        """Per-pixel spectral angle in degrees; see :func:`sam_map`."""
        with self._lock:
            return self._sam_map(self._load(estimate).copy)

    def _sam_map(self, estimate: np.ndarray) -> np.ndarray:
        """The angles of ``estimate``, a float64 working copy that this call overwrites."""
        unit, has_direction = self._unit_spectra
        norm = np.sqrt(np.einsum("ijk,ijk->ij", estimate, estimate))
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(estimate, norm[..., None], out=estimate)
        difference = np.subtract(unit, estimate, out=estimate)
        # |u - v|^2 + |u + v|^2 = 4 for unit vectors, so |u + v| needs no second pass.
        difference_sq = np.einsum("ijk,ijk->ij", difference, difference)
        angle = 2.0 * np.arctan2(np.sqrt(difference_sq), np.sqrt(np.maximum(4.0 - difference_sq, 0.0)))
        return np.where(has_direction & (norm > 0), np.degrees(angle), np.nan)

    def rmse_map(self, estimate: np.ndarray) -> np.ndarray:
        """Per-pixel RMSE over the bands; see :func:`rmse_map`."""
        with self._lock:
            return self._rmse_map(self._load(estimate).error)

    def _rmse_map(self, error: np.ndarray) -> np.ndarray:
        return np.sqrt(np.einsum("ijk,ijk->ij", error, error) / error.shape[-1])

    def rmse(self, estimate: np.ndarray) -> float:
        """RMSE over every value; see :func:`rmse`."""
        with self._lock:
            return float(np.sqrt(np.mean(self._band_mse(self._load(estimate).error))))

    def ergas(self, estimate: np.ndarray) -> float:
        """ERGAS at this scorer's ratio; see :func:`ergas`."""
        with self._lock:
            return self._ergas_from_mse(self._band_mse(self._load(estimate).error))

    def _ergas_from_mse(self, band_mse: np.ndarray) -> float:
        band_mean = self._band_mean
        if np.any(band_mean == 0):
            bad = np.flatnonzero(band_mean == 0)
            raise SceneDataError(f"ERGAS is undefined: reference band(s) {bad[:10].tolist()} have mean 0")
        return float(100.0 / self.ratio * np.sqrt(np.mean(band_mse / np.square(band_mean))))

    def ssim_per_band(self, estimate: np.ndarray) -> np.ndarray:
        """Per-band SSIM; see :func:`ssim_per_band`.

        The local statistics of the reference are float64. Those of the error ``d = estimate -
        reference`` (its mean, its mean square and its mean product with the centred reference)
        are float32, which puts their rounding at about 1e-7 of the error's own size, far below
        the SSIM constants; scores agree with an all-float64 computation to about 1e-9.
        """
        with self._lock:
            return self._ssim_per_band(self._load(estimate))

    def _ssim_per_band(self, work: _Workspace) -> np.ndarray:
        index = np.empty(work.error.shape[-1])
        for run, ref in self._ssim_reference:
            stack, blur = work.ssim_arrays(run.stop - run.start)
            stack[0] = work.error[..., run]
            np.multiply(stack[0], stack[0], out=stack[1])
            np.multiply(ref["centred"], stack[0], out=stack[2])
            # Local mean of the error, of its square, and of its product with the centred
            # reference, turned in place into the statistics of the estimate; the stack, free
            # once blurred, holds the luminance term and a scratch array (fresh arrays would
            # cost page faults).
            blurred = blur(stack)
            for rows in _row_chunks(stack.shape[1]):
                mu_error, error_variance, cross = blurred[:, rows]
                luminance, scratch = stack[0, rows], stack[1, rows]
                mu, mu_centred = ref["mu"][rows], ref["mu_centred"][rows]
                np.multiply(mu_error, mu_error, out=scratch)
                error_variance -= scratch
                np.multiply(mu_centred, mu_error, out=scratch)
                cross -= scratch
                np.multiply(mu, mu_error, out=luminance)
                luminance *= 2
                luminance += ref["luminance_exact"][rows]
                mu_estimate = mu_error
                mu_estimate += mu
                np.multiply(mu_estimate, mu_estimate, out=mu_estimate)
                mu_estimate += ref["luminance_base"][rows]
                luminance /= mu_estimate
                cross *= 2
                variance_estimate = error_variance
                variance_estimate += ref["variance"][rows]
                variance_estimate += cross
                np.maximum(variance_estimate, 0.0, out=variance_estimate)
                variance_estimate += ref["contrast_base"][rows]
                cross += ref["contrast_exact"][rows]
                cross /= variance_estimate
                luminance *= cross
            index[run] = stack[0].mean(axis=(0, 1), dtype=np.float64)
        return index

    def score(self, estimate: np.ndarray) -> Scores:
        """Every metric of one estimate, its maps and per-band PSNR included."""
        with self._lock:
            work = self._load(estimate)
            band_mse = self._band_mse(work.error)
            band_psnr = self._psnr_from_mse(band_mse)
            angles = self._sam_map(work.copy)
            return Scores(
                psnr=float(np.mean(band_psnr)),
                sam=_mean_angle(angles),
                rmse=float(np.sqrt(np.mean(band_mse))),
                ergas=self._ergas_from_mse(band_mse),
                ssim=float(np.mean(self._ssim_per_band(work))),
                psnr_per_band=band_psnr,
                sam_map=angles,
                rmse_map=self._rmse_map(work.error),
            )

    def evaluate(self, estimate: np.ndarray) -> dict[str, float]:
        """``psnr``, ``sam``, ``rmse``, ``ergas`` and ``ssim`` of one estimate; see :func:`evaluate_all`."""
        return self.score(estimate).summary()


def _row_chunks(height: int, rows: int = 8) -> Iterator[slice]:
    # Runs of rows small enough that a chain of in-place operations stays in the CPU's cache.
    for start in range(0, height, rows):
        yield slice(start, min(start + rows, height))


def _mean_angle(angles: np.ndarray) -> float:
    if np.isnan(angles).all():
        raise SceneDataError("SAM is undefined: every pixel has an all-zero spectrum")
    return float(np.nanmean(angles))


# --------------------------------------------------------------------------------------------
# PSNR
# --------------------------------------------------------------------------------------------


def psnr_per_band(
    reference: np.ndarray, estimate: np.ndarray, peak: str = "band-max"
) -> np.ndarray:
    """Peak signal-to-noise ratio of each band, ``10 log10(peak_b^2 / MSE_b)``.

    Parameters
    ----------
    reference : ndarray, shape (H, W, C)
        Ground truth.
    estimate : ndarray, shape (H, W, C)
        Fused cube.
    peak : {"band-max", "data-range"}
        ``band-max`` (the paper's convention): the peak of band ``b`` is the maximum of the
        reference band. ``data-range``: one peak for every band, ``max - min`` of the whole
        reference.

    Returns
    -------
    ndarray, shape (C,), float64
        dB. A band reproduced exactly (MSE 0) scores ``+inf``.

    Raises
    ------
    ConfigError
        Unknown ``peak``.
    SceneDataError
        A peak that is not positive (a reference band whose maximum is <= 0; use
        ``peak="data-range"`` for such data).
    """
    return Scorer(reference).psnr_per_band(estimate, peak)


def psnr(reference: np.ndarray, estimate: np.ndarray, peak: str = "band-max") -> float:
    """Mean over bands of the per-band PSNR (:func:`psnr_per_band`), in dB.

    Parameters
    ----------
    reference, estimate : ndarray, shape (H, W, C)
    peak : {"band-max", "data-range"}
        See :func:`psnr_per_band`.

    Returns
    -------
    float
        ``+inf`` as soon as one band is reproduced exactly, hence for identical cubes.

    References
    ----------
    .. [1] Q. Huynh-Thu and M. Ghanbari, "Scope of validity of PSNR in image/video quality
           assessment", Electronics Letters 44(13), 2008.
    """
    return float(np.mean(psnr_per_band(reference, estimate, peak)))


# --------------------------------------------------------------------------------------------
# SAM
# --------------------------------------------------------------------------------------------


def sam_map(reference: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Spectral angle between the two spectra of every pixel, in degrees.

    Parameters
    ----------
    reference, estimate : ndarray, shape (H, W, C)

    Returns
    -------
    ndarray, shape (H, W), float64
        Angles in ``[0, 180]`` degrees; NaN where either spectrum is all zeros (no direction).

    Notes
    -----
    The angle is computed as ``2 atan2(|u - v|, |u + v|)`` on the unit spectra ``u`` and ``v``
    (Kahan's formula) rather than ``arccos(u . v)``: ``arccos`` loses half the digits near 0,
    the region that matters for good fusions, and does not give exactly 0 for equal spectra.

    References
    ----------
    .. [1] R. H. Yuhas, A. F. H. Goetz and J. W. Boardman, "Discrimination among semi-arid
           landscape endmembers using the spectral angle mapper (SAM) algorithm", Summaries of
           the 3rd Annual JPL Airborne Geoscience Workshop, 1992.
    """
    return Scorer(reference).sam_map(estimate)


def sam_excluded(reference: np.ndarray, estimate: np.ndarray) -> int:
    """Number of pixels that :func:`sam` leaves out because one of their spectra is all zeros.

    Parameters
    ----------
    reference, estimate : ndarray, shape (H, W, C)

    Returns
    -------
    int
    """
    return int(np.isnan(sam_map(reference, estimate)).sum())


def sam(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Mean spectral angle over the pixels, in degrees.

    Pixels where either spectrum is all zeros have no angle: they are left out of the mean
    (:func:`sam_excluded` counts them).

    Parameters
    ----------
    reference, estimate : ndarray, shape (H, W, C)

    Returns
    -------
    float
        Degrees; 0 for identical cubes.

    Raises
    ------
    SceneDataError
        When every pixel is left out.
    """
    return _mean_angle(sam_map(reference, estimate))


# --------------------------------------------------------------------------------------------
# RMSE and ERGAS
# --------------------------------------------------------------------------------------------


def rmse(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Root mean squared error over every value, in the scene's units.

    Parameters
    ----------
    reference, estimate : ndarray, shape (H, W, C)

    Returns
    -------
    float
    """
    return Scorer(reference).rmse(estimate)


def rmse_map(reference: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Root mean squared error of every pixel over its bands, in the scene's units.

    Parameters
    ----------
    reference, estimate : ndarray, shape (H, W, C)

    Returns
    -------
    ndarray, shape (H, W), float64
    """
    return Scorer(reference).rmse_map(estimate)


def ergas(reference: np.ndarray, estimate: np.ndarray, ratio: float = 4) -> float:
    """Erreur Relative Globale Adimensionnelle de Synthese.

    ``ERGAS = 100 / ratio * sqrt(mean_b (RMSE_b^2 / mu_b^2))`` where ``RMSE_b`` is the error of
    band ``b`` and ``mu_b`` the mean of the reference band; ``ratio`` is the resolution ratio
    ``d_l / d_h`` (4 in the paper), so the factor is ``100 d_h / d_l``. This is the convention of
    ``torchmetrics.functional.image.error_relative_global_dimensionless_synthesis(ratio=4)``.

    Parameters
    ----------
    reference, estimate : ndarray, shape (H, W, C)
    ratio : float
        Spatial resolution ratio between the LR-HSI and the fused cube.

    Returns
    -------
    float
        Lower is better; 0 for identical cubes.

    Raises
    ------
    SceneDataError
        A reference band whose mean is 0 (the relative error is undefined).

    References
    ----------
    .. [1] L. Wald, "Quality of high resolution synthesised images: is there a simple
           criterion?", Proc. Fusion of Earth Data, 2000, pp. 99-103.
    """
    return Scorer(reference, ratio).ergas(estimate)


# --------------------------------------------------------------------------------------------
# SSIM
# --------------------------------------------------------------------------------------------


def ssim_per_band(reference: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Structural similarity of each band.

    Local statistics are Gaussian-weighted (standard deviation 1.5, 11 x 11 taps) with the
    borders reflected without repeating the edge pixel (``d c b | a b c d``), the SSIM map is
    averaged over every pixel, ``K1 = 0.01``, ``K2 = 0.03`` and the data range of band ``b`` is
    ``max - min`` of the reference band. These are the conventions of
    ``torchmetrics.functional.image.structural_similarity_index_measure`` called on one band
    with ``data_range`` set to that range (population variances clamped at 0, no crop of the
    border), which differ from scikit-image's defaults (uniform 7 x 7 window, sample
    covariances, border cropped).

    Parameters
    ----------
    reference, estimate : ndarray, shape (H, W, C)
        Each side at least 6 pixels (the reflection needs 5 pixels besides the edge).

    Returns
    -------
    ndarray, shape (C,), float64
        1 for identical bands.

    Notes
    -----
    A constant reference band has no range; it is given the range of the whole reference
    instead, and 1 when the whole reference is constant, so that the constants ``C1`` and
    ``C2`` stay positive and the index defined.

    References
    ----------
    .. [1] Z. Wang, A. C. Bovik, H. R. Sheikh and E. P. Simoncelli, "Image quality assessment:
           from error visibility to structural similarity", IEEE Transactions on Image
           Processing 13(4), 2004, pp. 600-612.
    """
    return Scorer(reference).ssim_per_band(estimate)


def ssim(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Mean over bands of the per-band SSIM (:func:`ssim_per_band`).

    Parameters
    ----------
    reference, estimate : ndarray, shape (H, W, C)

    Returns
    -------
    float
        At most 1, reached for identical cubes.
    """
    return float(np.mean(ssim_per_band(reference, estimate)))


# --------------------------------------------------------------------------------------------
# All at once
# --------------------------------------------------------------------------------------------


def evaluate_all(reference: np.ndarray, estimate: np.ndarray, ratio: float = 4) -> dict[str, float]:
    """The paper's five metrics of one fused cube.

    Parameters
    ----------
    reference, estimate : ndarray, shape (H, W, C)
    ratio : float
        Resolution ratio, for ERGAS.

    Returns
    -------
    dict
        ``psnr`` (dB, band-max peak), ``sam`` (degrees), ``rmse`` (scene units), ``ergas`` and
        ``ssim``, as floats.
    """
    return Scorer(reference, ratio).evaluate(estimate)
