"""The S3RNet network, its named configurations and its complexity counts."""

from .blocks import DFAB, GroupedResidualGroup, ResidualGroup
from .complexity import count_macs, count_parameters, model_info
from .network import (
    ARCHITECTURE_VERSION,
    ATTENTIONS,
    BRANCH_NAMES,
    FUSIONS,
    SKIPS,
    MBFN,
    SSAWB,
    Branch,
    S3RNet,
    S3RNetConfig,
    S3RNetOutput,
    SumFusion,
)
from .presets import PRESETS, build_model, list_presets, preset_config

__all__ = [
    "ARCHITECTURE_VERSION",
    "ATTENTIONS",
    "BRANCH_NAMES",
    "DFAB",
    "FUSIONS",
    "SKIPS",
    "MBFN",
    "PRESETS",
    "SSAWB",
    "Branch",
    "GroupedResidualGroup",
    "ResidualGroup",
    "S3RNet",
    "S3RNetConfig",
    "S3RNetOutput",
    "SumFusion",
    "build_model",
    "count_macs",
    "count_parameters",
    "list_presets",
    "model_info",
    "preset_config",
]
