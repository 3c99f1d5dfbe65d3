"""Scenes: loading, cropping, tiling, splits and spectral resampling (``s3rnet.data``)."""

from .catalog import (
    BUILTIN_SCENES,
    DATA_ENV,
    aviris_92av3c_calibration,
    data_dir,
    indian_pines_bands,
    list_scenes,
    load_indian_pines,
    load_scene,
)
from .grids import (
    AVIRIS_172, FILL_EDGE_NM, FILL_GAP_NM, WATER_ABSORPTION_NM, SpectralGrid, filled_band_mask, interpolation_matrix, msi_response_fit, resample,
    resampling_matrix, spacing_widths,
)
from .readers import SCENE_SUFFIXES, read_envi_raw, read_scene
from .scene import Scene, crop, crop_to_multiple, tile_origins, tiles
from .splits import Split, available_splits, load_split, split_region

__all__ = [
    "AVIRIS_172", "BUILTIN_SCENES", "DATA_ENV", "FILL_EDGE_NM", "FILL_GAP_NM", "SCENE_SUFFIXES", "WATER_ABSORPTION_NM",
    "Scene", "SpectralGrid", "Split", "available_splits", "aviris_92av3c_calibration", "crop",
    "crop_to_multiple", "data_dir", "filled_band_mask", "msi_response_fit", "indian_pines_bands", "list_scenes", "load_indian_pines",
    "interpolation_matrix", "load_scene", "load_split", "read_envi_raw", "read_scene", "resample", "resampling_matrix",
    "spacing_widths", "split_region",
    "tile_origins", "tiles",
]
