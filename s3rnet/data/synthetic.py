"""Synthetic AVIRIS-like scenes: real material spectra in procedural landscapes, seen through an
atmosphere by a noisy sensor.

A scene is made in five steps, each a small function of a seeded generator:

1. **Layout** (:func:`layout`): a rotated field pattern of rectangular parcels (recursive
   splits, as fields, lots and blocks are laid out), roads on the main split lines, a village of
   buildings on some parcels, trees in rows along roads and in woods, a river or a pond, all drawn
   at twice the resolution so that pixels on boundaries mix their classes (linear mixing by area).
2. **Materials** (:func:`material_library`): spectra of the PyPI package ``earthlib`` (its ENVI
   library ``earthlib/data/spectra.sli``, 7,261 spectra at 400-2450 nm: soils, PROSAIL canopies,
   roofs, asphalt, litter; classes in ``spectra.csv``), a few spectra per class and scene, mixed
   per pixel by smooth random fields (within-class variability), times a brightness field with
   texture at several scales (1/f noise) and row-crop stripes. Water, absent from the library,
   is a parametric spectrum (low, green-peaked, dark beyond 750 nm).
3. **Illumination** (:func:`atmosphere`): the ASTM G173 solar spectrum shipped by ``pvlib``
   (``pvlib/data/ASTMG173.csv``: extraterrestrial, direct and global irradiance at air mass 1.5,
   with the water, oxygen and CO2 absorptions); its optical depth is scaled by a random haze and
   humidity factor and taken along a random sun path down and a nadir path up; diffuse sky light
   and path radiance. Terrain shading from a smooth height field, shadows of buildings and trees
   (no direct light, less sky).
4. **Sensor** (:func:`sensor_artefacts`): signal-dependent noise (shot and read noise: SNR falls
   in the SWIR and the absorption bands as on AVIRIS), column striping, a few bad detector
   elements.
5. **Units**: at-sensor radiance (uW cm-2 nm-1 sr-1, Indian Pines' units) or reflectance
   retrieved with a slightly wrong atmosphere, which leaves atmospheric residue in the
   absorption bands.

Scene names: ``synthetic:SEED`` with options as a query, ``synthetic:7?size=256&units=reflectance``
(:func:`parse_name`); the options are ``size`` (``N`` or ``ROWSxCOLS``, default 144), ``grid``
(:data:`GRIDS`, default ``indian_pines``, the 200 corrected AVIRIS 92AV3C bands), ``units``
(``radiance`` or ``reflectance``), ``artefacts`` (``1`` or ``0``: sensor noise, striping, bad
detectors and atmospheric residue, or none), ``variability`` (a factor on the per-pixel
spectral modulation of step 2, default 1) and ``variants`` (how many library spectra of each
class a scene mixes, 1 to :data:`VARIANTS`, default :data:`VARIANTS`). With ``variability=0``
and ``variants=1`` each pixel is a mixture of one spectrum per class, shaded and lit: the case
linear unmixing explains, as it explains real scenes better than these scenes' defaults
(docs/synthetic.md). Both options keep a seed's layout and draws. :func:`s3rnet.data.load_scene`
takes the name (and the same options as keywords).

A 144 x 144 x 200 scene takes 0.22 s on one core (``benchmarks/realism_synthetic.py``).
"""

from __future__ import annotations

import functools
import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np
from scipy import ndimage

from ..errors import ConfigError, SceneFormatError
from .catalog import aviris_92av3c_calibration, indian_pines_bands
from .grids import AVIRIS_172, SpectralGrid
from .scene import Scene

PREFIX = "synthetic:"
UNITS = ("radiance", "reflectance")
RADIANCE_UNITS = "radiance (uW cm-2 nm-1 sr-1; synthetic)"
DEFAULTS = {
    "size": (144, 144), "grid": "indian_pines", "units": "radiance", "artefacts": True, "variability": 1.0, "variants": 6,
}
# The largest ``variability`` accepted: 4 times the default modulation already bends spectra by
# about 25% (one standard deviation of exp(0.24)).
MAX_VARIABILITY = 4.0
# W m-2 sr-1 nm-1 -> uW cm-2 sr-1 nm-1.
_TO_AVIRIS_UNITS = 100.0
# Spectra per class drawn for one scene; pixels mix them.
VARIANTS = 6
# Smooth spectral modulations per pixel (moisture, pigments, grain size) beyond the library's
# spectra: Gaussian bumps of this width in nm, with this standard deviation of log-amplitude.
_MODULATION_WIDTH_NM, _MODULATION_STD = 120.0, 0.06


def _indian_pines_grid() -> SpectralGrid:
    centres, fwhm = indian_pines_bands()
    return SpectralGrid("indian_pines", centres, fwhm)


def _full_92av3c_grid() -> SpectralGrid:
    table = aviris_92av3c_calibration()
    return SpectralGrid("92av3c", table[:, 0].copy(), table[:, 1].copy())


GRIDS = {"indian_pines": _indian_pines_grid, "92av3c": _full_92av3c_grid, "aviris-172": lambda: AVIRIS_172}


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


