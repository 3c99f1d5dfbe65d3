"""The Gradio app: its handlers as plain functions, then the real server through gradio_client.

Real data only (Indian Pines from $S3RNET_DATA or the tensorly wheel). The server is started once
for the module (``demo.launch(prevent_thread_lock=True, server_port=FREE_PORT)``) and closed at
the end; its start-up result is computed once. Fusions use the test region (48 x 144) and the fast
baselines to keep the suite quick on two cores. No timings are asserted (see benchmarks/bench_app.py).
"""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app import compute, exports, handlers, results, scenes, views  # noqa: E402
from app.state import SessionState  # noqa: E402
from s3rnet.baselines import get_method  # noqa: E402
from s3rnet.data import split_region  # noqa: E402
from s3rnet.degrade import simulate  # noqa: E402
from s3rnet.evaluation import run_evaluation  # noqa: E402
from s3rnet.errors import ConfigError, S3RNetError, SceneDataError, SceneFormatError, ShapeError  # noqa: E402

FAST = ["bicubic", "gsa", "mtf-glp-hpm"]
# Upload limit of the test server: the Indian Pines ENVI file (8.4 MB) fits, 13 MB does not.
MAX_UPLOAD_MB = 12
METRICS = ("psnr", "sam", "rmse", "ergas", "ssim")
CHECKPOINT = handlers.default_checkpoint("oli4", 200)
pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")  # gradio's, on every table
needs_checkpoint = pytest.mark.skipif(CHECKPOINT is None, reason="no S3RNet checkpoint published in assets/weights")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def test_result(indian_pines):
    """The fast baselines on the test region of Indian Pines, OLI 4-band, no noise."""
    settings = compute.FusionSettings(region="split:test", methods=tuple(FAST))
    return compute.run_fusion(indian_pines, settings)


@pytest.fixture(scope="module")
def server():
    """The real app, served on a free port for the whole module; yields (demo, url)."""
    from app.main import build_demo, launch_options

    demo = build_demo(max_upload_mb=MAX_UPLOAD_MB)
    port = _free_port()
    demo.launch(prevent_thread_lock=True, server_port=port, quiet=True, **launch_options(MAX_UPLOAD_MB))
    try:
        yield demo, f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def _client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False)


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, indian_pines):
    """Files that are not usable scenes, each made from real Indian Pines pixels."""
    from spectral.io import envi

    folder = tmp_path_factory.mktemp("bad")
    cube = indian_pines.cube[:64, :64]
    files: dict[str, list[Path]] = {}

    text = folder / "notes.txt"
    text.write_text("not a scene\n")
    files["wrong extension"] = [text]

    good = folder / "good"
    good.mkdir()
    envi.save_image(str(good / "tile.hdr"), cube, dtype=np.float32, ext=".img", force=True,
                    metadata={"wavelength": [f"{w:.2f}" for w in indian_pines.wavelengths]})
    files["good envi"] = [good / "tile.hdr", good / "tile.img"]

    truncated = folder / "truncated"
    truncated.mkdir()
    (truncated / "tile.hdr").write_text((good / "tile.hdr").read_text())
    (truncated / "tile.img").write_bytes((good / "tile.img").read_bytes()[: 64 * 64 * 50 * 4])
    files["truncated envi"] = [truncated / "tile.hdr", truncated / "tile.img"]

    disagree = folder / "disagree"
    disagree.mkdir()
    header = (good / "tile.hdr").read_text().replace("bands = 200", "bands = 180")
    (disagree / "tile.hdr").write_text(header)
    (disagree / "tile.img").write_bytes((good / "tile.img").read_bytes())
    files["header disagrees"] = [disagree / "tile.hdr", disagree / "tile.img"]

    nan_cube = cube.copy()
    nan_cube[5, 7, 3] = np.nan
    np.savez(folder / "with_nan.npz", cube=nan_cube, wavelengths=indian_pines.wavelengths)
    files["nan"] = [folder / "with_nan.npz"]

    # 60 bands, 400-990 nm: OLI 4 fits inside, but no checkpoint was trained on such bands.
    np.savez(folder / "vnir60.npz", cube=cube[:, :, :60], wavelengths=indian_pines.wavelengths[:60])
    files["vnir60"] = [folder / "vnir60.npz"]

    from scipy.io import savemat

    savemat(folder / "two_cubes.mat", {"radiance": cube[:, :, :40], "mask": np.ones((64, 64, 2))})
    files["two cubes"] = [folder / "two_cubes.mat"]

    np.save(folder / "tiny.npy", cube[:20, :20, :])
    files["tiny"] = [folder / "tiny.npy"]

    big = np.zeros((128, 128, 100), dtype=np.float64) + 1.0  # 13.1 MB, over the app's 12 MB
    np.save(folder / "big.npy", big)
    files["over app limit"] = [folder / "big.npy"]

    huge = np.ones((128, 128, 200), dtype=np.float64)  # 26.2 MB, over the server's 24 MB
    np.save(folder / "huge.npy", huge)
    files["over server limit"] = [folder / "huge.npy"]
    return files


# --------------------------------------------------------------------------------------------
# Handlers as plain functions
# --------------------------------------------------------------------------------------------


def test_regions_of_indian_pines(indian_pines):
    choices = dict((value, label) for label, value in scenes.region_choices(indian_pines))
    # The page opens on the region no checkpoint was trained or selected on.
    assert list(choices) == ["split:test", "split:val", "split:train", "whole"]
    assert scenes.default_region(indian_pines) == "split:test" == handlers.default_settings().region
    assert "never trained on" in choices["split:test"]
    assert scenes.cut_region(indian_pines, "whole").shape[:2] == (144, 144)
    test = scenes.cut_region(indian_pines, "split:test")
    assert test.shape[:2] == (48, 144)
    assert scenes.region_box(test) == ((96, 144), (0, 144))
    with pytest.raises(ShapeError, match="unknown region"):
        scenes.cut_region(indian_pines, "somewhere")


