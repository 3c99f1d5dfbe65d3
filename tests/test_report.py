"""``python -m s3rnet report``: tables, robustness curve and ablation, on Indian Pines."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import plotly.io
import pytest

from s3rnet.evaluation import run_evaluation
from s3rnet.report import ROBUSTNESS_SNRS_DB, ReportSettings, build_report, write_report
from s3rnet.training import load_config, train

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("report-run")
    config = load_config(ROOT / "configs" / "smoke.json").replace(steps=4, val_every=4, checkpoint_every=4, skip="gsa")
    train(config, out, progress=False)
    return str(out / "last.safetensors")


@pytest.fixture(scope="module")
def report(checkpoint):
    settings = ReportSettings(
        baselines=("bicubic", "gsa"), checkpoints={"oli4": checkpoint}, adapt_steps=2, ablation={"smoke": checkpoint}
    )
    return build_report(settings)


def test_report_rows_are_what_evaluate_gives(report, checkpoint):
    direct = run_evaluation("indian_pines", methods=["bicubic", "gsa", "s3rnet"], msi="oli4", snr_db=15.0, checkpoint=checkpoint)
    for method in ("bicubic", "gsa", "s3rnet"):
        assert report["table_two"]["15"][method]["psnr"] == pytest.approx(direct.methods[method]["psnr"], rel=1e-9)
    assert set(report["table_one"]["oli4"]) == {"bicubic", "gsa", "s3rnet", "s3rnet+adapt"}
    assert set(report["table_one"]["oli6"]) == {"bicubic", "gsa"}
    assert report["table_one"]["oli6"]["gsa"]["psnr"] > report["table_one"]["oli4"]["gsa"]["psnr"]
    shifted = report["spectral_shift"]["oli4"]
    assert {"s3rnet+project", "s3rnet+adapt"} <= set(shifted)
    assert report["ablation"]["smoke"]["training"]["skip"] == "gsa"
    weights = report["ssawb"]["oli4, 15 dB (scene)"]
    assert set(weights) == {"Q", "K", "V", "Z"} and all(0 < w["mean"] < 1 and w["std"] >= 0 for w in weights.values())
    authors = run_evaluation(
        "indian_pines", methods=["bicubic", "gsa", "s3rnet"], msi="oli4", snr_db=15.0, checkpoint=checkpoint,
        snr_reference="authors",
    )
    assert report["table_two_authors"]["15"]["gsa"]["psnr"] == pytest.approx(authors.methods["gsa"]["psnr"], rel=1e-9)
    # Their 15 dB is about 2.4 dB noisier than ours on this region.
    assert report["table_two_authors"]["15"]["bicubic"]["psnr"] < report["table_two"]["15"]["bicubic"]["psnr"] - 1


def test_report_files(report, tmp_path):
    markdown = write_report(report, tmp_path).read_text()
    assert "## Table I analogue" in markdown and "## Table II analogue" in markdown
    assert "python -m s3rnet evaluate --scene indian_pines --split test --msi oli4 --snr-db 15" in markdown
    assert "--msi oli4 --snr-reference authors --snr-db 15" in markdown and "the authors' convention" in markdown
    assert "## SSAWB branch weights over the region" in markdown and "| oli4, inf dB (scene) |" in markdown
    with (tmp_path / "robustness.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == len(ROBUSTNESS_SNRS_DB) * 4
    bicubic = {row["snr_db"]: float(row["psnr"]) for row in rows if row["method"] == "bicubic"}
    assert bicubic["inf"] > bicubic["25.0"] > bicubic["10.0"]
    figure = plotly.io.read_json(tmp_path / "robustness.plotly.json")
    assert len(figure.data) == 2 * 4
    assert (tmp_path / "robustness.svg").read_text().lstrip().startswith("<?xml")
    assert json.loads((tmp_path / "results.json").read_text())["settings"]["adapt_steps"] == 2


def test_cli_evaluate_adapts_projects_and_shifts(checkpoint, tmp_path):
    out = tmp_path / "e.json"
    done = subprocess.run(
        [sys.executable, "-m", "s3rnet", "evaluate", "--methods", "gsa,s3rnet", "--checkpoint", checkpoint,
         "--adapt", "2", "--project", "--spectral-shift", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["protocol"]["adapt_steps"] == 2 and result["protocol"]["projection"] is True
    assert result["protocol"]["spectral_shift"] == "reflectance-like gain"
