"""Band filling: scenes that miss some of a grid's bands, brought onto it for a network, on the
real Indian Pines cube with bands cut away the way real sensors and bad-band lists cut them."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from s3rnet.data import AVIRIS_172, SpectralGrid, filled_band_mask, indian_pines_bands, resample
from s3rnet.data.grids import FILL_EDGE_NM, FILL_GAP_NM, fill_matrix
from s3rnet.errors import WavelengthError
from s3rnet.evaluation import run_evaluation

ROOT = Path(__file__).resolve().parents[1]
FILL = {"max_edge_nm": FILL_EDGE_NM, "max_gap_nm": FILL_GAP_NM}


def keep_bands(scene, keep):
    return scene.with_cube(scene.cube[..., keep], wavelengths=scene.wavelengths[keep], fwhm=scene.fwhm[keep])


@pytest.fixture(scope="module")
def grid():
    """Indian Pines' own 200 bands, the grid of the published lite checkpoints."""
    return SpectralGrid("indian-pines", *indian_pines_bands())


@pytest.fixture(scope="module")
def short(indian_pines):
    """Indian Pines ending at 2460 nm, as an AVIRIS scene ending at 2457 nm."""
    return keep_bands(indian_pines, indian_pines.wavelengths < 2460)


def test_without_limits_a_missing_band_is_refused_by_wavelength(short, grid):
    with pytest.raises(WavelengthError, match=r"2479.*beyond the scene's last covered band, limit 0"):
        resample(short, grid)


def test_bands_beyond_the_edge_copy_the_nearest_covered_band(short, grid):
    filled = resample(short, grid, **FILL)
    mask = filled_band_mask(filled)
    np.testing.assert_allclose(filled.wavelengths[mask], [2479.25, 2489.11])
    last = np.flatnonzero(~mask)[np.argmax(filled.wavelengths[~mask])]
    for band in np.flatnonzero(mask):
        np.testing.assert_array_equal(filled.cube[..., band], filled.cube[..., last])
    assert not filled_band_mask(resample(filled, grid, **FILL)).any()


def test_filling_says_it_once_without_spys_line_per_band(short, grid, caplog):
    # SPy logs "No overlap for target band ..." (INFO, to stderr) for every band it cannot cover.
    resample(short, grid, **FILL)
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("spectral")]
    assert logging.getLogger("spectral").level == logging.INFO, "SPy's own logging level is restored"


@pytest.mark.parametrize("nm, worst", [((1000, 1060), 0.05), ((1330, 1392), None)])
def test_a_gap_of_removed_bands_is_interpolated_between_its_neighbours(indian_pines, grid, nm, worst):
    # Bands removed from the real cube, then filled back: close to the measured ones where the
    # spectrum is smooth (1000-1060 nm: 2% here), nothing like them on the edge of the water
    # absorption at 1340-1360 nm (104%), which is why no score counts a filled band.
    gap = (indian_pines.wavelengths > nm[0]) & (indian_pines.wavelengths < nm[1])
    filled = resample(keep_bands(indian_pines, ~gap), grid, **FILL)
    mask = filled_band_mask(filled)
    assert mask.sum() == gap.sum() > 0
    if worst is not None:
        reference = resample(indian_pines, grid)
        error = np.abs(filled.cube[..., mask] - reference.cube[..., mask]).mean() / np.abs(reference.cube[..., mask]).mean()
        assert error < worst
    # Each filled band lies between its two covered neighbours, pixel by pixel.
    order = np.argsort(filled.wavelengths)
    position = np.flatnonzero(mask[order])
    below, above = filled.cube[..., order[position[0] - 1]], filled.cube[..., order[position[-1] + 1]]
    for band in order[position]:
        value = filled.cube[..., band]
        assert np.all(value >= np.minimum(below, above) - 1e-4) and np.all(value <= np.maximum(below, above) + 1e-4)


def test_a_vnir_scene_is_refused_with_the_reason(indian_pines):
    vnir = keep_bands(indian_pines, indian_pines.wavelengths < 1000)
    with pytest.raises(WavelengthError, match=r"400-995 nm.*cannot be filled.*beyond the scene's last covered band, limit 50"):
        resample(vnir, AVIRIS_172, **FILL)


