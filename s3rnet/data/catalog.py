"""Built-in scenes, the data directory, and :func:`load_scene` / :func:`list_scenes`.

The built-in ``indian_pines`` is read from ``$S3RNET_DATA/indian_pines/indian_pines_corrected.hdr``
when the environment variable ``S3RNET_DATA`` names a directory holding it, and otherwise from
the file ``tensorly/datasets/data/Indian_pines_corrected.npy`` inside the installed PyPI package
``tensorly`` (read as a file; tensorly itself is not imported). Both hold the same pixels. The
band centres and FWHM are those of the AVIRIS 92AV3C calibration (not tensorly's list, which is
shifted by one band from band index 103 on).
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

import numpy as np

from ..errors import SceneFormatError
from .readers import read_envi_raw, read_scene
from .scene import Scene

DATA_ENV = "S3RNET_DATA"
BUILTIN_SCENES = ("indian_pines",)
# Synthetic scenes (s3rnet.data.synthetic) are named "synthetic:SEED?option=value&..."; these
# few are listed, any seed loads.
SYNTHETIC_PREFIX = "synthetic:"
SYNTHETIC_EXAMPLES = ("synthetic:0", "synthetic:1?units=reflectance", "synthetic:2?size=256")

# 1-based indices of the 220-band 92AV3C cube that the "corrected" 200-band set drops (water
# absorption; EHU GIC / Purdue documentation).
INDIAN_PINES_REMOVED_BANDS = tuple(range(104, 109)) + tuple(range(150, 164)) + (220,)
# Purdue's encoding of at-sensor radiance: DN = 500 * radiance + 1000.
INDIAN_PINES_GAIN, INDIAN_PINES_OFFSET = 500.0, 1000.0
INDIAN_PINES_UNITS = "radiance (uW cm-2 nm-1 sr-1; from DN = 500 * radiance + 1000)"
_INDIAN_PINES_ENVI = Path("indian_pines") / "indian_pines_corrected.hdr"


@functools.lru_cache(maxsize=1)
def aviris_92av3c_calibration() -> np.ndarray:
    """The 220 bands of the AVIRIS 92AV3C calibration.

    Returns
    -------
    ndarray, shape (220, 3)
        Columns: band centre (nm), FWHM (nm), AVIRIS channel number (1-224).
    """
    table = Path(__file__).with_name("aviris_92av3c.csv")
    return np.loadtxt(table, delimiter=",", comments="#", skiprows=3)


def indian_pines_bands() -> tuple[np.ndarray, np.ndarray]:
    """Band centres and FWHM (nm) of the 200-band corrected Indian Pines cube."""
    table = aviris_92av3c_calibration()
    keep = np.setdiff1d(np.arange(1, 221), INDIAN_PINES_REMOVED_BANDS) - 1
    return table[keep, 0].copy(), table[keep, 1].copy()


def data_dir() -> Path | None:
    """The directory named by ``$S3RNET_DATA``, when it is set and exists."""
    value = os.environ.get(DATA_ENV)
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_dir() else None


def tensorly_indian_pines_file() -> Path:
    """Path of the Indian Pines cube inside the installed ``tensorly`` package."""
    spec = importlib.util.find_spec("tensorly")
    if spec is None or not spec.submodule_search_locations:
        raise SceneFormatError(
            "the built-in Indian Pines scene needs the PyPI package 'tensorly' (it ships the cube) "
            f"or ${DATA_ENV} pointing at a data directory holding {_INDIAN_PINES_ENVI}"
        )
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "Indian_pines_corrected.npy"
    if not path.is_file():
        raise SceneFormatError(f"{path}: missing from the installed tensorly package")
    return path


def load_indian_pines() -> Scene:
    """The 145 x 145 x 200 Indian Pines scene in radiance units (see the module docstring)."""
    wavelengths, fwhm = indian_pines_bands()
    root = data_dir()
    if root is not None and (root / _INDIAN_PINES_ENVI).is_file():
        source = root / _INDIAN_PINES_ENVI
        raw, _ = read_envi_raw(source)
    else:
        source = tensorly_indian_pines_file()
        raw = np.load(source, allow_pickle=False).astype(np.float32)
    cube = (raw - np.float32(INDIAN_PINES_OFFSET)) / np.float32(INDIAN_PINES_GAIN)
    return Scene(
        cube=cube,
        wavelengths=wavelengths,
        fwhm=fwhm,
        units=INDIAN_PINES_UNITS,
        name="indian_pines",
        source=str(source),
        meta={"sensor": "AVIRIS", "date": "1992-06-12", "doi": "10.4231/R7RX991C"},
    )


def _data_dir_scenes() -> dict[str, Path]:
    """ENVI scenes (more than one band) found under ``$S3RNET_DATA``, by file stem."""
    root = data_dir()
    if root is None:
        return {}
    found: dict[str, Path] = {}
    builtin = (root / _INDIAN_PINES_ENVI).resolve()
    for header in sorted(root.rglob("*.hdr")):
        if header.resolve() == builtin:
            continue  # that file is the built-in "indian_pines"
        try:
            from spectral.io import envi

            if int(envi.read_envi_header(str(header)).get("bands", 1)) < 2:
                continue  # label maps and single-band images are not scenes
        except Exception:
            continue
        found.setdefault(header.stem, header)
    return found


def list_scenes() -> list[str]:
    """Names :func:`load_scene` accepts: the built-in scenes, every scene in ``$S3RNET_DATA``,
    then a few synthetic scenes (any ``synthetic:SEED`` loads)."""
    names = list(BUILTIN_SCENES)
    names += [name for name in _data_dir_scenes() if name not in names]
    return names + list(SYNTHETIC_EXAMPLES)


def load_scene(name_or_path: str | os.PathLike, **options) -> Scene:
    """Load a scene by built-in name, by name in ``$S3RNET_DATA``, or from a file.

    Parameters
    ----------
    name_or_path : str or path
        ``"indian_pines"``, another name from :func:`list_scenes`, a synthetic scene
        ``"synthetic:SEED?size=N&grid=G&units=U&artefacts=1&variability=V&variants=K"``
        (:mod:`s3rnet.data.synthetic`), or a path to an ENVI ``.hdr``, a ``.mat`` or a ``.npy`` / ``.npz`` file.
    **options
        Passed to :func:`~s3rnet.data.readers.read_scene` for files: ``variable``,
        ``wavelengths``, ``fwhm``, ``units``; for a synthetic scene: ``size``, ``grid``,
        ``units``, ``artefacts``, ``variability``, ``variants`` (overriding the name's).
    """
    text = str(name_or_path)
    if text.startswith(SYNTHETIC_PREFIX):
        from .synthetic import load_synthetic

        return load_synthetic(text, **options)
    if text == "indian_pines":
        return load_indian_pines()
    known = _data_dir_scenes()
    if text in known and not Path(text).suffix:
        return read_scene(known[text], **options)
    path = Path(text).expanduser()
    if not path.suffix and not path.exists():
        raise SceneFormatError(
            f"{text!r} is neither a known scene ({', '.join(list_scenes())}) nor a file"
        )
    return read_scene(path, **options)
