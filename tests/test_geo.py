"""GeoTIFF and ENVI reading and writing: georeferencing, wavelengths, windows, and errors naming the file."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine
from rasterio.crs import CRS

from s3rnet.errors import SceneDataError, SceneFormatError
from s3rnet.geo import RasterWriter, open_image, write_image

TRANSFORM = Affine(30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0)


@pytest.fixture(scope="module")
def cube(indian_pines):
    return indian_pines.cube[:20, :24, :12]


@pytest.mark.parametrize("name, epsg", [("a.tif", 32615), ("a.hdr", 32615), ("b.hdr", 32733), ("c.hdr", 4326), ("d.tif", 3035)])
def test_round_trip_of_pixels_georeferencing_and_wavelengths(tmp_path, cube, indian_pines, name, epsg):
    crs = CRS.from_epsg(epsg)
    wl, fwhm = indian_pines.wavelengths[:12], indian_pines.fwhm[:12]
    path = write_image(tmp_path / name, cube, transform=TRANSFORM, crs=crs, wavelengths=wl, fwhm=fwhm, units="radiance")
    image = open_image(path)
    assert image.shape == cube.shape and image.transform == TRANSFORM and image.crs.to_epsg() == epsg
    np.testing.assert_allclose(image.wavelengths, wl, atol=1e-4)
    np.testing.assert_allclose(image.fwhm, fwhm, atol=1e-4)
    np.testing.assert_array_equal(image.read(), cube)
    np.testing.assert_array_equal(image.read((3, 9), (5, 20)), cube[3:9, 5:20])
    np.testing.assert_array_equal(image.read((3, 9), (5, 20), bands=[7, 2]), cube[3:9, 5:20][:, :, [7, 2]])
    assert image.bounds() == (500000.0, 4000000.0 - 600.0, 500000.0 + 720.0, 4000000.0)


def test_envi_map_info_reference_pixel_and_bsq_integers(tmp_path):
    data = np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4)  # bands, lines, samples (BSQ)
    (tmp_path / "s.img").write_bytes(data.tobytes())
    (tmp_path / "s.hdr").write_text(
        "ENVI\nsamples = 4\nlines = 3\nbands = 2\nheader offset = 0\ndata type = 2\ninterleave = bsq\n"
        "byte order = 0\nreflectance scale factor = 10000\nwavelength units = Micrometers\nwavelength = {0.5, 0.6}\n"
        "map info = {UTM, 2.0, 3.0, 600030.0, 4499940.0, 30.0, 30.0, 16, North, WGS-84, units=Meters}\n"
    )
    image = open_image(tmp_path / "s.hdr")
    # Reference pixel (2, 3), 1-based: the upper-left corner lies one pixel left and two up.
    assert image.transform == Affine(30.0, 0.0, 600000.0, 0.0, -30.0, 4500000.0)
    assert image.crs.to_epsg() == 32616
    np.testing.assert_allclose(image.wavelengths, [500.0, 600.0])
    np.testing.assert_allclose(image.read()[:, :, 1], data[1] / 10000.0, rtol=1e-6)


def test_geotiff_band_scale_and_gdal_imagery_wavelengths(tmp_path):
    path = tmp_path / "scaled.tif"
    profile = dict(driver="GTiff", width=5, height=4, count=2, dtype="uint16", crs="EPSG:32615", transform=TRANSFORM)
    with rasterio.open(path, "w", **profile) as target:
        target.write(np.full((2, 4, 5), 2000, dtype=np.uint16))
        target.scales = (1e-4, 1e-4)
        target.offsets = (-0.1, -0.1)
        for band, (centre, width) in enumerate([(0.49, 0.065), (0.56, 0.035)], start=1):
            target.update_tags(band, ns="IMAGERY", CENTRAL_WAVELENGTH_UM=str(centre), FWHM_UM=str(width))
    image = open_image(path)
    np.testing.assert_allclose(image.wavelengths, [490.0, 560.0])
    np.testing.assert_allclose(image.fwhm, [65.0, 35.0])
    np.testing.assert_allclose(image.read(), 0.1, rtol=1e-5)


def test_nodata_is_reported_with_its_position(tmp_path, cube):
    path = tmp_path / "holes.tif"
    profile = dict(driver="GTiff", width=24, height=20, count=12, dtype="float32", crs="EPSG:32615",
                   transform=TRANSFORM, nodata=-9999.0)
    data = np.moveaxis(cube.copy(), -1, 0)
    data[4, 7, 9] = -9999.0
    with rasterio.open(path, "w", **profile) as target:
        target.write(data)
    image = open_image(path)
    with pytest.raises(SceneDataError, match=r"holes\.tif: 1 NaN, Inf or nodata values .*row 7, column 9, band 4"):
        image.read()
    assert image.read((0, 5), (0, 24)).shape == (5, 24, 12)


def test_writer_accumulates_and_bad_files_are_named(tmp_path, cube):
    writer = RasterWriter(tmp_path / "acc.hdr", 20, 24, 12)
    writer.add(0, 0, cube[:10, :12])
    writer.add(0, 0, cube[:10, :12])
    writer.write(10, 12, cube[10:, 12:])
    writer.close()
    out = open_image(tmp_path / "acc.hdr").read()
    np.testing.assert_allclose(out[:10, :12], 2 * cube[:10, :12])
    np.testing.assert_array_equal(out[10:, 12:], cube[10:, 12:])
    assert open_image(tmp_path / "acc.hdr").transform is None
    with pytest.raises(SceneFormatError, match=r"x\.png: unsupported image type"):
        open_image(tmp_path / "x.png")
    with pytest.raises(SceneFormatError, match=r"missing\.tif: no such file"):
        open_image(tmp_path / "missing.tif")
    (tmp_path / "acc.img").write_bytes(b"\0" * 100)
    with pytest.raises(SceneFormatError, match=r"acc\.img: truncated: 100 bytes, but its header"):
        open_image(tmp_path / "acc.hdr")
    (tmp_path / "junk.tif").write_bytes(b"not a tiff")
    with pytest.raises(SceneFormatError, match=r"junk\.tif: not a readable GeoTIFF"):
        open_image(tmp_path / "junk.tif")
