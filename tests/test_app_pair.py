"""The app's "Your own pair" tab: its handlers on the example pair, then the real Gradio server through gradio_client."""

from __future__ import annotations

import json
import os
import socket
import sys
import zipfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from app import pair  # noqa: E402
from s3rnet.errors import S3RNetError  # noqa: E402
from s3rnet.geo import open_image  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    return pair.example_pair(tmp_path_factory.mktemp("example"))


@pytest.fixture(scope="module")
def state(example):
    lr, hr = example
    return pair.run_pair([lr], [hr], pair.ESTIMATE, "gsa", out_format=".hdr", tile=48)


def test_example_pair_is_two_georeferenced_files(example):
    lr, hr = (open_image(p) for p in example)
    assert lr.crs == hr.crs and lr.pixel_size == (20.0, 20.0) and hr.pixel_size == (5.0, 5.0)
    assert lr.bands == 200 and hr.bands == 4 and hr.wavelengths is not None


def test_fusing_the_example_pair_gives_every_view(state):
    report = state["report"]
    assert report["method"]["name"] == "gsa" and report["registration"]["corrected"]
    assert np.allclose(report["registration"]["shift_lr_px"], pair.EXAMPLE_SHIFT, atol=0.05)
    status, low_res, fused, band_plot, spectra, maps, table, response_plot, files = pair.views(state, 40, 10, 20)
    assert "gsa" in status and "corrected" in status
    assert f"LR-HSI noise: SNR about {report['lrhsi_noise']['snr_db']:.1f} dB" in status
    assert low_res.shape == fused.shape == (96, 96, 3) and fused.dtype == np.uint8
    # The upsampled LR-HSI is blockier than the fused image: less difference between neighbours.
    assert np.abs(np.diff(low_res.astype(int), axis=1)).mean() < np.abs(np.diff(fused.astype(int), axis=1)).mean()
    assert len(band_plot.data) == 2 and len(maps.data) == 2
    assert list(table["figure"])[:2] == ["consistency with the LR-HSI: PSNR (dB)", "consistency with the LR-HSI: SAM (deg)"]
    assert "HQNR" in set(table["figure"])
    assert len(response_plot.data) == 4 and "explained" in response_plot.data[0].name
    # ENVI output comes zipped with its data file, beside the JSON report.
    archive, report_path = files
    assert zipfile.ZipFile(archive).namelist() == ["fused.hdr", "fused.img"]
    assert json.loads(Path(report_path).read_text())["method"]["name"] == "gsa"


def test_pixel_spectra_are_the_files_pixels(state):
    _, values = pair.pixel_spectra(state, 10, 21)
    output = open_image(state["output"])
    order = np.argsort(output.wavelengths)
    np.testing.assert_allclose(values["fused"], output.read((10, 11), (21, 22))[0, 0][order])
    lr = open_image(state["lrhsi"])
    np.testing.assert_allclose(values["lrhsi"], lr.read((2, 3), (5, 6))[0, 0][order])


def test_choices_and_bad_uploads(example, tmp_path):
    assert pair.method_choices()[0] == pair.AUTO and "mtf-glp-hpm" in pair.method_choices()
    assert pair.parse_method(pair.AUTO) == (None, None)
    assert pair.parse_method("checkpoint lite-oli4") == (None, "lite-oli4")
    assert pair.parse_response("oli4", None) == "oli4"
    with pytest.raises(S3RNetError, match="no table was uploaded"):
        pair.parse_response(pair.CSV, None)
    with pytest.raises(S3RNetError, match="no lrhsi file"):
        pair.run_pair(None, [example[1]])
    junk = tmp_path / "notes.txt"
    junk.write_text("x")
    with pytest.raises(S3RNetError, match=r"hrmsi: expected one \.tif or one \.hdr .*notes\.txt"):
        pair.run_pair([example[0]], [str(junk)])
    with pytest.raises(S3RNetError, match="oli6 has 6"):
        pair.run_pair([example[0]], [example[1]], "oli6", "bicubic")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_tab_served_by_gradio(example):
    import gradio as gr
    from gradio_client import Client, handle_file

    with gr.Blocks(analytics_enabled=False) as demo:
        pair.build_pair_tab()
    port = _free_port()
    demo.launch(prevent_thread_lock=True, server_port=port, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
        lr_files, hr_files = client.predict(api_name="/pair_example")
        assert Path(lr_files[0]["path"]).suffix == ".tif" and Path(hr_files[0]["path"]).suffix == ".tif"
        result = client.predict(
            [handle_file(example[0])], [handle_file(example[1])], pair.ESTIMATE, "mtf-glp-hpm", None, True, ".tif",
            40, 12, 12, api_name="/pair_fuse",
        )
        status, table, files = result[0], result[6], result[8]
        assert "mtf-glp-hpm" in status and "corrected" in status
        assert "HQNR" in [row[0] for row in table["data"]]
        fused = open_image(files[0]["path"])
        assert fused.crs.to_epsg() == 32616 and fused.shape == (96, 96, 200)
        spectra = client.predict(30, 31, api_name="/pair_pixel")
        assert spectra is not None
        with pytest.raises(Exception, match="no lrhsi file"):
            client.predict(None, [handle_file(example[1])], pair.ESTIMATE, pair.AUTO, None, True, ".tif", 40, 1, 1,
                           api_name="/pair_fuse")
    finally:
        demo.close()
