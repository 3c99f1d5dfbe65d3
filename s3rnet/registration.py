"""Co-registration of the pair: the sub-pixel shift between the LR-HSI and the HR-MSI, by phase correlation.

Two instruments never see exactly the same grid. The HR-MSI is brought to the LR grid (blur and
decimation, :func:`s3rnet.degrade.spatial_degrade`) and the LR-HSI is seen through the MSI response
(``lrhsi @ R.T``), so that both are the same M bands on the same grid; their shift is the peak of
the phase correlation (the inverse transform of the normalised cross-power spectrum, summed over
the bands), located to a fraction of a pixel by the matrix-multiply DFT of Guizar-Sicairos et al.
(2008) around the integer peak. Borders are tapered by a Hann window so that the images' edges do
not pull the peak towards zero, and frequencies above :data:`CUTOFF` cycles per pixel are left out:
decimation aliases them and the spline interpolation of a shift damps them. The window still
biases the estimate towards zero, so :func:`estimate_shift` iterates: it moves the image back by
the shift found and measures what is left. Measured on the first 144 rows of Indian Pines (OLI,
shifts up to 3.3 LR pixels, box PSF clean and Gaussian PSF at 30 dB): the largest error was 0.12
LR pixel with one whitened, unfiltered correlation, 0.06 with the cut-off, 0.02 with the cut-off
and three iterations.

Convention: a shift ``(dy, dx)`` in LR pixels means that the content of ``moving`` sits ``dy`` rows
lower and ``dx`` columns further right than in ``reference``, as
:func:`s3rnet.degrade.shift_image` moves it; :func:`correct_shift` moves it back.
"""

from __future__ import annotations

import numpy as np

from .degrade import shift_image
from .errors import ShapeError

# Shifts above this many LR pixels are corrected by ``--register auto`` (the threshold).
CORRECTION_THRESHOLD = 0.1
# Upsampling of the DFT around the integer peak: the estimate's resolution is 1 / UPSAMPLING pixel.
UPSAMPLING = 50
# Highest spatial frequency (cycles per pixel) in the correlation.
CUTOFF = 0.35
# Rounds of estimate-and-correct in estimate_shift.
ITERATIONS = 3


def _hann(n: int) -> np.ndarray:
    return np.hanning(n) if n > 2 else np.ones(n)


def cross_power(reference: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """Normalised cross-power spectrum ``conj(F_ref) F_mov / |.|``, summed over bands.

    Parameters
    ----------
    reference, moving : ndarray, shape (h, w, M)

    Returns
    -------
    ndarray, shape (h, w), complex
    """
    if reference.shape != moving.shape or reference.ndim != 3:
        raise ShapeError(f"registration needs two (rows, cols, bands) images of one shape; got {reference.shape} and {moving.shape}")
    h, w, _ = reference.shape
    window = np.outer(_hann(h), _hann(w))[..., None]
    ref = np.fft.fft2((reference - reference.mean(axis=(0, 1))) * window, axes=(0, 1))
    mov = np.fft.fft2((moving - moving.mean(axis=(0, 1))) * window, axes=(0, 1))
    product = np.conj(ref) * mov
    product /= np.maximum(np.abs(product), 1e-30)
    frequency = np.hypot(np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :])
    return product.sum(axis=2) * (frequency < CUTOFF)


def _upsampled_correlation(spectrum: np.ndarray, centre: tuple[float, float], half: float, factor: int) -> np.ndarray:
    """The inverse DFT of ``spectrum`` on a grid of step ``1 / factor`` within ``half`` of ``centre``."""
    h, w = spectrum.shape
    offsets = np.arange(-half, half + 1e-9, 1.0 / factor)
    rows = np.exp(2j * np.pi * np.outer(centre[0] + offsets, np.fft.fftfreq(h)))
    cols = np.exp(2j * np.pi * np.outer(np.fft.fftfreq(w), centre[1] + offsets))
    return (rows @ spectrum @ cols).real


def phase_correlation(reference: np.ndarray, moving: np.ndarray, upsampling: int = UPSAMPLING) -> tuple[float, float]:
    """The shift ``(dy, dx)`` of ``moving`` relative to ``reference``, in pixels (see the module's convention).

    Parameters
    ----------
    reference, moving : ndarray, shape (h, w, M) or (h, w)
    upsampling : int
        Resolution of the sub-pixel search: ``1 / upsampling`` pixel.

    Returns
    -------
    (float, float)
        Within half the image size of zero (larger shifts alias).

    References
    ----------
    .. [1] C. D. Kuglin and D. C. Hines, "The phase correlation image alignment method", Proc.
           IEEE Conference on Cybernetics and Society, 1975, pp. 163-165.
    .. [2] M. Guizar-Sicairos, S. T. Thurman and J. R. Fienup, "Efficient subpixel image
           registration algorithms", Optics Letters 33(2), 2008, pp. 156-158.
    """
    if reference.ndim == 2:
        reference, moving = reference[..., None], moving[..., None]
    spectrum = cross_power(reference.astype(np.float64), moving.astype(np.float64))
    h, w = spectrum.shape
    if min(h, w) < 4:
        raise ShapeError(f"registration needs at least 4x4 pixels; got {h}x{w}")
    surface = np.fft.ifft2(spectrum).real
    peak = np.unravel_index(np.argmax(surface), surface.shape)
    coarse = tuple(float(p - n if p > n // 2 else p) for p, n in zip(peak, (h, w)))
    fine = _upsampled_correlation(spectrum, coarse, 1.0, upsampling)
    i, j = np.unravel_index(np.argmax(fine), fine.shape)
    step = 1.0 / upsampling
    return coarse[0] - 1.0 + i * step, coarse[1] - 1.0 + j * step


def estimate_shift(reference: np.ndarray, moving: np.ndarray, iterations: int = ITERATIONS) -> tuple[float, float]:
    """:func:`phase_correlation`, repeated on ``moving`` moved back by the shift found so far.

    Parameters
    ----------
    reference, moving : ndarray, shape (h, w, M)

    Returns
    -------
    (float, float)
        The total shift of ``moving`` relative to ``reference`` (LR pixels).
    """
    total = np.zeros(2)
    for _ in range(iterations):
        current = moving if not total.any() else correct_shift(moving, (total[0], total[1]))
        total += phase_correlation(reference, current)
    return float(total[0]), float(total[1])


def correct_shift(image: np.ndarray, shift: tuple[float, float]) -> np.ndarray:
    """Move ``image`` (h, w, C) back by ``shift`` (cubic spline, mirrored borders)."""
    return shift_image(image, (-float(shift[0]), -float(shift[1])))


__all__ = [
    "CORRECTION_THRESHOLD", "CUTOFF", "ITERATIONS", "UPSAMPLING", "correct_shift", "cross_power", "estimate_shift",
    "phase_correlation",
]
