"""Scenes for the app: the built-in catalogue, the user's uploads, and the region to fuse.

A region is named by a short string that the page and the API share:

* ``"whole"``: the whole scene, cropped to a multiple of the ratio;
* ``"split:NAME"``: a region of the scene's declared split (``s3rnet.data.split_region``);
* ``"tile:ROW,COL"``: the :data:`TILE` x :data:`TILE` tile whose top-left pixel is (ROW, COL).
"""

from __future__ import annotations

import functools
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from s3rnet.data import (
    SCENE_SUFFIXES,
    Scene,
    available_splits,
    crop,
    crop_to_multiple,
    list_scenes,
    load_scene,
    load_split,
    msi_response_fit,
    split_region,
    tile_origins,
)
from s3rnet.data.readers import wavelengths_in_nm
from s3rnet.errors import S3RNetError, SceneFormatError, ShapeError, WavelengthError

# The ratio regions are cut to multiples of (the paper's); a fusion at another ratio crops its
# region further, to a multiple of that ratio.
RATIO = 4
# The spatial ratios a fusion can simulate: the paper's 4, the 3 of a 30 m hyperspectral image
# with 10 m Sentinel-2 bands, 2, 6 and 8. A checkpoint runs only at ratios it was trained or
# validated at (the published weights: 2, 3, 4 and 6); at the others the baselines run alone.
RATIOS = (2, 3, 4, 6, 8)
# Side of the tiles offered for scenes larger than one tile: the size the CPU preset is made
# for (a 144 x 144 x 200 forward takes about a third of a second on two cores).
TILE = 144
# The smallest region the app fuses: 8 x 8 low-resolution pixels, enough for the baselines'
# regressions and for SSIM's 11 x 11 window on the high-resolution grid.
MIN_SIDE = 32
# Larger scenes are offered as tiles only, so that one fusion stays interactive on a CPU.
MAX_WHOLE_PIXELS = 256 * 256
UPLOAD_PREFIX = "upload:"
DATA_FILE_SUFFIXES = (".img", ".dat", ".bsq", ".bil", ".bip", ".raw")


class UploadError(SceneFormatError):
    """An upload the app cannot turn into a scene (missing partner file, over the size limit)."""


@functools.lru_cache(maxsize=8)
def load_named_scene(name: str) -> Scene:
    """A built-in or ``$S3RNET_DATA`` scene, read once per process (scenes are immutable)."""
    return load_scene(name)


def builtin_scene_names() -> list[str]:
    """Indian Pines and every scene found in ``$S3RNET_DATA``."""
    return list_scenes()


def scene_label(name: str) -> str:
    """How a scene is called in the dropdown."""
    if name.startswith(UPLOAD_PREFIX):
        return f"{name.removeprefix(UPLOAD_PREFIX)} (your upload)"
    return {"indian_pines": "Indian Pines (AVIRIS)"}.get(name, name)


# --------------------------------------------------------------------------------------------
# Regions
# --------------------------------------------------------------------------------------------


# Split regions first, the one never used in training or model selection leading.
SPLIT_ORDER = ("test", "val", "train")
# Short enough to read whole in the region picker; the rows and columns are in the status line.
SPLIT_LABELS = {"test": "Test region (never trained on)", "val": "Validation region", "train": "Training region"}


def region_choices(scene: Scene) -> list[tuple[str, str]]:
    """The regions offered for a scene, as ``(label, value)`` pairs, the default first.

    A scene with a declared split opens on its test region, which no checkpoint saw in training
    or model selection; then come its other split regions, the whole scene when it is small
    enough, and the tiles of a large scene.
    """
    check_size(scene)
    height, width = (side - side % RATIO for side in scene.shape[:2])
    choices: list[tuple[str, str]] = []
    if scene.name in available_splits() and not scene.meta.get("uploaded"):
        split = load_split(scene.name)
        if tuple(scene.shape[:2]) == tuple(split.shape):
            names = sorted(split.regions, key=lambda n: (SPLIT_ORDER.index(n) if n in SPLIT_ORDER else len(SPLIT_ORDER), n))
            for name in names:
                (r0, r1), (c0, c1) = split.regions[name]
                label = SPLIT_LABELS.get(name, f"{name.capitalize()} region (rows {r0}-{r1}, cols {c0}-{c1})")
                choices.append((label, f"split:{name}"))
    if height * width <= MAX_WHOLE_PIXELS:
        choices.append((f"Whole scene ({height} x {width} px)", "whole"))
    if height > TILE or width > TILE:
        rows = tile_origins(height, TILE, TILE) if height >= TILE else [0]
        cols = tile_origins(width, TILE, TILE) if width >= TILE else [0]
        for r in rows:
            for c in cols:
                r1, c1 = min(r + TILE, height), min(c + TILE, width)
                choices.append((f"Tile rows {r}-{r1}, cols {c}-{c1}", f"tile:{r},{c}"))
    return choices