def test_large_scene_offers_flush_tiles(indian_pines):
    mosaic = indian_pines.with_cube(np.tile(indian_pines.cube[:, :, :20], (3, 2, 1)), wavelengths=indian_pines.wavelengths[:20],
                                    fwhm=indian_pines.fwhm[:20], name="mosaic")  # 435 x 290
    values = [value for _, value in scenes.region_choices(mosaic)]
    assert "whole" not in values  # too large to fuse at once on a CPU
    assert values == ["tile:0,0", "tile:0,144", "tile:144,0", "tile:144,144", "tile:288,0", "tile:288,144"]
    assert scenes.default_region(mosaic) == "tile:0,0"
    tile = scenes.cut_region(mosaic, "tile:288,144")
    assert tile.shape[:2] == (144, 144)
    np.testing.assert_array_equal(tile.cube, mosaic.cube[288:432, 144:288])


def test_scene_smaller_than_a_tile_is_refused(indian_pines):
    small = indian_pines.with_cube(indian_pines.cube[:20, :20], name="small")
    with pytest.raises(ShapeError, match="smaller than one tile"):
        scenes.region_choices(small)


def test_wavelengths_typed_by_the_user():
    np.testing.assert_allclose(scenes.parse_wavelengths("400-1000", 4), [400, 600, 800, 1000])
    np.testing.assert_allclose(scenes.parse_wavelengths("450, 550;650 750", 4), [450, 550, 650, 750])
    assert scenes.parse_wavelengths("  ", 4) is None
    with pytest.raises(S3RNetError, match="3 wavelengths typed for a scene of 4 bands"):
        scenes.parse_wavelengths("1, 2, 3", 4)
    with pytest.raises(S3RNetError, match="not numbers"):
        scenes.parse_wavelengths("blue, green", 2)


def test_regions_a_checkpoint_saw_come_from_its_sources_too():
    single = {"scene": "indian_pines", "region": "train", "val_region": "val"}
    assert handlers.trained_regions(single, "indian_pines") == ["train", "val"]
    assert handlers.trained_regions(single, "synthetic:3") == []
    sources = {"scene": "indian_pines", "region": None, "val_region": "val",
               "sources": [{"source": "synthetic", "share": 0.75}, {"source": "indian_pines:train", "share": 0.25}]}
    assert handlers.trained_regions(sources, "indian_pines") == ["val", "train"]


def test_settings_from_controls_are_checked():
    settings = handlers.make_settings("indian_pines", "split:test", "oli6", "gaussian", False, 20, True, 35,
                                      0.5, -1, 7, ["gsa"], "none", True, 40, True)
    assert settings.lrhsi_snr_db == 20 and math.isinf(settings.hrmsi_snr_db)
    assert settings.shift == (0.5, -1.0) and settings.seed == 7
    assert settings.checkpoint is None and settings.adapt_steps == 0 and not settings.project  # no S3RNet
    with pytest.raises(ConfigError, match="between 5 and 50 dB"):
        handlers.make_settings("indian_pines", "whole", "oli4", "box", False, 80, True, 35, 0, 0, 0,
                               ["gsa"], None, False, 0)
    with pytest.raises(ConfigError, match="seed"):
        handlers.make_settings("indian_pines", "whole", "oli4", "box", True, 35, True, 35, 0, 0, 1.5,
                               ["gsa"], None, False, 0)
    with pytest.raises(ConfigError, match="unknown SNR convention 'percent'"):
        handlers.make_settings("indian_pines", "whole", "oli4", "box", False, 15, True, 35, 0, 0, 0,
                               ["gsa"], None, False, 0, snr_reference="percent")
    assert settings.ratio == 4  # the paper's, by default
    assert handlers.make_settings("indian_pines", "whole", "oli4", "box", True, 35, True, 35, 0, 0, 0,
                                  ["gsa"], None, False, 0, ratio=3.0).ratio == 3
    for ratio in (5, 2.5, "four", None):
        with pytest.raises(ConfigError, match="the ratio must be one of 2, 3, 4, 6, 8"):
            handlers.make_settings("indian_pines", "whole", "oli4", "box", True, 35, True, 35, 0, 0, 0,
                                   ["gsa"], None, False, 0, ratio=ratio)


def test_fusion_result_matches_the_library(test_result, test_region):
    simulation = simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4", psf="box", ratio=4)
    np.testing.assert_array_equal(test_result.truth, simulation.truth)
    np.testing.assert_array_equal(test_result.lrhsi, simulation.lrhsi)
    np.testing.assert_array_equal(test_result.outputs["gsa"], get_method("gsa")(simulation.inputs()))
    assert test_result.methods == FAST
    assert test_result.box == ((96, 144), (0, 144))


