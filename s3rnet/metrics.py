"""Full-reference quality metrics of a fused cube against the ground truth.

Every function takes ``(reference, estimate)``, both ``(H, W, C)`` arrays in the scene's units,
reference first, and computes in float64 whatever the input dtype. The conventions are those of
the S3RNet paper's tables and, where one exists, of the matching ``torchmetrics`` function, so
that numbers can be compared with other implementations:

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
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .errors import ConfigError, SceneDataError, ShapeError

PSNR_PEAKS = ("band-max", "data-range")

# SSIM window of Wang et al. (2004): Gaussian of standard deviation 1.5 on 11 x 11 taps.
_SSIM_SIGMA = 1.5
_SSIM_RADIUS = 5
_SSIM_K1 = 0.01
_SSIM_K2 = 0.03


def _validate(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Check that both cubes are finite ``(H, W, C)`` arrays of one shape; return them as float64."""
    reference = np.asarray(reference)
    estimate = np.asarray(estimate)
    if reference.ndim != 3 or estimate.ndim != 3:
        raise ShapeError(
            f"metrics expect (rows, cols, bands) cubes; got shapes {reference.shape} (reference) "
            f"and {estimate.shape} (estimate)"
        )
    if reference.shape != estimate.shape:
        raise ShapeError(
            f"reference is {reference.shape} but the estimate is {estimate.shape}; they must match"
        )
    if reference.size == 0:
        raise SceneDataError(f"cannot score empty cubes of shape {reference.shape}")
    for name, array in (("reference", reference), ("estimate", estimate)):
        if not np.isfinite(array).all():
            raise SceneDataError(f"{name} contains NaN or Inf values")
    return reference.astype(np.float64), estimate.astype(np.float64)


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
    if peak not in PSNR_PEAKS:
        raise ConfigError(f"unknown PSNR peak {peak!r}; choose one of {', '.join(PSNR_PEAKS)}")
    reference, estimate = _validate(reference, estimate)
    if peak == "band-max":
        peaks = reference.max(axis=(0, 1))
    else:
        peaks = np.full(reference.shape[-1], reference.max() - reference.min())
    if np.any(peaks <= 0):
        bad = np.flatnonzero(peaks <= 0)
        raise SceneDataError(
            f"PSNR peak is not positive for band(s) {bad[:10].tolist()} (peak={peak!r}); "
            f"the reference must have a positive maximum in every band, or use peak='data-range'"
        )
    mse = np.mean(np.square(reference - estimate), axis=(0, 1))
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.square(peaks) / mse)


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
    reference, estimate = _validate(reference, estimate)
    norm_ref = np.linalg.norm(reference, axis=-1, keepdims=True)
    norm_est = np.linalg.norm(estimate, axis=-1, keepdims=True)
    valid = (norm_ref[..., 0] > 0) & (norm_est[..., 0] > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = reference / norm_ref
        v = estimate / norm_est
    angle = 2.0 * np.arctan2(np.linalg.norm(u - v, axis=-1), np.linalg.norm(u + v, axis=-1))
    return np.where(valid, np.degrees(angle), np.nan)


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
    angles = sam_map(reference, estimate)
    if np.isnan(angles).all():
        raise SceneDataError("SAM is undefined: every pixel has an all-zero spectrum")
    return float(np.nanmean(angles))


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
    reference, estimate = _validate(reference, estimate)
    return float(np.sqrt(np.mean(np.square(reference - estimate))))


def rmse_map(reference: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Root mean squared error of every pixel over its bands, in the scene's units.

    Parameters
    ----------
    reference, estimate : ndarray, shape (H, W, C)

    Returns
    -------
    ndarray, shape (H, W), float64
    """
    reference, estimate = _validate(reference, estimate)
    return np.sqrt(np.mean(np.square(reference - estimate), axis=-1))


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
    if ratio <= 0:
        raise ConfigError(f"ERGAS ratio must be positive, got {ratio}")
    reference, estimate = _validate(reference, estimate)
    band_mean = reference.mean(axis=(0, 1))
    if np.any(band_mean == 0):
        bad = np.flatnonzero(band_mean == 0)
        raise SceneDataError(f"ERGAS is undefined: reference band(s) {bad[:10].tolist()} have mean 0")
    band_mse = np.mean(np.square(reference - estimate), axis=(0, 1))
    return float(100.0 / ratio * np.sqrt(np.mean(band_mse / np.square(band_mean))))


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
    reference, estimate = _validate(reference, estimate)
    if min(reference.shape[:2]) <= _SSIM_RADIUS:
        raise ShapeError(
            f"SSIM needs at least {_SSIM_RADIUS + 1} rows and columns, got {reference.shape[:2]}"
        )
    data_range = reference.max(axis=(0, 1)) - reference.min(axis=(0, 1))
    whole_range = reference.max() - reference.min()
    data_range = np.where(data_range > 0, data_range, whole_range if whole_range > 0 else 1.0)
    c1 = np.square(_SSIM_K1 * data_range)
    c2 = np.square(_SSIM_K2 * data_range)

    def local_mean(image: np.ndarray) -> np.ndarray:
        # scipy's "mirror" is torch's "reflect" padding (edge pixel not repeated).
        return ndimage.gaussian_filter(
            image, _SSIM_SIGMA, mode="mirror", radius=_SSIM_RADIUS, axes=(0, 1)
        )

    mu_ref = local_mean(reference)
    mu_est = local_mean(estimate)
    mu_ref_sq = np.square(mu_ref)
    mu_est_sq = np.square(mu_est)
    mu_cross = mu_ref * mu_est
    var_ref = np.maximum(local_mean(np.square(reference)) - mu_ref_sq, 0.0)
    var_est = np.maximum(local_mean(np.square(estimate)) - mu_est_sq, 0.0)
    covariance = local_mean(reference * estimate) - mu_cross
    index = ((2 * mu_cross + c1) * (2 * covariance + c2)) / (
        (mu_ref_sq + mu_est_sq + c1) * (var_ref + var_est + c2)
    )
    return index.mean(axis=(0, 1))


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
    return {
        "psnr": psnr(reference, estimate),
        "sam": sam(reference, estimate),
        "rmse": rmse(reference, estimate),
        "ergas": ergas(reference, estimate, ratio),
        "ssim": ssim(reference, estimate),
    }
