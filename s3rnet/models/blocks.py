"""Feature-extraction blocks of S3RNet: the DFAB and the residual groups built from it.

Every branch of the multi-branch fusion network (MBFN) is an entry convolution followed by a
stack of residual groups; each residual group is three dense feature aggregation blocks (DFAB,
paper eq. 1) in sequence. The grouped residual group (GRG) is the same block with grouped
convolutions, which the paper uses to cut parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError

# Residual branches are scaled by this factor before being added back (paper eq. 1, and the
# same factor around each residual group), so that a deep stack starts close to the identity.
RESIDUAL_SCALE = 0.2

# Kaiming-normal weights are shrunk by this factor for the same reason.
INIT_SCALE = 0.1

NEGATIVE_SLOPE = 0.2

CONVS_PER_DFAB = 5

DFABS_PER_GROUP = 3


def scaled_kaiming_init_(conv: nn.Conv2d, scale: float = INIT_SCALE) -> None:
    """Kaiming-normal weights multiplied by ``scale``, zero bias, in place."""
    nn.init.kaiming_normal_(conv.weight, a=0.0, mode="fan_in")
    with torch.no_grad():
        conv.weight.mul_(scale)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


class DFAB(nn.Module):
    """Dense feature aggregation block (paper eq. 1).

    Five 3x3 convolutions with dense connections: convolution ``j`` sees the block input and the
    outputs of all the convolutions before it,

        F_j = LReLU(Conv_j(Cat(F_in, F_1, ..., F_{j-1})))   for j = 1..4,
        F_out = 0.2 * Conv_5(Cat(F_in, F_1, ..., F_4)) + F_in.

    Parameters
    ----------
    nf : int
        Channels of the block input and output.
    gc : int
        Growth channels: output channels of convolutions 1 to 4.
    groups : int
        Groups of every convolution (1 for the plain DFAB); must divide ``nf`` and ``gc``.

    Shape
    -----
    ``(B, nf, H, W) -> (B, nf, H, W)``
    """

    def __init__(self, nf: int, gc: int, groups: int = 1) -> None:
        super().__init__()
        if nf % groups or gc % groups:
            raise ConfigError(
                f"convolution groups ({groups}) must divide nf ({nf}) and gc ({gc})"
            )
        growth_convs = [
            nn.Conv2d(nf + j * gc, gc, 3, padding=1, groups=groups)
            for j in range(CONVS_PER_DFAB - 1)
        ]
        fusion_conv = nn.Conv2d(nf + (CONVS_PER_DFAB - 1) * gc, nf, 3, padding=1, groups=groups)
        self.convs = nn.ModuleList([*growth_convs, fusion_conv])
        self.activation = nn.LeakyReLU(NEGATIVE_SLOPE, inplace=True)
        for conv in self.convs:
            scaled_kaiming_init_(conv)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        dense_features = [features]
        for conv in self.convs[:-1]:
            dense_features.append(self.activation(conv(torch.cat(dense_features, dim=1))))
        aggregated = self.convs[-1](torch.cat(dense_features, dim=1))
        return RESIDUAL_SCALE * aggregated + features


class ResidualGroup(nn.Module):
    """Three DFABs in sequence with a scaled skip: ``RG(x) = 0.2 * DFAB^3(x) + x``.

    Parameters
    ----------
    nf, gc : int
        Feature and growth channels of the DFABs.
    groups : int
        Groups of every convolution; 1 here, see :class:`GroupedResidualGroup`.

    Shape
    -----
    ``(B, nf, H, W) -> (B, nf, H, W)``
    """

    def __init__(self, nf: int, gc: int, groups: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(*(DFAB(nf, gc, groups) for _ in range(DFABS_PER_GROUP)))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return RESIDUAL_SCALE * self.body(features) + features


class GroupedResidualGroup(ResidualGroup):
    """Residual group (GRG) whose convolutions are grouped, dividing their weights by ``groups``.

    Parameters
    ----------
    nf, gc : int
        Feature and growth channels of the DFABs, both multiples of ``groups``.
    groups : int
        Groups of every convolution.
    """

    def __init__(self, nf: int, gc: int, groups: int) -> None:
        super().__init__(nf, gc, groups)


def residual_group(nf: int, gc: int, groups: int = 1) -> ResidualGroup:
    """The plain residual group for ``groups == 1``, the grouped one otherwise."""
    if groups == 1:
        return ResidualGroup(nf, gc)
    return GroupedResidualGroup(nf, gc, groups)