def default_region(scene: Scene) -> str:
    """The first region offered: the test region of a declared split, else the whole scene or its first tile."""
    return region_choices(scene)[0][1]


# --------------------------------------------------------------------------------------------
# MSI responses
# --------------------------------------------------------------------------------------------


def msi_fit(scene: Scene) -> dict[str, str | None]:
    """Each MSI response -> None when the scene's bands can simulate it, else why not (the library's check)."""
    return msi_response_fit(scene)


def fitting_responses(scene: Scene) -> list[str]:
    """The MSI responses the scene's bands can simulate, in the library's order."""
    return [name for name, reason in msi_fit(scene).items() if reason is None]


def cut_region(scene: Scene, region: str) -> Scene:
    """The part of ``scene`` named by ``region`` (see the module docstring), sides multiples of 4.

    Raises
    ------
    ShapeError
        For an unknown region or one that leaves the scene.
    """
    check_size(scene)
    if region == "whole":
        return crop_to_multiple(scene, RATIO)
    if region.startswith("split:"):
        return split_region(scene, region.removeprefix("split:"))
    match = re.fullmatch(r"tile:(\d+),(\d+)", region)
    if match and region in (value for _, value in region_choices(scene)):
        r0, c0 = int(match[1]), int(match[2])
        cropped = crop_to_multiple(scene, RATIO)
        height, width = cropped.shape[:2]
        return crop(cropped, (r0, min(r0 + TILE, height)), (c0, min(c0 + TILE, width)))
    valid = ", ".join(value for _, value in region_choices(scene))
    raise ShapeError(f"unknown region {region!r} for scene {scene.name!r}; choose one of: {valid}")


def region_box(region_scene: Scene) -> tuple[tuple[int, int], tuple[int, int]]:
    """Rows and columns (end excluded) of a region in its scene's pixel grid."""
    box = region_scene.meta.get("region")
    if box is None:
        return (0, region_scene.shape[0]), (0, region_scene.shape[1])
    return tuple(box["rows"]), tuple(box["cols"])


def check_bands(scene: Scene) -> None:
    """Refuse a scene from which no MSI response can be simulated (one band, a narrow range...)."""
    fit = msi_fit(scene)
    if any(reason is None for reason in fit.values()):
        return
    if scene.bands < 2:
        raise ShapeError(f"scene {scene.name!r} has 1 band: a hyperspectral scene has many (tens to hundreds)")
    reasons = "; ".join(fit.values())
    raise ShapeError(f"scene {scene.name!r} ({describe(scene)}): no MSI response can be simulated from its bands ({reasons})")


def check_size(scene: Scene) -> None:
    """Refuse a scene smaller than the smallest region the app fuses (:data:`MIN_SIDE`)."""
    height, width = scene.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise ShapeError(
            f"scene {scene.name!r} is {height} x {width} pixels, smaller than one tile of "
            f"{MIN_SIDE} x {MIN_SIDE} (the app needs at least {MIN_SIDE // RATIO} x {MIN_SIDE // RATIO} "
            f"low-resolution pixels at ratio {RATIO})"
        )


# --------------------------------------------------------------------------------------------
# Uploads
# --------------------------------------------------------------------------------------------


def parse_wavelengths(text: str, bands: int) -> np.ndarray | None:
    """Wavelengths typed by the user: a list of numbers, or ``START-STOP`` for even spacing.

    Returns None for an empty text.

    Raises
    ------
    WavelengthError
        For anything else, or a list whose length is not the band count.
    """
    text = (text or "").strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d+(?:\.\d*)?)\s*(?:-|to|\.\.)\s*(\d+(?:\.\d*)?)", text)
    if match:
        start, stop = float(match[1]), float(match[2])
        if stop <= start:
            raise WavelengthError(f"wavelength range {text!r} must go upwards (for example 400-2500)")
        return np.linspace(start, stop, bands)
    try:
        values = np.asarray([float(v) for v in re.split(r"[\s,;]+", text) if v], dtype=float)
    except ValueError as exc:
        raise WavelengthError(
            f"wavelengths {text[:40]!r} are not numbers: give one per band (nm), comma-separated, "
            f"or a range such as 400-2500"
        ) from exc
    if values.size != bands:
        raise WavelengthError(f"{values.size} wavelengths typed for a scene of {bands} bands")
    return values


