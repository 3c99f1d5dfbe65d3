"""Parameter and multiply-accumulate (MAC) counts, as in the paper's Table I.

MACs are counted by running the model under :class:`torch.utils.flop_counter.FlopCounterMode`
(MACs = FLOPs / 2) on the ``meta`` device: shapes propagate but nothing is computed or
allocated, so the paper preset at 256x256 is counted in a fraction of a second. The counter
sees convolutions and matrix products; biases, activations, interpolations and the
element-wise products are left out, as in the usual MAC tables.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.func import functional_call
from torch.utils.flop_counter import FlopCounterMode

from ..errors import ShapeError
from .presets import build_model

META = torch.device("meta")


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)


def count_macs(
    model: nn.Module, bands: int, msi_bands: int, size: int | tuple[int, int], ratio: int = 4
) -> int:
    """Multiply-accumulates of one forward pass on a single pair of images.

    The model itself is left untouched: its parameters and buffers are swapped for ``meta``
    stand-ins for the duration of the count.

    Parameters
    ----------
    model : nn.Module
        Called as ``model(lrhsi, hrmsi)`` (with ``ratio=`` when its ``config`` was built for another).
    bands, msi_bands : int
        Bands C of the LR-HSI and M of the HR-MSI.
    size : int or (int, int)
        Side of the square output (and HR-MSI), or its (height, width); multiples of ``ratio``.
    ratio : int
        Spatial resolution ratio; the LR-HSI is ``ratio`` times smaller on each side.

    Returns
    -------
    int
        MACs (FLOPs / 2) of the convolutions and matrix products.
    """
    height, width = (size, size) if isinstance(size, int) else size
    if height % ratio or width % ratio:
        raise ShapeError(f"size {height}x{width} is not a multiple of the ratio {ratio}")
    meta_state = {
        name: torch.empty_like(tensor, device=META)
        for name, tensor in (*model.named_parameters(), *model.named_buffers())
    }
    lrhsi = torch.empty(1, bands, height // ratio, width // ratio, device=META)
    hrmsi = torch.empty(1, msi_bands, height, width, device=META)
    # A classical estimate is computed outside the network: its cost is not the network's.
    extra = {}
    config = getattr(model, "config", None)
    if getattr(config, "skip", None) == "estimate":
        extra["estimate"] = torch.empty(1, bands, height, width, device=META)
    if getattr(config, "ratio", ratio) != ratio:
        extra["ratio"] = ratio
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        functional_call(model, meta_state, (lrhsi, hrmsi), extra)
    return counter.get_total_flops() // 2


def model_info(
    preset: str, bands: int, msi_bands: int, size: int, ratio: int = 4
) -> dict[str, Any]:
    """Parameters and MACs of a preset, without allocating its weights.

    Returns
    -------
    dict
        ``{"preset", "bands", "msi_bands", "size", "params", "macs"}``.
    """
    with META:
        model = build_model(preset, bands, msi_bands, ratio=ratio)
    return {
        "preset": preset,
        "bands": bands,
        "msi_bands": msi_bands,
        "size": size,
        "params": count_parameters(model),
        "macs": count_macs(model, bands, msi_bands, size, ratio),
    }
