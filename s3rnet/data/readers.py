"""Reading scenes from files: ENVI, MATLAB (v5 and v7.3) and NumPy.

Every reader returns a :class:`~s3rnet.data.scene.Scene` and turns every problem with the file
into one :class:`~s3rnet.errors.S3RNetError` that names the file and what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SceneFormatError, WavelengthError
from .scene import Scene

SCENE_SUFFIXES = (".hdr", ".mat", ".npy", ".npz")

# ENVI data type codes (ENVI header documentation) -> numpy dtypes.
_ENVI_DTYPES = {1: np.uint8, 2: np.int16, 3: np.int32, 4: np.float32, 5: np.float64,
                12: np.uint16, 13: np.uint32, 14: np.int64, 15: np.uint64}

# "DN (radiance*500+1000)": a linear encoding of radiance, as in the Indian Pines header.
_LINEAR_RADIANCE = re.compile(
    r"radiance\s*\*\s*(?P<gain>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)"
    r"\s*(?:\+\s*(?P<offset>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?))?",
    re.IGNORECASE,
)
_WAVELENGTH_KEYS = ("wavelengths", "wavelength", "wl", "wavelength_nm", "centers")
_FWHM_KEYS = ("fwhm", "bandwidths", "fwhm_nm")


def read_scene(
    path: str | Path,
    *,
    variable: str | None = None,
    wavelengths: np.ndarray | None = None,
    fwhm: np.ndarray | None = None,
    units: str | None = None,
) -> Scene:
    """Read a scene from a file, choosing the reader by its suffix.

    Parameters
    ----------
    path : str or Path
        ``.hdr`` (ENVI, the data file beside it), ``.mat`` (MATLAB v5 or v7.3), ``.npy`` or ``.npz``.
    variable : str, optional
        Name of the cube in a ``.mat`` or ``.npz`` file holding several arrays.
    wavelengths, fwhm : array_like, optional
        Band centres and widths in nm, overriding what the file holds (NumPy files hold none
        unless an ``.npz`` has a ``wavelengths`` array).
    units : str, optional
        Units of the values, overriding what the file says.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SCENE_SUFFIXES:
        raise SceneFormatError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}; a scene is an ENVI header "
            f"(.hdr, with its data file beside it), a MATLAB .mat, or a NumPy .npy / .npz"
        )
    if not path.is_file():
        raise SceneFormatError(f"{path}: no such file")
    reader = {".hdr": _read_envi, ".mat": _read_mat, ".npy": _read_numpy, ".npz": _read_numpy}[suffix]
    cube, found = reader(path, variable)
    if wavelengths is not None:
        found["wavelengths"] = np.asarray(wavelengths, dtype=float)
    if fwhm is not None:
        found["fwhm"] = np.asarray(fwhm, dtype=float)
    if units is not None:
        found["units"] = units
    _check_band_count(path, cube, found)
    if found.get("wavelengths") is not None:
        found["wavelengths"], note = wavelengths_in_nm(found["wavelengths"])
        if note:
            if found.get("fwhm") is not None and np.max(found["fwhm"]) < 1.0:
                found["fwhm"] = np.asarray(found["fwhm"], dtype=float) * 1000.0
            found["meta"] = dict(found.get("meta", {}), wavelength_note=note)
    return Scene(
        cube=cube,
        wavelengths=found.get("wavelengths"),
        fwhm=found.get("fwhm"),
        units=found.get("units", "unknown"),
        name=path.stem,
        source=str(path),
        meta=found.get("meta", {}),
    )


# No imaging spectrometer has band centres below 30 nm: a list that stops there is in micrometres.
MICROMETRE_LIMIT = 30.0


