"""The one call signature shared by S3RNet and the classical baselines.

Every fusion method is a callable ``method(inputs: FusionInputs) -> np.ndarray`` that returns
the fused cube ``(H, W, C)`` in the units of the LR-HSI. :class:`FusionInputs` carries the two
images plus what a method may legitimately know about how they were acquired (the ratio, the
PSF and the spectral response of the MSI), never the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import SceneDataError, ShapeError


@dataclass(frozen=True)
class FusionInputs:
    """The inputs of a fusion method.

    Attributes
    ----------
    lrhsi : ndarray, shape (h, w, C), float32
        Low-resolution hyperspectral image.
    hrmsi : ndarray, shape (H, W, M), float32
        High-resolution multispectral image, ``H = ratio * h`` and ``W = ratio * w``.
    ratio : int
        Spatial resolution ratio between the two images.
    srf : ndarray, shape (M, C), optional
        Spectral response of the MSI on the cube's bands (rows sum to 1), so that
        ``hrmsi ~= truth @ srf.T``. Methods that need it (CNMF) refuse to run without it.
    psf : str
        Name of the point spread function that produced the LR-HSI (``"box"`` or ``"gaussian"``).
    mtf : float
        Gain of the Gaussian PSF at the LR Nyquist frequency (used when ``psf == "gaussian"``).
    wavelengths : ndarray, shape (C,), optional
        Band centres of the LR-HSI in nm.
    """

    lrhsi: np.ndarray
    hrmsi: np.ndarray
    ratio: int = 4
    srf: np.ndarray | None = None
    psf: str = "box"
    mtf: float = 0.3
    wavelengths: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        lrhsi, hrmsi = self.lrhsi, self.hrmsi
        if lrhsi.ndim != 3 or hrmsi.ndim != 3:
            raise ShapeError(
                f"LR-HSI and HR-MSI must be (rows, cols, bands) arrays; got shapes "
                f"{lrhsi.shape} and {hrmsi.shape}"
            )
        h, w, c = lrhsi.shape
        big_h, big_w, m = hrmsi.shape
        if (big_h, big_w) != (h * self.ratio, w * self.ratio):
            raise ShapeError(
                f"HR-MSI is {big_h}x{big_w} but the LR-HSI is {h}x{w} at ratio {self.ratio}: "
                f"expected {h * self.ratio}x{w * self.ratio}"
            )
        if self.srf is not None and self.srf.shape != (m, c):
            raise ShapeError(
                f"spectral response has shape {self.srf.shape}, expected (MSI bands, HSI bands) "
                f"= ({m}, {c})"
            )
        for name, array in (("LR-HSI", lrhsi), ("HR-MSI", hrmsi)):
            if not np.isfinite(array).all():
                raise SceneDataError(f"{name} contains NaN or Inf values")

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape ``(H, W, C)`` of the fused cube."""
        return (self.hrmsi.shape[0], self.hrmsi.shape[1], self.lrhsi.shape[2])
