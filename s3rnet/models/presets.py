"""Named S3RNet configurations.

* ``paper``: the network of the paper (Table I: 26.81 M parameters and 941.77 G MACs for 172
  bands, 4 MSI bands and a 256x256 output): nf 86, gc 43, residual groups Q, K, V, Z = 4, 4,
  6, 6, SSAWB with 4 heads over d = 64 channels.
* ``lite``: the same structure sized for a CPU: nf 32, gc 16, one residual group on the
  high-resolution branches K and Z and two on the low-resolution branches Q and V, which cost
  ratio^2 = 16 times less per layer. A 144x144, 200-band forward takes about a third of a second
  on two CPU threads, most of it in the reconstruction's C -> C convolution.
* ``tiny``: a toy for tests and smoke runs (nf 8, one residual group per branch).

The band counts are not part of a preset: they come from the data, see :func:`build_model`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import ConfigError
from .network import S3RNet, S3RNetConfig

PRESETS: dict[str, dict[str, Any]] = {
    "paper": dict(
        nf=86, gc=43, groups_q=4, groups_k=4, groups_v=6, groups_z=6, heads=4, attn_dim=64
    ),
    "lite": dict(
        nf=32, gc=16, groups_q=2, groups_k=1, groups_v=2, groups_z=1, heads=4, attn_dim=64
    ),
    "tiny": dict(
        nf=8, gc=4, groups_q=1, groups_k=1, groups_v=1, groups_z=1, heads=2, attn_dim=8
    ),
}


def list_presets() -> list[str]:
    """Names of the presets, in the order of :data:`PRESETS`."""
    return list(PRESETS)


def preset_config(preset: str, bands: int, msi_bands: int, **overrides: Any) -> S3RNetConfig:
    """The configuration of a preset for the given band counts.

    Parameters
    ----------
    preset : str
        A name of :data:`PRESETS`.
    bands, msi_bands : int
        Bands C of the LR-HSI and M of the HR-MSI.
    **overrides
        Any other field of :class:`S3RNetConfig` (``ratio=8``, ``fusion="sum"``...).

    Raises
    ------
    ConfigError
        For an unknown preset or field name, or an impossible value.
    """
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {list_presets()}")
    fields = {field.name for field in dataclasses.fields(S3RNetConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ConfigError(f"unknown S3RNet option(s) {unknown}; valid ones are {sorted(fields)}")
    return S3RNetConfig(bands=bands, msi_bands=msi_bands, **{**PRESETS[preset], **overrides})


def build_model(preset: str, bands: int, msi_bands: int, **overrides: Any) -> S3RNet:
    """An :class:`S3RNet` built from a preset, see :func:`preset_config` for the arguments."""
    return S3RNet(preset_config(preset, bands, msi_bands, **overrides))
