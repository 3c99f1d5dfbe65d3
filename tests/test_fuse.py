"""``fuse_pair`` and ``python -m s3rnet fuse`` on real Indian Pines pairs written as GeoTIFF and ENVI files.

The pairs are simulated from the real scene (so the truth, the response, the shift and the ratio are
known), then written with georeferencing as two files from two "instruments"; the pipeline sees the
files only. Crops stay small (48 to 144 pixels) for the shared 2-core machine.
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from rasterio.transform import Affine
from rasterio.crs import CRS

from s3rnet.allocator import MMAP_THRESHOLD_BYTES
from s3rnet.checkpoints import CheckpointError, checkpoint_metadata, save_checkpoint
from s3rnet.degrade import add_awgn, simulate
from s3rnet.errors import ConfigError, ResponseRangeError, SceneFormatError, ShapeError
from s3rnet.fuse import REAL_PAIR_PROJECTION, fuse_pair, pair_geometry
from s3rnet.geo import open_image, write_image
from s3rnet.inference import CheckpointMethod
from s3rnet.metrics import psnr
from s3rnet.models import build_model

ROOT = Path(__file__).resolve().parents[1]
UTM = CRS.from_epsg(32616)
ORIGIN = (600000.0, 4500000.0)


def grid(pixel: float, x: float = ORIGIN[0], y: float = ORIGIN[1]) -> Affine:
    return Affine(pixel, 0.0, x, 0.0, -pixel, y)


def write_pair(folder: Path, sim, scene, lr_name="lr.tif", hr_name="hr.tif", lr_grid=None, hr_grid=None,
               crs=UTM, msi_wavelengths=None) -> tuple[Path, Path]:
    lr = write_image(folder / lr_name, sim.lrhsi, transform=lr_grid or grid(20.0), crs=crs,
                     wavelengths=scene.wavelengths, fwhm=scene.fwhm, units="radiance")
    hr = write_image(folder / hr_name, sim.hrmsi, transform=hr_grid or grid(5.0), crs=crs,
                     wavelengths=msi_wavelengths, units="radiance")
    return lr, hr


@pytest.fixture(scope="module")
def scene(indian_pines):
    return indian_pines


@pytest.fixture(scope="module")
def clean(scene):
    """96x96 of Indian Pines (rows 48:144), OLI 4-band, box PSF, ratio 4, registered."""
    return simulate(scene.cube[48:144, :96], scene.wavelengths, scene.fwhm, msi="oli4")


@pytest.fixture(scope="module")
def shifted(scene):
    """The same crop with the LR-HSI shifted by (0.3, -0.25) LR pixels."""
    return simulate(scene.cube[48:144, :96], scene.wavelengths, scene.fwhm, msi="oli4", shift=(0.3, -0.25))


# --------------------------------------------------------------------------------------------
# Files in, georeferenced file out
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lr_name, hr_name, out_name", [
    ("lr.tif", "hr.tif", "fused.tif"),
    ("lr.hdr", "hr.hdr", "fused.hdr"),
    ("lr.hdr", "hr.tif", "fused.tif"),
])
def test_fuse_round_trips_georeferencing_and_wavelengths(tmp_path, scene, clean, lr_name, hr_name, out_name):
    lr, hr = write_pair(tmp_path, clean, scene, lr_name, hr_name)
    result = fuse_pair(lr, hr, tmp_path / out_name, method="mtf-glp-hpm", msi_response="oli4",
                       report=tmp_path / "report.json")
    fused = open_image(tmp_path / out_name)
    assert fused.transform == grid(5.0) and fused.crs.to_epsg() == 32616
    assert fused.shape == (96, 96, 200)
    np.testing.assert_allclose(fused.wavelengths, scene.wavelengths, atol=1e-3)
    np.testing.assert_allclose(fused.fwhm, scene.fwhm, atol=1e-3)
    cube = fused.read()
    # Fused from the files alone, it beats the bicubic upsampling of the LR-HSI against the truth.
    bicubic = fuse_pair(lr, hr, tmp_path / f"bicubic{Path(out_name).suffix}", method="bicubic", msi_response="oli4")
    assert psnr(clean.truth, cube) > psnr(clean.truth, open_image(bicubic.output).read()) + 2.0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["geometry"]["ratio"] == 4 and report["output"]["crs"] == "EPSG:32616"
    assert report["output"]["transform"] == list(grid(5.0))[:6]
    assert report["method"] == {"kind": "classical", "name": "mtf-glp-hpm", "reason": "asked for", "candidates": {}}
    assert report["response"]["source"] == "oli4" and min(report["response"]["explained_variance"]) > 0.999
    assert report["quality"]["consistency"]["spectral"]["psnr"] > report["quality"]["consistency"]["spatial"]["psnr"] - 30
    assert 0.0 < report["quality"]["no_reference"]["hqnr"] <= 1.0
    assert result.maps["spatial_sam"].shape == (24, 24)


def test_common_extent_is_cut_out_and_the_output_sits_on_it(tmp_path, scene, clean):
    # The HR-MSI covers only a window of the LR-HSI: 8 LR pixels in from the left, 4 down from the top,
    # and it stops 3 LR pixels short of the HSI's right edge.
    lr = write_image(tmp_path / "lr.tif", clean.lrhsi, transform=grid(20.0), crs=UTM, wavelengths=scene.wavelengths)
    x0, y0 = ORIGIN[0] + 8 * 20.0, ORIGIN[1] - 4 * 20.0
    window = clean.hrmsi[16:96, 32:84]
    hr = write_image(tmp_path / "hr.tif", window, transform=grid(5.0, x0, y0), crs=UTM)
    result = fuse_pair(lr, hr, tmp_path / "out.tif", method="gsa", msi_response="oli4")
    geometry = result.report["geometry"]
    assert geometry["lr_window"] == [4, 8, 20, 13] and geometry["hr_window"] == [0, 0, 80, 52]
    out = open_image(result.output)
    assert out.transform == grid(5.0, x0, y0) and out.shape == (80, 52, 200)
    # The same as fusing the matching crops written without the rest of either image.
    lr_crop = write_image(tmp_path / "lr_crop.tif", clean.lrhsi[4:24, 8:21], transform=grid(20.0, x0, y0), crs=UTM,
                          wavelengths=scene.wavelengths)
    direct = fuse_pair(lr_crop, hr, tmp_path / "direct.tif", method="gsa", msi_response="oli4")
    np.testing.assert_allclose(out.read(), open_image(direct.output).read(), rtol=1e-5, atol=1e-5)


def test_the_ratio_comes_from_sizes_without_georeferencing_and_a_pan_with_ratio_3(tmp_path, scene):
    sim = simulate(scene.cube[48:144, :96], scene.wavelengths, scene.fwhm, msi="binning4", ratio=3)
    pan = sim.hrmsi.mean(axis=2, keepdims=True)
    lr = write_image(tmp_path / "lr.hdr", sim.lrhsi, wavelengths=scene.wavelengths)
    hr = write_image(tmp_path / "pan.hdr", pan)
    result = fuse_pair(lr, hr, tmp_path / "out.hdr", method="gsa")
    assert result.report["geometry"]["ratio"] == 3
    assert result.report["geometry"]["steps"][0] == "ratio 3 from the image sizes"
    out = open_image(result.output)
    assert out.transform is None and out.shape == (96, 96, 200)
    assert psnr(sim.truth, out.read()) > psnr(sim.truth, open_image(
        fuse_pair(lr, hr, tmp_path / "b.hdr", method="bicubic").output).read())


# --------------------------------------------------------------------------------------------
# Tiles
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["bicubic", "gsa", "mtf-glp-hpm", "hysime-wiener-mtf", "hysime-wiener-hybrid"])
def test_tiled_output_equals_untiled(tmp_path, scene, shifted, method):
    lr, hr = write_pair(tmp_path, shifted, scene)
    whole = fuse_pair(lr, hr, tmp_path / "whole.tif", method=method, tile=1024)
    tiled = fuse_pair(lr, hr, tmp_path / "tiled.tif", method=method, tile=40)
    assert whole.report["tiling"]["tiles"] == 1 and tiled.report["tiling"]["tiles"] == 9
    assert tiled.report["registration"]["corrected"]
    if platform.libc_ver()[0] == "glibc":
        assert tiled.report["memory"]["mmap_threshold_bytes"] == MMAP_THRESHOLD_BYTES
    a, b = open_image(tiled.output).read(), open_image(whole.output).read()
    assert np.abs(a - b).max() <= 1e-4 * np.abs(b).max()


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory, scene):
    """A tiny untrained S3RNet (OLI 4-band, 200 Indian Pines bands), as a checkpoint file."""
    from s3rnet.degrade import spectral_response

    model = build_model("tiny", 200, 4, skip="bicubic")
    metadata = checkpoint_metadata(
        preset="tiny", model_config=model.config.__dict__, wavelengths=scene.wavelengths, fwhm=scene.fwhm,
        msi="oli4", srf=spectral_response("oli4", scene.wavelengths, scene.fwhm), psf="box", ratio=4,
        normalisation="global", training={"scene": "none (untrained)"}, steps=0, validation=None,
    )
    return save_checkpoint(tmp_path_factory.mktemp("tiny") / "tiny", model, metadata)


def test_a_checkpoint_runs_in_tiles_that_equal_one_pass(tmp_path, scene, clean, tiny_checkpoint):
    lr, hr = write_pair(tmp_path, clean, scene)
    whole = fuse_pair(lr, hr, tmp_path / "whole.tif", checkpoint=str(tiny_checkpoint), msi_response="oli4", tile=1024)
    tiled = fuse_pair(lr, hr, tmp_path / "tiled.tif", checkpoint=str(tiny_checkpoint), msi_response="oli4", tile=32)
    assert whole.report["method"]["kind"] == "checkpoint" and whole.report["method"]["response_distance"] < 1e-9
    assert tiled.report["tiling"]["halo_hr_px"] == 96 and tiled.report["tiling"]["tiles"] == 9
    a, b = open_image(tiled.output).read(), open_image(whole.output).read()
    assert np.isfinite(a).all()
    assert np.abs(a - b).max() <= 1e-4 * np.abs(b).max()


def test_a_checkpoint_on_its_own_grid_sees_its_bands_of_a_wider_msi(tmp_path, scene, tiny_checkpoint):
    """No grid bridge: an oli4 network on an OLI 6-band pair sees bands 2-5; it corrects bicubic,
    which reads no MSI band, so its output is the one it gives on a file of those 4 bands."""
    six = simulate(scene.cube[48:144, :96], scene.wavelengths, scene.fwhm, msi="oli6")
    lr, hr = write_pair(tmp_path, six, scene)
    four = write_image(tmp_path / "hr4.tif", six.hrmsi[..., :4], transform=grid(5.0), crs=UTM, units="radiance")
    wide = fuse_pair(lr, hr, tmp_path / "wide.tif", checkpoint=str(tiny_checkpoint), msi_response="oli6")
    narrow = fuse_pair(lr, four, tmp_path / "narrow.tif", checkpoint=str(tiny_checkpoint), msi_response="oli4")
    assert wide.report["method"]["msi_bands"] == [0, 1, 2, 3] and "grid" not in wide.report["tiling"]
    a, b = open_image(wide.output).read(), open_image(narrow.output).read()
    assert np.abs(a - b).max() <= 1e-4 * np.abs(b).max()


def test_a_noisy_hrmsi_band_is_measured_and_a_checkpoint_warns(tmp_path, scene, clean, tiny_checkpoint):
    lr, hr = write_pair(tmp_path, clean, scene)
    quiet = fuse_pair(lr, hr, tmp_path / "quiet.tif", checkpoint=str(tiny_checkpoint), msi_response="oli4")
    assert len(quiet.report["hrmsi_noise"]["band_snr_db"]) == 4 and min(quiet.report["hrmsi_noise"]["band_snr_db"]) > 30
    assert not any("looks noisy" in w for w in quiet.report["warnings"])
    hrmsi = clean.hrmsi.copy()
    hrmsi[..., 3] = add_awgn(clean.hrmsi[..., 3:4], 12.0, np.random.default_rng(0))[..., 0]
    lr, hr = write_pair(tmp_path, SimpleNamespace(lrhsi=clean.lrhsi, hrmsi=hrmsi), scene, "noisy-lr.tif", "noisy-hr.tif")
    noisy = fuse_pair(lr, hr, tmp_path / "noisy.tif", checkpoint=str(tiny_checkpoint), msi_response="oli4")
    snr = noisy.report["hrmsi_noise"]["band_snr_db"]
    assert 10.5 < snr[3] < 12.5 and min(snr[:3]) > 30, snr
    warning = next(w for w in noisy.report["warnings"] if "looks noisy" in w)
    assert "HR-MSI band 4 of noisy-hr.tif" in warning and "--method pca-wiener-cnmf" in warning
    # A classical method is not warned about (nothing measured says what to prefer), but the estimate is reported.
    classical = fuse_pair(lr, hr, tmp_path / "classical.tif", method="gsa", msi_response="oli4")
    assert classical.report["hrmsi_noise"]["band_snr_db"] == snr
    assert not any("looks noisy" in w for w in classical.report["warnings"])


def test_a_checkpoint_correcting_gsa_gets_the_estimate_it_was_trained_on(tmp_path, scene):
    """GSA estimates in training are made without the MSI response (bands paired by correlation,
    s3rnet.estimates); fuse's must be too. Paired by the response instead, this untrained network's
    output moved by 11% of its largest value; the 0.15% left comes from the statistics fitted on
    the LR grid and the response's gain and offset fit."""
    from s3rnet.degrade import spectral_response

    model = build_model("tiny", 200, 4, skip="estimate")
    metadata = checkpoint_metadata(
        preset="tiny", model_config=model.config.__dict__, wavelengths=scene.wavelengths, fwhm=scene.fwhm,
        msi="oli4", srf=spectral_response("oli4", scene.wavelengths, scene.fwhm), psf="box", ratio=4,
        normalisation="global", training={"scene": "none (untrained)"}, steps=0, validation=None, estimate="gsa",
    )
    checkpoint = save_checkpoint(tmp_path / "tiny-gsa", model, metadata)
    sim = simulate(scene.cube[48:144, :96], scene.wavelengths, scene.fwhm, msi="oli4", lrhsi_snr_db=30)
    lr, hr = write_pair(tmp_path, sim, scene)
    fused = open_image(fuse_pair(lr, hr, tmp_path / "out.tif", checkpoint=str(checkpoint), msi_response="oli4").output).read()
    evaluated = CheckpointMethod(str(checkpoint)).fuse(sim.inputs()).cube
    assert np.abs(fused - evaluated).max() <= 1e-2 * np.abs(evaluated).max()


