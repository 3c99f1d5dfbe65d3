"""The :class:`Scene`: a hyperspectral cube that knows its wavelengths, units and origin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import SceneDataError, ShapeError, WavelengthError


@dataclass(frozen=True)
class Scene:
    """A hyperspectral cube with its spectral metadata.

    Attributes
    ----------
    cube : ndarray, shape (H, W, C), float32
        Pixel values in ``units``.
    wavelengths : ndarray, shape (C,), optional
        Band centres in nm, in the order of the cube's bands (AVIRIS lists are not monotonic:
        the spectrometers overlap).
    fwhm : ndarray, shape (C,), optional
        Band widths (full width at half maximum) in nm.
    units : str
        What the values mean, e.g. ``"radiance (uW cm-2 nm-1 sr-1)"`` or ``"reflectance"``.
    name : str
        Short name.
    source : str
        Where the pixels came from (a path or a package file).
    meta : dict
        Anything else worth keeping (region, conversion applied, sensor).
    """

    cube: np.ndarray
    wavelengths: np.ndarray | None = None
    fwhm: np.ndarray | None = None
    units: str = "unknown"
    name: str = "scene"
    source: str = ""
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        where = f" in {self.source}" if self.source else ""
        cube = self.cube
        if cube.ndim != 3:
            raise ShapeError(f"a scene must be a (rows, cols, bands) cube; got shape {cube.shape}{where}")
        if min(cube.shape) == 0:
            raise SceneDataError(f"the scene is empty (shape {cube.shape}){where}")
        bad = ~np.isfinite(cube)
        if bad.any():
            rows, cols, bands = np.nonzero(bad)
            raise SceneDataError(
                f"{int(bad.sum())} NaN or Inf values{where} (first at row {rows[0]}, column "
                f"{cols[0]}, band {bands[0]}); fill or mask them before fusion"
            )
        for label in ("wavelengths", "fwhm"):
            values = getattr(self, label)
            if values is None:
                continue
            values = np.asarray(values, dtype=np.float64).ravel()
            if values.size != cube.shape[2]:
                raise WavelengthError(
                    f"{values.size} {label} for {cube.shape[2]} bands{where}"
                )
            if not np.isfinite(values).all() or (values <= 0).any():
                raise WavelengthError(f"{label} must be positive numbers of nm{where}")
            object.__setattr__(self, label, values)
        object.__setattr__(self, "cube", np.ascontiguousarray(cube, dtype=np.float32))

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.cube.shape

    @property
    def bands(self) -> int:
        return self.cube.shape[2]

    def require_wavelengths(self, purpose: str) -> np.ndarray:
        """The wavelengths, or a :class:`WavelengthError` saying what needed them."""
        if self.wavelengths is None:
            where = f" ({self.source})" if self.source else ""
            raise WavelengthError(
                f"scene {self.name!r}{where} has no wavelengths, and {purpose} needs them; "
                f"pass wavelengths= when loading it"
            )
        return self.wavelengths

    def with_cube(self, cube: np.ndarray, **changes) -> Scene:
        """A copy of this scene with another cube of the same bands (and optional other fields)."""
        return replace(self, cube=cube, **changes)


def crop(scene: Scene, rows: tuple[int, int], cols: tuple[int, int]) -> Scene:
    """The region ``rows[0]:rows[1], cols[0]:cols[1]`` of a scene.

    Raises
    ------
    ShapeError
        When the region is empty or leaves the scene.
    """
    height, width, _ = scene.shape
    (r0, r1), (c0, c1) = rows, cols
    if not (0 <= r0 < r1 <= height and 0 <= c0 < c1 <= width):
        raise ShapeError(
            f"region rows {r0}:{r1}, columns {c0}:{c1} does not fit in scene {scene.name!r} "
            f"of {height}x{width} pixels"
        )
    meta = dict(scene.meta, region={"rows": [r0, r1], "cols": [c0, c1]})
    return scene.with_cube(scene.cube[r0:r1, c0:c1], meta=meta)


def crop_to_multiple(scene: Scene, ratio: int) -> Scene:
    """The top-left part of a scene whose sides are multiples of ``ratio``.

    Raises
    ------
    ShapeError
        When the scene is smaller than one low-resolution pixel.
    """
    height, width, _ = scene.shape
    rows, cols = height - height % ratio, width - width % ratio
    if rows == 0 or cols == 0:
        raise ShapeError(
            f"scene {scene.name!r} is {height}x{width} pixels, smaller than the ratio {ratio}"
        )
    if (rows, cols) == (height, width):
        return scene
    return crop(scene, (0, rows), (0, cols))


def tile_origins(length: int, tile: int, stride: int) -> list[int]:
    """Start offsets of tiles of ``tile`` pixels along an axis, the last one flush with the end."""
    if tile > length:
        raise ShapeError(f"tile of {tile} pixels is larger than the axis of {length}")
    starts = list(range(0, length - tile + 1, stride))
    if starts[-1] != length - tile:
        starts.append(length - tile)
    return starts


def tiles(scene: Scene, size: int, stride: int | None = None) -> Iterator[Scene]:
    """Square tiles of ``size`` pixels covering the scene, row by row.

    Parameters
    ----------
    scene : Scene
    size : int
        Side of each tile.
    stride : int, optional
        Step between tiles; ``size`` (no overlap) by default. The last tile of each axis is
        moved back to end on the scene's border, so tiles may overlap there.
    """
    stride = stride or size
    height, width, _ = scene.shape
    for r in tile_origins(height, size, stride):
        for c in tile_origins(width, size, stride):
            yield crop(scene, (r, r + size), (c, c + size))