def parse_name(name: str) -> tuple[int, dict]:
    """The seed and options of a ``synthetic:SEED?key=value&...`` name.

    Returns
    -------
    seed : int
    options : dict
        ``size`` (rows, cols), ``grid`` (str), ``units`` (str), ``artefacts`` (bool),
        ``variability`` (float), ``variants`` (int); defaults filled in.

    Raises
    ------
    ConfigError
        For a malformed name or an unknown or invalid option; the message says which.
    """
    if not name.startswith(PREFIX):
        raise ConfigError(f"{name!r} is not a synthetic scene name ({PREFIX}SEED?option=value&...)")
    seed_text, _, query = name[len(PREFIX):].partition("?")
    try:
        seed = int(seed_text)
    except ValueError:
        raise ConfigError(f"{name!r}: the seed {seed_text!r} is not an integer") from None
    options = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=False)) if query else {}
    return seed, scene_options(name, **options)


def scene_options(where: str = "synthetic scene", **options) -> dict:
    """Options of a synthetic scene, checked and with defaults (values may be text or typed)."""
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise ConfigError(f"{where}: unknown option(s) {', '.join(sorted(unknown))}; choose from {', '.join(DEFAULTS)}")
    merged = dict(DEFAULTS, **options)
    size = merged["size"]
    try:
        if isinstance(size, str):
            parts = [int(p) for p in size.lower().split("x")]
            size = (parts[0], parts[-1]) if len(parts) in (1, 2) else None
        elif isinstance(size, (int, np.integer)):
            size = (int(size), int(size))
        else:
            size = tuple(int(s) for s in size)
    except (TypeError, ValueError):
        size = None
    if size is None or len(size) != 2 or min(size) < 16 or max(size) > 4096:
        raise ConfigError(f"{where}: size must be N or ROWSxCOLS between 16 and 4096 pixels, got {merged['size']!r}")
    grid = merged["grid"]
    if isinstance(grid, str) and grid not in GRIDS:
        raise ConfigError(f"{where}: unknown grid {grid!r}; choose from {', '.join(GRIDS)} (or pass a SpectralGrid)")
    if merged["units"] not in UNITS:
        raise ConfigError(f"{where}: units must be one of {', '.join(UNITS)}, got {merged['units']!r}")
    artefacts = merged["artefacts"]
    if isinstance(artefacts, str):
        if artefacts.lower() not in ("0", "1", "true", "false"):
            raise ConfigError(f"{where}: artefacts must be 1 or 0, got {artefacts!r}")
        artefacts = artefacts.lower() in ("1", "true")
    try:
        variability = float(merged["variability"])
    except (TypeError, ValueError):
        variability = math.nan
    if not 0.0 <= variability <= MAX_VARIABILITY:
        raise ConfigError(
            f"{where}: variability must be a number from 0 to {MAX_VARIABILITY:g}, got {merged['variability']!r}"
        )
    try:
        variants = float(merged["variants"])
    except (TypeError, ValueError):
        variants = math.nan
    if not (variants.is_integer() and 1 <= variants <= VARIANTS):
        raise ConfigError(f"{where}: variants must be a whole number from 1 to {VARIANTS}, got {merged['variants']!r}")
    return {
        "size": size, "grid": grid, "units": merged["units"], "artefacts": bool(artefacts),
        "variability": variability, "variants": int(variants),
    }


def canonical_name(seed: int, options: dict) -> str:
    """``synthetic:SEED`` followed by the options that differ from the defaults."""
    checked = scene_options(**options)
    parts = []
    if checked["size"] != DEFAULTS["size"]:
        rows, cols = checked["size"]
        parts.append(f"size={rows}" if rows == cols else f"size={rows}x{cols}")
    grid = checked["grid"]
    if not isinstance(grid, str):
        parts.append(f"grid={grid.name}")
    elif grid != DEFAULTS["grid"]:
        parts.append(f"grid={grid}")
    if checked["units"] != DEFAULTS["units"]:
        parts.append(f"units={checked['units']}")
    if not checked["artefacts"]:
        parts.append("artefacts=0")
    if checked["variability"] != DEFAULTS["variability"]:
        parts.append(f"variability={checked['variability']:g}")
    if checked["variants"] != DEFAULTS["variants"]:
        parts.append(f"variants={checked['variants']}")
    return f"{PREFIX}{seed}" + ("?" + "&".join(parts) if parts else "")


# --------------------------------------------------------------------------------------------
# Materials
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Library:
    """A spectral library.

    Attributes
    ----------
    wavelengths : ndarray, shape (B,)
        nm, ascending (with gaps at the water absorptions).
    spectra : ndarray, shape (S, B), float32
        Reflectance 0-1.
    classes : dict of str to ndarray of int
        Our material classes -> rows of ``spectra``.
    source : str
    """

    wavelengths: np.ndarray
    spectra: np.ndarray
    classes: dict[str, np.ndarray] = field(repr=False)
    source: str


def _package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SceneFormatError(f"synthetic scenes need the PyPI package {package!r} (it ships {relative})")
    path = Path(spec.submodule_search_locations[0]) / relative
    if not path.is_file():
        raise SceneFormatError(f"{path}: missing from the installed {package} package")
    return path


