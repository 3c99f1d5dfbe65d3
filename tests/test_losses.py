"""The authors' training loss against a direct computation, element by element."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from s3rnet.errors import ConfigError
from s3rnet.losses import authors_loss, fusion_loss, training_loss


def direct_authors_loss(x: np.ndarray, y: np.ndarray) -> float:
    """L_a + 0.1 L_b + 0.1 L_c written out with loops, as the issue states it."""
    b, c, h, w = x.shape
    d = np.abs(x - y)
    smooth = np.where(d < 1, 0.5 * d**2, d - 0.5).mean()
    band_terms = []
    for i in range(b):
        for j in range(c):
            e = d[i, j]
            numerator = np.mean(0.5 * e**2 + np.maximum(e - 1, 0)) - 0.5
            band_terms.append(numerator / (np.mean(y[i, j] ** 2) + 0.1))
    rows_x, rows_y = x.reshape(-1, c), y.reshape(-1, c)  # channel axis not moved last
    cosines = [
        float(rx @ ry) / (np.linalg.norm(rx) * np.linalg.norm(ry)) for rx, ry in zip(rows_x, rows_y)
    ]
    return smooth + 0.1 * np.mean(band_terms) + 0.1 * (1 - np.mean(cosines))


def test_authors_loss_matches_a_direct_computation():
    rng = np.random.default_rng(4)
    # Errors both below and above 1, where SmoothL1 and the band term change branch.
    y = rng.uniform(-1, 1, (2, 5, 4, 6))
    x = y + rng.normal(0, 0.9, y.shape)
    value = authors_loss(torch.from_numpy(x), torch.from_numpy(y)).item()
    assert value == pytest.approx(direct_authors_loss(x, y), rel=1e-10)


def test_the_cosine_term_is_not_the_spectral_angle():
    """Rows of C consecutive values of a band's image, not pixel spectra: permuting the bands of
    every pixel the same way changes the spectral angle's input but the authors' term sees rows."""
    rng = np.random.default_rng(5)
    y = rng.uniform(0.1, 1, (1, 3, 2, 3))
    x = y.copy()
    x[0, :, 0, 0] = x[0, ::-1, 0, 0]  # one pixel's spectrum reversed
    direct = direct_authors_loss(x, y)
    assert authors_loss(torch.from_numpy(x), torch.from_numpy(y)).item() == pytest.approx(direct, rel=1e-10)


def test_training_loss_by_name():
    x, y = torch.rand(2, 3, 4, 4), torch.rand(2, 3, 4, 4)
    assert torch.equal(training_loss("paper", x, y, 0.1), fusion_loss(x, y, 0.1))
    assert torch.equal(training_loss("authors", x, y, 0.1), authors_loss(x, y))
    with pytest.raises(ConfigError, match="unknown loss"):
        training_loss("l2", x, y, 0.1)
