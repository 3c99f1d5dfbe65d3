"""Where a network runs: the device, the autocast, and images as tensors."""

from __future__ import annotations

import numpy as np
import torch

from .errors import ConfigError


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``cuda`` when available and nothing is asked, else the device asked for (checked)."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for, but no CUDA GPU is available")
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"unsupported device {str(device)!r}; choose cpu or cuda")
    return device


def autocast(device: torch.device) -> torch.autocast:
    """bf16 autocast on CUDA (no loss scaling needed, half the activation memory); float32 on the
    CPU, where oneDNN has no fast bf16 path on our machines and runs stay exactly reproducible."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


def to_tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W, C) array -> (1, C, H, W) float32 tensor on ``device``, channels last in memory.

    Channels last is the array's own layout (no copy), and the faster one for convolutions.
    """
    return torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)[None]).permute(0, 3, 1, 2).to(device)