# Our classes as earthlib's LEVEL_3 classes; canopies (PROSAIL) are split by leaf area index.
_LEVEL_3 = {
    "soil": ("soil", "dirt"),
    "residue": ("litter", "npv"),
    "road": ("asphalt", "road", "parking_lot"),
    "gravel": ("gravel",),
    "roof": ("comp_shingle", "concrete_tile", "metal", "tile", "wood_shingle", "paint"),
    "pavement": ("sidewalk", "driveway", "bridge"),
    "sand": ("sand",),
}
_CANOPY_LAI = {"crop": (2.0, 5.0), "grass": (0.8, 2.5), "tree": (3.5, 99.0)}


@functools.lru_cache(maxsize=1)
def material_library() -> Library:
    """The earthlib spectral library with its spectra sorted into our material classes."""
    import csv

    from spectral.io import envi

    header = _package_file("earthlib", "data/spectra.sli.hdr")
    table = _package_file("earthlib", "data/spectra.csv")
    library = envi.open(str(header), str(header.with_suffix("")))
    spectra = np.asarray(library.spectra, dtype=np.float32)
    wavelengths = np.asarray(library.bands.centers, dtype=np.float64)
    units = str(library.metadata.get("wavelength units", "")).lower()
    if units.startswith("micro") or wavelengths.max() < 30:
        wavelengths = wavelengths * 1000.0
    with table.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if len(rows) != spectra.shape[0]:
        raise SceneFormatError(f"{table}: {len(rows)} rows for {spectra.shape[0]} spectra in {header.with_suffix('')}")
    level_3 = np.array([row["LEVEL_3"] for row in rows])
    classes = {name: np.flatnonzero(np.isin(level_3, kinds)) for name, kinds in _LEVEL_3.items()}
    lai = np.array([_leaf_area_index(row["NAME"]) for row in rows])
    for name, (low, high) in _CANOPY_LAI.items():
        classes[name] = np.flatnonzero((level_3 == "canopy") & (lai >= low) & (lai < high))
    spectra = np.clip(spectra, 0.0, 1.0)
    return Library(wavelengths, spectra, classes, f"earthlib ({header.with_suffix('').name})")


def _leaf_area_index(name: str) -> float:
    parts = name.split("-")
    return float(parts[parts.index("LAI") + 1]) if "LAI" in parts else float("nan")


def water_reflectance(wavelengths: np.ndarray, turbidity: float, chlorophyll: float) -> np.ndarray:
    """A parametric reflectance of inland water (earthlib has none).

    Low everywhere (0.5-6%), a green peak that rises with suspended matter and algae, a small
    red-edge bump with algae, and almost nothing beyond 750 nm, where water absorbs.

    Parameters
    ----------
    wavelengths : ndarray, shape (B,)
        nm.
    turbidity, chlorophyll : float
        0-1.

    Returns
    -------
    ndarray, shape (B,)
    """
    nm = np.asarray(wavelengths, dtype=np.float64)
    visible = 0.01 + 0.03 * turbidity * np.exp(-0.5 * ((nm - 570.0) / 60.0) ** 2)
    visible += 0.006 * chlorophyll * np.exp(-0.5 * ((nm - 705.0) / 12.0) ** 2)
    visible += 0.01 * np.exp(-(nm - 400.0) / 120.0)
    absorbed = np.exp(-np.clip(nm - 700.0, 0.0, None) / 45.0)
    return visible * absorbed + 0.003


@functools.lru_cache(maxsize=8)
def _interpolation(library_nm: tuple[float, ...], centres: tuple[float, ...]) -> np.ndarray:
    """(C, B) linear interpolation from library bands to band centres, nearest beyond the ends."""
    source = np.asarray(library_nm)
    target = np.clip(np.asarray(centres), source[0], source[-1])
    upper = np.clip(np.searchsorted(source, target), 1, source.size - 1)
    share = (target - source[upper - 1]) / (source[upper] - source[upper - 1])
    matrix = np.zeros((target.size, source.size))
    matrix[np.arange(target.size), upper - 1] = 1.0 - share
    matrix[np.arange(target.size), upper] += share
    return matrix


CLASSES = ("crop", "grass", "soil", "residue", "tree", "road", "gravel", "roof", "pavement", "sand", "water")


def endmembers(rng: np.random.Generator, grid: SpectralGrid) -> np.ndarray:
    """:data:`VARIANTS` spectra of each class of :data:`CLASSES` on a grid.

    Returns
    -------
    ndarray, shape (len(CLASSES), VARIANTS, C), float32
        Reflectance; band centres beyond the library's 400-2450 nm take its end values, bands in
        its gaps (1350-1460, 1790-1960 nm) are interpolated across them.
    """
    library = material_library()
    matrix = _interpolation(tuple(library.wavelengths), tuple(np.asarray(grid.centres, dtype=float)))
    out = np.empty((len(CLASSES), VARIANTS, grid.bands), dtype=np.float32)
    for k, name in enumerate(CLASSES):
        if name == "water":
            out[k] = [water_reflectance(grid.centres, rng.uniform(0, 1), rng.uniform(0, 1)) for _ in range(VARIANTS)]
            continue
        rows = rng.choice(library.classes[name], size=VARIANTS, replace=library.classes[name].size < VARIANTS)
        out[k] = library.spectra[rows] @ matrix.T
    return out


