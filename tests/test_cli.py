"""The command line, run as users run it: ``python -m s3rnet ...`` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from s3rnet.data import load_scene

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "s3rnet", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def test_info_paper_preset_matches_table_one():
    result = run_cli("info", "--preset", "paper", "--bands", "172", "--msi-bands", "4", "--size", "256", "--json")
    info = json.loads(result.stdout)
    assert info["params"] == pytest.approx(26.81e6, rel=0.005)
    assert info["macs"] == pytest.approx(941.8e9, rel=0.005)


def test_info_text_output_names_the_units():
    result = run_cli("info", "--preset", "lite", "--bands", "200", "--msi-bands", "4", "--size", "144")
    assert "parameters" in result.stdout and "multiply-accumulates" in result.stdout


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory):
    """The issue's acceptance command on the Indian Pines test split, with its JSON."""
    path = tmp_path_factory.mktemp("evaluate") / "result.json"
    result = run_cli(
        "evaluate", "--scene", "indian_pines", "--split", "test", "--msi", "oli4",
        "--methods", "bicubic,gsa,mtf-glp-hpm,cnmf", "--json", str(path),
    )
    return result.stdout, json.loads(path.read_text())


def test_evaluate_prints_the_table_and_writes_the_json(evaluation):
    stdout, data = evaluation
    assert "| method | PSNR (dB) | SAM (deg) | RMSE | ERGAS | SSIM | seconds |" in stdout
    assert set(data["methods"]) == {"bicubic", "gsa", "mtf-glp-hpm", "cnmf"}
    for scores in data["methods"].values():
        assert set(scores) == {"psnr", "sam", "rmse", "ergas", "ssim", "seconds"}
        assert all(np.isfinite(v) for v in scores.values())
    protocol = data["protocol"]
    assert protocol["scene"] == "indian_pines" and protocol["msi"] == "oli4" and protocol["psf"] == "box"
    assert protocol["region"] == {"rows": [96, 144], "cols": [0, 144]}
    assert protocol["split"]["region"] == "test"


def test_every_baseline_beats_bicubic_on_the_test_split(evaluation):
    _, data = evaluation
    bicubic = data["methods"]["bicubic"]["psnr"]
    for name in ("gsa", "mtf-glp-hpm", "cnmf"):
        assert data["methods"][name]["psnr"] > bicubic + 1.0, name


def test_evaluate_matches_the_library(evaluation):
    from s3rnet.evaluation import run_evaluation

    _, data = evaluation
    library = run_evaluation("indian_pines", split="test", methods=["bicubic", "gsa"], msi="oli4")
    for name in ("bicubic", "gsa"):
        for metric in ("psnr", "sam", "rmse", "ergas", "ssim"):
            assert library.methods[name][metric] == pytest.approx(data["methods"][name][metric], rel=1e-6)


def write_aviris_envi(path: Path) -> Path:
    """A real AVIRIS ENVI scene: a 64 x 72 part of Indian Pines stored as DN, as AVIRIS files are."""
    from spectral.io import envi

    scene = load_scene("indian_pines")
    dn = np.round(scene.cube[40:104, 20:92] * 500 + 1000).astype(np.uint16)
    header = path / "aviris_part.hdr"
    envi.save_image(
        str(header), dn, dtype=np.uint16, ext=".img", force=True,
        metadata={"wavelength": scene.wavelengths.tolist(), "fwhm": scene.fwhm.tolist(),
                  "wavelength units": "Nanometers", "data units": "DN (radiance*500+1000)", "sensor type": "AVIRIS"},
    )
    return header


def test_evaluate_on_an_aviris_envi_file_by_path(tmp_path):
    header = write_aviris_envi(tmp_path)
    out = tmp_path / "envi.json"
    run_cli("evaluate", "--scene", str(header), "--msi", "oli6", "--methods", "bicubic,gsa,mtf-glp-hpm", "--json", str(out))
    data = json.loads(out.read_text())
    assert data["protocol"]["region"] == {"rows": [0, 64], "cols": [0, 72]}
    assert data["protocol"]["units"].startswith("radiance")
    assert data["methods"]["gsa"]["psnr"] > data["methods"]["bicubic"]["psnr"]


def test_evaluate_crops_a_scene_without_split_to_a_multiple_of_the_ratio(tmp_path, indian_pines):
    path = tmp_path / "odd.npz"
    np.savez(path, cube=indian_pines.cube[:50, :43], wavelengths=indian_pines.wavelengths)
    out = tmp_path / "odd.json"
    run_cli("evaluate", "--scene", str(path), "--methods", "bicubic", "--json", str(out))
    assert json.loads(out.read_text())["protocol"]["region"] == {"rows": [0, 48], "cols": [0, 40]}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--scene", "nowhere.hdr"], "nowhere.hdr: no such file"),
        (["--scene", "indian_pines", "--methods", "bicubic,magic"], "unknown method 'magic'"),
        (["--scene", "indian_pines", "--split", "holdout"], "no region 'holdout'"),
    ],
)
def test_evaluate_errors_are_one_clear_line(args, message):
    result = run_cli("evaluate", *args, check=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_evaluate_without_wavelengths_says_what_needs_them(tmp_path, indian_pines):
    path = tmp_path / "bare.npy"
    np.save(path, indian_pines.cube[:16, :16])
    result = run_cli("evaluate", "--scene", str(path), "--methods", "bicubic", check=False)
    assert result.returncode == 2
    assert "needs the cube's wavelengths" in result.stderr
    ok = run_cli("evaluate", "--scene", str(path), "--msi", "binning4", "--methods", "bicubic")
    assert "bicubic" in ok.stdout


def test_scenes_lists_the_built_in():
    assert run_cli("scenes").stdout.splitlines()[0] == "indian_pines"

