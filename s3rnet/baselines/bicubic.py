"""Bicubic interpolation of the LR-HSI: the reference every fusion method must beat.

It ignores the HR-MSI, so its score measures how much a method gains from the second image.
"""

from __future__ import annotations

import numpy as np

from ..fusion import FusionInputs
from ._common import upsample


def fuse(inputs: FusionInputs) -> np.ndarray:
    """Upsample every band of the LR-HSI by the ratio with bicubic convolution.

    Parameters
    ----------
    inputs : FusionInputs
        Only ``lrhsi`` and ``ratio`` are used.

    Returns
    -------
    ndarray, shape (H, W, C), float32
        On the HR-MSI's grid (LR pixel ``i`` centred on HR coordinate
        ``i * ratio + (ratio - 1) / 2``), see :func:`s3rnet.baselines._common.upsample`.

    References
    ----------
    .. [1] R. Keys, "Cubic convolution interpolation for digital image processing", IEEE
           Transactions on Acoustics, Speech, and Signal Processing 29(6), 1981.
    """
    return upsample(inputs.lrhsi, inputs.ratio)