def test_a_checkpoint_correcting_an_estimate_of_the_whole_scene_is_refused_with_the_reason(tmp_path, scene, clean):
    """PCA-Wiener-CNMF unmixes the scene as one, and fuse runs a network tile by tile; such a
    checkpoint still fuses through ``evaluate`` (whole scenes), and fuse says why it cannot."""
    from s3rnet.degrade import spectral_response

    model = build_model("tiny", 200, 4, skip="estimate")
    metadata = checkpoint_metadata(
        preset="tiny", model_config=model.config.__dict__, wavelengths=scene.wavelengths, fwhm=scene.fwhm,
        msi="oli4", srf=spectral_response("oli4", scene.wavelengths, scene.fwhm), psf="box", ratio=4,
        normalisation="global", training={"scene": "none (untrained)"}, steps=0, validation=None,
        estimate="pca-wiener-cnmf",
    )
    checkpoint = save_checkpoint(tmp_path / "tiny-cnmf", model, metadata)
    assert np.isfinite(CheckpointMethod(str(checkpoint)).fuse(clean.inputs()).cube).all()
    lr, hr = write_pair(tmp_path, clean, scene)
    with pytest.raises(CheckpointError, match=r"corrects pca-wiener-cnmf, which unmixes the scene as one; fuse runs a "
                                              r"network tile by tile"):
        fuse_pair(lr, hr, tmp_path / "out.tif", checkpoint=str(checkpoint), msi_response="oli4")