def spectral_modulation(
    rng: np.random.Generator, grid: SpectralGrid, rows: int, cols: int, variability: float = 1.0
) -> np.ndarray:
    """A per-pixel smooth spectral factor: ``exp(sum_j a_j(x) phi_j(lambda))``.

    ``phi_j`` are Gaussian bumps every 120 nm over the grid, ``a_j`` smooth random fields of
    standard deviation 0.06 times ``variability``: the small changes of moisture, pigments and
    grain size that make two pixels of one material differ in shape, not only in brightness.
    The generator draws the same numbers whatever ``variability`` is, so a seed keeps its layout.

    Returns
    -------
    ndarray, shape (H, W, C), float32
    """
    centres = np.asarray(grid.centres, dtype=np.float64)
    peaks = np.arange(centres.min(), centres.max() + _MODULATION_WIDTH_NM, _MODULATION_WIDTH_NM)
    bumps = np.exp(-0.5 * ((centres[None, :] - peaks[:, None]) / (0.6 * _MODULATION_WIDTH_NM)) ** 2)
    small = (max(rows // 4, 8), max(cols // 4, 8))
    amplitudes = np.stack([fractal_noise(rng, small, 2.5) for _ in peaks], axis=-1) * (_MODULATION_STD * variability)
    amplitudes = ndimage.zoom(amplitudes, (rows / small[0], cols / small[1], 1), order=1)[:rows, :cols]
    return np.exp(amplitudes @ bumps.astype(np.float32)).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------


def fractal_noise(rng: np.random.Generator, shape: tuple[int, int], beta: float) -> np.ndarray:
    """A Gaussian random field with power spectrum ``1 / f^beta``, zero mean, unit variance.

    Parameters
    ----------
    rng : numpy.random.Generator
    shape : (rows, cols)
    beta : float
        Spectral slope: 2 looks like natural images, larger is smoother.
    """
    rows, cols = shape
    frequency = np.hypot(*np.meshgrid(np.fft.fftfreq(rows), np.fft.rfftfreq(cols), indexing="ij"))
    frequency[0, 0] = 1.0
    amplitude = frequency ** (-beta / 2.0)
    amplitude[0, 0] = 0.0
    spectrum = amplitude * (rng.standard_normal(amplitude.shape) + 1j * rng.standard_normal(amplitude.shape))
    field_ = np.fft.irfft2(spectrum, s=shape)
    return ((field_ - field_.mean()) / (field_.std() + 1e-12)).astype(np.float32)


@dataclass
class Layout:
    """Where each class lies, at twice the scene's resolution.

    Attributes
    ----------
    classes : ndarray of int, shape (2H, 2W)
        Index into :data:`CLASSES`.
    regions : ndarray of int, shape (2H, 2W)
        Parcel, building or object id: pixels of one region share their mix of spectra.
    height : ndarray, shape (2H, 2W)
        Height above ground of buildings and trees, in (fine) pixels, for shadows.
    stripes : ndarray, shape (2H, 2W)
        Row-crop modulation in [0, 1] (1 where crop rows are, on crop parcels).
    """

    classes: np.ndarray
    regions: np.ndarray
    height: np.ndarray
    stripes: np.ndarray


def _split_parcels(rng: np.random.Generator, box: tuple[float, float, float, float], smallest: float, depth: int = 0):
    """Recursive splits of a box into parcels: yields (box, depth of the split line above it, line)."""
    u0, v0, u1, v1 = box
    width, height = u1 - u0, v1 - v0
    if max(width, height) < smallest * rng.uniform(1.0, 2.2) or depth > 8:
        yield box, None
        return
    along_u = width > height if rng.random() < 0.8 else width <= height
    if along_u:
        cut = u0 + width * rng.uniform(0.3, 0.7)
        line = (depth, "u", cut, v0, v1)
        yield None, line
        yield from _split_parcels(rng, (u0, v0, cut, v1), smallest, depth + 1)
        yield from _split_parcels(rng, (cut, v0, u1, v1), smallest, depth + 1)
    else:
        cut = v0 + height * rng.uniform(0.3, 0.7)
        line = (depth, "v", cut, u0, u1)
        yield None, line
        yield from _split_parcels(rng, (u0, v0, u1, cut), smallest, depth + 1)
        yield from _split_parcels(rng, (u0, cut, u1, v1), smallest, depth + 1)


_FIELD_CLASSES = ("crop", "grass", "soil", "residue", "crop", "soil")


def layout(rng: np.random.Generator, rows: int, cols: int) -> Layout:
    """A procedural landscape at twice the resolution of a ``rows x cols`` scene (see module)."""
    fine_rows, fine_cols = 2 * rows, 2 * cols
    index = {name: k for k, name in enumerate(CLASSES)}
    angle = rng.uniform(-0.35, 0.35)
    r, c = np.mgrid[0:fine_rows, 0:fine_cols].astype(np.float32)
    u = c * np.cos(angle) - r * np.sin(angle)
    v = c * np.sin(angle) + r * np.cos(angle)
    # Parcels of 25-90 fine pixels (12-45 scene pixels), as fields of a few hectares at 20 m.
    margin = max(fine_rows, fine_cols)
    pieces = list(_split_parcels(rng, (u.min() - 1, v.min() - 1, u.max() + 1, v.max() + 1), rng.uniform(25, 90) * margin / 288))
    classes = np.full((fine_rows, fine_cols), index["soil"], dtype=np.int16)
    regions = np.zeros((fine_rows, fine_cols), dtype=np.int32)
    stripes = np.zeros((fine_rows, fine_cols), dtype=np.float32)
    height = np.zeros((fine_rows, fine_cols), dtype=np.float32)
    parcels = [box for box, _ in pieces if box is not None]
    lines = [line for box, line in pieces if line is not None]
    village = set(rng.choice(len(parcels), size=min(len(parcels), rng.integers(0, 3)), replace=False).tolist())
    for number, (u0, v0, u1, v1) in enumerate(parcels, start=1):
        inside = (u >= u0) & (u < u1) & (v >= v0) & (v < v1)
        if not inside.any():
            continue
        regions[inside] = number
        if number - 1 in village:
            _village(rng, inside, u, v, (u0, v0, u1, v1), classes, regions, height, index)
            continue
        kind = _FIELD_CLASSES[rng.integers(len(_FIELD_CLASSES))]
        classes[inside] = index[kind]
        if kind == "crop" and rng.random() < 0.7:
            period = rng.uniform(3.0, 7.0)
            phase = (u if rng.random() < 0.5 else v) * (2 * np.pi / period)
            stripes[inside] = (0.5 + 0.5 * np.sin(phase[inside])) ** 2
    # Roads on the first split lines (the main ones), 2-6 fine pixels wide.
    for depth, axis, cut, start, stop in lines:
        if depth > 1 and rng.random() < 0.75:
            continue
        across, along = (u, v) if axis == "u" else (v, u)
        road = (np.abs(across - cut) < rng.uniform(1.0, 3.0)) & (along >= start) & (along < stop)
        classes[road] = index[rng.choice(["road", "road", "gravel"])]
        regions[road] = regions.max() + 1
        if rng.random() < 0.5:  # a row of trees along the road
            side = cut + rng.choice([-1, 1]) * rng.uniform(4.0, 6.0)
            _trees(rng, np.abs(across - side) < 1.0, classes, regions, height, index, density=0.12)
    # Woods: where a smooth field is high.
    if rng.random() < 0.7:
        wood = fractal_noise(rng, (fine_rows, fine_cols), 3.5) > rng.uniform(1.0, 1.8)
        _trees(rng, wood & (height == 0), classes, regions, height, index, density=0.3)
    _water(rng, u, v, classes, regions, height, index)
    return Layout(classes, regions, height, stripes)


def _village(rng, inside, u, v, box, classes, regions, height, index) -> None:
    u0, v0, u1, v1 = box
    classes[inside] = index[rng.choice(["grass", "pavement", "grass"])]
    step = rng.uniform(12.0, 22.0)
    for bu in np.arange(u0 + 2, u1 - 6, step):
        for bv in np.arange(v0 + 2, v1 - 6, step):
            if rng.random() < 0.25:
                continue
            du, dv = rng.uniform(5.0, step - 3.0), rng.uniform(5.0, step - 3.0)
            building = inside & (u >= bu) & (u < bu + du) & (v >= bv) & (v < bv + dv)
            classes[building] = index["roof"]
            regions[building] = regions.max() + 1
            height[building] = rng.uniform(3.0, 10.0)
    _trees(rng, inside & (classes == index["grass"]), classes, regions, height, index, density=0.02)


def _trees(rng, where, classes, regions, height, index, density: float) -> None:
    """Round crowns of 2-7 fine pixels at random points of ``where``."""
    candidates = np.flatnonzero(where.ravel())
    if candidates.size == 0:
        return
    count = max(1, int(density * candidates.size / 12))
    seeds = np.zeros(where.shape, dtype=np.float32)
    seeds.ravel()[rng.choice(candidates, size=min(count, candidates.size), replace=False)] = 1.0
    radius = rng.uniform(1.5, 3.0)
    crowns = ndimage.gaussian_filter(seeds, radius) * (2 * np.pi * radius**2)
    crown = crowns > 0.35
    classes[crown] = index["tree"]
    regions[crown] = regions.max() + 1
    height[crown] = np.maximum(height[crown], rng.uniform(4.0, 9.0) * np.clip(crowns[crown], 0, 1))


def _water(rng, u, v, classes, regions, height, index) -> None:
    kind = rng.choice(["river", "pond", "none", "none"])
    if kind == "none":
        return
    if kind == "river":
        span = u.max() - u.min()
        centre = v.min() + (v.max() - v.min()) * rng.uniform(0.2, 0.8)
        meander = centre + rng.uniform(5, 25) * np.sin(u * 2 * np.pi / (span * rng.uniform(0.4, 1.2)) + rng.uniform(0, 6))
        water = np.abs(v - meander) < rng.uniform(3.0, 9.0)
    else:
        blob = fractal_noise(rng, u.shape, 4.0)
        water = blob > np.quantile(blob, 1.0 - rng.uniform(0.02, 0.06))
    classes[water] = index["water"]
    regions[water] = regions.max() + 1
    height[water] = 0.0


def abundances(rng: np.random.Generator, plan: Layout, variants: int = VARIANTS) -> np.ndarray:
    """Fractions of every (class, variant) endmember in each scene pixel.

    The class fractions are the 2 x 2 averages of the fine layout (mixing at boundaries); within
    a class, each region draws its own mix of the first ``variants`` of the :data:`VARIANTS`
    spectra, varied from pixel to pixel by smooth random fields (the other variants get 0, and
    the generator draws the same numbers whatever ``variants`` is). On crop parcels the row
    stripes mix crop with soil.

    Returns
    -------
    ndarray, shape (H, W, len(CLASSES) * VARIANTS), float32
        Fractions summing to 1 in each pixel.
    """
    fine_rows, fine_cols = plan.classes.shape
    rows, cols = fine_rows // 2, fine_cols // 2
    index = {name: k for k, name in enumerate(CLASSES)}
    one_hot = np.zeros((fine_rows, fine_cols, len(CLASSES)), dtype=np.float32)
    np.put_along_axis(one_hot, plan.classes[..., None].astype(np.intp), 1.0, axis=2)
    # Row crops: between the rows the soil shows.
    crop = one_hot[..., index["crop"]]
    soil_between = crop * (1.0 - plan.stripes) * (plan.stripes > 0) * 0.7
    one_hot[..., index["crop"]] -= soil_between
    one_hot[..., index["soil"]] += soil_between
    fractions = one_hot.reshape(rows, 2, cols, 2, -1).mean(axis=(1, 3))
    base = rng.normal(0.0, 1.5, size=(int(plan.regions.max()) + 1, VARIANTS)).astype(np.float32)
    logits = base[plan.regions[::2, ::2]]
    for variant in range(VARIANTS):
        logits[..., variant] += 0.8 * fractal_noise(rng, (rows, cols), 2.5)
    logits[..., variants:] = -np.inf
    weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return (fractions[..., :, None] * weights[..., None, :]).reshape(rows, cols, -1)


# --------------------------------------------------------------------------------------------
# Illumination
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def solar_spectrum() -> np.ndarray:
    """ASTM G173-03 from ``pvlib/data/ASTMG173.csv``.

    Returns
    -------
    ndarray, shape (N, 4)
        Wavelength (nm), extraterrestrial, global tilt and direct normal irradiance (W m-2 nm-1).
    """
    path = _package_file("pvlib", "data/ASTMG173.csv")
    return np.loadtxt(path, delimiter=",", skiprows=2)


@functools.lru_cache(maxsize=8)
def _band_average(centres: tuple[float, ...], fwhm: tuple[float, ...]) -> np.ndarray:
    """(C, N) Gaussian band responses on the G173 wavelengths, each row summing to 1."""
    nm = solar_spectrum()[:, 0]
    step = np.gradient(nm)
    sigma = np.asarray(fwhm)[:, None] / 2.3548
    weights = np.exp(-0.5 * ((nm[None, :] - np.asarray(centres)[:, None]) / sigma) ** 2) * step
    return weights / weights.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Atmosphere:
    """Band-averaged illumination of one scene (W m-2 nm-1 and W m-2 sr-1 nm-1).

    Attributes
    ----------
    direct, diffuse : ndarray, shape (C,)
        Irradiance on a flat surface from the sun and from the sky.
    up : ndarray, shape (C,)
        Transmittance from the ground to the sensor.
    path : ndarray, shape (C,)
        Path radiance (light scattered into the view without touching the ground).
    depth : ndarray, shape (C,)
        Vertical optical depth of the scene's atmosphere, band-averaged.
    zenith_deg : float
    haze : float
        Factor on the optical depth of ASTM G173's atmosphere (humidity and aerosols).
    """

    direct: np.ndarray
    diffuse: np.ndarray
    up: np.ndarray
    path: np.ndarray
    depth: np.ndarray
    zenith_deg: float
    haze: float


def atmosphere(grid: SpectralGrid, zenith_deg: float, haze: float, path_share: float) -> Atmosphere:
    """The illumination of a scene under a sun at ``zenith_deg`` in an atmosphere ``haze``
    times as thick as ASTM G173's.

    G173's direct beam crossed 1.5 air masses: ``tau = -ln(direct / extraterrestrial) / 1.5``
    is the vertical optical depth of every absorber and scatterer together; the sun's path
    takes ``haze * tau / cos(zenith)``, the view up ``haze * tau``. Sky light is G173's diffuse
    part (global minus direct) scaled by the haze and the sun's height; the path radiance is
    ``path_share`` of the sky light, per steradian.
    """
    table = solar_spectrum()
    extraterrestrial, total, direct = table[:, 1], table[:, 2], table[:, 3]
    depth = -np.log(np.clip(direct / np.maximum(extraterrestrial, 1e-9), 1e-6, 1.0)) / 1.5
    cosine = np.cos(np.radians(zenith_deg))
    down = np.exp(-haze * depth / cosine)
    up = np.exp(-haze * depth)
    sky = np.clip(total - direct * np.cos(np.radians(48.19)), 0.0, None) * haze * cosine / np.cos(np.radians(48.19))
    sky *= np.sqrt(down / np.maximum(np.exp(-depth * 1.5), 1e-9)).clip(0, 1.5)
    average = _band_average(tuple(np.asarray(grid.centres, dtype=float)), tuple(np.asarray(grid.fwhm, dtype=float)))
    return Atmosphere(
        direct=average @ (extraterrestrial * cosine * down),
        diffuse=average @ sky,
        up=average @ up,
        path=path_share * (average @ (sky * up)) / np.pi,
        depth=average @ (haze * depth),
        zenith_deg=float(zenith_deg),
        haze=float(haze),
    )


def illumination_maps(rng: np.random.Generator, plan: Layout, zenith_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """How much direct and sky light each scene pixel gets, relative to flat open ground.

    Direct light follows the terrain's slope (a smooth random height field) and is blocked in
    the shadows cast by buildings and trees; sky light is reduced beside tall objects.

    Returns
    -------
    direct, sky : ndarray, shape (H, W), float32
    """
    fine_rows, fine_cols = plan.height.shape
    terrain = fractal_noise(rng, (fine_rows, fine_cols), 4.0) * rng.uniform(2.0, 12.0)
    slope_r, slope_c = np.gradient(terrain)
    azimuth = rng.uniform(0, 2 * np.pi)
    zenith = np.radians(zenith_deg)
    sun = np.array([np.sin(zenith) * np.sin(azimuth), np.sin(zenith) * np.cos(azimuth), np.cos(zenith)])
    normal_length = np.sqrt(1.0 + slope_r**2 + slope_c**2)
    incidence = (-slope_r * sun[0] - slope_c * sun[1] + sun[2]) / normal_length
    direct = np.clip(incidence / np.cos(zenith), 0.0, None)
    # A pixel is in shadow when an object towards the sun is taller than the sun ray's height there.
    shadow = np.zeros((fine_rows, fine_cols), dtype=bool)
    rise = 1.0 / np.tan(zenith)
    top = float(plan.height.max())
    step = 1
    while top > 0 and step * rise < top:
        dr, dc = int(round(-sun[0] / np.hypot(sun[0], sun[1]) * step)), int(round(-sun[1] / np.hypot(sun[0], sun[1]) * step))
        shifted = np.zeros_like(plan.height)
        target_r = slice(max(dr, 0), fine_rows + min(dr, 0))
        source_r = slice(max(-dr, 0), fine_rows + min(-dr, 0))
        target_c = slice(max(dc, 0), fine_cols + min(dc, 0))
        source_c = slice(max(-dc, 0), fine_cols + min(-dc, 0))
        shifted[target_r, target_c] = plan.height[source_r, source_c]
        shadow |= shifted - plan.height > step * rise
        step += 1
    direct = direct * ~shadow
    sky = 1.0 - 0.35 * ndimage.uniform_filter((plan.height > 0).astype(np.float32), 7)
    sky = np.where(shadow, sky * 0.85, sky)
    pool = lambda image: image.reshape(fine_rows // 2, 2, fine_cols // 2, 2).mean(axis=(1, 3))  # noqa: E731
    return pool(direct).astype(np.float32), pool(sky).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Sensor
# --------------------------------------------------------------------------------------------


def sensor_artefacts(rng: np.random.Generator, radiance: np.ndarray) -> tuple[np.ndarray, dict]:
    """Noise, column striping and bad detector elements of a whisk- or push-broom spectrometer.

    * noise: variance ``a * L + b`` per value (photon shot noise and read noise), with ``a``
      and ``b`` set from the scene's mean radiance so that the SNR of a mean pixel is about
      100-250 in the visible and falls where the signal is low (SWIR, absorptions), as on
      AVIRIS;
    * striping: each column of each band has its own gain, 1 +- 0.3-1%;
    * bad detectors: 1-4 columns whose gain is off by 5-30% over a run of 3-20 bands.

    Parameters
    ----------
    rng : numpy.random.Generator
    radiance : ndarray, shape (H, W, C), float32
        Changed in place.

    Returns
    -------
    radiance : ndarray, shape (H, W, C)
    record : dict
        What was applied (SNR of the mean pixel per band summary, bad columns and bands).
    """
    rows, cols, bands = radiance.shape
    level = float(radiance.mean())
    shot = level / rng.uniform(100.0, 250.0) ** 2
    read = (level / rng.uniform(80.0, 250.0)) ** 2
    sigma = np.sqrt(np.clip(radiance, 0.0, None) * shot + read)
    radiance += sigma * rng.standard_normal(radiance.shape, dtype=np.float32)
    gain = 1.0 + rng.normal(0.0, rng.uniform(0.003, 0.01), size=(1, cols, bands)).astype(np.float32)
    bad = []
    for _ in range(int(rng.integers(1, 5))):
        column, first = int(rng.integers(cols)), int(rng.integers(bands))
        last = min(bands, first + int(rng.integers(3, 21)))
        gain[0, column, first:last] *= rng.choice([-1, 1]) * rng.uniform(0.05, 0.3) + 1.0
        bad.append({"column": column, "bands": [first, last]})
    radiance *= gain
    mean_snr = radiance.mean(axis=(0, 1)) / np.sqrt(radiance.mean(axis=(0, 1)).clip(0, None) * shot + read)
    return radiance, {"snr_of_mean_pixel": [float(mean_snr.min()), float(np.median(mean_snr)), float(mean_snr.max())],
                      "bad_detectors": bad}


# --------------------------------------------------------------------------------------------
# The scene
# --------------------------------------------------------------------------------------------


@dataclass
class SyntheticParts:
    """A synthetic scene and the layers it was made from (for teaching and tests).

    Attributes
    ----------
    scene : Scene
    classes : ndarray of int, shape (H, W)
        The dominant class of each pixel (index into :data:`CLASSES`).
    reflectance : ndarray, shape (H, W, C)
        The surface's reflectance, before light and sensor.
    direct, sky : ndarray, shape (H, W)
        Direct and sky light relative to flat open ground (shading, shadows).
    atmosphere : Atmosphere
    """

    scene: Scene
    classes: np.ndarray
    reflectance: np.ndarray
    direct: np.ndarray
    sky: np.ndarray
    atmosphere: Atmosphere


def make_synthetic(seed: int, **options) -> SyntheticParts:
    """A synthetic AVIRIS-like scene with its layers (see the module docstring).

    Parameters
    ----------
    seed : int
    **options
        ``size``, ``grid`` (a name of :data:`GRIDS` or a :class:`SpectralGrid`), ``units``,
        ``artefacts``, ``variability``, ``variants`` (see :func:`parse_name`).
    """
    checked = scene_options(f"{PREFIX}{seed}", **options)
    rows, cols = checked["size"]
    grid = checked["grid"]
    grid = GRIDS[grid]() if isinstance(grid, str) else grid
    rng = np.random.default_rng(seed)
    plan = layout(rng, rows, cols)
    spectra = endmembers(rng, grid).reshape(-1, grid.bands)
    fractions = abundances(rng, plan, checked["variants"])
    brightness = np.exp(
        0.10 * fractal_noise(rng, (rows, cols), 2.0) + 0.06 * fractal_noise(rng, (rows, cols), 1.2)
    ).astype(np.float32)
    reflectance = (fractions.reshape(-1, spectra.shape[0]) @ spectra).reshape(rows, cols, grid.bands)
    reflectance *= brightness[..., None]
    reflectance *= spectral_modulation(rng, grid, rows, cols, checked["variability"])
    zenith, haze = rng.uniform(20.0, 60.0), rng.uniform(0.6, 1.5)
    air = atmosphere(grid, zenith, haze, rng.uniform(0.05, 0.2))
    direct, sky = illumination_maps(rng, plan, zenith)
    gain_direct = (air.direct * air.up / np.pi * _TO_AVIRIS_UNITS).astype(np.float32)
    gain_sky = (air.diffuse * air.up / np.pi * _TO_AVIRIS_UNITS).astype(np.float32)
    radiance = reflectance * (direct[..., None] * gain_direct + sky[..., None] * gain_sky)
    # Water vapour and haze vary across a scene: each pixel's path is a little longer or shorter.
    column = 0.08 * fractal_noise(rng, (rows, cols), 3.0)
    airmasses = 1.0 + 1.0 / np.cos(np.radians(zenith))
    radiance *= np.exp(-column[..., None] * (air.depth * airmasses).astype(np.float32)[None, None, :])
    radiance += (air.path * _TO_AVIRIS_UNITS).astype(np.float32)
    record: dict = {}
    if checked["artefacts"]:
        radiance, record = sensor_artefacts(rng, radiance)
    if checked["units"] == "radiance":
        cube, units = radiance, RADIANCE_UNITS
    else:
        # Retrieval with a slightly wrong haze leaves residue where the atmosphere absorbs.
        assumed_haze = haze * (1.0 + (rng.normal(0.0, 0.06) if checked["artefacts"] else 0.0))
        assumed = atmosphere(grid, zenith, assumed_haze, 0.0) if checked["artefacts"] else air
        flat = (assumed.direct + assumed.diffuse) * assumed.up / np.pi * _TO_AVIRIS_UNITS
        flat = np.maximum(flat, 0.02 * flat.max()).astype(np.float32)
        cube = (radiance - (air.path * _TO_AVIRIS_UNITS).astype(np.float32)) / flat
        record["retrieval_haze"] = float(assumed_haze)
        units = "reflectance (synthetic)"
    name = canonical_name(seed, checked)
    meta = {
        "sensor": "synthetic AVIRIS-like",
        "seed": seed,
        "grid": grid.name,
        "solar_zenith_deg": round(zenith, 2),
        "haze": round(haze, 3),
        "variability": checked["variability"],
        "variants": checked["variants"],
        "materials": material_library().source,
        "solar_spectrum": "ASTM G173-03 (pvlib)",
    } | record
    scene = Scene(cube=cube, wavelengths=grid.centres.copy(), fwhm=grid.fwhm.copy(), units=units, name=name,
                  source="s3rnet.data.synthetic", meta=meta)
    dominant = fractions.reshape(rows, cols, len(CLASSES), VARIANTS).sum(axis=-1).argmax(axis=-1)
    return SyntheticParts(scene, dominant, reflectance, direct, sky, air)


def synthetic_scene(seed: int, **options) -> Scene:
    """The scene of :func:`make_synthetic` alone."""
    return make_synthetic(seed, **options).scene


def load_synthetic(name: str, **options) -> Scene:
    """The scene a ``synthetic:SEED?...`` name describes; keyword options override the name's."""
    seed, from_name = parse_name(name)
    return synthetic_scene(seed, **(from_name | options))
