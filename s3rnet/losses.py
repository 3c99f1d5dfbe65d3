"""Training losses: the paper's ``L1 + 0.1 * SAM`` (DESIGN section 4), and the loss of the
authors' public code, which differs from the paper's text (``loss="authors"`` in a training
config)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .errors import ConfigError

LOSSES = ("paper", "authors", "band-balanced", "band-psnr")

# Keeps the spectral angle finite for all-zero spectra, and its gradient finite at 0 and 180
# degrees (d acos / dx is infinite at +-1).
SAM_EPS = 1e-8
_COS_LIMIT = 1.0 - 1e-6
# Weights of the band-wise and cosine terms in the authors' loss, and the constant that keeps
# the band-wise term finite on dark bands.
AUTHORS_TERM_WEIGHT = 0.1
AUTHORS_BAND_EPS = 0.1
# A band darker than this share of the batch's mean absolute truth is weighed as if it were this
# bright, so that an all-dark band does not blow up the band-balanced loss.
BAND_FLOOR = 1e-2
# Relative error power (to the band's squared brightness) added inside the logarithm of the
# band-PSNR loss: a band fused better than 60 dB stops pulling the gradient towards itself.
PSNR_ERROR_FLOOR = 1e-6


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


def authors_band_term(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """The "band-wise MSE" term of the authors' loss, on (B, C, H, W) tensors.

    With ``d = |x - y|``, for each sample and band::

        (mean_HW(0.5 d^2 + max(d - 1, 0)) - 0.5) / (mean_HW(y^2) + 0.1)

    then the mean over samples and bands. The ``- 0.5`` is in their code; it makes the term
    negative for small errors, which shifts the loss but not its gradient.
    """
    d = (estimate - reference).abs()
    per_band = (0.5 * d.square() + torch.clamp(d - 1.0, min=0.0)).mean(dim=(-2, -1)) - 0.5
    return (per_band / (reference.square().mean(dim=(-2, -1)) + AUTHORS_BAND_EPS)).mean()


def authors_cosine_term(estimate: torch.Tensor, reference: torch.Tensor, eps: float = SAM_EPS) -> torch.Tensor:
    """``1 - mean cosine similarity`` of the rows of the two tensors reshaped to (-1, C).

    As in the authors' code, the (B, C, H, W) tensors are reshaped without moving the channel
    axis last, so each row is C consecutive values of one band's image rows, not a pixel's
    spectrum: it is not the spectral angle.
    """
    channels = estimate.shape[1]
    x, y = estimate.reshape(-1, channels), reference.reshape(-1, channels)
    cosine = (x * y).sum(dim=1) / torch.clamp(x.norm(dim=1) * y.norm(dim=1), min=eps)
    return 1.0 - cosine.mean()


def authors_loss(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """The training loss of the authors' public code: ``L_a + 0.1 L_b + 0.1 L_c``.

    ``L_a`` is the mean SmoothL1 (beta 1) over all elements, ``L_b`` :func:`authors_band_term`,
    ``L_c`` :func:`authors_cosine_term`. Their inputs are tiles mapped to [-1, 1]; the paper's
    text says ``L1 + 0.1 SAM`` instead (:func:`fusion_loss`, our default).
    """
    return (
        F.smooth_l1_loss(estimate, reference, beta=1.0)
        + AUTHORS_TERM_WEIGHT * authors_band_term(estimate, reference)
        + AUTHORS_TERM_WEIGHT * authors_cosine_term(estimate, reference)
    )


def band_balanced_l1(estimate: torch.Tensor, reference: torch.Tensor, floor: float = BAND_FLOOR) -> torch.Tensor:
    """Mean over bands of each band's L1 relative to that band's brightness, on (B, C, H, W).

    ``mean_c( mean_BHW |x - y|_c / max(mean_BHW |y|_c, floor * mean |y|) )``. PSNR, as the models
    are scored, averages bands each with its own peak, so a band ten times darker than another
    counts as much; plain L1 weighs it ten times less. Dividing by the band's mean absolute truth
    over the batch (not per sample, which would amplify the noise of nearly black patches) gives
    each band's relative error the same weight, as the score does. With ``"band"`` input
    normalisation every band of the inputs already averages about 1 and this is close to L1.
    """
    brightness = reference.abs().mean(dim=(0, 2, 3))
    brightness = torch.clamp(brightness, min=floor * float(brightness.mean()) + 1e-12)
    return ((estimate - reference).abs().mean(dim=(0, 2, 3)) / brightness.detach()).mean()


def band_psnr(estimate: torch.Tensor, reference: torch.Tensor, floor: float = BAND_FLOOR) -> torch.Tensor:
    """Minus the mean over samples and bands of each band's PSNR (dB), on (B, C, H, W), the
    peak being the band's brightness.

    ``mean_bc 10 log10( mean_HW (x - y)_bc^2 / b_c^2 + PSNR_ERROR_FLOOR )`` with ``b_c`` the band's
    mean absolute truth over the batch (floored as in :func:`band_balanced_l1`). The score
    averages PSNR over bands in dB, so a band fused at 45 dB that drops to 43 dB costs as much as
    one at 30 dB that drops to 28 dB; a loss linear in the error (:func:`band_balanced_l1`) weighs
    the second about 6 times more (10^(15/20)) and lets a network spoil the bands its skip already
    has right. Here the gradient of each term is inversely proportional to its error power, so each
    band's relative change in error counts the same, as in the score. Per sample, so that a
    noise-free patch is not drowned by a noisy one in the same batch; the peak only sets where
    :data:`PSNR_ERROR_FLOOR` lies (another peak shifts the loss by a constant).
    """
    brightness = reference.abs().mean(dim=(0, 2, 3))
    brightness = torch.clamp(brightness, min=floor * float(brightness.mean()) + 1e-12).detach()
    relative = (estimate - reference).square().mean(dim=(2, 3)) / brightness.square()
    return 10.0 * torch.log10(relative + PSNR_ERROR_FLOOR).mean()


def band_balanced_loss(estimate: torch.Tensor, reference: torch.Tensor, sam_weight: float) -> torch.Tensor:
    """:func:`band_balanced_l1` plus ``sam_weight`` times the mean spectral angle in radians."""
    return band_balanced_l1(estimate, reference) + sam_weight * spectral_angle(estimate, reference)


def training_loss(name: str, estimate: torch.Tensor, reference: torch.Tensor, sam_weight: float) -> torch.Tensor:
    """The loss named in a training config: ``"paper"`` (:func:`fusion_loss` with ``sam_weight``),
    ``"authors"`` (:func:`authors_loss`, whose weights are fixed), ``"band-balanced"``
    (:func:`band_balanced_loss` with ``sam_weight``) or ``"band-psnr"`` (:func:`band_psnr` plus
    ``sam_weight`` times the mean spectral angle in radians)."""
    if name == "paper":
        return fusion_loss(estimate, reference, sam_weight)
    if name == "authors":
        return authors_loss(estimate, reference)
    if name == "band-balanced":
        return band_balanced_loss(estimate, reference, sam_weight)
    if name == "band-psnr":
        return band_psnr(estimate, reference) + sam_weight * spectral_angle(estimate, reference)
    raise ConfigError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