def read_upload(paths: Sequence[str | Path], wavelengths_text: str = "", max_bytes: int | None = None,
                variable: str = "") -> Scene:
    """Turn uploaded files into a scene.

    The files are copied, under their own names, into one fresh folder first: an ENVI header
    finds its data file beside it, and the browser may have stored the two in different places.

    Parameters
    ----------
    paths : sequence of path
        One ``.mat`` / ``.npy`` / ``.npz`` file, or an ENVI ``.hdr`` with its data file.
    wavelengths_text : str
        Band centres in nm for files that hold none (see :func:`parse_wavelengths`).
    max_bytes : int, optional
        Refuse uploads larger than this in total.
    variable : str
        Name of the cube in a ``.mat`` / ``.npz`` file that holds several arrays.

    Raises
    ------
    S3RNetError
        A subclass naming the problem: wrong extension, missing partner file, size, truncated
        or inconsistent data, NaN values, missing wavelengths.
    """
    files = [Path(p) for p in paths or [] if p]
    if not files:
        raise UploadError("no file was uploaded: choose an ENVI .hdr with its .img, a .mat, a .npy or a .npz")
    total = sum(f.stat().st_size for f in files)
    if max_bytes is not None and total > max_bytes:
        raise UploadError(
            f"the upload is {total / 2**20:.1f} MB, over the limit of {max_bytes / 2**20:.0f} MB; "
            f"crop the scene first"
        )
    headers = [f for f in files if f.suffix.lower() == ".hdr"]
    scenes = [f for f in files if f.suffix.lower() in SCENE_SUFFIXES]
    if not scenes:
        data = [f for f in files if f.suffix.lower() in DATA_FILE_SUFFIXES]
        if data:
            raise UploadError(f"{data[0].name}: an ENVI data file needs its .hdr header; upload both together")
        names = ", ".join(f.name for f in files)
        raise SceneFormatError(
            f"{names}: unsupported file type; a scene is an ENVI header (.hdr, with its data file), "
            f"a MATLAB .mat, or a NumPy .npy / .npz"
        )
    if len(scenes) > 1:
        raise UploadError(f"several scenes uploaded at once ({', '.join(f.name for f in scenes)}); upload one")
    folder = Path(tempfile.mkdtemp(prefix="s3rnet-upload-"))
    try:
        for f in files:
            shutil.copyfile(f, folder / f.name)
        main = folder / scenes[0].name
        if headers and not any(f.suffix.lower() in DATA_FILE_SUFFIXES + ("",) for f in files if f not in headers):
            raise UploadError(f"{main.name}: the ENVI header came without its data file (.img); upload both together")
        options = {"variable": variable.strip()} if variable and variable.strip() and main.suffix.lower() in (".mat", ".npz") else {}
        scene = load_scene(main, **options)
        wavelengths = parse_wavelengths(wavelengths_text, scene.bands)
        if wavelengths is not None:
            wavelengths, note = wavelengths_in_nm(wavelengths)
            meta = {key: value for key, value in scene.meta.items() if key != "wavelength_note"}
            if note:
                meta["wavelength_note"] = "typed " + note
            scene = scene.with_cube(scene.cube, wavelengths=wavelengths, fwhm=None, meta=meta)
    except S3RNetError as exc:
        # The copies' folder is the server's business: the message names the user's own file.
        raise type(exc)(str(exc).replace(f"{folder}/", "")) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    scene = scene.with_cube(scene.cube, meta=dict(scene.meta, uploaded=True), source=scenes[0].name)
    check_size(scene)
    check_bands(scene)
    return scene


def describe(scene: Scene) -> str:
    """One line about a scene: size, bands, wavelength range, units."""
    height, width, bands = scene.shape
    if scene.wavelengths is not None:
        span = f"{scene.wavelengths.min():.0f}-{scene.wavelengths.max():.0f} nm"
    else:
        span = "no wavelengths (only the binning MSI responses work)"
    return f"{height} x {width} px, {bands} bands, {span}, {scene.units}"


__all__ = [
    "MIN_SIDE", "RATIO", "RATIOS", "TILE", "UPLOAD_PREFIX", "UploadError", "builtin_scene_names", "check_size",
    "check_bands", "cut_region", "default_region", "describe", "fitting_responses", "msi_fit", "load_named_scene", "parse_wavelengths", "read_upload",
    "region_box", "region_choices", "scene_label",
]
