"""Scenes: the built-in Indian Pines, file readers, bad files, splits, tiles and resampling."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

from s3rnet.data import (
    AVIRIS_172,
    WATER_ABSORPTION_NM,
    Scene,
    aviris_92av3c_calibration,
    crop,
    crop_to_multiple,
    data_dir,
    indian_pines_bands,
    list_scenes,
    load_scene,
    load_split,
    resample,
    split_region,
    tiles,
)
from s3rnet.data.grids import SpectralGrid
from s3rnet.errors import ConfigError, S3RNetError, SceneDataError, SceneFormatError, ShapeError, WavelengthError

ENVI_HEADER = Path("indian_pines") / "indian_pines_corrected.hdr"


# --- the built-in scene ---------------------------------------------------------------------


def test_indian_pines_is_radiance_with_the_documented_range(indian_pines):
    assert indian_pines.shape == (145, 145, 200)
    assert indian_pines.cube.dtype == np.float32
    assert indian_pines.units.startswith("radiance")
    # Stored DN 955-9604, radiance = (DN - 1000) / 500.
    assert indian_pines.cube.min() == pytest.approx((955 - 1000) / 500)
    assert indian_pines.cube.max() == pytest.approx((9604 - 1000) / 500)


def test_indian_pines_shows_the_vegetation_red_edge(indian_pines):
    wl = indian_pines.wavelengths
    red = indian_pines.cube[:, :, np.argmin(np.abs(wl - 670))]
    nir = indian_pines.cube[:, :, np.argmin(np.abs(wl - 800))]
    ndvi = (nir - red) / (nir + red)
    vegetation = ndvi >= np.quantile(ndvi, 0.9)
    # The data README: DN above offset 1326 at 670 nm against 6443 at 800 nm.
    assert nir[vegetation].mean() / red[vegetation].mean() == pytest.approx(6443 / 1326, rel=0.05)


def test_embedded_and_data_dir_copies_are_identical(monkeypatch):
    monkeypatch.delenv("S3RNET_DATA", raising=False)
    embedded = load_scene("indian_pines")
    assert "tensorly" in embedded.source
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not (shared / ENVI_HEADER).is_file():
        pytest.skip("no shared data directory beside the checkout")
    monkeypatch.setenv("S3RNET_DATA", str(shared))
    from_data_dir = load_scene("indian_pines")
    assert from_data_dir.source.endswith("indian_pines_corrected.hdr")
    np.testing.assert_array_equal(embedded.cube, from_data_dir.cube)


def test_band_centres_follow_the_92av3c_calibration_not_tensorlys_shifted_list(indian_pines):
    calibration = aviris_92av3c_calibration()
    assert calibration.shape == (220, 3)
    wavelengths, fwhm = indian_pines_bands()
    np.testing.assert_array_equal(indian_pines.wavelengths, wavelengths)
    # The corrected set drops 1-based bands 104-108: its 0-based band 103 is 1-based band 109.
    assert wavelengths[103] == calibration[108, 0]
    assert wavelengths[102] == calibration[102, 0]
    # ... and 150-163 and 220: its last band is 1-based band 219.
    assert wavelengths[-1] == calibration[218, 0] == pytest.approx(2489.11, abs=0.01)
    assert not np.any((wavelengths > 1355) & (wavelengths < 1405))


def test_band_centres_match_the_envi_header_of_the_data_dir():
    root = data_dir()
    if root is None or not (root / ENVI_HEADER).is_file():
        pytest.skip("S3RNET_DATA not set")
    from spectral.io import envi

    header = envi.open(str(root / ENVI_HEADER))
    wavelengths, fwhm = indian_pines_bands()
    np.testing.assert_allclose(wavelengths, header.bands.centers, atol=0.005)
    np.testing.assert_allclose(fwhm, header.bands.bandwidths, atol=0.005)


def test_the_envi_file_by_path_converts_dn_to_radiance(indian_pines):
    root = data_dir()
    if root is None or not (root / ENVI_HEADER).is_file():
        pytest.skip("S3RNET_DATA not set")
    scene = load_scene(root / ENVI_HEADER)
    assert scene.units.startswith("radiance")
    np.testing.assert_array_equal(scene.cube, indian_pines.cube)
    np.testing.assert_allclose(scene.wavelengths, indian_pines.wavelengths, atol=0.005)


def test_list_scenes_starts_with_the_built_in():
    names = list_scenes()
    assert names[0] == "indian_pines"
    assert "indian_pines_corrected" not in names  # the same file, not listed twice


# --- readers on small files -------------------------------------------------------------------


def small_cube(rows=8, cols=6, bands=5, seed=0):
    return np.random.default_rng(seed).uniform(0.1, 1.0, (rows, cols, bands)).astype(np.float32)


WAVELENGTHS = [450.0, 550.0, 650.0, 750.0, 850.0]


def write_envi(path: Path, cube: np.ndarray, **metadata) -> Path:
    from spectral.io import envi

    header = path.with_suffix(".hdr")
    envi.save_image(str(header), cube, dtype=np.float32, metadata=metadata, force=True, ext=".img")
    return header


def test_envi_round_trip_keeps_pixels_and_wavelengths(tmp_path):
    cube = small_cube()
    header = write_envi(tmp_path / "scene", cube, wavelength=WAVELENGTHS, fwhm=[10.0] * 5)
    scene = load_scene(header)
    np.testing.assert_array_equal(scene.cube, cube)
    np.testing.assert_allclose(scene.wavelengths, WAVELENGTHS)
    assert scene.name == "scene" and scene.source == str(header)


def test_envi_reflectance_scale_factor_is_applied(tmp_path):
    cube = small_cube() * 10000
    header = write_envi(tmp_path / "refl", cube, wavelength=WAVELENGTHS, **{"reflectance scale factor": 10000})
    scene = load_scene(header)
    assert scene.units == "reflectance"
    np.testing.assert_allclose(scene.cube, cube / 10000, rtol=1e-6)


def test_truncated_envi_file_is_named(tmp_path):
    header = write_envi(tmp_path / "cut", small_cube(), wavelength=WAVELENGTHS)
    data = header.with_suffix(".img")
    data.write_bytes(data.read_bytes()[:-100])
    with pytest.raises(SceneFormatError, match=r"cut\.img: truncated"):
        load_scene(header)


def test_header_band_count_disagreeing_with_data_is_named(tmp_path):
    header = write_envi(tmp_path / "liar", small_cube(bands=5), wavelength=WAVELENGTHS)
    text = header.read_text().replace("bands = 5", "bands = 4")
    header.write_text(text)
    with pytest.raises(SceneFormatError, match="header disagrees with the data"):
        load_scene(header)


def test_header_that_is_not_envi_is_named(tmp_path):
    header = tmp_path / "junk.hdr"
    header.write_text("this is not a header\n")
    with pytest.raises(SceneFormatError, match="junk.hdr"):
        load_scene(header)


def test_wrong_file_type_is_named(tmp_path):
    path = tmp_path / "scene.png"
    path.write_bytes(b"\x89PNG")
    with pytest.raises(SceneFormatError, match=r"scene\.png: unsupported file type '\.png'"):
        load_scene(path)


def test_unknown_name_is_an_error():
    with pytest.raises(SceneFormatError, match="neither a known scene"):
        load_scene("salinas")


def test_nan_values_are_counted_and_located(tmp_path):
    cube = small_cube()
    cube[2, 3, 1] = np.nan
    cube[4, 0, 0] = np.inf
    path = tmp_path / "holes.npy"
    np.save(path, cube)
    with pytest.raises(SceneDataError, match=r"2 NaN or Inf values in .*holes\.npy"):
        load_scene(path)


def test_npy_needs_wavelengths_to_be_given_and_npz_can_carry_them(tmp_path):
    cube = small_cube()
    np.save(tmp_path / "a.npy", cube)
    bare = load_scene(tmp_path / "a.npy")
    assert bare.wavelengths is None
    with pytest.raises(WavelengthError, match="has no wavelengths"):
        bare.require_wavelengths("the OLI response")
    given = load_scene(tmp_path / "a.npy", wavelengths=WAVELENGTHS)
    np.testing.assert_allclose(given.wavelengths, WAVELENGTHS)
    np.savez(tmp_path / "b.npz", cube=cube, wavelengths=np.array(WAVELENGTHS))
    carried = load_scene(tmp_path / "b.npz")
    np.testing.assert_allclose(carried.wavelengths, WAVELENGTHS)
    with pytest.raises(WavelengthError, match="4 wavelengths for a cube of 5 bands"):
        load_scene(tmp_path / "a.npy", wavelengths=WAVELENGTHS[:4])


def test_mat_v5_and_v73_give_the_same_cube(tmp_path):
    cube = small_cube()
    scipy.io.savemat(tmp_path / "v5.mat", {"data": cube, "wavelength": np.array(WAVELENGTHS)})
    with h5py.File(tmp_path / "v73.mat", "w") as handle:
        # MATLAB stores column-major: HDF5 sees the axes reversed.
        handle["data"] = cube.transpose()
        handle["other"] = cube.transpose() * 2
    v5 = load_scene(tmp_path / "v5.mat")
    np.testing.assert_array_equal(v5.cube, cube)
    np.testing.assert_allclose(v5.wavelengths, WAVELENGTHS)
    with pytest.raises(SceneFormatError, match="several 3-D arrays"):
        load_scene(tmp_path / "v73.mat")
    v73 = load_scene(tmp_path / "v73.mat", variable="data")
    np.testing.assert_array_equal(v73.cube, cube)
    with pytest.raises(SceneFormatError, match="no variable 'cube'"):
        load_scene(tmp_path / "v73.mat", variable="cube")


def test_corrupt_mat_file_is_named(tmp_path):
    path = tmp_path / "broken.mat"
    path.write_bytes(b"MATLAB 5.0 MAT-file" + b"\x00" * 40)
    with pytest.raises(SceneFormatError, match="broken.mat"):
        load_scene(path)


def test_every_error_is_an_s3rnet_error():
    for error in (SceneFormatError, SceneDataError, WavelengthError, ShapeError, ConfigError):
        assert issubclass(error, S3RNetError)


# --- regions ----------------------------------------------------------------------------------


def test_split_regions_are_disjoint_multiples_of_the_ratio_and_versioned(indian_pines):
    split = load_split("indian_pines")
    assert split.version >= 1 and split.ratio == 4
    owner = np.full(indian_pines.shape[:2], "", dtype=object)
    for name in ("train", "val", "test"):
        region = split_region(indian_pines, name)
        assert region.shape[0] % 4 == 0 and region.shape[1] % 4 == 0
        (r0, r1), (c0, c1) = split.region(name)
        assert (owner[r0:r1, c0:c1] == "").all(), f"{name} shares pixels"
        owner[r0:r1, c0:c1] = name
        np.testing.assert_array_equal(region.cube, indian_pines.cube[r0:r1, c0:c1])
        assert region.meta["split"] == {"scene": "indian_pines", "version": split.version, "region": name}
    assert split_region(indian_pines, "test").shape == (48, 144, 200)
    with pytest.raises(ConfigError, match="no region 'holdout'"):
        split_region(indian_pines, "holdout")


def test_crop_tiles_and_multiples(indian_pines):
    whole = crop_to_multiple(indian_pines, 4)
    assert whole.shape == (144, 144, 200)
    tile_list = list(tiles(whole, 48))
    assert len(tile_list) == 9 and all(t.shape == (48, 48, 200) for t in tile_list)
    np.testing.assert_array_equal(tile_list[4].cube, indian_pines.cube[48:96, 48:96])
    overlapping = list(tiles(indian_pines, 64, stride=48))
    assert overlapping[-1].meta["region"] == {"rows": [81, 145], "cols": [81, 145]}
    with pytest.raises(ShapeError, match="does not fit"):
        crop(indian_pines, (100, 150), (0, 10))
    with pytest.raises(ShapeError, match="smaller than the ratio"):
        crop_to_multiple(Scene(small_cube(rows=3)), 4)


# --- spectral resampling ----------------------------------------------------------------------


def test_aviris_172_grid_avoids_water_absorption():
    centres = AVIRIS_172.centres
    assert AVIRIS_172.bands == 172
    assert np.all(np.diff(centres) > 0)
    for low, high in WATER_ABSORPTION_NM:
        assert not np.any((centres + 5 > low) & (centres - 5 < high))


def test_resample_indian_pines_to_172_bands_follows_the_spectrum(indian_pines):
    resampled = resample(indian_pines, AVIRIS_172)
    assert resampled.shape == (145, 145, 172)
    assert np.isfinite(resampled.cube).all()
    order = np.argsort(indian_pines.wavelengths)
    mean_spectrum = indian_pines.cube.mean(axis=(0, 1))[order]
    expected = np.interp(AVIRIS_172.centres, indian_pines.wavelengths[order], mean_spectrum)
    got = resampled.cube.mean(axis=(0, 1))
    # Band integration smooths a little; the shape of the spectrum must follow.
    assert np.median(np.abs(got - expected) / np.abs(expected)) < 0.03
    assert np.corrcoef(got, expected)[0, 1] > 0.995


def test_resample_needs_wavelengths_and_overlap(indian_pines):
    with pytest.raises(WavelengthError, match="has no wavelengths"):
        resample(Scene(small_cube(), name="bare"), AVIRIS_172)
    beyond = SpectralGrid("thermal", np.array([8000.0, 9000.0]), np.array([100.0, 100.0]))
    with pytest.raises(WavelengthError, match="does not cover 2 bands"):
        resample(indian_pines, beyond)
