"""Sources of ground-truth training patches, all on one training grid.

A source cuts a ``size x size`` patch (H, W, C on the training grid) with the run's generator:

* :class:`RegionSource`: a random square of a region of a real scene (the scene resampled onto the
  grid once);
* :class:`SyntheticSource`: a new synthetic scene per batch (:mod:`s3rnet.data.synthetic`, made
  on the grid; the batch's synthetic patches are cut from it), its seed drawn in the training range
  of the declared synthetic split, so that no validation or test scene is ever trained on;
* :class:`FolderSource`: a random scene file of a folder, a random window of it (read alone from
  ENVI and GeoTIFF files), resampled onto the grid.

:class:`PatchSampler` picks a source per patch by weight. Every draw comes from the generator it
is given, so a run's patches follow from its saved generator state and nothing else.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..data import FILL_EDGE_NM, FILL_GAP_NM, SCENE_SUFFIXES, Scene, SpectralGrid, load_scene, load_split, read_scene, resample, split_region
from ..data.grids import band_widths
from ..data.synthetic import VARIANTS
from ..data.synthetic_split import load_synthetic_split
from ..errors import ConfigError, S3RNetError
from ..geo import GEOTIFF_SUFFIXES, open_image
from .config import TRAINING_GRIDS, TrainConfig

FOLDER_SUFFIXES = tuple(dict.fromkeys(SCENE_SUFFIXES + GEOTIFF_SUFFIXES))
# Files read whole (no windowed reader) that a folder source keeps in memory.
_WHOLE_FILE_CACHE = 8


class PatchSource(Protocol):
    name: str

    def patch(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """A (size, size, C) ground-truth patch on the training grid."""

    def new_batch(self) -> None:
        """Forget anything kept for the previous batch (nothing is kept across batches, so a
        run resumed at a step boundary draws what an uninterrupted one does)."""


def on_grid(scene: Scene, grid: SpectralGrid) -> Scene:
    """The scene on the training grid: unchanged when it is already on it, else resampled with
    missing bands filled within the limits of inference (:data:`s3rnet.data.FILL_EDGE_NM`,
    :data:`~s3rnet.data.FILL_GAP_NM`)."""
    if scene.wavelengths is not None and scene.bands == grid.bands and np.abs(scene.wavelengths - grid.centres).max() <= 1.0:
        return scene
    return resample(scene, grid, max_edge_nm=FILL_EDGE_NM, max_gap_nm=FILL_GAP_NM)


def training_grid(config: TrainConfig, scene: Scene | None = None) -> SpectralGrid:
    """The grid of ``config.grid``; ``"scene"`` is the bands of ``config.scene`` (loaded unless given)."""
    if config.grid in TRAINING_GRIDS:
        return TRAINING_GRIDS[config.grid]
    scene = scene if scene is not None else load_scene(config.scene)
    wavelengths = scene.require_wavelengths("a training grid")
    return SpectralGrid(scene.name, np.asarray(wavelengths, dtype=float), np.asarray(band_widths(scene), dtype=float))


def random_square(cube: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """A ``size`` square at a random position of an (H, W, C) cube (a view)."""
    row = int(rng.integers(0, cube.shape[0] - size + 1))
    col = int(rng.integers(0, cube.shape[1] - size + 1))
    return cube[row : row + size, col : col + size]


@dataclass
class RegionSource:
    """A region of a scene's declared split, on the training grid."""

    name: str
    scene: Scene
    split_version: int

    @classmethod
    def load(cls, scene_name: str, region: str, grid: SpectralGrid) -> RegionSource:
        split = load_split(scene_name)
        part = on_grid(split_region(load_scene(scene_name), region, split), grid)
        return cls(f"{scene_name}:{region}", part, split.version)

    def patch(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return random_square(self.scene.cube, rng, size)

    def new_batch(self) -> None:
        pass


@dataclass
class SyntheticSource:
    """A stream of synthetic scenes made on the training grid, one per batch.

    The first synthetic patch of a batch draws a seed in the declared training range, then the
    units (when several are listed), then the scene's ``variability`` and ``variants`` (each when
    given as a range rather than one value: uniform, whole numbers for ``variants``), all from
    the run's generator; every synthetic patch of the batch is then a random square of that scene. One scene per batch rather than per patch: a
    96 x 96 scene costs about as much as two of 48 x 48 (a fixed cost per scene), and a few
    thousand steps still see a few thousand scenes.
    """

    grid: SpectralGrid
    size: int
    units: tuple[str, ...]
    artefacts: bool
    seeds: tuple[int, int]
    variability: tuple[float, float] = (1.0, 1.0)
    variants: tuple[int, int] = (VARIANTS, VARIANTS)
    name: str = "synthetic"
    _current: Scene | None = field(default=None, init=False, repr=False)

    def scene(self, rng: np.random.Generator) -> Scene:
        seed = int(rng.integers(*self.seeds))
        units = self.units[int(rng.integers(len(self.units)))] if len(self.units) > 1 else self.units[0]
        low, high = self.variability
        variability = float(rng.uniform(low, high)) if high > low else low
        fewest, most = self.variants
        variants = int(rng.integers(fewest, most + 1)) if most > fewest else fewest
        return load_scene(
            f"synthetic:{seed}", size=self.size, grid=self.grid, units=units, artefacts=self.artefacts,
            variability=variability, variants=variants,
        )

    def patch(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self._current is None:
            self._current = self.scene(rng)
        return random_square(self._current.cube, rng, size)

    def new_batch(self) -> None:
        self._current = None


@dataclass
class FolderSource:
    """Every scene file of a folder (:data:`FOLDER_SUFFIXES`), sorted by path.

    ENVI and GeoTIFF files are read one window at a time (a folder of thousands of tiles never
    sits in memory); ``.mat``, ``.npy`` and ``.npz`` files are read whole, the last few kept
    (``.mat`` and ``.npz`` also once when the folder is scanned, to check their size).
    Files must carry wavelengths unless they are already on the grid's band count and order
    (then the grid's are assumed); a problem with a file is an error naming it.
    """

    files: tuple[Path, ...]
    grid: SpectralGrid
    name: str
    _whole: OrderedDict[Path, Scene] = field(default_factory=OrderedDict, init=False, repr=False)

    @classmethod
    def scan(cls, folder: str | Path, grid: SpectralGrid, size: int, recursive: bool = True) -> FolderSource:
        root = Path(folder).expanduser()
        pattern = root.rglob("*") if recursive else root.glob("*")
        files = tuple(sorted(p for p in pattern if p.is_file() and p.suffix.lower() in FOLDER_SUFFIXES))
        if not files:
            raise ConfigError(f"{root}: no scene files ({', '.join(FOLDER_SUFFIXES)}) to train on")
        for path in files:
            rows, cols = _spatial_shape(path)
            if min(rows, cols) < size:
                raise ConfigError(f"{path}: {rows}x{cols} pixels, smaller than the {size} x {size} square "
                                  "training cuts (patch_size, or estimate_context when set)")
        return cls(files, grid, f"folder:{root}")

    def patch(self, rng: np.random.Generator, size: int) -> np.ndarray:
        path = self.files[int(rng.integers(len(self.files)))]
        try:
            return _folder_patch(path, self.grid, rng, size, self._read_whole)
        except S3RNetError as exc:
            message = str(exc)
            raise type(exc)(message if str(path) in message else f"{path}: {message}") from exc

    def new_batch(self) -> None:
        pass

    def _read_whole(self, path: Path) -> Scene:
        # Files without a windowed reader: the last few stay in memory (a pure cache of the file).
        if path not in self._whole:
            self._whole[path] = read_scene(path)
            while len(self._whole) > _WHOLE_FILE_CACHE:
                self._whole.popitem(last=False)
        self._whole.move_to_end(path)
        return self._whole[path]


def _spatial_shape(path: Path) -> tuple[int, int]:
    """Rows and columns of a scene file, reading as little of it as its format allows."""
    suffix = path.suffix.lower()
    if suffix in (".hdr", *GEOTIFF_SUFFIXES):
        image = open_image(path)
        return image.rows, image.cols
    if suffix == ".npy":
        array = np.load(path, mmap_mode="r", allow_pickle=False)
        if array.ndim != 3:
            raise ConfigError(f"{path}: a {array.ndim}-D array, not a (rows, cols, bands) cube")
        return int(array.shape[0]), int(array.shape[1])
    return read_scene(path).shape[:2]


def _folder_patch(
    path: Path, grid: SpectralGrid, rng: np.random.Generator, size: int, read_whole: Callable[[Path], Scene]
) -> np.ndarray:
    suffix = path.suffix.lower()
    if suffix in (".hdr", *GEOTIFF_SUFFIXES):
        image = open_image(path)
        row = int(rng.integers(0, image.rows - size + 1))
        col = int(rng.integers(0, image.cols - size + 1))
        window = image.read((row, row + size), (col, col + size))
        scene = Scene(cube=window, wavelengths=image.wavelengths, fwhm=image.fwhm, units=image.units, name=path.stem, source=str(path))
    else:
        whole = read_whole(path)
        scene = whole.with_cube(np.ascontiguousarray(random_square(whole.cube, rng, size)))
    if scene.wavelengths is None:
        if scene.bands != grid.bands:
            raise ConfigError(
                f"{path}: no wavelengths, and {scene.bands} bands where the training grid {grid.name!r} has "
                f"{grid.bands}; add wavelengths to the file (ENVI header, 'wavelengths' array)"
            )
        return scene.cube
    return on_grid(scene, grid).cube


@dataclass
class PatchSampler:
    """Sources with their weights: each patch comes from one source, drawn by weight (no draw
    when there is one source)."""

    sources: list[PatchSource]
    weights: np.ndarray

    def patch(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.draw(rng, size)[1]

    def draw(self, rng: np.random.Generator, size: int) -> tuple[str, np.ndarray]:
        """A patch and the name of the source it came from."""
        index = 0 if len(self.sources) == 1 else int(rng.choice(len(self.sources), p=self.weights))
        return self.sources[index].name, self.sources[index].patch(rng, size)

    def new_batch(self) -> None:
        for source in self.sources:
            source.new_batch()

    def describe(self) -> list[dict[str, Any]]:
        """Each source's name and share of the patches (for the checkpoint's record)."""
        return [{"source": s.name, "share": float(w)} for s, w in zip(self.sources, self.weights)]


def build_sampler(config: TrainConfig, grid: SpectralGrid) -> PatchSampler:
    """The sources of ``config.training_sources`` on ``grid``, weighted."""
    sources: list[PatchSource] = []
    for spec in config.training_sources:
        if spec["kind"] == "region":
            sources.append(RegionSource.load(spec["scene"], spec["region"], grid))
        elif spec["kind"] == "synthetic":
            seeds = load_synthetic_split().train_seeds
            sources.append(
                SyntheticSource(
                    grid, spec["size"], tuple(spec["units"]), spec["artefacts"], seeds,
                    tuple(spec["variability"]), tuple(spec["variants"]),
                )
            )
        else:
            sources.append(FolderSource.scan(spec["path"], grid, config.context_size, spec["recursive"]))
    weights = np.array([spec["weight"] for spec in config.training_sources], dtype=np.float64)
    return PatchSampler(sources, weights / weights.sum())
