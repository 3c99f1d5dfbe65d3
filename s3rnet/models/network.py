"""S3RNet: the multi-branch fusion network (MBFN), the SSAWB fusion and the reconstruction.

The network takes the low-resolution hyperspectral image ``X_h`` (B, C, h, w) and the
high-resolution multispectral image ``X_m`` (B, M, r h, r w) and returns the fused cube
``Y*`` (B, C, r h, r w):

* four branches extract features F_Q, F_K, F_V, F_Z from ``X_h``, ``X_m``,
  ``Cat(X_h, down(X_m))`` and ``Cat(up(X_h), X_m)`` (paper Fig. 3, and the authors' code); the two
  low-resolution branches Q and V are brought to the high resolution by nearest-neighbour
  upsampling;
* the spatial-spectral attention weight block (SSAWB, eqs. 2-6) fuses them with four per-pixel
  sigmoid weights;
* the reconstruction G maps the fused features to the C bands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, ShapeError
from .blocks import NEGATIVE_SLOPE, residual_group

BRANCH_NAMES = ("Q", "K", "V", "Z")

# Version of the network's wiring, recorded in every checkpoint. 1: the V and Z branch inputs were
# swapped (V read Cat(up(X_h), X_m) at the high resolution); 2 (2026-11-30): V and Z as in the
# paper's Fig. 3 and the authors' code. Weights of version 1 cannot be converted: the two branches
# play different roles in the SSAWB and run at different resolutions.
ARCHITECTURE_VERSION = 2

FUSIONS = ("ssawb", "sum")
SKIPS = ("none", "bicubic", "estimate")
ATTENTIONS = ("paper", "authors")


@dataclass(frozen=True)
class S3RNetConfig:
    """Hyperparameters of an :class:`S3RNet`.

    Attributes
    ----------
    bands : int
        Bands C of the LR-HSI and of the output.
    msi_bands : int
        Bands M of the HR-MSI.
    nf : int
        Feature channels of every branch and of the fused features.
    gc : int
        Growth channels of the DFABs (eq. 1).
    groups_q, groups_k, groups_v, groups_z : int
        Residual groups of each branch.
    heads : int
        Attention heads of the SSAWB.
    attn_dim : int
        Channels d of the SSAWB's query, key and value projections, split over the heads.
    ratio : int
        Spatial resolution ratio r between the HR-MSI and the LR-HSI.
    conv_groups : int
        Groups of the DFAB convolutions: 1 gives residual groups (RG), more gives grouped
        residual groups (GRG) with ``conv_groups`` times fewer DFAB weights.
    fusion : {"ssawb", "sum"}
        ``"ssawb"`` is the paper's attention fusion; ``"sum"`` is the ablation of Fig. 1 that
        adds the four branch features and has no fusion parameters.
    skip : {"none", "bicubic", "estimate"}
        Global skip to the output; none adds parameters, and the paper has none. ``"bicubic"``:
        ``Y* = G(F_fused) + bicubic_up(X_h)``, the network learns a residual over the upsampled
        LR-HSI. ``"estimate"``: ``Y* = G(F_fused) + E``, a correction to a classical estimate
        ``E`` (for example GSA) given to :meth:`S3RNet.forward`; the last convolution starts at
        zero, so the untrained network returns the estimate itself.
    attention : {"paper", "authors"}
        How the SSAWB applies its channel attention to V. ``"paper"`` is eq. 3 as written,
        ``A V``. ``"authors"`` reproduces the authors' public code (``KQD.py``), whose product
        ``einsum('bhqk,bhvd->bhqd', A, v)`` sums the key and the value channel indices separately:
        each head's output is the channel sum of its V, whatever Q and K are (their projections
        then get no gradient). Same parameters either way; use it to run the authors' weights.
    """

    bands: int
    msi_bands: int
    nf: int
    gc: int
    groups_q: int
    groups_k: int
    groups_v: int
    groups_z: int
    heads: int = 4
    attn_dim: int = 64
    ratio: int = 4
    conv_groups: int = 1
    fusion: str = "ssawb"
    skip: str = "none"
    attention: str = "paper"

    def __post_init__(self) -> None:
        for name in ("bands", "msi_bands", "nf", "gc", "heads", "attn_dim", "ratio", "conv_groups"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        for name in ("groups_q", "groups_k", "groups_v", "groups_z"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be a non-negative integer, got {value!r}")
        if self.attn_dim % self.heads:
            raise ConfigError(
                f"attn_dim ({self.attn_dim}) must be a multiple of heads ({self.heads})"
            )
        if self.nf % self.conv_groups or self.gc % self.conv_groups:
            raise ConfigError(
                f"conv_groups ({self.conv_groups}) must divide nf ({self.nf}) and gc ({self.gc})"
            )
        if self.fusion not in FUSIONS:
            raise ConfigError(f"unknown fusion {self.fusion!r}; choose one of {FUSIONS}")
        if self.skip not in SKIPS:
            raise ConfigError(f"unknown skip {self.skip!r}; choose one of {SKIPS}")
        if self.attention not in ATTENTIONS:
            raise ConfigError(f"unknown attention {self.attention!r}; choose one of {ATTENTIONS}")

    @property
    def residual_groups(self) -> dict[str, int]:
        """Residual groups of each branch, keyed by branch name."""
        return dict(zip(BRANCH_NAMES, (self.groups_q, self.groups_k, self.groups_v, self.groups_z)))


class S3RNetOutput(NamedTuple):
    """Everything :meth:`S3RNet.forward` exposes when asked for extras.

    Attributes
    ----------
    fused : Tensor, shape (B, C, H, W)
        The fused cube Y*.
    weights : Tensor, shape (B, 4, H, W), or None
        The SSAWB weights W_1..W_4 of F_Q, F_K, F_V, Z' (eq. 5), each in (0, 1); None for the
        ``"sum"`` fusion.
    branches : dict of str to Tensor, shape (B, nf, H, W)
        Output features of the branches ``"Q"``, ``"K"``, ``"V"``, ``"Z"`` at the high resolution.
    fused_features : Tensor, shape (B, nf, H, W)
        F_fused (eq. 6), the input of the reconstruction G.
    layers : dict of str to list of Tensor, shape (B, nf, H, W)
        Each branch's features after each of its residual groups, at the high resolution.
    """

    fused: torch.Tensor
    weights: torch.Tensor | None
    branches: dict[str, torch.Tensor]
    fused_features: torch.Tensor
    layers: dict[str, list[torch.Tensor]]


class Branch(nn.Module):
    """One MBFN branch: entry 3x3 convolution + LeakyReLU, then residual groups.

    Parameters
    ----------
    in_channels : int
        Channels of the branch input.
    nf, gc : int
        Feature and growth channels.
    num_groups : int
        Residual groups after the entry convolution.
    conv_groups : int
        Groups of the DFAB convolutions (1: RG, more: GRG).
    upscale : int
        Nearest-neighbour upsampling factor applied to the output (the ratio r for the
        low-resolution branches, 1 for the others).

    Shape
    -----
    ``(B, in_channels, h, w) -> (B, nf, upscale h, upscale w)``
    """

    def __init__(
        self,
        in_channels: int,
        nf: int,
        gc: int,
        num_groups: int,
        conv_groups: int = 1,
        upscale: int = 1,
    ) -> None:
        super().__init__()
        self.entry = nn.Conv2d(in_channels, nf, 3, padding=1)
        self.activation = nn.LeakyReLU(NEGATIVE_SLOPE, inplace=True)
        self.residual_groups = nn.ModuleList(
            residual_group(nf, gc, conv_groups) for _ in range(num_groups)
        )
        self.upscale = upscale

    def to_high_resolution(self, features: torch.Tensor, upscale: int | None = None) -> torch.Tensor:
        """Nearest-neighbour upsampling by ``upscale`` (by default the branch's own):
        (B, nf, h, w) -> (B, nf, H, W)."""
        upscale = self.upscale if upscale is None else upscale
        if upscale == 1:
            return features
        return F.interpolate(features, scale_factor=upscale, mode="nearest")

    def forward(
        self, inputs: torch.Tensor, keep_layers: bool = False, upscale: int | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Branch features, and when ``keep_layers`` the features after each residual group.

        ``upscale`` replaces the branch's own factor for one call (a low-resolution branch run at
        another ratio than the network was built for; the weights do not depend on it).

        Returns
        -------
        features : Tensor, shape (B, nf, H, W)
        layers : list of Tensor, shape (B, nf, H, W)
            One entry per residual group, upsampled like ``features``; empty unless
            ``keep_layers``.
        """
        features = self.activation(self.entry(inputs))
        layers = []
        for group in self.residual_groups:
            features = group(features)
            if keep_layers:
                layers.append(self.to_high_resolution(features, upscale))
        if layers:
            # The last layer is the branch output, already upsampled.
            return layers[-1], layers
        return self.to_high_resolution(features, upscale), layers


class MBFN(nn.Module):
    """Multi-branch fusion network: the four feature-extraction branches Q, K, V, Z.

    ==== ======================== ======================================
    name input                    resolution
    ==== ======================== ======================================
    Q    X_h                      low, then nearest upsampling x r
    K    X_m                      high
    V    Cat(X_h, down(X_m))      low (down: bicubic), then nearest x r
    Z    Cat(up(X_h), X_m)        high (up: bilinear)
    ==== ======================== ======================================

    The SSAWB reads V through its value projection and adds its attention output to Z
    (``Z' = Conv1x1(A V) + F_Z``, eq. 3). Before :data:`ARCHITECTURE_VERSION` 2 this class had the
    V and Z inputs the other way round.
    """

    def __init__(self, config: S3RNetConfig) -> None:
        super().__init__()
        c, m, r = config.bands, config.msi_bands, config.ratio
        in_channels = {"Q": c, "K": m, "V": c + m, "Z": c + m}
        upscale = {"Q": r, "K": 1, "V": r, "Z": 1}
        self.branches = nn.ModuleDict(
            {
                name: Branch(
                    in_channels[name],
                    config.nf,
                    config.gc,
                    num_groups,
                    config.conv_groups,
                    upscale[name],
                )
                for name, num_groups in config.residual_groups.items()
            }
        )

    def forward(
        self, lrhsi: torch.Tensor, hrmsi: torch.Tensor, keep_layers: bool = False
    ) -> tuple[dict[str, torch.Tensor], dict[str, list[torch.Tensor]]]:
        """Features of the four branches at the high resolution.

        Parameters
        ----------
        lrhsi : Tensor, shape (B, C, h, w)
        hrmsi : Tensor, shape (B, M, H, W)
            ``H / h`` is the ratio the low-resolution branches upsample by.
        keep_layers : bool
            Also return each branch's features after each residual group.

        Returns
        -------
        features : dict of str to Tensor, shape (B, nf, H, W)
        layers : dict of str to list of Tensor, shape (B, nf, H, W)
        """
        features, layers = {}, {}
        ratio = hrmsi.shape[-1] // lrhsi.shape[-1]
        for name, branch in self.branches.items():
            features[name], layers[name] = branch(
                self.branch_input(name, lrhsi, hrmsi), keep_layers, None if branch.upscale == 1 else ratio
            )
        return features, layers

    @staticmethod
    def branch_input(name: str, lrhsi: torch.Tensor, hrmsi: torch.Tensor) -> torch.Tensor:
        """The input of branch ``name`` (the table above), built as that branch runs so that a
        large tile holds one branch's input at a time, not four.

        Returns
        -------
        Tensor, shape (B, C, h, w) for Q, (B, M, H, W) for K, (B, C + M, h, w) for V,
        (B, C + M, H, W) for Z
        """
        if name == "Q":
            return lrhsi
        if name == "K":
            return hrmsi
        if name == "V":
            downsampled_msi = F.interpolate(
                hrmsi, size=lrhsi.shape[-2:], mode="bicubic", align_corners=False, antialias=False
            )
            return torch.cat([lrhsi, downsampled_msi], dim=1)
        upsampled_hsi = F.interpolate(
            lrhsi, size=hrmsi.shape[-2:], mode="bilinear", align_corners=False
        )
        return torch.cat([upsampled_hsi, hrmsi], dim=1)


class SSAWB(nn.Module):
    """Spatial-spectral attention weight block (paper eqs. 2-6).

    Channel ("transposed") attention across the branches refines F_Z into Z', then four per-pixel
    weights mix F_Q, F_K, F_V and Z'. With q, k, v the 1x1 projections of F_Q, F_K, F_V to
    ``attn_dim`` channels, split into ``heads`` heads of ``d_head`` channels, each reshaped to
    (d_head, H*W),

        A = Softmax(q k^T / sqrt(d_head))                 (eq. 2, a d_head x d_head map per head)
        Z' = Conv1x1(A v) + F_Z                           (eq. 3)
        C = Conv1x1(Cat(F_Q, F_K, F_V, Z'))               (eq. 4, four maps)
        W = Sigmoid(C)                                    (eq. 5)
        F_fused = W_1 F_Q + W_2 F_K + W_3 F_V + W_4 Z'    (eq. 6)

    The sigmoid weighs each branch independently at each pixel: the four weights need not sum
    to 1.

    With ``attention="authors"`` the product ``A v`` of eq. 3 is replaced by what the authors'
    public code computes, ``(sum_k A_qk) (sum_c v_c)``: every channel of a head receives that
    head's channel sum of v (the rows of A sum to 1), so q and k have no effect on the output.

    Parameters
    ----------
    nf : int
        Channels of the branch features.
    attn_dim : int
        Channels d of the projections.
    heads : int
        Attention heads; must divide ``attn_dim``.
    attention : {"paper", "authors"}
        Eq. 3 as written, or the authors' code (see :class:`S3RNetConfig`).
    """

    def __init__(self, nf: int, attn_dim: int = 64, heads: int = 4, attention: str = "paper") -> None:
        super().__init__()
        if attention not in ATTENTIONS:
            raise ConfigError(f"unknown attention {attention!r}; choose one of {ATTENTIONS}")
        self.attention = attention
        self.heads = heads
        self.head_dim = attn_dim // heads
        self.to_query = nn.Conv2d(nf, attn_dim, 1)
        self.to_key = nn.Conv2d(nf, attn_dim, 1)
        self.to_value = nn.Conv2d(nf, attn_dim, 1)
        self.project_out = nn.Conv2d(attn_dim, nf, 1)
        self.to_weight_logits = nn.Conv2d(len(BRANCH_NAMES) * nf, len(BRANCH_NAMES), 1)

    def split_heads(self, features: torch.Tensor) -> torch.Tensor:
        """(B, d, H, W) -> (B, heads, d_head, H*W)."""
        batch = features.shape[0]
        return features.reshape(batch, self.heads, self.head_dim, -1)

    def forward(
        self,
        f_q: torch.Tensor,
        f_k: torch.Tensor,
        f_v: torch.Tensor,
        f_z: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Fuse the four branch features.

        Parameters
        ----------
        f_q, f_k, f_v, f_z : Tensor, shape (B, nf, H, W)

        Returns
        -------
        fused : Tensor, shape (B, nf, H, W)
            F_fused (eq. 6).
        weights : Tensor, shape (B, 4, H, W)
            W (eq. 5), in (0, 1).
        """
        query = self.split_heads(self.to_query(f_q))
        key = self.split_heads(self.to_key(f_k))
        value = self.split_heads(self.to_value(f_v))
        attention = torch.softmax(
            query @ key.transpose(-2, -1) / math.sqrt(self.head_dim), dim=-1
        )
        if self.attention == "paper":
            attended = attention @ value
        else:
            attended = attention.sum(dim=-1, keepdim=True) * value.sum(dim=-2, keepdim=True)
        attended = attended.reshape(f_v.shape[0], -1, *f_v.shape[-2:])
        z_prime = self.project_out(attended) + f_z
        weights = torch.sigmoid(self.to_weight_logits(torch.cat([f_q, f_k, f_v, z_prime], dim=1)))
        w_q, w_k, w_v, w_z = weights.split(1, dim=1)
        fused = w_q * f_q + w_k * f_k + w_v * f_v + w_z * z_prime
        return fused, weights


class SumFusion(nn.Module):
    """Ablation of the SSAWB (paper Fig. 1): ``F_fused = F_Q + F_K + F_V + F_Z``, no weights."""

    def forward(
        self,
        f_q: torch.Tensor,
        f_k: torch.Tensor,
        f_v: torch.Tensor,
        f_z: torch.Tensor,
    ) -> tuple[torch.Tensor, None]:
        return f_q + f_k + f_v + f_z, None


def add_skip(fused: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
    """``fused + skip``, in place when both have one dtype: the last convolution's output is not
    kept for its gradient, and a large tile then holds no second cube. Under autocast the
    reconstruction may be in half precision and the skip not: the sum is then a new tensor in
    the wider dtype, so that the skip keeps its precision."""
    if fused.dtype == skip.dtype:
        return fused.add_(skip)
    return fused + skip


class S3RNet(nn.Module):
    """Spatial-spectral super-resolution network for hyperspectral pansharpening.

    ``Y* = G(SSAWB(MBFN(X_h, X_m)))`` with the reconstruction
    ``G = Conv3x3(C -> C, no bias) o LReLU o Conv3x3(nf -> C)``.

    Parameters
    ----------
    config : S3RNetConfig
        Bands, widths, depths and switches; see :mod:`s3rnet.models.presets` for named ones.
    """

    def __init__(self, config: S3RNetConfig) -> None:
        super().__init__()
        self.config = config
        self.mbfn = MBFN(config)
        if config.fusion == "ssawb":
            self.fusion = SSAWB(config.nf, config.attn_dim, config.heads, config.attention)
        else:
            self.fusion = SumFusion()
        self.reconstruction = nn.Sequential(
            nn.Conv2d(config.nf, config.bands, 3, padding=1),
            nn.LeakyReLU(NEGATIVE_SLOPE, inplace=True),
            nn.Conv2d(config.bands, config.bands, 3, padding=1, bias=False),
        )
        if config.skip == "estimate":
            nn.init.zeros_(self.reconstruction[-1].weight)

    def check_inputs(self, lrhsi: torch.Tensor, hrmsi: torch.Tensor, ratio: int | None = None) -> None:
        """Raise :class:`ShapeError` unless the inputs fit the configuration and each other, at
        ``ratio`` (by default the configuration's)."""
        for name, image, layout in (
            ("LR-HSI", lrhsi, "(B, C, h, w)"),
            ("HR-MSI", hrmsi, "(B, M, H, W)"),
        ):
            if image.ndim != 4:
                raise ShapeError(
                    f"{name} must be a 4-D tensor {layout}, got shape {tuple(image.shape)}"
                )
        if lrhsi.shape[0] != hrmsi.shape[0]:
            raise ShapeError(
                f"LR-HSI and HR-MSI batch sizes differ: {lrhsi.shape[0]} and {hrmsi.shape[0]}"
            )
        config = self.config
        if lrhsi.shape[1] != config.bands:
            raise ShapeError(
                f"LR-HSI has {lrhsi.shape[1]} bands but the model was built for {config.bands}"
            )
        if hrmsi.shape[1] != config.msi_bands:
            raise ShapeError(
                f"HR-MSI has {hrmsi.shape[1]} bands but the model was built for "
                f"{config.msi_bands}"
            )
        ratio = config.ratio if ratio is None else ratio
        if isinstance(ratio, bool) or not isinstance(ratio, int) or ratio < 1:
            raise ShapeError(f"the ratio must be a whole number >= 1, got {ratio!r}")
        big_h, big_w = hrmsi.shape[-2:]
        if big_h % ratio or big_w % ratio:
            raise ShapeError(
                f"HR-MSI size {big_h}x{big_w} is not a multiple of the ratio {ratio}"
            )
        h, w = lrhsi.shape[-2:]
        if (big_h, big_w) != (ratio * h, ratio * w):
            raise ShapeError(
                f"HR-MSI is {big_h}x{big_w} but the LR-HSI is {h}x{w}: at ratio {ratio} "
                f"the HR-MSI must be {ratio * h}x{ratio * w}"
            )

    def check_estimate(self, estimate: torch.Tensor | None, batch: int, size: torch.Size) -> None:
        """Raise :class:`ShapeError` unless ``estimate`` is given exactly when the skip needs it."""
        if self.config.skip != "estimate":
            if estimate is not None:
                raise ShapeError(f"an estimate was given, but the model's skip is {self.config.skip!r}")
            return
        expected = (batch, self.config.bands, *size)
        if estimate is None:
            raise ShapeError("this model corrects a classical estimate (skip 'estimate'): pass estimate=")
        if tuple(estimate.shape) != expected:
            raise ShapeError(f"the estimate has shape {tuple(estimate.shape)}, expected {expected}")

    def forward(
        self,
        lrhsi: torch.Tensor,
        hrmsi: torch.Tensor,
        return_extras: bool = False,
        *,
        estimate: torch.Tensor | None = None,
        keep_layers: bool = True,
        ratio: int | None = None,
    ) -> torch.Tensor | S3RNetOutput:
        """Fuse an LR-HSI and an HR-MSI.

        Parameters
        ----------
        lrhsi : Tensor, shape (B, C, h, w)
            X_h.
        hrmsi : Tensor, shape (B, M, r h, r w)
            X_m.
        return_extras : bool
            Return an :class:`S3RNetOutput` with the fusion weights, the branch features, the
            fused features and the per-residual-group features instead of the cube alone.
        estimate : Tensor, shape (B, C, r h, r w), optional
            The classical estimate E that the network corrects; required when the skip is
            ``"estimate"``, refused otherwise.
        keep_layers : bool
            With ``return_extras``, also keep every residual group's output (``layers``);
            False leaves ``layers`` empty and frees those features as the forward goes.
        ratio : int, optional
            The inputs' ratio r when it is not the one the network was built for
            (``config.ratio``): Q and V are then upsampled by it. No weight depends on r, but
            what the weights learned does; a checkpoint says at which ratios it was validated
            (:func:`s3rnet.checkpoints.check_compatible`).

        Returns
        -------
        Tensor, shape (B, C, r h, r w), or S3RNetOutput
            Y*.
        """
        self.check_inputs(lrhsi, hrmsi, ratio)
        self.check_estimate(estimate, lrhsi.shape[0], hrmsi.shape[-2:])
        branches, layers = self.mbfn(lrhsi, hrmsi, keep_layers=return_extras and keep_layers)
        fused_features, weights = self.fusion(*(branches[name] for name in BRANCH_NAMES))
        fused = self.reconstruction(fused_features)
        if self.config.skip == "bicubic":
            fused = add_skip(fused, F.interpolate(
                lrhsi, size=hrmsi.shape[-2:], mode="bicubic", align_corners=False
            ))
        elif self.config.skip == "estimate":
            fused = add_skip(fused, estimate)
        if not return_extras:
            return fused
        return S3RNetOutput(fused, weights, branches, fused_features, layers)
