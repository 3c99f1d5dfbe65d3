"""Georeferenced images: GeoTIFF (through ``rasterio``) and ENVI with ``map info``, read by windows.

A real pair is two files from two instruments, often too large to hold in memory. An
:class:`GeoImage` is an open file that knows its size, coordinate reference system (CRS), affine
transform (pixel -> map coordinates, rasterio's ``Affine``) and band wavelengths, and reads any
window on demand. :class:`RasterWriter` streams an output to disk window by window, through a raw
band-interleaved-by-pixel float32 file written with positioned writes (never memory-mapped, so
the pages written do not stay in the process's resident memory), and finishes it as ENVI (that
raw file plus a header with ``map info``, ``coordinate system string``, wavelengths and FWHM) or
GeoTIFF (copied into a tiled GeoTIFF in strips, wavelengths in the band metadata).

Conventions:

* ENVI ``map info = {projection, ref x, ref y, easting, northing, size x, size y, [zone, North|South],
  datum, units=...}``: the reference pixel is 1-based, (1, 1) being the upper-left corner of the
  upper-left pixel (as GDAL reads it). The CRS comes from ``coordinate system string`` (WKT) when
  present, else from UTM zone and hemisphere on WGS-84, or geographic WGS-84.
* GeoTIFF wavelengths: band tags ``wavelength`` / ``fwhm`` (with ``wavelength_units``), or GDAL's
  ``IMAGERY`` domain ``CENTRAL_WAVELENGTH_UM`` / ``FWHM_UM``; written in both forms.
* Band scale and offset of a GeoTIFF are applied on reading; an ENVI ``reflectance scale factor``
  or linear radiance encoding is converted as :func:`s3rnet.data.read_scene` does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import SceneDataError, SceneFormatError, WavelengthError

GEOTIFF_SUFFIXES = (".tif", ".tiff")
ENVI_SUFFIXES = (".hdr",)
IMAGE_SUFFIXES = GEOTIFF_SUFFIXES + ENVI_SUFFIXES
# Rows of an output copied to a GeoTIFF at a time stay under this many bytes.
_STRIP_BYTES = 32 * 2**20
_FLOAT = np.dtype("<f4")


@dataclass
class GeoImage:
    """An image file opened for windowed reading.

    Attributes
    ----------
    path : Path
    rows, cols, bands : int
    transform : affine.Affine or None
        Pixel (col, row) -> map (x, y) of the pixel's upper-left corner; None when the file has no
        georeferencing.
    crs : rasterio.crs.CRS or None
    wavelengths, fwhm : ndarray, shape (bands,), or None
        nm.
    units : str
    kind : str
        ``GeoTIFF`` or ``ENVI``.
    notes : list of str
        What was assumed while reading the metadata.
    """

    path: Path
    rows: int
    cols: int
    bands: int
    transform: object | None
    crs: object | None
    wavelengths: np.ndarray | None
    fwhm: np.ndarray | None
    units: str
    kind: str
    notes: list[str] = field(default_factory=list)
    _envi: dict | None = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.rows, self.cols, self.bands)

    @property
    def georeferenced(self) -> bool:
        return self.transform is not None

    @property
    def pixel_size(self) -> tuple[float, float] | None:
        """(x, y) size of a pixel in map units, both positive; None without georeferencing."""
        if self.transform is None:
            return None
        return (abs(self.transform.a), abs(self.transform.e))

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(left, bottom, right, top) in map units."""
        if self.transform is None:
            return None
        t = self.transform
        xs = (t.c, t.c + t.a * self.cols)
        ys = (t.f, t.f + t.e * self.rows)
        return (min(xs), min(ys), max(xs), max(ys))

    def read(self, rows: tuple[int, int] | None = None, cols: tuple[int, int] | None = None,
             bands: list[int] | None = None) -> np.ndarray:
        """A window ``rows[0]:rows[1], cols[0]:cols[1]`` (the whole image by default) as float32.

        ``bands`` (0-based indices) reads only those bands, in that order.

        Returns
        -------
        ndarray, shape (h, w, bands), float32

        Raises
        ------
        SceneDataError
            When the window holds NaN, Inf or the file's nodata value.
        """
        r0, r1 = rows or (0, self.rows)
        c0, c1 = cols or (0, self.cols)
        if not (0 <= r0 < r1 <= self.rows and 0 <= c0 < c1 <= self.cols):
            raise SceneFormatError(f"{self.path}: window rows {r0}:{r1}, cols {c0}:{c1} leaves the {self.rows}x{self.cols} image")
        chosen = list(range(self.bands)) if bands is None else [int(b) for b in bands]
        if any(not 0 <= b < self.bands for b in chosen):
            raise SceneFormatError(f"{self.path}: bands {chosen} outside its {self.bands} bands")
        if self.kind == "ENVI":
            block = self._read_envi(r0, r1, c0, c1, chosen)
        else:
            block = self._read_geotiff(r0, r1, c0, c1, chosen)
        bad = ~np.isfinite(block)
        if bad.any():
            r, c, b = np.argwhere(bad)[0]
            raise SceneDataError(
                f"{self.path}: {int(bad.sum())} NaN, Inf or nodata values in rows {r0}:{r1}, cols {c0}:{c1} "
                f"(first at row {r0 + r}, column {c0 + c}, band {b}); fill or crop them before fusion"
            )
        return block

    def _read_geotiff(self, r0: int, r1: int, c0: int, c1: int, bands: list[int]) -> np.ndarray:
        import rasterio
        from rasterio.windows import Window

        try:
            with rasterio.open(self.path) as source:
                data = source.read([b + 1 for b in bands], window=Window(c0, r0, c1 - c0, r1 - r0),
                                   masked=source.nodata is not None)
                scales = np.asarray(source.scales, dtype=np.float64)[bands]
                offsets = np.asarray(source.offsets, dtype=np.float64)[bands]
        except rasterio.errors.RasterioError as exc:
            raise SceneFormatError(f"{self.path}: could not read rows {r0}:{r1}, cols {c0}:{c1} ({exc})") from exc
        if np.ma.isMaskedArray(data):
            data = data.astype(np.float32).filled(np.nan)
        block = np.moveaxis(data, 0, -1).astype(np.float32)
        if not (np.all(scales == 1.0) and np.all(offsets == 0.0)):
            block = (block * scales.astype(np.float32) + offsets.astype(np.float32)).astype(np.float32)
        return block

    def _read_envi(self, r0: int, r1: int, c0: int, c1: int, bands: list[int]) -> np.ndarray:
        from .data.readers import _envi_units

        info = self._envi
        shape = {"bsq": (self.bands, self.rows, self.cols), "bil": (self.rows, self.bands, self.cols),
                 "bip": (self.rows, self.cols, self.bands)}[info["interleave"]]
        # A fresh map per read: its pages leave the process when it is dropped.
        data = np.memmap(info["data"], dtype=info["dtype"], mode="r", offset=info["offset"], shape=shape)
        if info["interleave"] == "bsq":
            block = np.moveaxis(np.asarray(data[bands, r0:r1, c0:c1], dtype=np.float32), 0, -1)
        elif info["interleave"] == "bil":
            block = np.moveaxis(np.asarray(data[r0:r1, bands, c0:c1], dtype=np.float32), 1, -1)
        else:
            block = np.array(data[r0:r1, c0:c1, bands], dtype=np.float32)
        del data
        block = np.ascontiguousarray(block)
        converted, _ = _envi_units(info["header"], block)
        return np.asarray(converted, dtype=np.float32)