def test_the_published_checkpoint_on_its_own_grid_in_tiles_equals_one_pass(tmp_path):
    """lite-oli4 is on the 172-band grid and corrects HySime-Wiener-Hybrid; the pair has Indian
    Pines' 200 bands. The bridge to the grid and back, the estimate's subspace, gains and
    statistics are fitted once, so tiles agree with one pass up to the channel attention, which
    pools over its tile: 1.8e-3 of the largest value on 16 px tiles with these weights (stage 6,
    84 dB PSNR between the two outputs; stage 3: 3.4e-7; stage 1: 4.0e-4; the unpublished stage 4:
    1.1e-4). Stage 6 trained on patches normalised over a larger square, which may be why its
    attention reads more of the tile's statistics."""
    from s3rnet.fuse import write_example_pair

    lr, hr, _ = write_example_pair(tmp_path, msi="oli4", shift=(0.0, 0.0), size=144)
    whole = fuse_pair(lr, hr, tmp_path / "whole.tif", checkpoint="lite-oli4", msi_response="oli4", tile=1024)
    # 81 tiles of 16 px, most of which see much less than the whole pair.
    tiled = fuse_pair(lr, hr, tmp_path / "tiled.tif", checkpoint="lite-oli4", msi_response="oli4", tile=16)
    assert tiled.report["tiling"]["tiles"] == 81 and tiled.report["tiling"]["estimate"] == "hysime-wiener-hybrid"
    assert tiled.report["tiling"]["estimate_statistics"] == "fitted once on the LR sample"
    a, b = open_image(tiled.output).read(), open_image(whole.output).read()
    assert a.shape[-1] == 200
    assert np.abs(a - b).max() <= 3e-3 * np.abs(b).max()


def test_a_pair_on_other_bands_is_fused_through_the_checkpoints_grid_and_keeps_its_bands(tmp_path, scene):
    """The network corrects HySime-Wiener-Hybrid on its 172-band grid; the correction comes back onto
    the pair's 200 bands, and bands the grid does not reach (water windows, past 2400 nm) hold
    HySime-Wiener-Hybrid alone, exactly (the network alone: with the checkpoint's ensemble partner,
    every band, those too, is blended with the partner's)."""
    from s3rnet.fuse import write_example_pair

    lr, hr, simulation = write_example_pair(tmp_path, msi="oli4", shift=(0.0, 0.0), size=96)
    network = fuse_pair(lr, hr, tmp_path / "net.tif", checkpoint="lite-oli4", msi_response="oli4", ensemble=False)
    classical = fuse_pair(lr, hr, tmp_path / "classical.tif", method="hysime-wiener-hybrid", msi_response="oli4")
    grid = network.report["tiling"]["grid"]
    assert (grid["checkpoint_grid"], grid["grid_bands"], grid["filled_grid_bands_nm"]) == ("aviris-172", 172, [])
    listed = np.asarray(grid["pair_bands_classical_only_nm"])
    alone = np.abs(scene.wavelengths[:, None] - listed[None, :]).min(axis=1) <= 0.06
    assert grid["pair_bands_corrected"] == 200 - alone.sum() and alone.sum() >= 10
    assert (scene.wavelengths[alone] > 2400).any() and ((scene.wavelengths[alone] > 1340) & (scene.wavelengths[alone] < 1460)).any()
    fused, base = open_image(network.output).read(), open_image(classical.output).read()
    assert fused.shape == base.shape == simulation.truth.shape
    np.testing.assert_allclose(fused[..., alone], base[..., alone], rtol=1e-5, atol=1e-6 * np.abs(base).max())
    assert np.abs(fused[..., ~alone] - base[..., ~alone]).mean() > 1e-3 * np.abs(base).mean()

    ensemble = CheckpointMethod("lite-oli4", device="cpu").ensemble
    if ensemble is not None:
        blended = fuse_pair(lr, hr, tmp_path / "blended.tif", checkpoint="lite-oli4", msi_response="oli4")
        partner = fuse_pair(lr, hr, tmp_path / "partner.tif", method=ensemble["method"], msi_response="oli4")
        record = blended.report["method"]["ensemble"]
        assert record["applied"] is True
        # A checkpoint whose share is raised by consistency blends at this pair's share, never below its own.
        weight = record["weight"]
        assert weight == ensemble["weight"] if ensemble.get("share", "fixed") == "fixed" else weight >= ensemble["weight"]
        # A share for each band (its mean is the record's weight) blends each band at its own.
        weight = np.asarray(record.get("weights", weight), dtype=np.float64)
        assert weight.size in (1, fused.shape[-1]) and weight.min() >= ensemble["weight"] - 1e-4
        expected = (1 - weight) * fused + weight * open_image(partner.output).read()
        # rtol 1e-4: the record keeps each band's share to 4 decimals.
        np.testing.assert_allclose(open_image(blended.output).read(), expected, rtol=1e-4 if weight.size > 1 else 1e-5,
                                   atol=1e-6 * np.abs(base).max())
        # The checkpoint's projection is not applied to a real pair (the blend above is exact), and the
        # report says why.
        projection = CheckpointMethod("lite-oli4", device="cpu").projection
        if projection is not None:
            assert blended.report["method"]["projection"] == {
                "factor": projection["factor"], "applied": False, "why": REAL_PAIR_PROJECTION}