def wavelengths_in_nm(values: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Band centres in nm, converting a list given in micrometres (all values below 30).

    Parameters
    ----------
    values : array_like, shape (C,)
        Band centres in nm or in micrometres (e.g. 0.4-2.5).

    Returns
    -------
    values : ndarray, shape (C,)
        In nm.
    note : str or None
        What was converted, for the user; None when the values were already in nm.
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0 or not np.all(np.isfinite(values)) or np.max(values) >= MICROMETRE_LIMIT:
        return values, None
    note = (f"wavelengths {values.min():g}-{values.max():g} read as micrometres "
            f"and converted to {1000 * values.min():.0f}-{1000 * values.max():.0f} nm")
    return values * 1000.0, note


def _check_band_count(path: Path, cube: np.ndarray, found: dict) -> None:
    for key in ("wavelengths", "fwhm"):
        values = found.get(key)
        if values is not None and np.asarray(values).size != cube.shape[2]:
            raise WavelengthError(
                f"{path}: {np.asarray(values).size} {key} for a cube of {cube.shape[2]} bands"
            )


# --------------------------------------------------------------------------------------------
# ENVI
# --------------------------------------------------------------------------------------------


def _read_envi(path: Path, variable: str | None) -> tuple[np.ndarray, dict]:
    cube, header = read_envi_raw(path)
    found: dict = {"meta": {"format": "ENVI", "header": path.name}}
    found.update(_envi_spectral_metadata(path, header))
    cube, found["units"] = _envi_units(header, cube)
    return cube, found


@dataclass(frozen=True)
class EnviLayout:
    """Where and how an ENVI image's numbers are stored, checked against its data file.

    Attributes
    ----------
    header : dict
        The parsed header.
    lines, samples, bands : int
    code : int
        ENVI data type code.
    dtype : numpy.dtype
        The stored type, with the header's byte order.
    data_file : Path
    offset : int
        Header offset in bytes.
    """

    header: dict
    lines: int
    samples: int
    bands: int
    code: int
    dtype: np.dtype
    data_file: Path
    offset: int


def read_envi_layout(path: str | Path) -> EnviLayout:
    """Parse an ENVI header and find its data file, whose size must match the header exactly,
    so that a truncated file or a header that disagrees with its data is named as such."""
    from spectral.io import envi

    path = Path(path)
    try:
        header = envi.read_envi_header(str(path))
    except Exception as exc:  # SPy raises several unrelated types for a bad header
        raise SceneFormatError(f"{path}: not a readable ENVI header ({exc})") from exc
    try:
        lines, samples, bands = (int(header[k]) for k in ("lines", "samples", "bands"))
        code = int(header["data type"])
    except KeyError as exc:
        raise SceneFormatError(f"{path}: ENVI header lacks the field {exc.args[0]!r}") from exc
    except ValueError as exc:
        raise SceneFormatError(f"{path}: ENVI header has a non-numeric size ({exc})") from exc
    if code not in _ENVI_DTYPES:
        raise SceneFormatError(f"{path}: unsupported ENVI data type {code}")
    dtype = np.dtype(_ENVI_DTYPES[code]).newbyteorder(">" if int(header.get("byte order", 0)) == 1 else "<")
    data_file = _envi_data_file(path)
    offset = int(header.get("header offset", 0))
    expected = offset + lines * samples * bands * dtype.itemsize
    actual = data_file.stat().st_size
    if actual < expected:
        raise SceneFormatError(
            f"{data_file}: truncated: {actual} bytes, but its header ({path.name}: {lines} lines x "
            f"{samples} samples x {bands} bands of type {code}) needs {expected}; the file was cut "
            f"short, or the header disagrees with the data"
        )
    if actual > expected:
        raise SceneFormatError(
            f"{data_file}: holds {actual} bytes, more than the {expected} that its header "
            f"({path.name}: {lines} lines x {samples} samples x {bands} bands) describes; "
            f"the header disagrees with the data (band count or size)"
        )
    return EnviLayout(header, lines, samples, bands, code, dtype, data_file, offset)


def read_envi_raw(path: str | Path) -> tuple[np.ndarray, dict]:
    """The stored numbers of an ENVI image, as float32, with its parsed header
    (checked first by :func:`read_envi_layout`).

    Returns
    -------
    cube : ndarray, shape (lines, samples, bands), float32
    header : dict
    """
    from spectral.io import envi

    path = Path(path)
    layout = read_envi_layout(path)
    try:
        image = envi.open(str(path), str(layout.data_file))
        cube = np.asarray(image.open_memmap(), dtype=np.float32)
    except Exception as exc:
        raise SceneFormatError(f"{path}: could not read the ENVI data ({exc})") from exc
    return cube, layout.header


def _envi_data_file(path: Path) -> Path:
    for suffix in (".img", ".IMG", ".dat", ".bsq", ".bil", ".bip", ".raw", ""):
        candidate = path.with_suffix(suffix)
        if candidate != path and candidate.is_file():
            return candidate
    raise SceneFormatError(f"{path}: no data file next to the header (looked for .img, .dat, .bsq...)")


def _envi_spectral_metadata(path: Path, header: dict) -> dict:
    found: dict = {}
    for key, name in (("wavelength", "wavelengths"), ("fwhm", "fwhm")):
        if key in header:
            try:
                values = np.asarray([float(v) for v in header[key]], dtype=float)
            except ValueError as exc:
                raise WavelengthError(f"{path}: unreadable {key} list ({exc})") from exc
            unit = str(header.get("wavelength units", "nanometers")).lower()
            if unit.startswith("micro") or unit in ("um", "µm"):
                values = values * 1000.0
            found[name] = values
    return found


def _envi_units(header: dict, cube: np.ndarray) -> tuple[np.ndarray, str]:
    """Convert stored numbers to physical units where the header says how."""
    scale = header.get("reflectance scale factor")
    if scale is not None:
        return cube / np.float32(float(scale)), "reflectance"
    units = str(header.get("data units", ""))
    match = _LINEAR_RADIANCE.search(units)
    if match:
        gain = float(match["gain"])
        offset = float(match["offset"] or 0.0)
        return (cube - np.float32(offset)) / np.float32(gain), "radiance (from DN: " + units + ")"
    return cube, units or "unknown"


# --------------------------------------------------------------------------------------------
# MATLAB and NumPy
# --------------------------------------------------------------------------------------------


def _read_mat(path: Path, variable: str | None) -> tuple[np.ndarray, dict]:
    with open(path, "rb") as handle:
        magic = handle.read(128)
    if magic[:8] == b"\x89HDF\r\n\x1a\n" or b"MATLAB 7.3" in magic:
        arrays = _mat73_arrays(path)
        version = "v7.3"
    else:
        arrays = _mat5_arrays(path)
        version = "v5"
    cube, found = _pick_cube(path, arrays, variable)
    found["meta"] = {"format": f"MATLAB {version}"}
    return cube, found


def _mat5_arrays(path: Path) -> dict[str, np.ndarray]:
    from scipy.io import loadmat

    try:
        contents = loadmat(str(path))
    except Exception as exc:
        raise SceneFormatError(f"{path}: not a readable MATLAB file ({exc})") from exc
    return {k: np.asarray(v) for k, v in contents.items() if not k.startswith("__")}


def _mat73_arrays(path: Path) -> dict[str, np.ndarray]:
    import h5py

    arrays: dict[str, np.ndarray] = {}
    try:
        with h5py.File(path, "r") as handle:
            for key, item in handle.items():
                if isinstance(item, h5py.Dataset) and not key.startswith("#"):
                    # MATLAB writes column-major arrays, which HDF5 shows with the axes reversed.
                    arrays[key] = np.asarray(item[()]).transpose()
    except OSError as exc:
        raise SceneFormatError(f"{path}: not a readable MATLAB v7.3 (HDF5) file ({exc})") from exc
    return arrays


def _read_numpy(path: Path, variable: str | None) -> tuple[np.ndarray, dict]:
    try:
        loaded = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise SceneFormatError(f"{path}: not a readable NumPy file ({exc})") from exc
    if isinstance(loaded, np.ndarray):
        arrays = {"cube": loaded}
    else:
        with loaded:
            arrays = {k: loaded[k] for k in loaded.files}
    cube, found = _pick_cube(path, arrays, variable)
    found["meta"] = {"format": "NumPy"}
    return cube, found


def _pick_cube(path: Path, arrays: dict[str, np.ndarray], variable: str | None) -> tuple[np.ndarray, dict]:
    """The cube (the named variable, or the only 3-D numeric array) and any wavelengths beside it."""
    if variable is not None:
        if variable not in arrays:
            raise SceneFormatError(
                f"{path}: no variable {variable!r}; it holds {', '.join(sorted(arrays)) or 'nothing'}"
            )
        cube = arrays[variable]
    else:
        cubes = {k: v for k, v in arrays.items() if v.ndim == 3 and np.issubdtype(v.dtype, np.number)}
        if len(cubes) != 1:
            listing = ", ".join(f"{k} {v.shape}" for k, v in arrays.items()) or "no arrays"
            reason = "no 3-D array" if not cubes else "several 3-D arrays"
            raise SceneFormatError(f"{path}: {reason} ({listing}); name the cube with variable=")
        variable, cube = next(iter(cubes.items()))
    if cube.ndim != 3 or not np.issubdtype(cube.dtype, np.number):
        raise SceneFormatError(
            f"{path}: variable {variable!r} is a {cube.dtype} array of shape {cube.shape}, "
            f"not a (rows, cols, bands) cube"
        )
    found: dict = {}
    for keys, name in ((_WAVELENGTH_KEYS, "wavelengths"), (_FWHM_KEYS, "fwhm")):
        for key in keys:
            if key in arrays and key != variable:
                found[name] = np.asarray(arrays[key], dtype=float).ravel()
                break
    return np.asarray(cube, dtype=np.float32), found
