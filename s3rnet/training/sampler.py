"""Training problems: ground-truth patches from the sources, augmented, degraded, normalised.

For each sample of a batch, in this order (every draw from the run's generator):

1. a square from a source (:class:`~s3rnet.training.sources.PatchSampler`; a synthetic source
   makes one scene per batch), of side ``patch_size``, or ``estimate_context`` when set;
2. one of the 8 flips and quarter turns;
3. a smooth random spectral gain when ``spectral_gain`` is set (:func:`smooth_spectral_gain`);
4. the degradation of the evaluation protocol (:mod:`s3rnet.degrade`): blur and decimation by the
   PSF and ratio, AWGN on the LR-HSI at an SNR drawn in ``noise_snr_db`` (none for a share
   ``clean_fraction`` of the samples), the MSI response, and AWGN on each HR-MSI band at an SNR
   drawn in ``msi_noise_snr_db`` when it is set;
5. :class:`~s3rnet.degrade.InputNormalisation` fitted on the two inputs, which also scales the
   ground truth, and the classical estimate the network corrects, when it corrects one;
6. with ``estimate_context``, the ``patch_size`` patch cut from the four images at a random
   position on the LR grid (:func:`crop_sample`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..degrade import InputNormalisation, add_awgn, spatial_degrade, spectral_degrade
from ..estimates import ESTIMATES, classical_estimate
from .config import TrainConfig
from .sources import PatchSampler, PatchSource, random_square


def smooth_spectral_gain(
    wavelengths: np.ndarray, strength: float, rng: np.random.Generator, knots: int = 6
) -> np.ndarray:
    """A random gain curve ``exp(g(lambda))``, smooth across wavelength.

    ``g`` takes independent normal values of standard deviation ``strength`` at ``knots``
    wavelengths evenly spread over the cube's range (the first and last at its ends) and is
    interpolated linearly between them, so neighbouring bands get nearly the same gain. It
    teaches the network spectra it has not seen (other materials, illuminations, reflectance
    instead of radiance); the log-ratio of a reflectance to a radiance spectrum spans about -1.3
    to +2.7 over 500-2400 nm.

    Parameters
    ----------
    wavelengths : ndarray, shape (C,)
        Band centres in nm, in any order.
    strength : float
        Standard deviation of ``g`` at the knots.
    rng : numpy.random.Generator
    knots : int

    Returns
    -------
    ndarray, shape (C,), float32
    """
    wavelengths = np.asarray(wavelengths, dtype=np.float64)
    positions = np.linspace(wavelengths.min(), wavelengths.max(), knots)
    values = rng.normal(0.0, strength, size=knots)
    return np.exp(np.interp(wavelengths, positions, values)).astype(np.float32)


def estimate_name(skip: str) -> str | None:
    """The classical method a network trained with ``skip`` corrects, or None."""
    return skip if skip in ESTIMATES else None


class _Cube:
    """A bare (H, W, C) cube as a source (the sampler's signature before sources existed)."""

    name = "cube"

    def __init__(self, cube: np.ndarray) -> None:
        self.cube = cube

    def patch(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return random_square(self.cube, rng, size)

    def new_batch(self) -> None:
        pass


def augment(patch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One of the 8 flips and quarter turns of an (H, W, C) patch, contiguous."""
    patch = np.rot90(patch, k=int(rng.integers(4)), axes=(0, 1))
    if rng.integers(2):
        patch = patch[:, ::-1]
    return np.ascontiguousarray(patch)


@dataclass(frozen=True)
class SampleDraw:
    """What was drawn for one sample of a batch (:func:`draw_batch`).

    Attributes
    ----------
    source : str
        Name of the source of its ground-truth patch (as :meth:`PatchSampler.describe` names it).
    snr_db : float
        SNR of the AWGN on its LR-HSI, in the config's ``noise_reference``; ``inf``: noise-free.
    msi_snr_db : float
        SNR of the AWGN on each band of its HR-MSI; ``inf``: noise-free.
    """

    source: str
    snr_db: float
    msi_snr_db: float = math.inf


def _draw_snr(config: TrainConfig, rng: np.random.Generator) -> float:
    """The LR-HSI SNR of one sample in dB: ``inf`` (noise-free) without ``noise_snr_db`` or for a
    share ``clean_fraction`` of the samples, else drawn uniformly in ``noise_snr_db``."""
    if config.noise_snr_db is None or (config.clean_fraction > 0 and rng.random() < config.clean_fraction):
        return math.inf
    return float(rng.uniform(*config.noise_snr_db))


def degrade_patch(
    truth: np.ndarray,
    srf: np.ndarray,
    config: TrainConfig,
    rng: np.random.Generator,
    wavelengths: np.ndarray | None = None,
) -> list[np.ndarray]:
    """One training problem from a ground-truth square of side ``config.context_size``, in
    normalised units, cut to ``patch_size`` after its estimate when ``estimate_context`` is set.

    Returns
    -------
    list of ndarray
        LR-HSI (h, w, C), HR-MSI (H, W, M), truth (H, W, C), and the classical estimate
        (H, W, C) when ``config.skip`` names one; H = W = ``patch_size``.
    """
    return _degrade(truth, srf, config, rng, wavelengths)[0]


def _degrade(
    truth: np.ndarray, srf: np.ndarray, config: TrainConfig, rng: np.random.Generator, wavelengths: np.ndarray | None
) -> tuple[list[np.ndarray], float, float]:
    """:func:`degrade_patch`, and the SNRs drawn for its LR-HSI and its HR-MSI."""
    low = spatial_degrade(truth, config.ratio, config.psf)
    snr_db = _draw_snr(config, rng)
    if math.isfinite(snr_db):
        noise = {"reference": config.noise_reference}
        if config.noise_reference == "authors":
            noise["truth_range"] = (float(truth.min()), float(truth.max()))
        low = add_awgn(low, snr_db, rng, **noise)
    high = spectral_degrade(truth, srf)
    # Drawn only when asked, so that the draws of every config without it are unchanged.
    msi_snr_db = math.inf if config.msi_noise_snr_db is None else float(rng.uniform(*config.msi_noise_snr_db))
    if math.isfinite(msi_snr_db):
        high = add_awgn(high, msi_snr_db, rng, per_band=True)
    scales = InputNormalisation.fit(low, high, config.normalisation)
    low, high = scales.normalise(low, high)
    sample = [low, high, scales.normalise_truth(truth)]
    estimate = estimate_name(config.skip)
    if estimate is not None:
        sample.append(classical_estimate(estimate, low, high, config.ratio, config.psf, wavelengths, srf, scales))
    if config.context_size > config.patch_size:
        sample = crop_sample(sample, config.patch_size, config.ratio, rng)
    return sample, snr_db, msi_snr_db


def crop_sample(sample: list[np.ndarray], size: int, ratio: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The same ``size`` square of every image of a training problem, at a random position on
    the LR grid.

    Parameters
    ----------
    sample : list of ndarray
        LR-HSI (h, w, C), then images of (h * ratio, w * ratio, channels): HR-MSI, truth and the
        classical estimate.
    size : int
        Side of the HR square, a multiple of ``ratio``.
    ratio : int
    rng : numpy.random.Generator

    Returns
    -------
    list of ndarray
        LR-HSI (size / ratio, size / ratio, C), then the HR images cut to (size, size, channels).
    """
    low, *highs = sample
    side = size // ratio
    row = int(rng.integers(0, low.shape[0] - side + 1))
    col = int(rng.integers(0, low.shape[1] - side + 1))
    cropped = [low[row : row + side, col : col + side]]
    for image in highs:
        cropped.append(image[row * ratio : (row + side) * ratio, col * ratio : (col + side) * ratio])
    return [np.ascontiguousarray(image) for image in cropped]


def sample_batch(
    source: PatchSampler | PatchSource | np.ndarray,
    srf: np.ndarray,
    config: TrainConfig,
    rng: np.random.Generator,
    wavelengths: np.ndarray | None = None,
) -> tuple[np.ndarray, ...]:
    """Draw a batch of simulated fusion problems, normalised from their inputs alone (module
    docstring).

    Parameters
    ----------
    source : PatchSampler, a source, or ndarray of shape (H, W, C)
        Where the ground-truth patches come from; a cube (a training region) is one source.
    srf : ndarray, shape (M, C)
    config : TrainConfig
    rng : numpy.random.Generator
        Source of every draw.
    wavelengths : ndarray, shape (C,), optional
        Band centres of the training grid; needed for the spectral gain (band indices are used
        without them) and HySime's band order.

    Returns
    -------
    lrhsi : ndarray, shape (B, C, p / r, p / r), float32
    hrmsi : ndarray, shape (B, M, p, p), float32
    truth : ndarray, shape (B, C, p, p), float32
    estimate : ndarray, shape (B, C, p, p), float32
        Only when ``config.skip`` names a classical estimate.
    """
    return draw_batch(source, srf, config, rng, wavelengths)[0]


def draw_batch(
    source: PatchSampler | PatchSource | np.ndarray,
    srf: np.ndarray,
    config: TrainConfig,
    rng: np.random.Generator,
    wavelengths: np.ndarray | None = None,
) -> tuple[tuple[np.ndarray, ...], list[SampleDraw]]:
    """:func:`sample_batch` (the same draws, the same arrays), and what was drawn for each
    sample: the source of its patch and the SNRs of its LR-HSI and HR-MSI (:class:`SampleDraw`)."""
    if isinstance(source, np.ndarray):
        source = _Cube(source)
    axis = np.arange(srf.shape[1], dtype=np.float64) if wavelengths is None else wavelengths
    samples: list[list[np.ndarray]] = []
    draws: list[SampleDraw] = []
    source.new_batch()
    for _ in range(config.batch_size):
        if isinstance(source, PatchSampler):
            name, patch = source.draw(rng, config.context_size)
        else:
            name, patch = source.name, source.patch(rng, config.context_size)
        patch = augment(patch, rng)
        if config.spectral_gain > 0:
            patch = patch * smooth_spectral_gain(axis, config.spectral_gain, rng)
        sample, snr_db, msi_snr_db = _degrade(patch, srf, config, rng, wavelengths)
        samples.append(sample)
        draws.append(SampleDraw(name, snr_db, msi_snr_db))
    batch = tuple(np.stack(images).transpose(0, 3, 1, 2).astype(np.float32) for images in zip(*samples))
    return batch, draws