def test_pixel_spectra_are_the_cubes_at_that_pixel(test_result, indian_pines):
    spectra = compute.pixel_spectra(test_result, 17, 30)
    assert (spectra["x"], spectra["y"], spectra["row"], spectra["col"]) == (17, 30, 126, 17)
    order = np.argsort(indian_pines.wavelengths)
    np.testing.assert_allclose(spectra["wavelengths_nm"], indian_pines.wavelengths[order], atol=1e-3)
    assert np.all(np.diff(spectra["wavelengths_nm"]) > 0)  # AVIRIS overlaps sorted out
    np.testing.assert_allclose(spectra["spectra"][compute.TRUTH], indian_pines.cube[126, 17, order], rtol=1e-6)
    np.testing.assert_allclose(spectra["spectra"]["GSA"], test_result.outputs["gsa"][30, 17, order], rtol=1e-6)
    # The upsampled LR-HSI repeats the LR pixel that covers (x, y).
    np.testing.assert_allclose(spectra["spectra"][compute.LOW_RES], test_result.lrhsi[30 // 4, 17 // 4, order], rtol=1e-6)
    with pytest.raises(ShapeError, match="outside"):
        compute.pixel_spectra(test_result, 144, 0)


def test_profile_leaves_gaps_at_missing_bands(test_result):
    spectra = compute.pixel_spectra(test_result, 3, 3)
    figure = views.spectrum_figure(spectra)
    truth = next(trace for trace in figure.data if trace.name == compute.TRUTH)
    x = list(truth.x)
    gaps = [i for i, value in enumerate(x) if value is None]
    # Indian Pines' corrected set drops the water-absorption bands near 1400 and 1900 nm (and
    # the last one): two gaps, between the bands on either side of each window.
    assert len(gaps) == 2
    assert 1300 < x[gaps[0] - 1] < 1400 < x[gaps[0] + 1] < 1500
    assert 1750 < x[gaps[1] - 1] < 1900 < x[gaps[1] + 1] < 2000
    assert len(figure.data) == 2 + len(test_result.methods)
    assert "x=3, y=3" in figure.layout.title.text


def test_composites_share_the_ground_truth_stretch(test_result):
    composites = views.composite_views(test_result, "true colour", "gsa")
    truth = composites["truth"][0]
    factor = views.display_factor(48, 144)
    assert truth.shape == (48 * factor, 144 * factor, 3)
    # 2-98 percentile stretch of the ground truth: about 2% of its values clip at each end.
    assert 0.005 < np.mean(truth == 255) < 0.04 and 0.005 < np.mean(truth == 0) < 0.04
    bands = views.nearest_bands(test_result.wavelengths, 200, views.COLOUR_MODES["true colour"])
    low, high = views.stretch_limits(test_result.truth[:, :, bands])
    expected = views.to_uint8(test_result.outputs["gsa"][:, :, bands], low, high)
    np.testing.assert_array_equal(composites["baseline"][0][::factor, ::factor], expected)
    false_colour = views.composite_views(test_result, "false colour (NIR, red, green)", "gsa")
    assert "860" not in composites["caption"][1] and "nm" in false_colour["caption"][1]
    assert not np.array_equal(false_colour["truth"][0], truth)


def test_band_view_follows_the_wavelength(test_result):
    near, caption = views.band_views(test_result, 850.0, "gsa")
    band = views.nearest_band(test_result, 850.0)
    assert abs(test_result.wavelengths[band] - 850.0) < 6
    assert f"{test_result.wavelengths[band]:.1f} nm" in caption
    far, _ = views.band_views(test_result, 2200.0, "gsa")
    assert not np.array_equal(near["truth"][0], far["truth"][0])
    assert set(near) == {"truth", "lrhsi", "hrmsi", "fused", "baseline"}


def test_error_maps_share_one_scale_per_metric(test_result):
    maps = views.error_views(test_result, "gsa")
    assert set(maps) == {"sam_fused", "sam_baseline", "rmse_fused", "rmse_baseline"}
    sam_fused, _ = test_result.error_maps(test_result.fused_method)
    # The mean of the map shown is the library's SAM map mean (the metric's own numbers).
    assert f"{float(np.mean(sam_fused)):.3g}" in maps["sam_fused"][1]


def test_metrics_table_and_json(test_result):
    table = views.metrics_table(test_result)
    assert list(table["method"]) == ["Bicubic", "GSA", "MTF-GLP-HPM"]
    assert table.loc[1, "PSNR dB"] == round(test_result.metrics["gsa"]["psnr"], 2)
    document = json.loads(json.dumps(test_result.to_json()))
    assert document["methods"]["gsa"]["psnr"] == test_result.metrics["gsa"]["psnr"]
    assert document["protocol"]["region"] == {"rows": [96, 144], "cols": [0, 144]}


def test_exports_round_trip(test_result, tmp_path):
    from spectral.io import envi

    header, data = exports.write_envi(test_result, tmp_path, "gsa")
    image = envi.open(str(header), str(data))
    np.testing.assert_array_equal(np.asarray(image.load()), test_result.outputs["gsa"])
    np.testing.assert_allclose([float(w) for w in image.metadata["wavelength"]], test_result.wavelengths, atol=1e-3)
    assert len(image.metadata["fwhm"]) == 200
    csv_path, json_path = exports.write_metrics(test_result, tmp_path)
    rows = csv_path.read_text().splitlines()
    assert rows[0] == "method,psnr,sam,rmse,ergas,ssim,seconds"
    assert float(rows[2].split(",")[1]) == test_result.metrics["gsa"]["psnr"]
    assert json.loads(json_path.read_text())["methods"] == test_result.metrics
    clicks = [compute.pixel_spectra(test_result, 1, 2), compute.pixel_spectra(test_result, 5, 6)]
    spectra_path = exports.write_spectra(clicks, tmp_path)
    lines = spectra_path.read_text().splitlines()
    assert len(lines) == 201 and lines[0].count("x5_y6") == 2 + len(FAST)
    with pytest.raises(ValueError, match="no pixel clicked"):
        exports.write_spectra([], tmp_path)


def test_uploads_read_and_refuse_clearly(bad_files):
    scene = scenes.read_upload(bad_files["good envi"])
    assert scene.shape == (64, 64, 200) and scene.wavelengths is not None
    problems = {
        "wrong extension": (SceneFormatError, "unsupported file type"),
        "truncated envi": (SceneFormatError, "truncated"),
        "header disagrees": (SceneFormatError, "disagrees"),
        "nan": (SceneDataError, "NaN"),
        "tiny": (ShapeError, "smaller than one tile"),
        "over app limit": (scenes.UploadError, "over the limit of 12 MB"),
    }
    for name, (error, message) in problems.items():
        with pytest.raises(error, match=message):
            scenes.read_upload(bad_files[name], max_bytes=MAX_UPLOAD_MB * 2**20)
    with pytest.raises(SceneFormatError, match="several 3-D arrays"):
        scenes.read_upload(bad_files["two cubes"])
    chosen = scenes.read_upload(bad_files["two cubes"], "400-800", variable="radiance")
    assert chosen.shape == (64, 64, 40) and chosen.wavelengths[-1] == 800
    with pytest.raises(scenes.UploadError, match="needs its .hdr"):
        scenes.read_upload([bad_files["good envi"][1]])
    with pytest.raises(scenes.UploadError, match="without its data file"):
        scenes.read_upload([bad_files["good envi"][0]])


def test_sessions_keep_their_own_results(test_result):
    first, second = SessionState(), SessionState()
    spectra, first = handlers.spectrum(2, 3, first, test_result)
    assert first.pixel == (2, 3) and len(first.clicks) == 1 and second.clicks == []
    assert handlers.click_to_pixel([2 * views.display_factor(48, 144) + 1, 7], None, test_result) == (2, 7 // views.display_factor(48, 144))


def test_results_beyond_the_budget_are_dropped_and_computed_again(monkeypatch, test_result):
    """Sessions keep settings only; the store drops old results and a session gets its own back."""
    store = results.ResultStore(2**40)
    monkeypatch.setattr(handlers, "RESULTS", store)
    settings = [compute.FusionSettings(region="split:test", methods=("bicubic", "gsa"), seed=seed,
                                       lrhsi_snr_db=25.0) for seed in (1, 2)]
    first, session_a, _ = handlers.fuse(settings[0], None)
    one_result = store.total_bytes()
    assert one_result == results.nbytes(first) > first.truth.nbytes
    store.budget_bytes = one_result + 2**20  # room for one result only
    second, session_b, _ = handlers.fuse(settings[1], None)
    assert store.evictions == 1 and len(store) == 1 and store.total_bytes() <= store.budget_bytes
    assert session_a.settings == settings[0] and not hasattr(session_a, "result")
    again = handlers.session_result(session_a, test_result)
    assert again is not first  # computed again, to the same numbers (the noise is seeded)
    np.testing.assert_array_equal(again.outputs["gsa"], first.outputs["gsa"])
    assert again.metrics["gsa"]["psnr"] == first.metrics["gsa"]["psnr"]
    assert handlers.session_result(session_b, test_result).metrics["gsa"]["psnr"] != first.metrics["gsa"]["psnr"]
    # A pinned result (the start-up one) stays whatever comes after it.
    store.put(("pinned",), test_result, pin=True)
    handlers.fuse(settings[0], None)
    assert store.get(("pinned",)) is test_result


def test_adaptation_gives_way_to_plain_fusions():
    lanes = results.FusionLanes()
    steps: list[int] = []
    inside, finish = threading.Event(), threading.Event()

    def adapt() -> None:
        with lanes.adaptation():
            while not finish.is_set():
                lanes.give_way()
                steps.append(len(steps))
                inside.set()

    worker = threading.Thread(target=adapt)
    worker.start()
    assert inside.wait(30)
    with lanes.plain():
        # Between two steps the adaptation waits: no step completes while the plain fusion runs.
        frozen = len(steps)
        for _ in range(200):
            threading.Event().wait(0.001)
        assert len(steps) <= frozen + 1
    inside.clear()
    assert inside.wait(30)  # and it goes on afterwards
    finish.set()
    worker.join(30)
    assert not worker.is_alive()


def test_closing_a_tab_frees_its_session(bad_files):
    from app.state import OpenSessions

    state = SessionState()
    state.add_upload("upload:tile", scenes.read_upload(bad_files["good envi"]))
    state.export_folder()
    open_sessions = OpenSessions()
    open_sessions.remember("hash-1", state)
    assert open_sessions.close("hash-1") and not open_sessions.close("hash-1")
    assert state.uploads == {} and state._folder is None


def test_uploads_per_session_are_bounded(bad_files):
    state = SessionState()
    scene = scenes.read_upload(bad_files["good envi"])
    for name in ("a", "b", "c"):
        state.add_upload(f"upload:{name}", scene)
    assert list(state.uploads) == ["upload:b", "upload:c"]


def test_msi_responses_that_fit_a_vnir_scene(indian_pines):
    keep = (indian_pines.wavelengths > 460) & (indian_pines.wavelengths < 940)
    vnir = indian_pines.with_cube(indian_pines.cube[:64, :64, keep], wavelengths=indian_pines.wavelengths[keep],
                                  fwhm=indian_pines.fwhm[keep], name="vnir", meta={"uploaded": True})
    fitting = scenes.fitting_responses(vnir)
    assert "oli4" not in fitting and {"s2-4", "binning4"} <= set(fitting)
    session = SessionState()
    session.add_upload("upload:vnir", vnir)
    options = handlers.scene_options("upload:vnir", session, "oli4")
    assert [value for _, value in options.msi_choices] == fitting
    assert options.msi in fitting and "oli4" in options.description and "s2-4" in options.description
    with pytest.raises(ConfigError, match="choose one of: .*s2-4"):
        handlers.fuse(compute.FusionSettings(scene="upload:vnir", methods=("bicubic",), msi="oli4"), session)
    result, _, _ = handlers.fuse(compute.FusionSettings(scene="upload:vnir", region="whole", methods=("bicubic",),
                                                        msi=options.msi), session)
    assert result.methods == ["bicubic"]


def test_micrometres_and_one_band_scenes_at_load(tmp_path, indian_pines):
    cube = indian_pines.cube[:64, :64]
    np.savez(tmp_path / "micro.npz", cube=cube, wavelengths=indian_pines.wavelengths / 1000)
    scene = scenes.read_upload([tmp_path / "micro.npz"])
    np.testing.assert_allclose(scene.wavelengths, indian_pines.wavelengths)
    assert "micrometres" in scene.meta["wavelength_note"]
    np.save(tmp_path / "plain.npy", cube[:, :, :40])
    typed = scenes.read_upload([tmp_path / "plain.npy"], "0.4-0.8")
    assert typed.wavelengths[0] == 400 and typed.wavelengths[-1] == 800 and "micrometres" in typed.meta["wavelength_note"]
    outcome, _ = handlers.load_upload([str(tmp_path / "micro.npz")], "", None, 2**30)
    assert outcome.ok and "converted to 400-2489 nm" in outcome.message
    np.save(tmp_path / "one_band.npy", cube[:, :, :1])
    with pytest.raises(ShapeError, match="1 band"):
        scenes.read_upload([tmp_path / "one_band.npy"], "650")


def test_messages_name_no_server_paths(bad_files):
    outcome, _ = handlers.load_upload(bad_files["truncated envi"], "", None, 2**30)
    assert not outcome.ok and "truncated" in outcome.message and "/" not in outcome.message.replace(" / ", "")
    assert handlers.public_message("checkpoint /srv/app/assets/weights/lite-oli4.json is old, 1/4 done") == \
        "checkpoint lite-oli4.json is old, 1/4 done"


def test_server_address_follows_gradio_variables():
    from app.main import server_address

    assert server_address({}) == ("127.0.0.1", 7860)
    assert server_address({"S3RNET_APP_HOST": "0.0.0.0", "S3RNET_APP_PORT": "9000"}) == ("0.0.0.0", 9000)
    assert server_address({"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "7861",
                           "S3RNET_APP_PORT": "9000"}) == ("0.0.0.0", 7861)


@needs_checkpoint
def test_other_ratios_run_where_the_checkpoint_was_validated(indian_pines):
    """At ratio 3 (validated) S3RNet fuses the test region as `evaluate --ratio 3` does and beats
    its skip; at 8 (neither trained nor validated) it is refused by name and the baselines run."""
    methods = (compute.MODEL, "gsa", "hysime-wiener-hybrid")
    at_3 = compute.run_fusion(indian_pines, compute.FusionSettings(
        region="split:test", methods=methods, checkpoint=CHECKPOINT, ratio=3))
    assert at_3.fused_method == compute.MODEL and at_3.settings.ratio == 3
    assert at_3.lrhsi.shape[:2] == (16, 48) and at_3.upsampled_lrhsi.shape == at_3.truth.shape
    library = run_evaluation(indian_pines, split="test", methods=list(methods), msi="oli4", psf="box", ratio=3,
                             checkpoint=CHECKPOINT)
    for method in methods:
        assert at_3.metrics[method]["psnr"] == pytest.approx(library.methods[method]["psnr"], rel=1e-6)
    assert at_3.metrics[compute.MODEL]["psnr"] > at_3.metrics["hysime-wiener-hybrid"]["psnr"]

    at_8 = compute.run_fusion(indian_pines, compute.FusionSettings(
        region="split:test", methods=methods, checkpoint=CHECKPOINT, ratio=8))
    assert at_8.fused_method is None and at_8.baselines == ["gsa", "hysime-wiener-hybrid"]
    assert "trained for ratio 4 and validated at ratio 2, 3, 6; this scene has ratio 8" in at_8.model_problem
    assert at_8.lrhsi.shape[:2] == (6, 18) and at_8.box == ((96, 144), (0, 144))
    # The larger gap costs the classical methods: GSA loses against its own score at ratio 3.
    assert at_8.metrics["gsa"]["psnr"] < at_3.metrics["gsa"]["psnr"] - 1


def test_region_box_is_the_part_fused_at_the_ratio(indian_pines):
    """A region whose sides are not multiples of the ratio is cropped by the library; the box says which part."""
    from s3rnet.data import crop

    scene = crop(indian_pines, (0, 100), (0, 100))
    result = compute.run_fusion(scene, compute.FusionSettings(region="whole", methods=("gsa",), ratio=3))
    assert result.truth.shape[:2] == (99, 99) and result.box == ((0, 99), (0, 99))
    assert result.upsampled_lrhsi.shape == result.truth.shape
    assert "rows 0-99, cols 0-99 (99 x 99 px, 200 bands); ratio 3" in handlers.status_text(result)


def test_s3rnet_that_cannot_run_is_not_replaced(indian_pines):
    """S3RNet chosen but refused (here: no weights given): its slot says so, no baseline stands in."""
    settings = compute.FusionSettings(region="split:test", methods=("s3rnet", "bicubic", "gsa"), checkpoint=None)
    result = compute.run_fusion(indian_pines, settings)
    assert result.fused_method is None and result.baselines == ["bicubic", "gsa"]
    composites = views.composite_views(result, "true colour", "gsa")
    assert composites["fused"][1].startswith("S3RNet did not run")
    assert not np.array_equal(composites["fused"][0], composites["baseline"][0])
    bands, _ = views.band_views(result, 650, "gsa")
    assert bands["fused"][1].startswith("S3RNet did not run")
    assert views.error_views(result, "gsa")["sam_fused"][1] == "S3RNet did not run"


# --------------------------------------------------------------------------------------------
# The real server through gradio_client
# --------------------------------------------------------------------------------------------


def test_server_opens_with_a_complete_result(server):
    demo, url = server
    client = _client(url)
    info = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/fuse", "/spectrum", "/load_scene", "/export_cube", "/export_metrics", "/export_spectra"} <= set(info)
    assert {"/pair_example", "/pair_fuse", "/pair_pixel"} <= set(info)  # the "Your own pair" tab
    assert all(p["parameter_has_default"] for p in info["/fuse"]["parameters"])
    assert "snr_reference" in [p["parameter_name"] for p in info["/fuse"]["parameters"]]
    assert [p["parameter_name"] for p in info["/spectrum"]["parameters"]] == ["x", "y"]
    startup = demo.startup_result
    # The test region, on the published network's band grid when it ran (172 bands), else the scene's 200.
    bands = 172 if "s3rnet" in startup.methods else 200
    assert startup.shape == (48, 144, bands) and set(FAST) <= set(startup.methods)
    assert startup.box == ((96, 144), (0, 144))
    # A new session sees the start-up result before fusing anything.
    values = client.predict(x=10, y=20, api_name="/spectrum")[0]
    np.testing.assert_allclose(values["spectra"][compute.TRUTH], compute.pixel_spectra(startup, 10, 20)["spectra"][compute.TRUTH])


def _cli_metrics(tmp_path: Path, methods: list[str], extra: list[str]) -> dict:
    out = tmp_path / "cli.json"
    command = [sys.executable, "-m", "s3rnet", "evaluate", "--scene", "indian_pines", "--split", "test",
               "--msi", "oli4", "--psf", "gaussian", "--snr-db", "30", "--seed", "5",
               "--methods", ",".join(methods), "--json", str(out), *extra]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True, timeout=300)
    return json.loads(out.read_text())


def test_fuse_and_spectrum_equal_the_cli(server, tmp_path, indian_pines):
    _, url = server
    client = _client(url)
    methods = ([compute.MODEL] if CHECKPOINT else []) + FAST
    outputs = client.predict(region="split:test", psf="gaussian", lrhsi_no_noise=False, lrhsi_snr_db=30, seed=5,
                             methods=methods, project=bool(CHECKPOINT), api_name="/fuse")
    status, table, evaluation = outputs[0], outputs[1], outputs[2]
    assert status.startswith("**Done**")
    assert [row[0] for row in table["data"]] == [views.label(m) for m in methods]
    extra = ["--checkpoint", CHECKPOINT, "--project"] if CHECKPOINT else []
    cli = _cli_metrics(tmp_path, methods, extra)
    assert set(evaluation["methods"]) == set(cli["methods"])
    for method, scores in cli["methods"].items():
        for metric in METRICS:
            assert evaluation["methods"][method][metric] == pytest.approx(scores[metric], rel=1e-6), (method, metric)
    assert evaluation["protocol"]["region"] == cli["protocol"]["region"]
    assert "/" not in evaluation["protocol"]["source"] and "/" not in status  # no server paths
    assert evaluation["protocol"]["lrhsi_snr_db"] == 30.0 and evaluation["protocol"]["psf"] == "gaussian"
    if CHECKPOINT:
        assert evaluation["protocol"]["projection"]["factor"] > 0 and "projected onto its inputs" in status
        ensemble = evaluation["protocol"]["ensemble"]
        assert ensemble["applied"]
        if ensemble.get("weights"):
            assert (f"blended with PCA-Wiener-CNMF band by band at {100 * min(ensemble['weights']):.0f}-"
                    f"{100 * max(ensemble['weights']):.0f}% (mean {100 * ensemble['weight']:.0f}%" in status)
        else:
            assert f"blended with PCA-Wiener-CNMF at {100 * ensemble['weight']:.0f}%" in status

    values = client.predict(x=40, y=11, api_name="/spectrum")[0]
    region = split_region(indian_pines, "test")
    if CHECKPOINT:  # every method ran on the network's band grid
        from s3rnet.checkpoints import read_pair
        from s3rnet.inference import prepare_scene, resolve_checkpoint

        region = prepare_scene(region, read_pair(resolve_checkpoint(CHECKPOINT))[1])
    order = np.argsort(region.wavelengths)
    np.testing.assert_allclose(values["spectra"][compute.TRUTH], region.cube[11, 40, order], rtol=1e-6)
    simulation = simulate(region.cube, region.wavelengths, region.fwhm, msi="oli4", psf="gaussian",
                          lrhsi_snr_db=30, seed=5)
    bicubic = get_method("bicubic")(simulation.inputs())
    np.testing.assert_allclose(values["spectra"]["Bicubic"], bicubic[11, 40, order], rtol=1e-5)
    np.testing.assert_allclose(values["spectra"][compute.LOW_RES], simulation.lrhsi[2, 10, order], rtol=1e-6)


def test_authors_snr_convention_and_hysime_gsa_through_the_api(server, tmp_path):
    _, url = server
    client = _client(url)
    methods = ["gsa", "hysime-gsa"]
    outputs = client.predict(region="split:test", psf="gaussian", lrhsi_no_noise=False, lrhsi_snr_db=30, seed=5,
                             methods=methods, snr_reference="authors", api_name="/fuse")
    status, evaluation = outputs[0], outputs[2]
    assert "(the authors' convention)" in status and evaluation["protocol"]["snr_reference"] == "authors"
    cli = _cli_metrics(tmp_path, methods, ["--snr-reference", "authors"])
    for method in methods:
        assert evaluation["methods"][method]["psnr"] == pytest.approx(cli["methods"][method]["psnr"], rel=1e-6)
    # Their 30 dB is noisier than ours: GSA, which keeps the noise, scores lower than at our 30 dB.
    ours = client.predict(region="split:test", psf="gaussian", lrhsi_no_noise=False, lrhsi_snr_db=30, seed=5,
                          methods=methods, api_name="/fuse")[2]
    assert evaluation["methods"]["gsa"]["psnr"] < ours["methods"]["gsa"]["psnr"] - 1


def test_ratio_through_the_api_equals_the_cli(server, tmp_path):
    _, url = server
    client = _client(url)
    methods = ["gsa", "mtf-glp-hpm"]
    outputs = client.predict(region="split:test", psf="gaussian", lrhsi_no_noise=False, lrhsi_snr_db=30, seed=5,
                             methods=methods, ratio=3, api_name="/fuse")
    status, evaluation = outputs[0], outputs[2]
    assert "ratio 3" in status and evaluation["protocol"]["ratio"] == 3
    cli = _cli_metrics(tmp_path, methods, ["--ratio", "3"])
    for method in methods:
        for metric in METRICS:
            assert evaluation["methods"][method][metric] == pytest.approx(cli["methods"][method][metric], rel=1e-6)
    # Gradio's radio refuses a ratio it does not offer, naming the choices; the app keeps serving.
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=r"5 .* is not in the list of choices: \[2, 3, 4, 6, 8\]"):
        client.predict(methods=methods, ratio=5, api_name="/fuse")
    assert client.predict(region="split:test", methods=["gsa"], ratio=6, api_name="/fuse")[2]["protocol"]["ratio"] == 6


def test_details_fill_the_other_tabs_for_the_sessions_last_fusion(server, indian_pines):
    _, url = server
    client = _client(url)
    client.predict(region="split:test", methods=FAST, seed=3, api_name="/fuse")
    outputs = client.predict(wavelength_nm=800, baseline="mtf-glp-hpm", api_name="/details")
    assert len(outputs) == 16  # swipe, 5 band views + caption, 4 error maps, PSNR plot, weights, reading + 2 plots
    assert "S3RNet did not run" in outputs[13]
    region = split_region(indian_pines, "test")
    nearest = region.wavelengths[np.argmin(np.abs(region.wavelengths - 800))]
    assert f"{nearest:.1f} nm" in outputs[6]
    psnr_plot = json.loads(outputs[11]["plot"])
    assert [trace["name"] for trace in psnr_plot["data"]] == ["Bicubic", "GSA", "MTF-GLP-HPM"]
    # Without S3RNet the first method is shown as the fused result, beside the baseline asked for.
    assert "Bicubic" in outputs[7]["label"] and "MTF-GLP-HPM" in outputs[8]["label"]


def test_eight_concurrent_clients_get_their_own_answers(server, indian_pines):
    _, url = server
    region = split_region(indian_pines, "test")
    order = np.argsort(region.wavelengths)
    answers: dict[int, tuple] = {}
    failures: list[BaseException] = []

    def user(index: int) -> None:
        try:
            client = _client(url)
            seed, snr = 100 + index, 10 + 4 * index
            evaluation = client.predict(region="split:test", lrhsi_no_noise=False, lrhsi_snr_db=snr, seed=seed,
                                        methods=["bicubic"], api_name="/fuse")[2]
            values = client.predict(x=index, y=2 * index, api_name="/spectrum")[0]
            answers[index] = (seed, snr, evaluation, values)
        except BaseException as exc:  # noqa: BLE001 - reported below with the others
            failures.append(exc)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not failures, failures
    assert len(answers) == 8
    for index, (seed, snr, evaluation, values) in answers.items():
        assert evaluation["protocol"]["seed"] == seed and evaluation["protocol"]["lrhsi_snr_db"] == snr
        expected = simulate(region.cube, region.wavelengths, region.fwhm, msi="oli4", lrhsi_snr_db=snr, seed=seed)
        assert (values["x"], values["y"]) == (index, 2 * index)
        np.testing.assert_allclose(values["spectra"][compute.LOW_RES],
                                   expected.lrhsi[2 * index // 4, index // 4, order], rtol=1e-6)
    psnrs = {answer[2]["methods"]["bicubic"]["psnr"] for answer in answers.values()}
    assert len(psnrs) == 8  # eight different problems, eight different scores


def test_bad_inputs_through_the_api_leave_the_app_serving(server, bad_files):
    from gradio_client import handle_file

    _, url = server
    client = _client(url)
    client.predict(region="split:test", methods=["bicubic"], seed=9, api_name="/fuse")
    before = client.predict(x=3, y=4, api_name="/spectrum")[0]

    def load(name: str, wavelengths: str = ""):
        return client.predict(files=[handle_file(str(p)) for p in bad_files[name]], wavelengths_text=wavelengths,
                              api_name="/load_scene")

    expectations = {
        "wrong extension": "unsupported file type",
        "truncated envi": "truncated",
        "header disagrees": "disagrees with the data",
        "nan": "NaN",
        "tiny": "smaller than one tile",
        "over app limit": "over the limit of 12 MB",
    }
    for name, message in expectations.items():
        status = load(name)[0]
        assert status.startswith("**Problem:**") and message in status, (name, status)
        # The app still answers, and this session's last result is untouched.
        assert client.predict(x=3, y=4, api_name="/spectrum")[0] == before

    # Over the server's own limit: refused before the app sees it; the app keeps serving.
    with pytest.raises(Exception, match="(?i)size|large|exceed|413"):
        load("over server limit")
    assert client.predict(x=3, y=4, api_name="/spectrum")[0] == before

    # Bad settings through /fuse: a clear message, the session keeps its result.
    with pytest.raises(Exception, match="greater than maximum value 50"):  # gradio checks the slider's range
        client.predict(region="split:test", lrhsi_no_noise=False, lrhsi_snr_db=70, api_name="/fuse")
    status = client.predict(region="split:test", methods=[], api_name="/fuse")[0]
    assert status.startswith("**Problem:**") and "no method chosen" in status
    outputs = client.predict(region="tile:500,500", api_name="/fuse")
    status = outputs[0]
    assert status.startswith("**Problem:**") and "unknown region" in status and "cleared" in status
    # No view keeps the previous result: an empty table, no composites, the problem in the JSON.
    assert outputs[1]["data"] == [] and "unknown region" in outputs[2]["problem"]
    assert all(image is None or image.get("value") is None for image in outputs[3:8]), outputs[3:8]
    cleared = client.predict(api_name="/details")
    assert all(image is None or image.get("value") is None for image in cleared[1:6])
    assert client.predict(x=3, y=4, api_name="/spectrum")[0] == before
    status = client.predict(x=999, y=4, api_name="/spectrum")
    assert client.predict(x=3, y=4, api_name="/spectrum")[0] == before

    # Bands no checkpoint supports: the baselines run, S3RNet says why it cannot.
    status, scene_update = load("vnir60")[:2]
    assert status.startswith("**Loaded vnir60")
    outputs = client.predict(scene="upload:vnir60", region="whole", methods=[compute.MODEL, "bicubic", "gsa"],
                             api_name="/fuse")
    assert outputs[0].startswith("**Done**") and "S3RNet did not run" in outputs[0]
    assert set(outputs[2]["methods"]) == {"bicubic", "gsa"}
    if CHECKPOINT:
        assert "wavelength" in outputs[0] or "bands" in outputs[0]
    spectra = client.predict(x=1, y=1, api_name="/spectrum")[0]
    assert len(spectra["wavelengths_nm"]) == 60 and spectra["scene"] == "vnir60"

    # A good ENVI upload after all that: loaded and fused.
    status = load("good envi")[0]
    assert status.startswith("**Loaded tile")
    outputs = client.predict(scene="upload:tile", region="whole", methods=["bicubic"], api_name="/fuse")
    assert outputs[0].startswith("**Done**") and outputs[2]["protocol"]["region"] == {"rows": [0, 64], "cols": [0, 64]}


def test_uploads_stay_in_their_session(server, bad_files):
    from gradio_client import handle_file

    _, url = server
    owner, stranger = _client(url), _client(url)
    owner.predict(files=[handle_file(str(p)) for p in bad_files["good envi"]], api_name="/load_scene")
    status = stranger.predict(scene="upload:tile", region="whole", methods=["bicubic"], api_name="/fuse")[0]
    assert "no uploaded scene 'tile' in this session" in status


def test_exports_through_the_api(server, tmp_path):
    from spectral.io import envi

    _, url = server
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=str(tmp_path))
    evaluation = client.predict(region="split:test", methods=["gsa", "bicubic"], seed=11, api_name="/fuse")[2]
    client.predict(x=7, y=8, api_name="/spectrum")
    cube_files = client.predict(api_name="/export_cube")
    header = next(Path(f) for f in cube_files if str(f).endswith(".hdr"))
    data = next(Path(f) for f in cube_files if str(f).endswith(".img"))
    image = envi.open(str(header), str(data))
    assert image.shape == (48, 144, 200) and len(image.metadata["wavelength"]) == 200
    metric_files = client.predict(api_name="/export_metrics")
    document = json.loads(Path(next(f for f in metric_files if str(f).endswith(".json"))).read_text())
    assert document["methods"] == evaluation["methods"]
    spectra_file = client.predict(api_name="/export_spectra")[0]
    assert "x7_y8 ground truth" in Path(spectra_file).read_text().splitlines()[0]


# --------------------------------------------------------------------------------------------
# S3RNet in the app (a published checkpoint is needed)
# --------------------------------------------------------------------------------------------


@needs_checkpoint
def test_s3rnet_views_show_the_library_analysis(indian_pines):
    from s3rnet.analysis import branch_weight_stats, channel_energy

    settings = compute.FusionSettings(region="split:test", methods=("s3rnet", "gsa"), checkpoint=CHECKPOINT)
    result = compute.run_fusion(indian_pines, settings)
    assert result.fused_method == "s3rnet" and result.model is not None
    assert result.model.weights.shape == (4, 48, 144)
    image, caption = views.weight_maps_view(result)
    assert image.shape[1] > 4 * 144 and image.shape[0] > 2 * 48 and "one scale 0-1" in caption and "stretched" in caption
    bars = views.weights_figure(result).data[0]
    stats = branch_weight_stats(result.model.weights)
    reading = views.weights_reading(result)
    top = max(stats, key=lambda b: stats[b]["mean"])
    assert f"Branch {top} gets the most weight (mean {stats[top]['mean']:.2f})" in reading
    assert all(f"{b} {stats[b]['std']:.3f}" in reading for b in "QKVZ")
    np.testing.assert_allclose(bars.y, [stats[b]["mean"] for b in "QKVZ"])
    energy = views.energy_figure(result).data[0]
    np.testing.assert_allclose(energy.y, channel_energy(result.model.fused_features))
    assert handlers.training_overlap_note(result) is None  # the test region was never trained on
    whole = compute.run_fusion(indian_pines, compute.FusionSettings(methods=("s3rnet",), checkpoint=CHECKPOINT))
    assert "optimistic" in (handlers.training_overlap_note(whole) or "")


@needs_checkpoint
def test_adapting_to_the_scene_reports_progress(indian_pines):
    heard: list[tuple[float, str]] = []
    settings = compute.FusionSettings(region="split:test", methods=("s3rnet",), checkpoint=CHECKPOINT, adapt_steps=3)
    result = compute.run_fusion(indian_pines, settings, progress=lambda fraction, message: heard.append((fraction, message)))
    assert result.model.adapt_seconds > 0 and result.protocol["adapt_steps"] == 3
    fractions = [fraction for fraction, _ in heard]
    assert fractions == sorted(fractions) and fractions[-1] >= 0.95
    assert any("adapt" in message.lower() for _, message in heard), heard


@needs_checkpoint
def test_checkpoint_follows_the_msi_response(indian_pines):
    def trained_for(name: str) -> str | None:
        try:  # weights that cannot be loaded (an older network) are never preselected
            return handlers.library.checkpoint_metadata(name)["msi"]["name"]
        except S3RNetError:
            return None

    trained = {name: trained_for(name) for name in handlers.checkpoint_choices()}
    for msi in ("oli4", "oli6"):
        chosen = handlers.default_checkpoint(msi, 200)
        if msi in trained.values():
            assert trained[chosen] == msi
    # The oli4 weights on a Sentinel-2 simulation: the baselines run, S3RNet says why it cannot,
    # naming the response it was trained for and the one simulated.
    oli4 = next(name for name in handlers.checkpoint_choices()
                if handlers.library.checkpoint_sidecar(name)["msi"]["name"] == "oli4")
    settings = compute.FusionSettings(region="split:test", msi="s2-4", methods=("s3rnet", "bicubic"), checkpoint=oli4)
    result = compute.run_fusion(indian_pines, settings)
    assert result.methods == ["bicubic"] and result.fused_method is None
    note = next(note for note in result.notes if note.startswith("S3RNet did not run"))
    assert "trained on HR-MSI images of the oli4 response" in note and "simulates the s2-4 response" in note


@needs_checkpoint
def test_a_wider_msi_simulation_runs_the_checkpoint_on_its_own_bands(indian_pines):
    """OLI's 7 bands hold the 6 of lite-oli6, which is preselected, sees them, and beats its estimate
    made with all 7 (as in `fuse`); the page says which bands it saw."""
    checkpoint = handlers.default_checkpoint("oli7", 200)
    assert handlers.library.checkpoint_sidecar(checkpoint)["msi"]["name"] == "oli6"
    settings = compute.FusionSettings(region="split:test", msi="oli7", methods=("s3rnet", "hysime-wiener-hybrid"),
                                      checkpoint=checkpoint, lrhsi_snr_db=35.0)
    result = compute.run_fusion(indian_pines, settings)
    assert result.fused_method == compute.MODEL and result.hrmsi.shape[-1] == 7
    assert result.protocol["msi_bands_seen_by_network"] == [1, 2, 3, 4, 5, 6]
    assert any(note.startswith("S3RNet saw MSI bands 2, 3, 4, 5, 6, 7 of the oli7 response") for note in result.notes)
    assert result.metrics[compute.MODEL]["psnr"] > result.metrics["hysime-wiener-hybrid"]["psnr"] + 0.3


@needs_checkpoint
def test_plain_fusion_goes_ahead_of_a_running_adaptation(monkeypatch, indian_pines):
    """Same region, same metrics scorer: the plain fusion finishes while the adaptation is still at it."""
    try:
        handlers.library.checkpoint_metadata(CHECKPOINT)
    except S3RNetError as exc:
        pytest.skip(f"the checkpoint cannot run with this network: {exc}")
    monkeypatch.setattr(handlers, "RESULTS", results.ResultStore(2**40))
    plain = compute.FusionSettings(region="split:test", methods=("s3rnet", "bicubic"), checkpoint=CHECKPOINT)
    handlers.fuse(plain, None)  # a stored result of the region, whose scorer the others are offered
    adapting, done = threading.Event(), threading.Event()

    def adapt() -> None:
        settings = compute.FusionSettings(region="split:test", methods=("s3rnet",), checkpoint=CHECKPOINT,
                                          adapt_steps=200, seed=1)
        handlers.fuse(settings, None, progress=lambda fraction, message: "adapting" in message and adapting.set())
        done.set()

    worker = threading.Thread(target=adapt, daemon=True)
    worker.start()
    assert adapting.wait(300)
    answers: list = []
    other = threading.Thread(target=lambda: answers.append(handlers.fuse(
        compute.FusionSettings(region="split:test", methods=("s3rnet", "bicubic"), checkpoint=CHECKPOINT, seed=2),
        None)), daemon=True)
    other.start()
    other.join(300)
    assert answers, "the plain fusion never finished (each waited for the other)"
    result, _, reused = answers[0]
    assert not reused and result.fused_method == "s3rnet"
    assert not done.is_set()  # the adaptation gave way and is still running
    worker.join(900)
    assert done.is_set()