def test_fill_matrix_interpolates_in_wavelength_whatever_the_band_order():
    centres = np.array([500.0, 400.0, 450.0, 600.0, 650.0])
    covered = np.array([True, True, False, True, False])
    weights = fill_matrix(centres, covered, max_edge_nm=60, max_gap_nm=200)
    # Covered columns in grid order: 500, 400, 600.
    np.testing.assert_allclose(weights[2], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(weights[4], [0.0, 0.0, 1.0])
    with pytest.raises(WavelengthError, match="650 nm"):
        fill_matrix(centres, covered, max_edge_nm=40, max_gap_nm=200)
    with pytest.raises(WavelengthError, match="gap of 100 nm"):
        fill_matrix(centres, covered, max_edge_nm=60, max_gap_nm=90)


# --------------------------------------------------------------------------------------------
# In the evaluation
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny S3RNet trained for a few steps on the Indian Pines train split (oli4)."""
    from s3rnet.training import load_config, train

    out = tmp_path_factory.mktemp("smoke")
    config = load_config(ROOT / "configs" / "smoke.json").replace(steps=2, val_every=2, checkpoint_every=2)
    train(config, out, progress=False)
    return out / "last.safetensors"


def test_every_method_runs_on_the_filled_scene_and_no_score_counts_the_filled_bands(short, trained):
    result = run_evaluation(short, split="test", methods=["gsa", "s3rnet"], checkpoint=str(trained))
    filled = result.protocol["filled_bands"]
    np.testing.assert_allclose(filled["wavelengths_nm"], [2479.25, 2489.11])
    truth = result.simulation.truth
    assert truth.shape[-1] == 200
    for name in ("gsa", "s3rnet"):
        assert result.outputs[name].shape == truth.shape
        assert result.details[name].psnr_per_band.size == 198
    from s3rnet.inference import CheckpointMethod, prepare_scene
    from s3rnet.metrics import Scorer

    mask = ~filled_band_mask(prepare_scene(short, CheckpointMethod(trained).metadata))
    assert mask.sum() == 198
    expected = Scorer(truth[..., mask]).score(result.outputs["gsa"][..., mask]).summary()
    assert result.methods["gsa"]["psnr"] == pytest.approx(expected["psnr"])


def test_a_vnir_scene_runs_the_baselines_and_says_why_s3rnet_did_not(indian_pines, trained):
    vnir = keep_bands(indian_pines, indian_pines.wavelengths < 1000)
    result = run_evaluation(vnir, split="test", methods=["gsa", "s3rnet"], checkpoint=str(trained))
    assert list(result.methods) == ["gsa"]
    assert "cannot be filled" in result.protocol["skipped"]["s3rnet"]
    assert result.protocol["filled_bands"] is None
    with pytest.raises(WavelengthError, match="cannot be filled"):
        run_evaluation(vnir, split="test", methods=["s3rnet"], checkpoint=str(trained))


def test_the_resampling_matrix_is_the_map_resample_applies_in_the_scenes_own_band_order(indian_pines):
    from s3rnet.data import resampling_matrix
    from s3rnet.data.grids import band_widths

    matrix, filled = resampling_matrix(indian_pines.wavelengths, band_widths(indian_pines), AVIRIS_172)
    assert matrix.shape == (172, 200) and not filled.any()
    # Indian Pines lists its spectrometers' bands out of wavelength order: the columns follow the file.
    assert (np.diff(indian_pines.wavelengths) < 0).any()
    np.testing.assert_allclose(indian_pines.cube @ matrix.T, resample(indian_pines, AVIRIS_172).cube, rtol=1e-4, atol=1e-3)


def test_values_on_a_grid_come_back_by_interpolation_and_not_across_its_gaps():
    from s3rnet.data import interpolation_matrix

    values = np.sin(AVIRIS_172.centres / 300.0)
    targets = np.array([405.0, 410.0, 1330.0, 1338.0, 1400.0, 1452.0, 2395.0, 2400.0, 2410.0])
    weights = interpolation_matrix(AVIRIS_172, targets, max_step_nm=15.0)
    got = weights @ values
    assert got[0] == values[0] and got[6] == values[-1]
    np.testing.assert_allclose(got[1], np.sin(410.0 / 300.0), atol=1e-3)
    # 1338 and 1452 copy the grid's band 3 nm away across the 115 nm water gap; 1400 is left out,
    # as is 2410, more than half a step past the last band.
    assert weights[3].sum() == 1.0 and weights[5].sum() == 1.0
    assert not weights[4].any() and not weights[8].any() and weights[7].sum() == 1.0
