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


def _blur_axis_1(stack: np.ndarray, band_matrix: np.ndarray) -> np.ndarray:
    """The SSIM Gaussian along axis 1 of a ``(B, N, K)`` array, borders mirrored.

    The axis is padded by reflection (``d c b | a b c d``, scipy's ``mirror``, torch's
    ``reflect``) and cut into blocks of ``_BLUR_BLOCK`` outputs; each block is one product of
    the ``(block, block + 10)`` banded matrix with the block's padded window.
    """
    batch, length, channels = stack.shape
    blocks = -(-length // _BLUR_BLOCK)
    radius = _SSIM_RADIUS
    padded = np.zeros((batch, blocks * _BLUR_BLOCK + 2 * radius, channels), dtype=band_matrix.dtype)
    padded[:, radius:radius + length] = stack
    padded[:, :radius] = stack[:, radius:0:-1]
    padded[:, radius + length:2 * radius + length] = np.flip(stack[:, length - 1 - radius:length - 1], axis=1)
    s_batch, s_row, s_channel = padded.strides
    windows = as_strided(
        padded, (batch, blocks, _BLUR_BLOCK + 2 * radius, channels),
        (s_batch, _BLUR_BLOCK * s_row, s_row, s_channel), writeable=False,
    )
    return np.matmul(band_matrix, windows).reshape(batch, blocks * _BLUR_BLOCK, channels)[:, :length]


def gaussian_blur(images: np.ndarray) -> np.ndarray:
    """SSIM's local mean: the 11 x 11 Gaussian (sigma 1.5) of each channel, borders mirrored.

    Equal to ``scipy.ndimage.gaussian_filter(image, 1.5, mode="mirror", radius=5, axes=(0, 1))``
    for each image, up to rounding, as two passes of banded matrix products (several times
    faster than a direct convolution on many channels).

    Parameters
    ----------
    images : ndarray, shape (H, W, K) or (S, H, W, K)
        Float32 or float64; each side at least 6 pixels.

    Returns
    -------
    ndarray, same shape and dtype
    """
    shape = images.shape
    height, width, channels = shape[-3:]
    count = int(np.prod(shape[:-3], dtype=int))
    taps = _gaussian_taps().astype(images.dtype)
    band_matrix = np.zeros((_BLUR_BLOCK, _BLUR_BLOCK + 2 * _SSIM_RADIUS), dtype=images.dtype)
    for row in range(_BLUR_BLOCK):
        band_matrix[row, row:row + taps.size] = taps
    along_columns = _blur_axis_1(images.reshape(count, height, width * channels), band_matrix)
    return _blur_axis_1(along_columns.reshape(count * height, width, channels), band_matrix).reshape(shape)


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
    evaluation costs one pass over each estimate's error.

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

    def matches(self, reference: np.ndarray, ratio: float = 4) -> bool:
        """Whether this scorer scores against ``reference`` at ``ratio`` (values compared)."""
        reference = np.asarray(reference)
        return (
            float(ratio) == self.ratio and reference.shape == self.reference.shape
            and bool(np.array_equal(reference, self.reference))
        )

    # ------------------------------------------------------------------ inputs
    def _estimate(self, estimate: np.ndarray) -> np.ndarray:
        """A float64 copy of a checked estimate (a copy even when it is float64 already)."""
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
        return estimate.astype(np.float64)

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
    def _ssim_reference(self) -> dict[str, np.ndarray]:
        reference = self.reference
        if min(reference.shape[:2]) <= _SSIM_RADIUS:
            raise ShapeError(
                f"SSIM needs at least {_SSIM_RADIUS + 1} rows and columns, got {reference.shape[:2]}"
            )
        data_range = self._band_max - self._band_min
        whole_range = reference.max() - reference.min()
        data_range = np.where(data_range > 0, data_range, whole_range if whole_range > 0 else 1.0)
        c1 = np.square(_SSIM_K1 * data_range)
        c2 = np.square(_SSIM_K2 * data_range)
        # The reference's own statistics are float64; centring before squaring keeps E[x^2] - mu^2
        # from cancelling away the variance of flat regions.
        centred = reference - self._band_mean
        mu_centred, mean_square = gaussian_blur(np.stack([centred, np.square(centred)]))
        mu = mu_centred + self._band_mean
        variance = np.maximum(mean_square - np.square(mu_centred), 0.0)
        mu32, variance32 = mu.astype(np.float32), variance.astype(np.float32)
        luminance_base = (np.square(mu) + c1).astype(np.float32)
        contrast_base = (variance + c2).astype(np.float32)
        return {
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
        }

    # ------------------------------------------------------------------ metrics
    def psnr_per_band(self, estimate: np.ndarray, peak: str = "band-max") -> np.ndarray:
        """Per-band PSNR in dB; see :func:`psnr_per_band`."""
        if peak not in PSNR_PEAKS:
            raise ConfigError(f"unknown PSNR peak {peak!r}; choose one of {', '.join(PSNR_PEAKS)}")
        error = self._estimate(estimate) - self.reference
        return self._psnr_from_mse(self._band_mse(error), peak)

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
        return self._sam_map(self._estimate(estimate))

    def _sam_map(self, estimate: np.ndarray) -> np.ndarray:
        """The angles of ``estimate``, a float64 copy that this call overwrites."""
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
        error = self._estimate(estimate) - self.reference
        return np.sqrt(np.einsum("ijk,ijk->ij", error, error) / error.shape[-1])

    def rmse(self, estimate: np.ndarray) -> float:
        """RMSE over every value; see :func:`rmse`."""
        error = self._estimate(estimate) - self.reference
        return float(np.sqrt(np.mean(self._band_mse(error))))

    def ergas(self, estimate: np.ndarray) -> float:
        """ERGAS at this scorer's ratio; see :func:`ergas`."""
        error = self._estimate(estimate) - self.reference
        return self._ergas_from_mse(self._band_mse(error))

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
        return self._ssim_per_band(self._estimate(estimate) - self.reference)

    def _ssim_per_band(self, error: np.ndarray) -> np.ndarray:
        ref = self._ssim_reference
        error32 = error.astype(np.float32)
        stack = np.empty((3, *error.shape), dtype=np.float32)
        stack[0] = error32
        np.multiply(error32, error32, out=stack[1])
        np.multiply(ref["centred"], error32, out=stack[2])
        # Local mean of the error, of its square, and of its product with the centred reference,
        # turned in place into the statistics of the estimate (arrays reused to spare allocations).
        mu_error, error_variance, cross = gaussian_blur(stack)
        error_variance -= np.square(mu_error)
        cross -= ref["mu_centred"] * mu_error
        luminance = ref["mu"] * mu_error
        luminance *= 2
        luminance += ref["luminance_exact"]
        mu_estimate = mu_error
        mu_estimate += ref["mu"]
        np.square(mu_estimate, out=mu_estimate)
        mu_estimate += ref["luminance_base"]
        luminance /= mu_estimate
        cross *= 2
        variance_estimate = error_variance
        variance_estimate += ref["variance"]
        variance_estimate += cross
        np.maximum(variance_estimate, 0.0, out=variance_estimate)
        variance_estimate += ref["contrast_base"]
        cross += ref["contrast_exact"]
        cross /= variance_estimate
        luminance *= cross
        return luminance.mean(axis=(0, 1), dtype=np.float64)

    def score(self, estimate: np.ndarray) -> Scores:
        """Every metric of one estimate, its maps and per-band PSNR included."""
        estimate = self._estimate(estimate)
        error = estimate - self.reference
        band_mse = self._band_mse(error)
        band_psnr = self._psnr_from_mse(band_mse)
        angles = self._sam_map(estimate)  # overwrites the copy, which is not needed after
        return Scores(
            psnr=float(np.mean(band_psnr)),
            sam=_mean_angle(angles),
            rmse=float(np.sqrt(np.mean(band_mse))),
            ergas=self._ergas_from_mse(band_mse),
            ssim=float(np.mean(self._ssim_per_band(error))),
            psnr_per_band=band_psnr,
            sam_map=angles,
            rmse_map=np.sqrt(np.einsum("ijk,ijk->ij", error, error) / error.shape[-1]),
        )

    def evaluate(self, estimate: np.ndarray) -> dict[str, float]:
        """``psnr``, ``sam``, ``rmse``, ``ergas`` and ``ssim`` of one estimate; see :func:`evaluate_all`."""
        return self.score(estimate).summary()


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