@pytest.fixture(scope="module")
def noisy_oli6(scene):
    """The 96x96 crop with an OLI 6-band HR-MSI and the LR-HSI at 15 dB."""
    return simulate(scene.cube[48:144, :96], scene.wavelengths, scene.fwhm, msi="oli6", lrhsi_snr_db=15.0, seed=0)


def test_a_noisy_pair_whose_response_is_estimated_still_gets_its_sensors_network(tmp_path, scene, noisy_oli6):
    """At 15 dB the true OLI response, fitted with a gain and offset, left 39% of SWIR2's variance
    unexplained (the LR-HSI's noise) against 8.7% for the response estimated on the same noisy
    sample, so every checkpoint was refused and MTF-GLP-HPM ran (13.3 dB here). Allowing for the
    noise, lite-oli6 runs, above every classical method fuse tiles."""
    lr, hr = write_pair(tmp_path, noisy_oli6, scene)
    result = fuse_pair(lr, hr, tmp_path / "out.tif", msi_response="estimate")
    method = result.report["method"]
    assert method["kind"] == "checkpoint" and method["name"] == "lite-oli6", method["candidates"]
    assert "beyond the LR-HSI's noise" in method["candidates"]["lite-oli6"]["reason"]
    fused = psnr(noisy_oli6.truth, open_image(result.output).read())
    for classical in ("mtf-glp-hpm", "hysime-wiener-hybrid"):
        other = fuse_pair(lr, hr, tmp_path / f"{classical}.tif", msi_response="estimate", method=classical)
        assert fused > psnr(noisy_oli6.truth, open_image(other.output).read()) + 0.3, classical
        # A method that passes the noise on says so, with the LR-HSI's SNR as HySime reads it.
        noisy = [w for w in other.report["warnings"] if "looks noisy" in w]
        assert len(noisy) == (classical == "mtf-glp-hpm"), other.report["warnings"]
        assert 12.0 < other.report["lrhsi_noise"]["snr_db"] < 17.0


def test_an_msi_of_another_sensor_gets_a_checkpoints_bands_emulated_from_its_own(tmp_path, scene):
    """A WorldView-2-like 8-band VNIR MSI (box bands at its published edges), LR-HSI at 35 dB: no
    published checkpoint learned it. A 4-band one runs on its bands emulated from the eight (least
    squares on the LR-HSI), above every classical method; the 6-band ones are refused, since their
    SWIR bands lie where the MSI does not look. Before, fuse ran lite-s2-4 on its four nearest
    bands (33.78 dB here, against 33.88)."""
    from s3rnet.degrade import spectral_degrade
    from s3rnet.response import read_response_csv

    srf = read_response_csv(ROOT / "benchmarks" / "responses" / "wv2-box.csv", scene.wavelengths, scene.fwhm)[0]
    sim = simulate(scene.cube[48:144, :96], scene.wavelengths, scene.fwhm, msi="oli4", lrhsi_snr_db=35.0, seed=0)
    sim = SimpleNamespace(lrhsi=sim.lrhsi, truth=sim.truth, hrmsi=spectral_degrade(sim.truth, srf))
    lr, hr = write_pair(tmp_path, sim, scene)
    result = fuse_pair(lr, hr, tmp_path / "out.tif", msi_response="estimate", report=tmp_path / "report.json")
    method = result.report["method"]
    assert method["kind"] == "checkpoint" and "emulated_msi" in method, method["candidates"]
    assert method["name"] in ("lite-oli4", "lite-s2-4") and "emulated from the pair's 8" in method["candidates"][method["name"]]["reason"]
    assert [w for w in result.report["warnings"] if "bands emulated from the file's 8" in w], result.report["warnings"]
    for six in ("lite-oli6", "lite-s2-6"):
        assert not method["candidates"][six]["fits"] and "where the pair's MSI does not look" in method["candidates"][six]["reason"]
    written = json.loads((tmp_path / "report.json").read_text())["method"]["emulated_msi"]
    assert np.asarray(written["weights"]).shape == (8, 4) and min(written["explained"]) > 0.98
    fused = psnr(sim.truth, open_image(result.output).read())
    for classical, margin in (("mtf-glp-hpm", 3.0), ("hysime-wiener-mtf", 0.5), ("hysime-wiener-hybrid", 0.5)):
        other = fuse_pair(lr, hr, tmp_path / f"{classical}.tif", msi_response="estimate", method=classical)
        assert fused > psnr(sim.truth, open_image(other.output).read()) + margin, classical
    nearest = fuse_pair(lr, hr, tmp_path / "nearest.tif", msi_response="estimate", checkpoint="lite-s2-4")
    assert "emulated_msi" not in nearest.report["method"] and "msi_bands" in nearest.report["method"]


