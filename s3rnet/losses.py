"""The training loss of the paper: ``L1 + 0.1 * SAM`` (DESIGN section 4)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Keeps the spectral angle finite for all-zero spectra, and its gradient finite at 0 and 180
# degrees (d acos / dx is infinite at +-1).
SAM_EPS = 1e-8
_COS_LIMIT = 1.0 - 1e-6


def spectral_angle(estimate: torch.Tensor, reference: torch.Tensor, eps: float = SAM_EPS) -> torch.Tensor:
    """Mean spectral angle (radians) between two (B, C, H, W) tensors, over every pixel.

    ``eps`` inside the norms keeps all-zero spectra at a finite angle (90 degrees) with a finite
    gradient, instead of 0 / 0.
    """
    dot = (estimate * reference).sum(dim=1)
    norms = torch.sqrt((estimate.square().sum(dim=1) + eps) * (reference.square().sum(dim=1) + eps))
    return torch.acos(torch.clamp(dot / norms, -_COS_LIMIT, _COS_LIMIT)).mean()


def fusion_loss(estimate: torch.Tensor, reference: torch.Tensor, sam_weight: float) -> torch.Tensor:
    """``L1 + sam_weight * SAM``: mean absolute error plus the mean spectral angle in radians."""
    return F.l1_loss(estimate, reference) + sam_weight * spectral_angle(estimate, reference)