def open_image(path: str | Path) -> GeoImage:
    """Open a GeoTIFF (``.tif``, ``.tiff``) or an ENVI header (``.hdr``) for windowed reading.

    Raises
    ------
    SceneFormatError
        Unknown suffix, missing or unreadable file, rotated grid, truncated ENVI data.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise SceneFormatError(
            f"{path}: unsupported image type {path.suffix or '(none)'!r}; a pair is read from GeoTIFF "
            f"(.tif, .tiff) or ENVI (.hdr with its data file beside it)"
        )
    if not path.is_file():
        raise SceneFormatError(f"{path}: no such file")
    return _open_envi(path) if suffix in ENVI_SUFFIXES else _open_geotiff(path)


# --------------------------------------------------------------------------------------------
# GeoTIFF
# --------------------------------------------------------------------------------------------


def _open_geotiff(path: Path) -> GeoImage:
    import rasterio

    try:
        with rasterio.open(path) as source:
            rows, cols, bands = source.height, source.width, source.count
            transform, crs = source.transform, source.crs
            georeferenced = crs is not None or not transform.is_identity
            if georeferenced and not transform.is_rectilinear:
                raise SceneFormatError(f"{path}: the grid is rotated or sheared ({transform}); warp it north-up first")
            wavelengths, fwhm, notes = _geotiff_wavelengths(path, source)
            units = source.tags().get("units") or (source.units[0] if source.units and source.units[0] else "unknown")
    except rasterio.errors.RasterioError as exc:
        raise SceneFormatError(f"{path}: not a readable GeoTIFF ({exc})") from exc
    return GeoImage(path, rows, cols, bands, transform if georeferenced else None, crs, wavelengths, fwhm,
                    units, "GeoTIFF", notes)


def _geotiff_wavelengths(path: Path, source) -> tuple[np.ndarray | None, np.ndarray | None, list[str]]:
    found: dict[str, list[float]] = {"wavelength": [], "fwhm": []}
    scale = 1.0
    units = source.tags().get("wavelength_units", "nanometers").lower()
    if units.startswith("micro") or units in ("um", "µm"):
        scale = 1000.0
    for band in range(1, source.count + 1):
        tags = {k.lower(): v for k, v in source.tags(band).items()}
        imagery = source.tags(band, ns="IMAGERY")
        for key, micro in (("wavelength", "CENTRAL_WAVELENGTH_UM"), ("fwhm", "FWHM_UM")):
            try:
                if key in tags:
                    found[key].append(float(tags[key]) * scale)
                elif micro in imagery:
                    found[key].append(float(imagery[micro]) * 1000.0)
            except ValueError as exc:
                raise WavelengthError(f"{path}: band {band} has an unreadable {key} ({exc})") from exc
    notes = []
    result = []
    for key in ("wavelength", "fwhm"):
        values = found[key]
        if len(values) == source.count:
            result.append(np.asarray(values))
        else:
            if values:
                notes.append(f"{key} given for {len(values)} of {source.count} bands: ignored")
            result.append(None)
    return result[0], result[1], notes


# --------------------------------------------------------------------------------------------
# ENVI
# --------------------------------------------------------------------------------------------

_UTM_DATUMS = ("WGS-84", "WGS84")


def _open_envi(path: Path) -> GeoImage:
    from .data.readers import _envi_spectral_metadata, read_envi_layout

    layout = read_envi_layout(path)
    header, rows, cols, bands = layout.header, layout.lines, layout.samples, layout.bands
    interleave = str(header.get("interleave", "bsq")).lower()
    if interleave not in ("bsq", "bil", "bip"):
        raise SceneFormatError(f"{path}: unknown interleave {interleave!r}")
    data, dtype, offset = layout.data_file, layout.dtype, layout.offset
    spectral = _envi_spectral_metadata(path, header)
    transform, crs, notes = _envi_georeferencing(path, header)
    units = "reflectance" if "reflectance scale factor" in header else str(header.get("data units", "unknown"))
    info = {"data": data, "dtype": dtype, "offset": offset, "interleave": interleave, "header": header}
    return GeoImage(path, rows, cols, bands, transform, crs, spectral.get("wavelengths"), spectral.get("fwhm"),
                    units, "ENVI", notes, info)


def _envi_georeferencing(path: Path, header: dict) -> tuple[object | None, object | None, list[str]]:
    from rasterio.transform import Affine
    from rasterio.crs import CRS

    notes: list[str] = []
    info = header.get("map info")
    if info is None:
        return None, None, notes
    items = [str(v).strip() for v in (info if isinstance(info, list) else str(info).strip("{}").split(","))]
    try:
        ref_x, ref_y, easting, northing, size_x, size_y = (float(v) for v in items[1:7])
    except (ValueError, IndexError) as exc:
        raise SceneFormatError(f"{path}: unreadable map info {items} ({exc})") from exc
    for item in items:
        if item.lower().startswith("rotation=") and abs(float(item.split("=")[1])) > 1e-9:
            raise SceneFormatError(f"{path}: the map grid is rotated ({item}); warp it north-up first")
    transform = Affine(size_x, 0.0, easting - (ref_x - 1.0) * size_x, 0.0, -size_y, northing + (ref_y - 1.0) * size_y)
    crs = None
    wkt = header.get("coordinate system string")
    projection = items[0].lower()
    try:
        if wkt:
            crs = CRS.from_wkt(wkt if isinstance(wkt, str) else ",".join(wkt))
        elif projection == "utm":
            zone, hemisphere = int(items[7]), items[8].lower()
            datum = items[9] if len(items) > 9 else ""
            if datum.upper() not in _UTM_DATUMS:
                notes.append(f"UTM datum {datum!r} read as WGS-84")
            crs = CRS.from_epsg((32700 if hemisphere.startswith("s") else 32600) + zone)
        elif projection.startswith("geographic"):
            crs = CRS.from_epsg(4326)
        else:
            notes.append(f"map info projection {items[0]!r} without a coordinate system string: CRS unknown")
    except Exception as exc:  # rasterio raises CRSError, int() ValueError, lists IndexError
        raise SceneFormatError(f"{path}: unreadable coordinate system in the header ({exc})") from exc
    return transform, crs, notes


def _envi_map_info(transform, crs) -> str:
    """The ``map info`` value for a north-up transform."""
    x0, y0, size_x, size_y = transform.c, transform.f, transform.a, -transform.e
    epsg = crs.to_epsg() if crs is not None else None
    if epsg is not None and (32601 <= epsg <= 32660 or 32701 <= epsg <= 32760):
        hemisphere = "North" if epsg < 32700 else "South"
        return f"{{UTM, 1, 1, {x0!r}, {y0!r}, {size_x!r}, {size_y!r}, {epsg % 100}, {hemisphere}, WGS-84, units=Meters}}"
    if epsg == 4326:
        return f"{{Geographic Lat/Lon, 1, 1, {x0!r}, {y0!r}, {size_x!r}, {size_y!r}, WGS-84, units=Degrees}}"
    return f"{{Arbitrary, 1, 1, {x0!r}, {y0!r}, {size_x!r}, {size_y!r}}}"


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


class RasterWriter:
    """An output image written window by window, finished as ENVI or GeoTIFF by its suffix.

    Parameters
    ----------
    path : str or Path
        ``.hdr`` (ENVI: the data goes to ``.img`` beside it) or ``.tif`` / ``.tiff``.
    rows, cols, bands : int
    transform : affine.Affine, optional
    crs : rasterio.crs.CRS, optional
    wavelengths, fwhm : ndarray, shape (bands,), optional
        nm.
    units : str
    description : str
        Stored in the file's metadata.

    Notes
    -----
    The pixels go to a raw band-interleaved-by-pixel little-endian float32 file (the ENVI data
    file itself, or a temporary ``.part`` file beside a GeoTIFF) with ``os.pwrite``; the file starts
    as zeros, so :meth:`add` accumulates overlapping tiles.
    """

    def __init__(
        self, path: str | Path, rows: int, cols: int, bands: int, *, transform=None, crs=None,
        wavelengths: np.ndarray | None = None, fwhm: np.ndarray | None = None, units: str = "unknown",
        description: str = "",
    ) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in IMAGE_SUFFIXES:
            raise SceneFormatError(
                f"{self.path}: the output's type is chosen by its suffix: .hdr (ENVI) or .tif / .tiff (GeoTIFF)"
            )
        if not self.path.parent.is_dir():
            raise SceneFormatError(f"{self.path}: the folder {self.path.parent} does not exist")
        self.kind = "ENVI" if suffix in ENVI_SUFFIXES else "GeoTIFF"
        self.rows, self.cols, self.bands = rows, cols, bands
        self.transform, self.crs = transform, crs
        self.wavelengths, self.fwhm = wavelengths, fwhm
        self.units, self.description = units, description
        self.raw = self.path.with_suffix(".img") if self.kind == "ENVI" else self.path.with_name(self.path.name + ".part")
        self._fd = os.open(self.raw, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        os.ftruncate(self._fd, rows * cols * bands * _FLOAT.itemsize)

    def _rows(self, row0: int, col0: int, height: int, width: int):
        row_bytes = self.cols * self.bands * _FLOAT.itemsize
        for r in range(height):
            yield r, (row0 + r) * row_bytes + col0 * self.bands * _FLOAT.itemsize

    def write(self, row0: int, col0: int, block: np.ndarray) -> None:
        """Write ``block`` (h, w, bands) with its upper-left pixel at ``(row0, col0)``."""
        block = np.ascontiguousarray(block, dtype=_FLOAT)
        height, width, _ = block.shape
        for r, offset in self._rows(row0, col0, height, width):
            os.pwrite(self._fd, block[r].tobytes(), offset)

    def read(self, row0: int, col0: int, height: int, width: int) -> np.ndarray:
        """The window written so far (zeros where nothing was written)."""
        out = np.empty((height, width, self.bands), dtype=_FLOAT)
        size = width * self.bands * _FLOAT.itemsize
        for r, offset in self._rows(row0, col0, height, width):
            out[r] = np.frombuffer(os.pread(self._fd, size, offset), dtype=_FLOAT).reshape(width, self.bands)
        return out

    def add(self, row0: int, col0: int, block: np.ndarray) -> None:
        """Add ``block`` to what the window holds (overlapping tiles blended by their weights)."""
        height, width, _ = block.shape
        self.write(row0, col0, self.read(row0, col0, height, width) + block)

    def close(self) -> Path:
        """Finish the file (header, or GeoTIFF copy) and return the output's path."""
        os.close(self._fd)
        if self.kind == "ENVI":
            self._write_envi_header()
        else:
            try:
                self._copy_to_geotiff()
            finally:
                self.raw.unlink(missing_ok=True)
        return self.path

    def abort(self) -> None:
        """Close and remove what was written."""
        try:
            os.close(self._fd)
        except OSError:
            pass
        self.raw.unlink(missing_ok=True)

    def _write_envi_header(self) -> None:
        lines = [
            "ENVI",
            f"description = {{{self.description}}}",
            f"samples = {self.cols}", f"lines = {self.rows}", f"bands = {self.bands}",
            "header offset = 0", "file type = ENVI Standard", "data type = 4", "interleave = bip",
            "byte order = 0", f"data units = {self.units}",
        ]
        if self.transform is not None:
            lines.append(f"map info = {_envi_map_info(self.transform, self.crs)}")
            if self.crs is not None:
                lines.append(f"coordinate system string = {{{self.crs.to_wkt()}}}")
        if self.wavelengths is not None:
            lines += ["wavelength units = Nanometers",
                      "wavelength = {" + ", ".join(f"{w:.4f}" for w in self.wavelengths) + "}"]
        if self.fwhm is not None:
            lines.append("fwhm = {" + ", ".join(f"{w:.4f}" for w in self.fwhm) + "}")
        self.path.write_text("\n".join(lines) + "\n")

    def _copy_to_geotiff(self) -> None:
        import rasterio
        from rasterio.windows import Window

        profile = {
            "driver": "GTiff", "width": self.cols, "height": self.rows, "count": self.bands, "dtype": "float32",
            "crs": self.crs, "transform": self.transform, "interleave": "pixel", "tiled": True,
            "blockxsize": 256, "blockysize": 256, "BIGTIFF": "IF_SAFER",
        }
        if self.transform is None:
            profile.pop("transform")
        strip = max(1, _STRIP_BYTES // (self.cols * self.bands * _FLOAT.itemsize))
        with rasterio.open(self.path, "w", **profile) as target:
            target.update_tags(units=self.units, description=self.description, wavelength_units="nanometers")
            for band in range(self.bands):
                tags, imagery = {}, {}
                if self.wavelengths is not None:
                    tags["wavelength"] = f"{self.wavelengths[band]:.4f}"
                    imagery["CENTRAL_WAVELENGTH_UM"] = f"{self.wavelengths[band] / 1000:.7f}"
                    target.set_band_description(band + 1, f"{self.wavelengths[band]:.1f} nm")
                if self.fwhm is not None:
                    tags["fwhm"] = f"{self.fwhm[band]:.4f}"
                    imagery["FWHM_UM"] = f"{self.fwhm[band] / 1000:.7f}"
                if tags:
                    target.update_tags(band + 1, **tags)
                    target.update_tags(band + 1, ns="IMAGERY", **imagery)
            fd = os.open(self.raw, os.O_RDONLY)
            try:
                for row0 in range(0, self.rows, strip):
                    height = min(strip, self.rows - row0)
                    size = height * self.cols * self.bands * _FLOAT.itemsize
                    block = np.frombuffer(os.pread(fd, size, row0 * self.cols * self.bands * _FLOAT.itemsize), dtype=_FLOAT)
                    block = block.reshape(height, self.cols, self.bands)
                    target.write(np.moveaxis(block, -1, 0), window=Window(0, row0, self.cols, height))
            finally:
                os.close(fd)


def write_image(
    path: str | Path, cube: np.ndarray, *, transform=None, crs=None, wavelengths: np.ndarray | None = None,
    fwhm: np.ndarray | None = None, units: str = "unknown", description: str = "",
) -> Path:
    """Write a whole (rows, cols, bands) cube as ENVI or GeoTIFF (by the suffix of ``path``)."""
    rows, cols, bands = cube.shape
    writer = RasterWriter(path, rows, cols, bands, transform=transform, crs=crs, wavelengths=wavelengths,
                          fwhm=fwhm, units=units, description=description)
    try:
        strip = max(1, _STRIP_BYTES // (cols * bands * _FLOAT.itemsize))
        for row0 in range(0, rows, strip):
            writer.write(row0, 0, cube[row0 : row0 + strip])
    except BaseException:
        writer.abort()
        raise
    return writer.close()


def same_crs(a, b) -> bool:
    """Whether two CRS describe the same system (EPSG codes when both have one, else WKT)."""
    if a is None or b is None:
        return a is None and b is None
    if a.to_epsg() is not None and b.to_epsg() is not None:
        return a.to_epsg() == b.to_epsg()
    return a == b


def describe_crs(crs) -> str | None:
    """``EPSG:32615`` when the CRS has a code, else its WKT; None without one."""
    if crs is None:
        return None
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg is not None else crs.to_wkt()


__all__ = [
    "GEOTIFF_SUFFIXES", "ENVI_SUFFIXES", "IMAGE_SUFFIXES", "GeoImage", "RasterWriter", "describe_crs",
    "open_image", "same_crs", "write_image",
]