def test_a_noisy_pairs_partner_share_reads_the_noise_through_a_response_fitted_on_other_rows(tmp_path, scene):
    """OLI 4-band, LR-HSI at 15 dB, response estimated. Read through a response fitted on the same
    pixels, the LR-HSI's noise is underestimated (the fit takes up part of it), the ensemble
    partner's share took the network's residual for signal and rose (0.39 here), and fuse fell under
    HySime-Wiener-Hybrid (25.88 against 25.97 dB). Read through the response fitted on alternate
    rows and applied to the others, the noise is not underestimated: the share stays near its
    floor (0.20) and fuse leads (26.40)."""
    from s3rnet.baselines.noise import lrhsi_noise_power
    from s3rnet.degrade import spatial_degrade
    from s3rnet.fuse import cross_fitted_noise_power, fit_response
    from s3rnet.fusion import FusionInputs

    sim = simulate(scene.cube[48:144, :96], scene.wavelengths, scene.fwhm, msi="oli4", lrhsi_snr_db=15.0, seed=0)
    lr, hr = write_pair(tmp_path, sim, scene)
    hsi, msi = open_image(lr), open_image(hr)
    lrmsi = spatial_degrade(sim.hrmsi, 4)
    added = float(np.mean(np.square(sim.lrhsi - spatial_degrade(sim.truth, 4))))
    fit = fit_response("estimate", hsi, msi, sim.lrhsi, lrmsi)
    in_sample = lrhsi_noise_power(FusionInputs(sim.lrhsi, fit.to_hsi_units(sim.hrmsi), ratio=4, srf=fit.response,
                                               wavelengths=scene.wavelengths))
    crossed = cross_fitted_noise_power("estimate", hsi, msi, sim.lrhsi, lrmsi)
    assert in_sample < added < crossed, (in_sample, added, crossed)
    result = fuse_pair(lr, hr, tmp_path / "out.tif", msi_response="estimate")
    ensemble = result.report["method"]["ensemble"]
    assert ensemble["noise_floor"] == pytest.approx(crossed, rel=1e-3) and ensemble["noise_power"] >= ensemble["noise_floor"]
    hybrid = fuse_pair(lr, hr, tmp_path / "hybrid.tif", msi_response="estimate", method="hysime-wiener-hybrid")
    fused = psnr(sim.truth, open_image(result.output).read())
    assert fused > psnr(sim.truth, open_image(hybrid.output).read()) + 0.3


@pytest.mark.parametrize("snr, expected", [(np.inf, "mtf-glp-hpm"), (25.0, "hysime-wiener-hybrid")])
def test_a_pair_no_checkpoint_fits_falls_back_on_a_denoiser_when_its_lrhsi_looks_noisy(tmp_path, scene, snr, expected):
    """A panchromatic HR image (ALI's pan band, 480-690 nm) fits no checkpoint. Clean, fuse runs
    MTF-GLP-HPM; at 25 dB (HySime reads under 34 dB) HySime-Wiener-Hybrid, which denoises the LR-HSI
    first and leads MTF-GLP-HPM there by more than 2 dB, without the warning that MTF-GLP-HPM gets."""
    from s3rnet.degrade import spectral_degrade
    from s3rnet.response import read_response_csv

    srf = read_response_csv(ROOT / "benchmarks" / "responses" / "ali-pan-box.csv", scene.wavelengths, scene.fwhm)[0]
    sim = simulate(scene.cube[48:144, :96], scene.wavelengths, scene.fwhm, msi="oli4", lrhsi_snr_db=snr, seed=0)
    sim = SimpleNamespace(lrhsi=sim.lrhsi, truth=sim.truth, hrmsi=spectral_degrade(sim.truth, srf))
    lr, hr = write_pair(tmp_path, sim, scene)
    result = fuse_pair(lr, hr, tmp_path / "out.tif", msi_response="estimate")
    method = result.report["method"]
    assert method["kind"] == "classical" and method["name"] == expected, method["reason"]
    assert not [w for w in result.report["warnings"] if "looks noisy" in w]
    if expected == "hysime-wiener-hybrid":
        assert "under 34, so hysime-wiener-hybrid, which denoises it first" in method["reason"]
        mtf = fuse_pair(lr, hr, tmp_path / "mtf.tif", msi_response="estimate", method="mtf-glp-hpm")
        assert [w for w in mtf.report["warnings"] if "looks noisy" in w]
        fused = psnr(sim.truth, open_image(result.output).read())
        assert fused > psnr(sim.truth, open_image(mtf.output).read()) + 2.0


def test_a_clean_pair_fused_by_mtf_glp_hpm_gets_no_noise_warning(tmp_path, scene, clean):
    lr, hr = write_pair(tmp_path, clean, scene)
    result = fuse_pair(lr, hr, tmp_path / "out.tif", msi_response="oli4", method="mtf-glp-hpm")
    assert not [w for w in result.report["warnings"] if "looks noisy" in w]
    assert result.report["lrhsi_noise"]["snr_db"] > 30.0


def test_projection_onto_a_real_pairs_inputs_is_asked_for_and_reproduces_them(tmp_path, scene, clean):
    """Off by default (the report says why); asked for, the output reproduces both inputs more
    closely, and on this clean pair with the PSF fuse assumes it is nearer the truth too."""
    lr, hr = write_pair(tmp_path, clean, scene)
    plain = fuse_pair(lr, hr, tmp_path / "plain.tif", msi_response="oli4", checkpoint="lite-oli4")
    projected = fuse_pair(lr, hr, tmp_path / "projected.tif", msi_response="oli4", checkpoint="lite-oli4", project=True)
    factor = CheckpointMethod("lite-oli4", device="cpu").projection["factor"]
    assert plain.report["method"]["projection"] == {"factor": factor, "applied": False, "why": REAL_PAIR_PROJECTION}
    assert projected.report["method"]["projection"]["applied"] is True
    before, after = plain.report["quality"]["consistency"], projected.report["quality"]["consistency"]
    assert after["spatial"]["psnr"] > before["spatial"]["psnr"] + 1.0
    assert after["spectral"]["psnr"] > before["spectral"]["psnr"] + 1.0
    assert psnr(clean.truth, open_image(projected.output).read()) > psnr(clean.truth, open_image(plain.output).read())


@pytest.mark.parametrize("msi", ["s2-4", "oli4"])
def test_of_the_published_checkpoints_that_fit_the_one_explaining_the_msi_best_is_chosen(tmp_path, msi):
    """lite-oli4 and lite-s2-4 both fit a shifted 4-band pair whose response is estimated; each
    sensor's pair gets its own sensor's network. Ranked by response distance instead, the OLI pair
    got lite-s2-4 (0.52 against 0.67 from the estimated response)."""
    from s3rnet.fuse import write_example_pair

    lr, hr, _ = write_example_pair(tmp_path, msi=msi, shift=(0.3, -0.2), size=96)
    method = fuse_pair(lr, hr, tmp_path / "out.tif", msi_response="estimate").report["method"]
    fitting = {name for name, c in method["candidates"].items() if c["fits"]}
    assert {"lite-oli4", "lite-s2-4"} <= fitting, method["candidates"]
    assert method["kind"] == "checkpoint" and method["name"] == f"lite-{msi}"
    assert "explains the pair's MSI best" in method["reason"]


