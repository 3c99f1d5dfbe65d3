"""Synthetic AVIRIS-like scenes (s3rnet.data.synthetic) and the realism statistics that compare
them with the real Indian Pines scene (s3rnet.data.realism)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from s3rnet.data import AVIRIS_172, load_scene, list_scenes
from s3rnet.data.realism import angle_spread, pca_decay, realism_statistics, realism_table, spatial_slope
from s3rnet.data.synthetic import (
    CLASSES, fractal_noise, make_synthetic, material_library, parse_name, water_reflectance,
)
from s3rnet.errors import ConfigError
from s3rnet.evaluation import run_evaluation


@pytest.fixture(scope="module")
def parts():
    return make_synthetic(3)


def test_the_name_is_the_scene_and_the_seed_makes_it_again(parts, indian_pines):
    scene = load_scene("synthetic:3")
    np.testing.assert_array_equal(scene.cube, parts.scene.cube)
    assert scene.name == "synthetic:3" and scene.shape == (144, 144, 200)
    np.testing.assert_allclose(scene.wavelengths, indian_pines.wavelengths)
    assert not np.array_equal(load_scene("synthetic:4").cube, scene.cube)


def test_options_in_the_name_and_as_keywords():
    scene = load_scene("synthetic:5?size=48x64&grid=aviris-172&units=reflectance")
    assert scene.shape == (48, 64, 172) and scene.units.startswith("reflectance")
    np.testing.assert_allclose(scene.wavelengths, AVIRIS_172.centres)
    assert scene.name == "synthetic:5?size=48x64&grid=aviris-172&units=reflectance"
    same = load_scene("synthetic:5", size=(48, 64), grid="aviris-172", units="reflectance")
    np.testing.assert_array_equal(same.cube, scene.cube)
    assert load_scene("synthetic:5?grid=92av3c", size=32).shape == (32, 32, 220)
    assert parse_name("synthetic:1?artefacts=0")[1]["artefacts"] is False


@pytest.mark.parametrize("name, message", [
    ("synthetic:seven", "not an integer"),
    ("synthetic:1?colour=red", "unknown option"),
    ("synthetic:1?size=8", "between 16 and 4096"),
    ("synthetic:1?units=dn", "units must be one of"),
    ("synthetic:1?grid=landsat", "unknown grid"),
    ("synthetic:1?variability=-0.5", "variability must be a number from 0 to 4"),
    ("synthetic:1?variants=0", "variants must be a whole number from 1 to 6"),
    ("synthetic:1?variants=2.5", "variants must be a whole number from 1 to 6"),
])
def test_bad_names_say_what_is_wrong(name, message):
    with pytest.raises(ConfigError, match=message):
        load_scene(name)


def test_listed_synthetic_scenes_load():
    names = [n for n in list_scenes() if n.startswith("synthetic:")]
    assert names
    assert load_scene(names[0]).bands == 200


def test_library_classes_are_earthlib_spectra_in_nm():
    library = material_library()
    assert library.wavelengths[0] == pytest.approx(400.0) and library.wavelengths[-1] == pytest.approx(2450.0)
    for name in CLASSES[:-1]:
        assert library.classes[name].size > 0, name
    # Vegetation has a red edge: far more NIR than red reflectance; soil does not.
    red, nir = np.searchsorted(library.wavelengths, [670, 860])
    crop = library.spectra[library.classes["crop"]]
    soil = library.spectra[library.classes["soil"]]
    assert np.median(crop[:, nir] / crop[:, red]) > 4 > np.median(soil[:, nir] / soil[:, red])
    water = water_reflectance(np.array([560.0, 900.0]), 0.5, 0.5)
    assert water[0] > 5 * water[1] and water.max() < 0.1


def test_layers_explain_the_cube(parts):
    classes, reflectance = parts.classes, parts.reflectance
    assert set(np.unique(classes)) >= {CLASSES.index("soil")}
    assert 0.0 <= reflectance.min() and reflectance.max() < 1.5
    # Shadows: some pixels lose direct light; sky light stays.
    assert parts.direct.min() < 0.2 and parts.sky.min() > 0.3
    # Water (when present) is dark in the NIR; vegetation bright.
    nir = int(np.argmin(np.abs(parts.scene.wavelengths - 860)))
    for kind, compare in (("water", np.less), ("crop", np.greater)):
        where = classes == CLASSES.index(kind)
        if where.any():
            assert compare(np.median(reflectance[where, nir]), np.median(reflectance[..., nir])), kind


def test_radiance_is_in_the_units_and_range_of_indian_pines(indian_pines):
    scene = load_scene("synthetic:11")
    real, synthetic = indian_pines.cube.mean(axis=(0, 1)), scene.cube.mean(axis=(0, 1))
    assert 0.3 < synthetic.mean() / real.mean() < 3.0
    # The atmosphere's absorptions are where the real scene has them: 940 and 1130 nm water bands.
    wl = scene.wavelengths
    for absorbed, beside in ((940, 870), (1135, 1060)):
        a, b = (int(np.argmin(np.abs(wl - nm))) for nm in (absorbed, beside))
        assert synthetic[a] < 0.7 * synthetic[b] and real[a] < 0.7 * real[b]


def test_artefacts_add_noise_striping_and_residue():
    clean = load_scene("synthetic:2?artefacts=0").cube
    noisy = load_scene("synthetic:2").cube
    assert 0.002 < np.std(noisy - clean) / np.std(clean) < 0.5
    assert "bad_detectors" in load_scene("synthetic:2").meta


def test_variability_and_variants_change_the_spectra_not_the_layout():
    default = make_synthetic(4, size=64, artefacts=False)
    pure = make_synthetic(4, size=64, artefacts=False, variability=0, variants=1)
    assert pure.scene.name == "synthetic:4?size=64&artefacts=0&variability=0&variants=1"
    np.testing.assert_array_equal(pure.classes, default.classes)
    np.testing.assert_array_equal(pure.direct, default.direct)
    # One spectrum per class without modulation: pure pixels of a class share one spectral shape
    # up to brightness; with the defaults they spread.
    def shape_spread(parts, label):
        inside = ndimage.binary_erosion(parts.classes == label, iterations=2)
        spectra = parts.reflectance[inside]
        spectra = spectra / np.linalg.norm(spectra, axis=1, keepdims=True)
        return np.degrees(np.arccos(np.clip(spectra @ spectra.mean(axis=0) / np.linalg.norm(spectra.mean(axis=0)), -1, 1))).mean()
    label = np.bincount(default.classes.ravel()).argmax()
    assert shape_spread(pure, label) < 0.2 < shape_spread(default, label)
    np.testing.assert_array_equal(make_synthetic(4, size=64, variability=1, variants=6).scene.cube, make_synthetic(4, size=64).scene.cube)


def test_fractal_noise_has_the_slope_it_is_asked_for():
    field = fractal_noise(np.random.default_rng(0), (256, 256), 2.0)
    assert field.std() == pytest.approx(1.0, rel=1e-3)
    assert spatial_slope(field[..., None]) == pytest.approx(-2.0, abs=0.3)


def test_realism_statistics_of_indian_pines_and_a_synthetic_scene(indian_pines):
    real = realism_statistics(indian_pines)
    synthetic = realism_statistics(load_scene("synthetic:0"))
    for stats in (real, synthetic):
        assert 0.3 < stats["pc1_share"] < 1.0 and 1 <= stats["pcs_99"] <= stats["pcs_999"] <= 200
        assert stats["decay_slope"] < 0 and 0 < stats["angle_median"] < stats["angle_p90"] < 90
        assert -4 < stats["spatial_slope"] < -1
    table = realism_table({"real": real, "synthetic": [synthetic, synthetic]})
    assert table.count("\n") == 3 and "PCs 99%" in table


def test_pca_and_angles_on_known_cubes():
    rng = np.random.default_rng(0)
    rank_two = rng.normal(size=(32, 32, 2)) @ rng.normal(size=(2, 50))
    assert pca_decay(rank_two + 10)["pcs_999"] == 2
    same = np.ones((8, 8, 5))
    assert angle_spread(same)["angle_p90"] == pytest.approx(0.0, abs=1e-5)


def test_a_synthetic_scene_runs_through_the_evaluation():
    result = run_evaluation("synthetic:1?size=64", methods=["bicubic", "gsa", "hysime-gsa"], snr_db=25)
    assert result.protocol["scene"] == "synthetic:1?size=64"
    assert result.methods["gsa"]["psnr"] > result.methods["bicubic"]["psnr"]
