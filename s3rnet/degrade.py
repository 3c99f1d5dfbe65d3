"""The degradation model: from a high-resolution cube to the two fusion inputs.

The paper writes the LR-HSI as ``X_h = Y B`` (spatial blur and decimation, "aggregating
neighbouring pixels") and the HR-MSI as ``X_m = D Y`` (spectral degradation, "combining
adjacent bands"). Every choice below is explicit, named, and recorded in
:attr:`Simulation.meta` (DESIGN section 3, the protocol card):

* spatial: ``ratio`` (4) and PSF ``box`` (mean of each ratio x ratio block, the paper's
  aggregation) or ``gaussian`` (Wald's protocol: sigma from the MTF gain at the LR Nyquist
  frequency), reflective borders;
* spectral: ``binning4`` / ``binning6`` (contiguous groups of bands averaged, the paper) or the
  official responses of Landsat-8 OLI (``oli4``: bands 2-5, ``oli6``: 2-7) and Sentinel-2A MSI
  (``s2-4``: bands 2, 3, 4, 8, ``s2-6``: + 11, 12) from the PyPI package ``pyrsr``, sampled at
  the cube's own band centres;
* noise: AWGN at an SNR in dB (noise power = signal power / 10^(SNR/10)), per image or per band,
  on the LR-HSI and/or the HR-MSI, from a seeded generator;
* misregistration: a sub-pixel or integer shift of the LR-HSI, in LR pixels.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import ndimage

from .errors import ConfigError, ResponseRangeError, ShapeError, WavelengthError
from .fusion import FusionInputs

PSFS = ("box", "gaussian")
# The sensors' band sets: OLI's 4 VNIR bands and those with its 2 SWIR bands; OLI's 7 bands of
# the Landsat 8/9 surface-reflectance product (with coastal aerosol); Sentinel-2's 4 bands at
# 10 m, those with its 2 SWIR bands, and its 10 bands at 10 and 20 m (a common stack).
MSI_RESPONSES = ("binning4", "binning6", "oli4", "oli6", "oli7", "s2-4", "s2-6", "s2-10")

# (pyrsr satellite, pyrsr sensor, band names) of each sensor response.
_SENSOR_BANDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "oli4": ("Landsat-8", "OLI_TIRS", ("2", "3", "4", "5")),
    "oli6": ("Landsat-8", "OLI_TIRS", ("2", "3", "4", "5", "6", "7")),
    "oli7": ("Landsat-8", "OLI_TIRS", ("1", "2", "3", "4", "5", "6", "7")),
    "s2-4": ("Sentinel-2A", "MSI", ("2", "3", "4", "8")),
    "s2-6": ("Sentinel-2A", "MSI", ("2", "3", "4", "8", "11", "12")),
    "s2-10": ("Sentinel-2A", "MSI", ("2", "3", "4", "5", "6", "7", "8", "8A", "11", "12")),
}

# A sensor band is refused when less than this share of its response lies on the cube's bands.
_MIN_RESPONSE_COVERAGE = 0.9


# --------------------------------------------------------------------------------------------
# Spatial degradation
# --------------------------------------------------------------------------------------------


def gaussian_sigma(ratio: int, mtf: float = 0.3) -> float:
    """Standard deviation (HR pixels) of the Gaussian PSF whose gain at the LR Nyquist is ``mtf``.

    A Gaussian of standard deviation sigma has the transfer function ``exp(-2 pi^2 sigma^2 f^2)``;
    setting it to ``mtf`` at ``f = 1 / (2 ratio)`` cycles per HR pixel gives
    ``sigma = ratio * sqrt(-2 ln mtf) / pi``.
    """
    if not 0.0 < mtf < 1.0:
        raise ConfigError(f"MTF gain at Nyquist must lie in (0, 1), got {mtf}")
    return ratio * float(np.sqrt(-2.0 * np.log(mtf))) / np.pi


def psf_matrix(n: int, ratio: int, psf: str = "box", mtf: float = 0.3) -> np.ndarray:
    """One axis of the separable blur-and-decimate operator, with reflective borders.

    LR pixel ``i`` is centred on HR coordinate ``i * ratio + (ratio - 1) / 2`` (the centre of its
    block), for both PSFs, so the two images share one geometry.

    Parameters
    ----------
    n : int
        HR length of the axis, a multiple of ``ratio``.
    ratio : int
        Decimation factor.
    psf : {"box", "gaussian"}
        ``box`` averages each block of ``ratio`` pixels; ``gaussian`` weighs HR pixels by a
        Gaussian of :func:`gaussian_sigma` around the block centre.
    mtf : float
        Gain of the Gaussian at the LR Nyquist frequency.

    Returns
    -------
    ndarray, shape (n // ratio, n), float64
        Rows sum to one.
    """
    if psf not in PSFS:
        raise ConfigError(f"unknown PSF {psf!r}; choose one of {', '.join(PSFS)}")
    if ratio < 1 or n % ratio:
        raise ShapeError(f"size {n} is not a multiple of the ratio {ratio}")
    m = n // ratio
    op = np.zeros((m, n))
    if psf == "box":
        for i in range(m):
            op[i, i * ratio : (i + 1) * ratio] = 1.0 / ratio
        return op
    sigma = gaussian_sigma(ratio, mtf)
    half = int(np.ceil(3 * sigma + ratio / 2))
    for i in range(m):
        centre = i * ratio + (ratio - 1) / 2
        taps = np.arange(int(np.floor(centre)) - half, int(np.ceil(centre)) + half + 1)
        weights = np.exp(-0.5 * ((taps - centre) / sigma) ** 2)
        np.add.at(op[i], _reflect(taps, n), weights / weights.sum())
    return op


def _reflect(index: np.ndarray, n: int) -> np.ndarray:
    """Fold indices into ``[0, n)`` by half-sample symmetric reflection (``d c b a | a b c d``)."""
    period = 2 * n
    index = np.mod(index, period)
    return np.where(index < n, index, period - 1 - index)


def spatial_degrade(
    cube: np.ndarray, ratio: int = 4, psf: str = "box", mtf: float = 0.3
) -> np.ndarray:
    """Blur and decimate a cube: the paper's ``X_h = Y B``.

    Parameters
    ----------
    cube : ndarray, shape (H, W, C)
        High-resolution cube; ``H`` and ``W`` multiples of ``ratio``.
    ratio, psf, mtf
        See :func:`psf_matrix`.

    Returns
    -------
    ndarray, shape (H // ratio, W // ratio, C), same dtype as ``cube``
    """
    if cube.ndim != 3:
        raise ShapeError(f"expected a (rows, cols, bands) cube, got shape {cube.shape}")
    rows, cols, _ = cube.shape
    for name, size in (("rows", rows), ("columns", cols)):
        if size % ratio:
            raise ShapeError(
                f"{size} {name} is not a multiple of the ratio {ratio}; crop the scene first "
                f"(s3rnet.data.crop_to_multiple)"
            )
    op_rows = psf_matrix(rows, ratio, psf, mtf).astype(cube.dtype)
    op_cols = psf_matrix(cols, ratio, psf, mtf).astype(cube.dtype)
    return np.einsum("ih,hwc,jw->ijc", op_rows, cube, op_cols, optimize=True)


def shift_image(cube: np.ndarray, shift: tuple[float, float]) -> np.ndarray:
    """Shift a cube by ``(rows, cols)`` pixels, sub-pixel by cubic spline, reflective borders.

    A positive shift moves the content down / right, as :func:`scipy.ndimage.shift` does.
    """
    dy, dx = (float(s) for s in shift)
    if dy == 0.0 and dx == 0.0:
        return cube.copy()
    order = 0 if float(dy).is_integer() and float(dx).is_integer() else 3
    return ndimage.shift(cube, (dy, dx, 0.0), order=order, mode="mirror").astype(cube.dtype)


# --------------------------------------------------------------------------------------------
# Spectral degradation
# --------------------------------------------------------------------------------------------


def binning_response(n_bands: int, groups: int) -> np.ndarray:
    """The paper's spectral degradation: ``groups`` contiguous groups of bands, each averaged.

    Bands are assumed sorted by wavelength; the groups are as equal in size as possible.

    Returns
    -------
    ndarray, shape (groups, n_bands), rows sum to one
    """
    if not 1 <= groups <= n_bands:
        raise ConfigError(f"cannot bin {n_bands} bands into {groups} groups")
    edges = np.linspace(0, n_bands, groups + 1).round().astype(int)
    response = np.zeros((groups, n_bands))
    for g in range(groups):
        response[g, edges[g] : edges[g + 1]] = 1.0 / (edges[g + 1] - edges[g])
    return response


@functools.lru_cache(maxsize=8)
def sensor_response_table(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The official 1 nm response table of a sensor configuration, from ``pyrsr``.

    Returns
    -------
    wavelengths : ndarray, shape (L,)
        nm, ascending.
    responses : ndarray, shape (M, L)
        Each band's relative response, peak 1, clipped at zero.
    """
    from pyrsr import RSR

    satellite, sensor, bands = _SENSOR_BANDS[name]
    table = RSR(satellite, sensor, no_thermal=True, no_pan=True)
    wavelengths = np.asarray(table.rsrs_wvl, dtype=float)
    responses = np.stack([np.asarray(table.rsrs_norm01[b], dtype=float) for b in bands])
    # The measured tables dip slightly below zero in their tails (noise floor): a response is >= 0.
    return wavelengths, np.clip(responses, 0.0, None)


def response_holds(wide: str, narrow: str) -> bool:
    """Whether the MSI response ``wide`` holds every band of ``narrow``: the same instrument and a
    superset of its bands (``oli7`` holds ``oli6`` and ``oli4``, ``s2-10`` holds ``s2-6`` and ``s2-4``),
    or the same response. A checkpoint trained with ``narrow`` runs on a ``wide`` HR-MSI's bands
    that are its own (:meth:`s3rnet.inference.CheckpointMethod.check`)."""
    if wide == narrow:
        return True
    if wide not in _SENSOR_BANDS or narrow not in _SENSOR_BANDS:
        return False
    *instrument, bands = _SENSOR_BANDS[wide]
    *narrow_instrument, narrow_bands = _SENSOR_BANDS[narrow]
    return instrument == narrow_instrument and set(narrow_bands) <= set(bands)


def sensor_response(
    name: str, wavelengths: np.ndarray, fwhm: np.ndarray | None = None
) -> np.ndarray:
    """A real sensor's spectral response on the cube's bands (:func:`response_on_cube_bands` of
    its official 1 nm table).

    Raises
    ------
    ResponseRangeError
        When less than 90% of an MSI band's response falls on the cube's bands (for example
        ``oli6`` on a cube that stops at 1000 nm).
    """
    if name not in _SENSOR_BANDS:
        raise ConfigError(f"unknown MSI response {name!r}; choose one of {', '.join(MSI_RESPONSES)}")
    grid, responses = sensor_response_table(name)
    _, _, band_names = _SENSOR_BANDS[name]
    return response_on_cube_bands(grid, responses, wavelengths, fwhm, band_names, f"MSI response {name!r}")


def response_on_cube_bands(
    grid: np.ndarray,
    responses: np.ndarray,
    wavelengths: np.ndarray,
    fwhm: np.ndarray | None = None,
    band_names: Sequence[str] | None = None,
    source: str = "MSI response",
) -> np.ndarray:
    """A tabulated MSI response integrated against Gaussian models of the cube's bands.

    Each MSI band's response is integrated against a Gaussian model of each cube band (centre
    ``wavelengths[c]``, width ``fwhm[c]``; the median spacing of the bands when FWHM is unknown),
    then each row is normalised to sum to one.

    Parameters
    ----------
    grid : ndarray, shape (L,)
        Wavelengths (nm) of the table, finely and evenly sampled (1 nm for the official tables).
    responses : ndarray, shape (M, L)
        Each MSI band's relative response, >= 0.
    wavelengths, fwhm : ndarray, shape (C,)
        Band centres and widths (nm) of the cube.
    band_names : sequence of str, optional
        MSI band names for messages (1, 2, ... when omitted).
    source : str
        What the response is, for messages.

    Returns
    -------
    ndarray, shape (M, C)
        Rows sum to one.

    Raises
    ------
    ResponseRangeError
        When less than 90% of an MSI band's response falls on the cube's bands.
    """
    wavelengths = np.asarray(wavelengths, dtype=float)
    if fwhm is None:
        spacing = np.median(np.diff(np.sort(wavelengths))) if wavelengths.size > 1 else 10.0
        fwhm = np.full_like(wavelengths, spacing)
    sigma = np.asarray(fwhm, dtype=float) / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    band_shapes = np.exp(-0.5 * ((grid[None, :] - wavelengths[:, None]) / sigma[:, None]) ** 2)
    # How well each nm of the spectrum is observed by some cube band (1 inside the cube's range).
    observed = np.minimum(band_shapes.sum(axis=0), 1.0)
    coverage = (responses * observed).sum(axis=1) / np.maximum(responses.sum(axis=1), 1e-300)
    names = band_names or [str(i + 1) for i in range(responses.shape[0])]
    for band, share in zip(names, coverage):
        if share < _MIN_RESPONSE_COVERAGE:
            raise ResponseRangeError(
                f"{source}: only {100 * share:.0f}% of MSI band {band}'s response falls "
                f"on the cube's wavelengths ({wavelengths.min():.0f}-{wavelengths.max():.0f} nm)"
            )
    matrix = responses @ band_shapes.T
    return matrix / matrix.sum(axis=1, keepdims=True)


def spectral_response(
    name: str, wavelengths: np.ndarray | None, fwhm: np.ndarray | None = None, n_bands: int | None = None
) -> np.ndarray:
    """The MSI spectral response ``D`` of the paper's ``X_m = D Y``, named as in :data:`MSI_RESPONSES`.

    Parameters
    ----------
    name : str
        One of :data:`MSI_RESPONSES`.
    wavelengths : ndarray, shape (C,), optional
        Band centres in nm; needed by the sensor responses, and by binning to order the bands.
    fwhm : ndarray, shape (C,), optional
        Band widths in nm.
    n_bands : int, optional
        Number of bands when no wavelengths are given (binning only).

    Returns
    -------
    ndarray, shape (M, C), rows sum to one
    """
    if name.startswith("binning") and name in MSI_RESPONSES:
        groups = int(name.removeprefix("binning"))
        if wavelengths is None:
            if n_bands is None:
                raise ConfigError("binning needs the wavelengths or the number of bands")
            return binning_response(n_bands, groups)
        wavelengths = np.asarray(wavelengths, dtype=float)
        order = np.argsort(wavelengths, kind="stable")
        response = np.zeros((groups, wavelengths.size))
        response[:, order] = binning_response(wavelengths.size, groups)
        return response
    if name not in MSI_RESPONSES:
        raise ConfigError(f"unknown MSI response {name!r}; choose one of {', '.join(MSI_RESPONSES)}")
    if wavelengths is None:
        raise WavelengthError(f"MSI response {name!r} needs the cube's wavelengths, and it has none")
    return sensor_response(name, wavelengths, fwhm)


def spectral_degrade(cube: np.ndarray, response: np.ndarray) -> np.ndarray:
    """Apply a spectral response: ``X_m = D Y``.

    Parameters
    ----------
    cube : ndarray, shape (H, W, C)
    response : ndarray, shape (M, C)

    Returns
    -------
    ndarray, shape (H, W, M), dtype of ``cube``
    """
    if response.shape[1] != cube.shape[-1]:
        raise ShapeError(
            f"spectral response expects {response.shape[1]} bands, the cube has {cube.shape[-1]}"
        )
    return (cube @ response.T.astype(cube.dtype)).astype(cube.dtype)


# --------------------------------------------------------------------------------------------
# Noise
# --------------------------------------------------------------------------------------------


SNR_REFERENCES = ("scene", "authors")


def authors_noise_sigma(image: np.ndarray, snr_db: float, low: float, high: float) -> float:
    """Noise standard deviation, in the image's units, of the authors' SNR convention.

    The authors' code maps each tile to [-1, 1] with the ground truth's minimum ``low`` and
    maximum ``high``, then adds AWGN whose power is the mean square of that mapped image over
    10^(SNR / 10). In the image's own units, with ``u = 2 (x - low) / (high - low) - 1``::

        sigma = (high - low) / 2 * sqrt(mean(u^2) / 10^(SNR / 10))

    Because ``u`` is centred on the tile's mid-range rather than on zero, the same number of dB
    is more noise than in the scene convention on a bright, offset scene (on Indian Pines
    radiance their 35 and 15 dB are about 32.5 and 12.5 dB in :func:`add_awgn`'s convention).

    Parameters
    ----------
    image : ndarray, shape (H, W, C)
        The image the noise goes on (the LR-HSI).
    snr_db : float
    low, high : float
        Minimum and maximum of the ground truth of the tile (a simulation may use it).
    """
    half_range = (float(high) - float(low)) / 2.0
    if not half_range > 0:
        raise ConfigError(f"the authors' SNR needs a tile with max > min, got min {low} and max {high}")
    mapped = (np.asarray(image, dtype=np.float64) - float(low)) / half_range - 1.0
    return half_range * float(np.sqrt(np.mean(np.square(mapped)) / 10.0 ** (snr_db / 10.0)))


def add_awgn(
    image: np.ndarray,
    snr_db: float,
    rng: np.random.Generator,
    per_band: bool = False,
    *,
    reference: str = "scene",
    truth_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """Additive white Gaussian noise at a signal-to-noise ratio in dB.

    Noise power = signal power / 10^(SNR / 10). With ``reference="scene"`` (our default) the
    signal power is the mean of the squared values of the whole image in the scene's units
    (or of each band, ``per_band=True``). With ``reference="authors"`` it is the authors' code's
    convention, measured on the tile mapped to [-1, 1] by the ground truth's range
    (:func:`authors_noise_sigma`; needs ``truth_range``). The paper's tables say "35%" and
    "15%"; the authors' code uses dB, as here.

    Parameters
    ----------
    image : ndarray, shape (H, W, C)
    snr_db : float
        ``inf`` returns a copy of ``image``.
    rng : numpy.random.Generator
        Source of the noise, so that a result can be reproduced.
    per_band : bool
        One noise power per band instead of one for the image (scene reference only).
    reference : {"scene", "authors"}
        What the SNR is measured against.
    truth_range : (float, float), optional
        Minimum and maximum of the ground truth, for ``reference="authors"``.
    """
    if reference not in SNR_REFERENCES:
        raise ConfigError(f"unknown SNR reference {reference!r}; choose one of {', '.join(SNR_REFERENCES)}")
    if np.isinf(snr_db) and snr_db > 0:
        return image.copy()
    if not np.isfinite(snr_db):
        raise ConfigError(f"SNR must be a number of dB or +inf, got {snr_db}")
    if reference == "authors":
        if truth_range is None:
            raise ConfigError("the authors' SNR convention needs the ground truth's range (truth_range=)")
        if per_band:
            raise ConfigError("the authors' SNR convention has one noise power per tile, not per band")
        sigma = authors_noise_sigma(image, snr_db, *truth_range)
    else:
        axes = (0, 1) if per_band else None
        power = np.mean(np.square(image, dtype=np.float64), axis=axes)
        sigma = np.sqrt(power / 10.0 ** (snr_db / 10.0))
    noise = rng.standard_normal(image.shape) * sigma
    return (image + noise).astype(image.dtype)


# --------------------------------------------------------------------------------------------
# The whole protocol
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Simulation:
    """A simulated fusion problem and the ground truth it came from.

    Attributes
    ----------
    truth : ndarray, shape (H, W, C)
    lrhsi : ndarray, shape (H / ratio, W / ratio, C)
    hrmsi : ndarray, shape (H, W, M)
    srf : ndarray, shape (M, C)
        The spectral response used to make the HR-MSI.
    wavelengths : ndarray, shape (C,) or None
    meta : dict
        Every choice of the protocol (ratio, PSF, MSI response, SNRs, shift, seed, units).
    fwhm : ndarray, shape (C,) or None
        Band widths (nm), when the scene has them.
    """

    truth: np.ndarray
    lrhsi: np.ndarray
    hrmsi: np.ndarray
    srf: np.ndarray
    wavelengths: np.ndarray | None
    meta: dict[str, Any] = field(default_factory=dict)
    fwhm: np.ndarray | None = None

    def inputs(self) -> FusionInputs:
        """The inputs a fusion method sees (no ground truth)."""
        return FusionInputs(
            lrhsi=self.lrhsi,
            hrmsi=self.hrmsi,
            ratio=self.meta["ratio"],
            srf=self.srf,
            psf=self.meta["psf"],
            mtf=self.meta["mtf"],
            wavelengths=self.wavelengths,
        )


def simulate(
    cube: np.ndarray,
    wavelengths: np.ndarray | None = None,
    fwhm: np.ndarray | None = None,
    *,
    ratio: int = 4,
    psf: str = "box",
    mtf: float = 0.3,
    msi: str = "oli4",
    lrhsi_snr_db: float = float("inf"),
    hrmsi_snr_db: float = float("inf"),
    noise_per_band: bool = False,
    shift: tuple[float, float] = (0.0, 0.0),
    seed: int = 0,
    snr_reference: str = "scene",
) -> Simulation:
    """Simulate the LR-HSI and HR-MSI from a high-resolution cube (DESIGN section 3).

    Order of operations: spatial blur and decimation of the truth, then the misregistration
    shift of the LR-HSI, then noise; the HR-MSI is the spectral response applied to the truth,
    then noise. Both noise draws come from one generator seeded with ``seed``.

    Parameters
    ----------
    cube : ndarray, shape (H, W, C)
        The ground truth, ``H`` and ``W`` multiples of ``ratio``.
    wavelengths, fwhm : ndarray, shape (C,), optional
        Band centres and widths in nm (needed by the sensor MSI responses).
    ratio : int
        Spatial ratio.
    psf : {"box", "gaussian"}
        Point spread function; ``mtf`` sets the Gaussian's width.
    msi : str
        One of :data:`MSI_RESPONSES`.
    lrhsi_snr_db, hrmsi_snr_db : float
        SNR of the AWGN added to each image; ``inf`` adds none.
    noise_per_band : bool
        Noise power per band instead of per image.
    shift : (float, float)
        Misregistration of the LR-HSI in LR pixels (rows, cols).
    seed : int
        Seed of the noise generator.
    snr_reference : {"scene", "authors"}
        How the SNRs are measured (:func:`add_awgn`): on the images in the scene's units, or as
        the authors' code does, on the tile mapped to [-1, 1] by the ground truth's minimum and
        maximum (a simulation knows the ground truth; a real pair does not).
    """
    if cube.ndim != 3:
        raise ShapeError(f"expected a (rows, cols, bands) cube, got shape {cube.shape}")
    truth = np.asarray(cube, dtype=np.float32)
    srf = spectral_response(msi, wavelengths, fwhm, n_bands=truth.shape[-1])
    rng = np.random.default_rng(seed)
    noise = {"reference": snr_reference}
    if snr_reference == "authors":
        noise["truth_range"] = (float(truth.min()), float(truth.max()))
    lrhsi = spatial_degrade(truth, ratio, psf, mtf)
    lrhsi = shift_image(lrhsi, shift)
    lrhsi = add_awgn(lrhsi, lrhsi_snr_db, rng, noise_per_band, **noise)
    hrmsi = add_awgn(spectral_degrade(truth, srf), hrmsi_snr_db, rng, noise_per_band, **noise)
    meta = {
        "ratio": ratio,
        "psf": psf,
        "mtf": mtf if psf == "gaussian" else None,
        "msi": msi,
        "msi_bands": int(srf.shape[0]),
        "lrhsi_snr_db": _json_float(lrhsi_snr_db),
        "hrmsi_snr_db": _json_float(hrmsi_snr_db),
        "noise": "per band" if noise_per_band else "per image",
        "snr_reference": snr_reference,
        "shift_lr_px": [float(shift[0]), float(shift[1])],
        "seed": seed,
        "truth_shape": list(truth.shape),
    }
    return Simulation(
        truth, lrhsi, hrmsi, srf, None if wavelengths is None else np.asarray(wavelengths), meta,
        None if fwhm is None else np.asarray(fwhm),
    )


def _json_float(value: float) -> float | str:
    return "inf" if np.isinf(value) else float(value)


# --------------------------------------------------------------------------------------------
# Normalisation from the inputs alone
# --------------------------------------------------------------------------------------------


NORMALISATIONS = ("global", "band", "minmax")


@dataclass(frozen=True)
class InputNormalisation:
    """Affine maps computed from the two inputs only, never from the ground truth.

    ``mode="global"`` divides both images by one scale each (the mean of the LR-HSI, the mean of
    the HR-MSI); ``mode="band"`` divides each band by its own mean over the input image;
    ``mode="minmax"`` maps both images to [-1, 1] with one minimum and maximum taken over the
    two inputs together, the input-only stand-in for the authors' code, which maps each tile by
    its ground truth's minimum and maximum (the LR-HSI is a spatial average of the truth and the
    HR-MSI a spectral one, so their joint range is slightly inside the truth's). The fused cube
    is brought back to the scene's units by :meth:`denormalise`.

    Attributes
    ----------
    hsi_scale : ndarray, shape (C,)
    msi_scale : ndarray, shape (M,)
    mode : str
    hsi_offset : ndarray, shape (C,)
    msi_offset : ndarray, shape (M,)
        Subtracted before scaling; zero except for ``"minmax"``.
    """

    hsi_scale: np.ndarray
    msi_scale: np.ndarray
    mode: str = "global"
    hsi_offset: np.ndarray | float = 0.0
    msi_offset: np.ndarray | float = 0.0

    @classmethod
    def fit(cls, lrhsi: np.ndarray, hrmsi: np.ndarray, mode: str = "global") -> InputNormalisation:
        if mode not in NORMALISATIONS:
            raise ConfigError(f"unknown normalisation {mode!r}; choose one of {', '.join(NORMALISATIONS)}")
        if mode == "minmax":
            low = min(float(lrhsi.min()), float(hrmsi.min()))
            high = max(float(lrhsi.max()), float(hrmsi.max()))
            half_range = max((high - low) / 2.0, 1e-12)
            return cls(
                np.full(lrhsi.shape[-1], half_range, np.float32), np.full(hrmsi.shape[-1], half_range, np.float32),
                mode, np.full(lrhsi.shape[-1], low + half_range, np.float32),
                np.full(hrmsi.shape[-1], low + half_range, np.float32),
            )
        axes = (0, 1) if mode == "band" else None
        hsi = np.abs(lrhsi).mean(axis=axes, dtype=np.float64)
        msi = np.abs(hrmsi).mean(axis=axes, dtype=np.float64)
        hsi = np.broadcast_to(np.maximum(hsi, 1e-12), lrhsi.shape[-1:])
        msi = np.broadcast_to(np.maximum(msi, 1e-12), hrmsi.shape[-1:])
        return cls(hsi.astype(np.float32), msi.astype(np.float32), mode)

    def normalise(self, lrhsi: np.ndarray, hrmsi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (lrhsi - self.hsi_offset) / self.hsi_scale, (hrmsi - self.msi_offset) / self.msi_scale

    def normalise_truth(self, truth: np.ndarray) -> np.ndarray:
        """A ground truth (H, W, C) in the units the network sees (for training targets)."""
        return (truth - self.hsi_offset) / self.hsi_scale

    def response(self, srf: np.ndarray) -> np.ndarray:
        """An MSI response (M, C) that maps the normalised LR-HSI's values to the normalised HR-MSI's:
        ``srf[m, l] * hsi_scale[l] / msi_scale[m]`` (exact without offsets; with ``"minmax"``'s shared
        offset, when each response row sums to 1)."""
        return np.asarray(srf, dtype=np.float64) * self.hsi_scale[None, :] / self.msi_scale[:, None]

    def denormalise(self, fused: np.ndarray) -> np.ndarray:
        return fused * self.hsi_scale + self.hsi_offset