def test_a_sentinel2_pair_at_ratio_3_gets_the_checkpoint_validated_there_and_beats_its_skip(tmp_path):
    """30 m hyperspectral with 10 m Sentinel-2 is ratio 3; lite-s2-4, trained at 4, was validated at 3
    (its sidecar's "ratios") and fuses the pair; a ratio it was not validated at gets MTF-GLP-HPM."""
    from s3rnet.fuse import write_example_pair

    lr, hr, simulation = write_example_pair(tmp_path, msi="s2-4", shift=(0.0, 0.0), size=96, ratio=3)
    result = fuse_pair(lr, hr, tmp_path / "out.tif", msi_response="s2-4")
    method = result.report["method"]
    assert result.report["geometry"]["ratio"] == 3
    assert method["kind"] == "checkpoint" and method["name"] == "lite-s2-4", method
    assert "trained at ratio 4, validated at ratio 3" in method["candidates"]["lite-s2-4"]["reason"]
    skip = fuse_pair(lr, hr, tmp_path / "skip.tif", method="hysime-wiener-hybrid", msi_response="s2-4")
    truth = simulation.truth
    assert psnr(truth, open_image(result.output).read()) > psnr(truth, open_image(skip.output).read()) + 0.3

    lr, hr, _ = write_example_pair(tmp_path / "r7", msi="s2-4", shift=(0.0, 0.0), size=98, ratio=7)
    method = fuse_pair(lr, hr, tmp_path / "r7.tif", msi_response="s2-4").report["method"]
    assert method["kind"] == "classical" and method["name"] == "mtf-glp-hpm"
    assert "the pair has ratio 7" in method["candidates"]["lite-s2-4"]["reason"]


@pytest.mark.parametrize("msi, checkpoint, bands", [
    ("s2-10", "lite-s2-6", [0, 1, 2, 6, 8, 9]),  # Sentinel-2's 10 and 20 m bands
    ("oli7", "lite-oli6", [1, 2, 3, 4, 5, 6]),  # Landsat 8/9's 7 bands, coastal aerosol first
])
def test_an_msi_with_more_bands_gets_the_checkpoint_on_its_nearest_bands(tmp_path, msi, checkpoint, bands):
    """The checkpoint that uses the most MSI bands sees the nearest ones; its correction goes onto its
    estimate made with every band, and the result beats that estimate."""
    from s3rnet.fuse import write_example_pair

    lr, hr, simulation = write_example_pair(tmp_path, msi=msi, shift=(0.0, 0.0), size=96)
    result = fuse_pair(lr, hr, tmp_path / "out.tif", msi_response=msi)
    method = result.report["method"]
    assert method["kind"] == "checkpoint" and method["name"] == checkpoint, method
    assert method["msi_bands"] == bands and result.report["tiling"]["msi_bands"]["seen_by_network"] == bands
    assert "uses the most of its MSI bands" in method["reason"]  # the 4-band checkpoint fits too
    four_band = checkpoint.replace("6", "4")
    assert method["candidates"][four_band]["fits"] and len(method["candidates"][four_band]["msi_bands"]) == 4
    names = result.report["response"]["bands"]  # the sensor's band names, as the named response gives them
    assert len(names) == simulation.hrmsi.shape[-1]  # and the quality checks the output against every one
    seen = ", ".join(names[b] for b in bands)
    assert any(w.startswith(f"the network sees MSI bands {seen}") and "of hrmsi.tif" in w for w in result.report["warnings"])
    estimate = fuse_pair(lr, hr, tmp_path / "estimate.tif", method="hysime-wiener-hybrid", msi_response=msi)
    fused, alone = open_image(result.output).read(), open_image(estimate.output).read()
    assert fused.shape == simulation.truth.shape
    assert psnr(simulation.truth, fused) > psnr(simulation.truth, alone) + 0.2


def test_a_pair_missing_too_much_of_the_grid_is_told_why_the_checkpoint_does_not_fit(tmp_path, scene):
    """VNIR only: the 172-band grid's SWIR cannot be filled; the message says so, and MTF-GLP-HPM runs."""
    vnir = scene.wavelengths < 1000
    sim = simulate(scene.cube[48:144, :96][..., vnir], scene.wavelengths[vnir], scene.fwhm[vnir], msi="oli4")
    lr, hr = write_pair(tmp_path, sim, scene.with_cube(scene.cube[..., vnir], wavelengths=scene.wavelengths[vnir], fwhm=scene.fwhm[vnir]))
    result = fuse_pair(lr, hr, tmp_path / "out.tif", msi_response="oli4")
    method = result.report["method"]
    assert method["kind"] == "classical" and method["name"] == "mtf-glp-hpm"
    assert "cannot reach the checkpoint's grid" in method["candidates"]["lite-oli4"]["reason"]
    assert "cannot be filled" in method["candidates"]["lite-oli4"]["reason"]


def test_a_checkpoint_of_another_sensor_runs_on_its_bands_emulated_from_the_pairs(tmp_path, scene, tiny_checkpoint):
    """An OLI 4-band network on a Sentinel-2 4-band pair: its response is farther from the pair's than
    the tolerance (it used to be refused with that distance), and Sentinel-2's four bands give OLI's
    to within 2% of their variance, so it runs on OLI's bands emulated from them (here without a grid
    bridge: its grid is the pair's bands). The reason keeps the distance."""
    sim = simulate(scene.cube[48:144, :96], scene.wavelengths, scene.fwhm, msi="s2-4")
    lr, hr = write_pair(tmp_path, sim, scene)
    result = fuse_pair(lr, hr, tmp_path / "out.tif", checkpoint=str(tiny_checkpoint), msi_response="s2-4")
    method = result.report["method"]
    assert re.search(r"asked for; it fits on its oli4 bands emulated from the pair's 4 .*directly it did not: .*differs "
                     r"from the pair's by 0\.\d+ .*tolerance 0.25", method["reason"]), method["reason"]
    assert min(method["emulated_msi"].explained) > 0.98
    assert result.report["tiling"]["msi_bands"]["seen_by_network"] == "its oli4 bands emulated from every MSI band"
    assert np.isfinite(open_image(result.output).read()).all()


def test_an_estimated_response_of_the_checkpoints_sensor_fits(tmp_path, scene, clean, tiny_checkpoint):
    lr, hr = write_pair(tmp_path, clean, scene)
    result = fuse_pair(lr, hr, tmp_path / "out.tif", checkpoint=str(tiny_checkpoint), msi_response="estimate")
    method = result.report["method"]
    assert method["kind"] == "checkpoint" and method["response_distance"] > 0.0


def test_without_a_method_a_fitting_checkpoint_or_mtf_glp_hpm_runs_and_the_report_says_why(tmp_path, scene, clean):
    lr, hr = write_pair(tmp_path, clean, scene)
    result = fuse_pair(lr, hr, tmp_path / "out.tif", msi_response="oli4")
    method = result.report["method"]
    if method["kind"] == "classical":
        assert method["name"] == "mtf-glp-hpm" and method["reason"].startswith("no published checkpoint")
    for name, candidate in method["candidates"].items():
        assert candidate["fits"] or candidate["reason"], name
    assert "lite-oli6" not in method["candidates"] or "6-band MSI" in method["candidates"]["lite-oli6"]["reason"]


# --------------------------------------------------------------------------------------------
# Bad input: a clear message naming the file and the problem
# --------------------------------------------------------------------------------------------


def test_different_crs_is_refused(tmp_path, scene, clean):
    lr = write_image(tmp_path / "lr.tif", clean.lrhsi, transform=grid(20.0), crs=UTM, wavelengths=scene.wavelengths)
    hr = write_image(tmp_path / "hr.tif", clean.hrmsi, transform=grid(5.0), crs=CRS.from_epsg(32617))
    with pytest.raises(ShapeError, match=r"lr\.tif is in EPSG:32616 and .*hr\.tif in EPSG:32617"):
        fuse_pair(lr, hr, tmp_path / "out.tif")


def test_extents_that_do_not_overlap_are_refused(tmp_path, scene, clean):
    lr, hr = write_pair(tmp_path, clean, scene, hr_grid=grid(5.0, ORIGIN[0] + 10000.0))
    with pytest.raises(ShapeError, match=r"the extents do not overlap: .*lr\.tif covers .*hr\.tif"):
        fuse_pair(lr, hr, tmp_path / "out.tif")


def test_a_pixel_size_ratio_that_is_not_an_integer_is_refused(tmp_path, scene, clean):
    lr, hr = write_pair(tmp_path, clean, scene, hr_grid=grid(6.0))
    with pytest.raises(ShapeError, match=r"ratio of 3\.3333 x 3\.3333, not an integer"):
        fuse_pair(lr, hr, tmp_path / "out.tif")


def test_msi_bands_outside_the_hsi_range_are_refused(tmp_path, scene, clean):
    lr, hr = write_pair(tmp_path, clean, scene, msi_wavelengths=np.array([482.0, 561.0, 655.0, 2600.0]))
    with pytest.raises(ResponseRangeError, match=r"hr\.tif: band 4 at 2600 nm outside the wavelengths of .*lr\.tif"):
        fuse_pair(lr, hr, tmp_path / "out.tif")


def test_a_response_with_another_band_count_is_refused(tmp_path, scene, clean):
    lr, hr = write_pair(tmp_path, clean, scene)
    with pytest.raises(ShapeError, match=r"hr\.tif has 4 bands, but the MSI response oli6 has 6"):
        fuse_pair(lr, hr, tmp_path / "out.tif", msi_response="oli6")


def test_a_band_the_response_cannot_explain_is_a_warning_with_the_number(tmp_path, scene, clean):
    hrmsi = clean.hrmsi.copy()
    hrmsi[..., 3] = np.random.default_rng(0).random(hrmsi.shape[:2]) * hrmsi[..., 3].mean()
    lr = write_image(tmp_path / "lr.tif", clean.lrhsi, transform=grid(20.0), crs=UTM, wavelengths=scene.wavelengths)
    hr = write_image(tmp_path / "hr.tif", hrmsi, transform=grid(5.0), crs=UTM)
    result = fuse_pair(lr, hr, tmp_path / "out.tif", method="bicubic", msi_response="oli4")
    warnings = [w for w in result.report["warnings"] if w.startswith("MSI band 5")]
    assert len(warnings) == 1 and "explains only" in warnings[0]
    explained = result.report["response"]["explained_variance"][3]
    assert explained < 0.1 and f"{100 * explained:.1f}%" in warnings[0]


def test_unknown_output_type_and_swapped_inputs(tmp_path, scene, clean):
    lr, hr = write_pair(tmp_path, clean, scene)
    with pytest.raises(SceneFormatError, match=r"out\.png: the output's type is chosen by its suffix"):
        fuse_pair(lr, hr, tmp_path / "out.png", method="bicubic")
    with pytest.raises(ShapeError, match=r"lr\.tif has 200 bands, more than the 4 of .*hr\.tif: swapped"):
        fuse_pair(hr, lr, tmp_path / "out.tif")
    with pytest.raises(ConfigError, match="unknown method 'nope'"):
        fuse_pair(lr, hr, tmp_path / "out.tif", method="nope")


def test_geometry_of_a_non_integer_size_ratio_without_georeferencing(tmp_path, scene, clean):
    lr = open_image(write_image(tmp_path / "lr.hdr", clean.lrhsi[:, :20], wavelengths=scene.wavelengths))
    hr = open_image(write_image(tmp_path / "hr.hdr", clean.hrmsi[:, :90]))
    with pytest.raises(ShapeError, match=r"lr\.hdr is 24x20 and .*hr\.hdr 96x90.*give the ratio"):
        pair_geometry(lr, hr)
    geometry = pair_geometry(lr, hr, ratio=4)
    assert geometry.lr_window == (0, 0, 24, 20) and geometry.hr_window == (0, 0, 96, 80)


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


def test_cli_fuse_writes_the_file_and_the_report(tmp_path, scene, shifted):
    lr, hr = write_pair(tmp_path, shifted, scene, "lr.hdr", "hr.tif")
    done = subprocess.run(
        [sys.executable, "-m", "s3rnet", "fuse", "--lrhsi", str(lr), "--hrmsi", str(hr), "--out", str(tmp_path / "o.tif"),
         "--method", "gsa", "--report", str(tmp_path / "r.json"), "--tile", "48"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "ratio 4 from the pixel sizes" in done.stdout and "(corrected)" in done.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert f"LR-HSI noise: SNR about {report['lrhsi_noise']['snr_db']:.1f} dB" in done.stdout
    assert report["method"]["name"] == "gsa" and report["tiling"]["tiles"] == 4
    assert np.allclose(report["registration"]["shift_lr_px"], [0.3, -0.25], atol=0.05)
    assert open_image(tmp_path / "o.tif").transform == grid(5.0)


def test_cli_fuse_bad_input_exits_2_with_the_message(tmp_path, scene, clean):
    lr, hr = write_pair(tmp_path, clean, scene, hr_grid=grid(6.0))
    done = subprocess.run(
        [sys.executable, "-m", "s3rnet", "fuse", "--lrhsi", str(lr), "--hrmsi", str(hr), "--out", str(tmp_path / "o.tif")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 2
    assert "not an integer" in done.stderr and str(hr) in done.stderr and not (tmp_path / "o.tif").exists()


def test_hysime_wiener_cnmf_fuses_a_noisy_pair_in_one_pass(tmp_path, scene):
    sim = simulate(scene.cube[48:144, :96], scene.wavelengths, scene.fwhm, msi="oli4", lrhsi_snr_db=20)
    lr, hr = write_pair(tmp_path, sim, scene)
    scores = {}
    for method in ("cnmf", "hysime-wiener-cnmf"):
        result = fuse_pair(lr, hr, tmp_path / f"{method}.tif", method=method, msi_response="oli4")
        assert result.report["tiling"]["mode"] == "whole scene (the method is not tiled)"
        scores[method] = psnr(sim.truth, open_image(result.output).read())
    assert scores["hysime-wiener-cnmf"] > scores["cnmf"] + 2.0, scores


def test_windows_cover_the_scene_on_whole_lr_pixels_and_fade_into_each_other():
    from s3rnet.fuse import fade_in, window_starts

    assert window_starts(96, 96, 24, 4) == [0] and window_starts(40, 96, 24, 4) == [0]
    for n, size, overlap, ratio in [(96, 48, 24, 4), (1000, 512, 64, 4), (1064, 512, 64, 4), (9000, 510, 63, 3)]:
        starts = window_starts(n, size, overlap, ratio)
        assert starts[0] == 0 and starts[-1] == n - size and all(s % ratio == 0 for s in starts)
        shared = [a + size - b for a, b in zip(starts, starts[1:])]
        assert min(shared) >= overlap - ratio and max(shared) - min(shared) <= ratio, (n, starts)
        # The fewest windows: one less would leave neighbours sharing less than the overlap.
        assert (len(starts) - 2) * (size - overlap) < n - size
    weight = fade_in(8, 4)
    np.testing.assert_allclose(weight, [0.125, 0.375, 0.625, 0.875, 1, 1, 1, 1])
    assert np.all(fade_in(8, 0) == 1)


def test_a_method_that_unmixes_the_scene_as_one_runs_in_overlapping_windows_on_a_larger_pair(tmp_path, scene, clean):
    """CNMF on a 96 x 96 pair in 48 px windows sharing 24: nine windows, each unmixed as one, faded
    into each other, scoring near CNMF on the whole pair and far above bicubic; a window under 8 LR
    pixels is refused before anything is written."""
    lr, hr = write_pair(tmp_path, clean, scene)
    whole = fuse_pair(lr, hr, tmp_path / "whole.tif", method="cnmf", msi_response="oli4")
    windows = fuse_pair(lr, hr, tmp_path / "windows.tif", method="cnmf", msi_response="oli4", window=48)
    assert whole.report["tiling"]["mode"] == "whole scene (the method is not tiled)"
    tiling = windows.report["tiling"]
    assert tiling["mode"].startswith("overlapping windows") and tiling["windows"] == 9
    assert tiling["window_hr_px"] == 48 and tiling["overlap_hr_px"] == 24
    bicubic = fuse_pair(lr, hr, tmp_path / "bicubic.tif", method="bicubic", msi_response="oli4")
    scores = {name: psnr(clean.truth, open_image(run.output).read())
              for name, run in (("whole", whole), ("windows", windows), ("bicubic", bicubic))}
    assert abs(scores["windows"] - scores["whole"]) < 1.0 and scores["windows"] > scores["bicubic"] + 3.0, scores
    with pytest.raises(ConfigError, match=r"window must be at least 8 LR pixels \(32 HR pixels at ratio 4\), got 28"):
        fuse_pair(lr, hr, tmp_path / "small.tif", method="cnmf", msi_response="oli4", window=30)
    assert not (tmp_path / "small.tif").exists() and not (tmp_path / "small.tif.part").exists()


def test_a_checkpoint_with_an_ensemble_partner_blends_it_on_the_whole_pair_or_in_windows(tmp_path, scene, clean, tiny_checkpoint):
    from s3rnet.training import write_ensemble_checkpoint

    blended_checkpoint = write_ensemble_checkpoint(tiny_checkpoint, tmp_path / "blended.safetensors",
                                                   {"method": "cnmf", "weight": 0.4})
    lr, hr = write_pair(tmp_path, clean, scene)
    common = {"msi_response": "oli4", "tile": 32}
    alone = fuse_pair(lr, hr, tmp_path / "alone.tif", checkpoint=str(tiny_checkpoint), **common)
    partner = fuse_pair(lr, hr, tmp_path / "cnmf.tif", method="cnmf", msi_response="oli4")
    blended = fuse_pair(lr, hr, tmp_path / "blended.tif", checkpoint=str(blended_checkpoint), **common)
    assert blended.report["method"]["ensemble"] == {"method": "cnmf", "weight": 0.4, "applied": True}
    expected = 0.6 * open_image(alone.output).read() + 0.4 * open_image(partner.output).read()
    np.testing.assert_allclose(open_image(blended.output).read(), expected, rtol=1e-5, atol=1e-3)
    assert not any("blends in" in w for w in blended.report["warnings"])

    # Raised by consistency with the pair (through its fitted response and PSF): a barely trained
    # network explains the pair worse than CNMF, so CNMF's share rises above the floor.
    raising = write_ensemble_checkpoint(tiny_checkpoint, tmp_path / "raising.safetensors",
                                        {"method": "cnmf", "weight": 0.4, "share": "consistency"})
    raised = fuse_pair(lr, hr, tmp_path / "raised.tif", checkpoint=str(raising), **common)
    record = raised.report["method"]["ensemble"]
    assert record["applied"] is True and record["floor"] == 0.4 and record["weight"] > 0.5
    expected = (1 - record["weight"]) * open_image(alone.output).read() + record["weight"] * open_image(partner.output).read()
    np.testing.assert_allclose(open_image(raised.output).read(), expected, rtol=1e-5, atol=1e-3)

    switched_off = fuse_pair(lr, hr, tmp_path / "off.tif", checkpoint=str(blended_checkpoint), ensemble=False, **common)
    np.testing.assert_array_equal(open_image(switched_off.output).read(), open_image(alone.output).read())
    assert switched_off.report["method"]["ensemble"]["applied"] is False
    assert not any("blends in" in w for w in switched_off.report["warnings"])

    # Above the window, the partner runs in overlapping windows, each blended at its own share.
    in_windows = fuse_pair(lr, hr, tmp_path / "windows.tif", checkpoint=str(raising), window=48, **common)
    record = in_windows.report["method"]["ensemble"]
    assert record["applied"] is True and record["windows"] == 9 and len(record["window_weights"]) == 9
    assert min(record["window_weights"]) >= 0.4 and record["weight"] == pytest.approx(np.mean(record["window_weights"]))
    scores = {name: psnr(clean.truth, open_image(run.output).read())
              for name, run in (("alone", alone), ("whole", raised), ("windows", in_windows))}
    assert scores["windows"] > scores["alone"] + 1.0 and abs(scores["windows"] - scores["whole"]) < 1.0, scores
    assert not any("blends in" in w for w in in_windows.report["warnings"])
