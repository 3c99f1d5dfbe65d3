"""``python -m s3rnet report``: per-scene tables, targets, SSAWB statistics, robustness and ablation,
on the Indian Pines test region and small synthetic scenes, with a checkpoint trained here."""

from __future__ import annotations

import copy
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.io
import pytest

from s3rnet.cli import build_parser
from s3rnet.data.synthetic_split import load_synthetic_split
from s3rnet.evaluation import run_evaluation
from s3rnet.report import (
    NOISE_CASES, ROBUSTNESS_SNRS_DB, ReportScene, ReportSettings, _ablation_lines, _training_summary, build_report, report_scenes,
    targets, write_report,
)
from s3rnet.training import load_config, train

ROOT = Path(__file__).resolve().parents[1]
# Two small synthetic test scenes in one unit, reported as their mean (as the test set is, per unit).
SYNTHETIC = ("synthetic:2000001?size=32&units=reflectance", "synthetic:2000002?size=32&units=reflectance")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny network trained on synthetic scenes and Indian Pines on the 172-band grid, correcting GSA."""
    out = tmp_path_factory.mktemp("report-run")
    config = load_config(ROOT / "configs" / "smoke.json").replace(
        sources=[{"kind": "synthetic", "size": 32, "units": ["radiance", "reflectance"]}, {"kind": "region"}],
        grid="aviris-172", steps=4, val_every=4, checkpoint_every=4, skip="gsa", noise_snr_db=(10, 50),
        clean_fraction=0.25, loss="band-balanced",
    )
    train(config, out, progress=False)
    return str(out / "last.safetensors")


@pytest.fixture(scope="module")
def report(checkpoint):
    scenes = [
        ReportScene("indian_pines", "Indian Pines, test region", ("indian_pines",), "test"),
        ReportScene("synthetic-test", "Two synthetic test scenes", SYNTHETIC, "whole", "synthetic"),
    ]
    settings = ReportSettings(
        baselines=("bicubic", "gsa"), checkpoints={"oli4": checkpoint}, adapt_steps=2, ablation={"smoke": checkpoint},
        scenes=scenes, robustness_scenes=1,
    )
    return build_report(settings)


def test_report_rows_are_what_evaluate_gives(report, checkpoint):
    direct = run_evaluation("indian_pines", methods=["bicubic", "gsa", "s3rnet"], msi="oli4", snr_db=15.0, checkpoint=checkpoint)
    cases = report["scenes"]["indian_pines"]["msi"]["oli4"]["cases"]
    for method in ("bicubic", "gsa", "s3rnet"):
        assert cases["15 dB"]["rows"][method]["psnr"] == pytest.approx(direct.methods[method]["psnr"], rel=1e-9)
    # The keys of the one-scene report are the reference scene's rows.
    assert report["table_two"]["15"] is cases["15 dB"]["rows"]
    assert report["table_two_authors"]["35"] is cases["35 dB (authors)"]["rows"]
    assert set(report["table_one"]["oli4"]) == {"bicubic", "gsa", "s3rnet", "s3rnet+adapt"}
    assert set(report["table_one"]["oli6"]) == {"bicubic", "gsa"}
    authors = run_evaluation(
        "indian_pines", methods=["bicubic", "s3rnet"], msi="oli4", snr_db=15.0, snr_reference="authors", checkpoint=checkpoint,
    )
    assert report["table_two_authors"]["15"]["bicubic"]["psnr"] == pytest.approx(authors.methods["bicubic"]["psnr"], rel=1e-9)
    # Their 15 dB is about 2.4 dB noisier than ours on this region.
    assert report["table_two_authors"]["15"]["bicubic"]["psnr"] < report["table_two"]["15"]["bicubic"]["psnr"] - 1
    shifted = report["spectral_shift"]["oli4"]
    assert {"s3rnet+project", "s3rnet+adapt"} <= set(shifted)


def test_every_scene_has_every_msi_and_noise_case_and_a_set_is_the_mean_of_its_scenes(report, checkpoint):
    assert list(report["scenes"]) == ["indian_pines", "synthetic-test"]
    labels = [case.label for case in NOISE_CASES]
    for scene in report["scenes"].values():
        assert list(scene["msi"]) == ["oli4", "oli6"]
        for per_msi in scene["msi"].values():
            assert list(per_msi["cases"]) == labels
    synthetic = report["scenes"]["synthetic-test"]["msi"]
    # The synthetic scenes are made on the network's grid for oli4, on their own for oli6.
    on_grid = [f"{name}&grid=aviris-172" for name in SYNTHETIC]
    assert list(synthetic["oli4"]["cases"]["clean"]["per_scene"]) == on_grid
    assert list(synthetic["oli6"]["cases"]["clean"]["per_scene"]) == list(SYNTHETIC)
    noisy = synthetic["oli4"]["cases"]["15 dB"]
    assert set(noisy["rows"]) == {"bicubic", "gsa", "s3rnet"}  # adaptation on the reference scene only
    for method, scores in noisy["rows"].items():
        members = [noisy["per_scene"][name][method] for name in on_grid]
        assert scores["psnr"] == pytest.approx(np.mean([m["psnr"] for m in members]), rel=1e-12)
        assert scores["sam"] == pytest.approx(np.mean([m["sam"] for m in members]), rel=1e-12)
    alone = run_evaluation(on_grid[1], split="whole", methods=["bicubic", "gsa", "s3rnet"], msi="oli4", snr_db=15.0,
                           checkpoint=checkpoint)
    assert noisy["per_scene"][on_grid[1]]["s3rnet"]["psnr"] == pytest.approx(alone.methods["s3rnet"]["psnr"], rel=1e-9)
    assert noisy["protocol"]["grid"] != "the scene's own bands"
    assert "grid=aviris-172" in noisy["commands"][0] and noisy["commands"][0].startswith("for seed in 2000001 2000002;")


def _expected_targets(rows, estimate):
    classical = {m: s for m, s in rows.items() if not m.startswith("s3rnet")}
    net = rows["s3rnet"]
    return {
        "beats_psnr": all(net["psnr"] > s["psnr"] for s in classical.values()),
        "beats_sam": all(net["sam"] < s["sam"] for s in classical.values()),
        "minus_estimate_psnr": net["psnr"] - rows[estimate]["psnr"],
        "best_psnr": max(s["psnr"] for s in classical.values()),
        "best_sam": min(s["sam"] for s in classical.values()),
    }


def test_targets_follow_the_numbers_they_report(report, tmp_path):
    seen = {True: 0, False: 0}
    for scene in report["scenes"].values():
        assert scene["msi"]["oli6"]["cases"]["clean"]["targets"] is None  # no network for oli6
        for label, entry in scene["msi"]["oli4"]["cases"].items():
            t = entry["targets"]
            expected = _expected_targets(entry["rows"], "gsa")
            assert t["estimate"] == "gsa" and t["best_psnr_method"] in entry["rows"]
            for key, value in expected.items():
                assert t[key] == pytest.approx(value) if isinstance(value, float) else t[key] is value, (label, key)
            assert t["within_skip"] is (t["minus_estimate_psnr"] >= -0.1)
            seen[t["beats_psnr"]] += 1
            # Without its estimate among the rows, the network is still compared with the others.
            unskipped = targets({m: r for m, r in entry["rows"].items() if m != "gsa"}, "gsa")
            assert unskipped["minus_estimate_psnr"] is None and unskipped["within_skip"] is None
            assert unskipped["beats_psnr"] is (entry["rows"]["s3rnet"]["psnr"] > entry["rows"]["bicubic"]["psnr"])
            if "per_scene" in entry:
                each = [_expected_targets(rows, "gsa") for rows in entry["per_scene"].values()]
                assert entry["wins"] == {
                    "psnr": sum(e["beats_psnr"] for e in each), "sam": sum(e["beats_sam"] for e in each),
                    "skip": sum(e["minus_estimate_psnr"] >= -0.1 for e in each), "of": len(SYNTHETIC),
                }
    markdown = write_report(report, tmp_path).read_text()
    clean = report["scenes"]["indian_pines"]["msi"]["oli4"]["cases"]["clean"]["targets"]
    row = next(line for line in markdown.splitlines() if line.startswith("| oli4 | clean | ") and "(gsa) |" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == f"{clean['psnr']:.2f} / {clean['sam']:.3f}"
    assert cells[5] == ("yes" if clean["beats_psnr"] else "**no**") and cells[6] == ("yes" if clean["beats_sam"] else "**no**")
    assert cells[7] == f"{clean['minus_estimate_psnr']:+.3f} (gsa)"
    total = sum(seen.values())
    assert f"beats every classical method in PSNR: {seen[True]} of {total} cases" in markdown


def test_ssawb_spatial_statistics_for_every_network_case(report):
    for scene in report["scenes"].values():
        for msi, per_msi in scene["msi"].items():
            for entry in per_msi["cases"].values():
                if msi == "oli6":
                    assert entry["ssawb"] is None
                    continue
                stats = entry["ssawb"]
                assert set(stats) == {"Q", "K", "V", "Z"}
                assert all(0 < s["mean"] < 1 and s["std"] > 0 for s in stats.values())
    per_seed = report["scenes"]["synthetic-test"]["msi"]["oli4"]["cases"]["clean"]["ssawb_per_scene"]
    mean_std = report["scenes"]["synthetic-test"]["msi"]["oli4"]["cases"]["clean"]["ssawb"]["K"]["std"]
    assert mean_std == pytest.approx(np.mean([s["K"]["std"] for s in per_seed.values()]))
    assert report["ssawb"]["oli4, 15 dB (authors)"] is report["scenes"]["indian_pines"]["msi"]["oli4"]["cases"]["15 dB (authors)"]["ssawb"]


def test_ablation_scores_and_training_summary(report, checkpoint):
    entry = report["ablation"]["smoke"]
    summary = entry["training"]
    assert [s["source"] for s in summary["sources"]] == ["synthetic", "indian_pines:train"]
    assert (summary["grid"], summary["loss"], summary["noise_snr_db"], summary["clean_fraction"]) == (
        "aviris-172", "band-balanced", [10.0, 50.0], 0.25)
    assert (summary["skip"], summary["steps"], summary["planned_steps"]) == ("gsa", 4, 4)
    reference = report["scenes"]["indian_pines"]["msi"]["oli4"]["cases"]
    assert entry["test"]["psnr"] == pytest.approx(reference["clean"]["rows"]["s3rnet"]["psnr"], rel=1e-9)
    assert entry["test_15"]["psnr"] == pytest.approx(reference["15 dB"]["rows"]["s3rnet"]["psnr"], rel=1e-9)
    assert entry["synthetic"]["pooled"]["15 dB"]["scenes"] == len(SYNTHETIC)
    assert entry["synthetic"]["pooled"]["15 dB"]["psnr"] == pytest.approx(
        report["scenes"]["synthetic-test"]["msi"]["oli4"]["cases"]["15 dB"]["rows"]["s3rnet"]["psnr"], rel=1e-9)
    # A checkpoint from before training sources: its sidecar has neither sources nor grid nor loss.
    from s3rnet.inference import CheckpointMethod

    old = copy.deepcopy(CheckpointMethod(checkpoint, device="cpu").metadata)
    for key in ("sources", "grid"):
        del old["training"][key]
    old["training"]["region"] = "train"
    for key in ("sources", "grid", "loss", "clean_fraction", "noise_reference"):
        del old["training"]["config"][key]
    summary = _training_summary(old)
    assert summary["sources"] == [{"source": "indian_pines:train", "share": 1.0}]
    assert (summary["grid"], summary["loss"], summary["clean_fraction"]) == ("scene", "paper", 0.0)
    assert summary["init"] is None
    # A run started from another checkpoint says so, with the steps and skip it started from.
    tuned = copy.deepcopy(CheckpointMethod(checkpoint, device="cpu").metadata)
    tuned["training"]["init"] = {"checkpoint": "runs/first/best.safetensors", "steps": 4000, "estimate": "hysime-mtf",
                                 "config": {}}
    row = [line for line in _ablation_lines({**report, "ablation": {"tuned": {**entry, "training": _training_summary(tuned)}}})
           if line.startswith("| tuned |")]
    assert "| 4 of 4 after 4000 (hysime-mtf skip) |" in row[0]
    # The val column names the synthetic split version it was scored on; a run that predates the
    # record validated on version 1, the only one then.
    assert entry["training"]["synthetic_split_version"] is None and "(v" not in row[0]  # Indian Pines val alone
    tuned["training"]["validation_sets"] = ["indian_pines:val", "synthetic:val"]
    assert tuned["training"]["synthetic_split_version"] == 2 and _training_summary(tuned)["synthetic_split_version"] == 2
    del tuned["training"]["synthetic_split_version"]
    assert _training_summary(tuned)["synthetic_split_version"] == 1


def test_a_checkpoint_with_a_partner_and_a_projection_is_reported_as_published_and_its_network_alone(report, checkpoint, tmp_path):
    from s3rnet.report import NETWORK_ALONE, _Network, network_alone_rows
    from s3rnet.training import write_ensemble_checkpoint, write_projection_checkpoint

    blended = write_ensemble_checkpoint(checkpoint, tmp_path / "blended.safetensors", {"method": "gsa", "weight": 0.5})
    published = write_projection_checkpoint(blended, tmp_path / "published.safetensors", {"factor": 16.0})
    # Either addition alone is enough for the network-alone rows.
    assert _Network("a", None, None, projection={"factor": 4.0}).published_extras
    assert _Network("a", None, None, ensemble={"method": "gsa", "weight": 0.1}).published_extras
    assert not _Network("a", None, None).published_extras
    settings = ReportSettings(
        baselines=("bicubic", "gsa"), checkpoints={"oli4": str(published)}, adapt_steps=0, ablation={},
        scenes=[ReportScene("indian_pines", "Indian Pines, test region", ("indian_pines",), "test"),
                ReportScene("synthetic-test", "Two synthetic test scenes", SYNTHETIC, "whole", "synthetic")],
        robustness_scenes=1,
    )
    ensembled = build_report(settings)
    for key in ("indian_pines", "synthetic-test"):
        for label, entry in ensembled["scenes"][key]["msi"]["oli4"]["cases"].items():
            plain = report["scenes"][key]["msi"]["oli4"]["cases"][label]["rows"]
            rows = entry["rows"]
            # The network alone is the checkpoint it was copied from; as published it is blended and projected.
            assert rows[NETWORK_ALONE]["psnr"] == pytest.approx(plain["s3rnet"]["psnr"], rel=1e-6)
            assert rows["s3rnet"]["psnr"] != pytest.approx(plain["s3rnet"]["psnr"], rel=1e-6)
            assert entry["targets"]["psnr"] == rows["s3rnet"]["psnr"]
            assert entry["targets_network"] == targets(network_alone_rows(rows), "gsa")
            assert entry["targets_network"]["psnr"] == rows[NETWORK_ALONE]["psnr"]
            assert any("--network-alone" in command for command in entry["commands"])
            if key == "synthetic-test":
                assert entry["wins_network"]["of"] == len(SYNTHETIC)
    markdown = write_report(ensembled, tmp_path / "report").read_text()
    assert "Its network alone, without the ensemble partner and the projection: beats every classical method in PSNR:" in markdown
    assert "| network alone PSNR / SAM | network alone beats all (PSNR / SAM) | network alone seeds |" in markdown


def test_report_files(report, tmp_path):
    markdown = write_report(report, tmp_path).read_text()
    for heading in ("## Scenes", "## Targets", "## SSAWB branch weights over the region", "## Scores per scene",
                    "## Robustness curve over SNR", "## Spectral shift", "## Ablation"):
        assert heading in markdown
    assert "No further scene" in markdown or "$S3RNET_DATA" in markdown
    assert "python -m s3rnet evaluate --scene indian_pines --split test --msi oli4 --snr-db 15" in markdown
    assert "--msi oli4 --snr-reference authors --snr-db 15" in markdown
    assert "| indian_pines | oli4 | clean |" in markdown and "| synthetic-test | oli4 | 15 dB (authors) |" in markdown
    with (tmp_path / "robustness.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == len(ROBUSTNESS_SNRS_DB) * 4
    bicubic = {row["snr_db"]: float(row["psnr"]) for row in rows if row["method"] == "bicubic"}
    assert bicubic["inf"] > bicubic["25.0"] > bicubic["10.0"]
    with (tmp_path / "robustness-synthetic-test.csv").open() as file:
        synthetic = list(csv.DictReader(file))
    assert len(synthetic) == len(ROBUSTNESS_SNRS_DB) * 3
    first = report["scenes"]["synthetic-test"]["msi"]["oli4"]["cases"]["clean"]["per_scene"][f"{SYNTHETIC[0]}&grid=aviris-172"]
    clean = next(row for row in synthetic if row["method"] == "s3rnet" and row["snr_db"] == "inf")
    assert float(clean["psnr"]) == pytest.approx(first["s3rnet"]["psnr"])  # the curve's one scene, not the mean
    figure = plotly.io.read_json(tmp_path / "robustness.plotly.json")
    assert len(figure.data) == 2 * 4
    assert (tmp_path / "robustness-synthetic-test.svg").read_text().lstrip().startswith("<?xml")
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["settings"]["adapt_steps"] == 2 and saved["settings"]["scenes"][1]["names"] == list(SYNTHETIC)
    assert saved["scenes"]["synthetic-test"]["msi"]["oli4"]["cases"]["clean"]["targets"]["beats_psnr"] in (True, False)


def test_the_full_report_scores_the_synthetic_test_set_and_every_scene_of_the_data_directory(tmp_path, monkeypatch):
    from spectral.io import envi

    split = load_synthetic_split()
    full = report_scenes()
    assert [s.key for s in full[:3]] == ["indian_pines", "synthetic-radiance", "synthetic-reflectance"]
    pooled = [name for scene in full[1:3] for name in scene.names]
    assert sorted(pooled) == sorted(split.scene_names("test")) and all(s.split == "whole" for s in full[1:3])
    assert all(len(s.names) == 2 for s in report_scenes(synthetic_seeds=2)[1:3])
    assert [s.key for s in report_scenes(synthetic_seeds=0)] == ["indian_pines"] + [s.key for s in full[3:]]
    cube = np.random.default_rng(0).random((8, 8, 5), dtype=np.float32)
    envi.save_image(str(tmp_path / "field.hdr"), cube, dtype=np.float32, force=True, ext=".img",
                    metadata={"wavelength": [450, 550, 650, 750, 850]})
    monkeypatch.setenv("S3RNET_DATA", str(tmp_path))
    further = report_scenes(synthetic_seeds=1)[3:]
    assert [(s.key, s.names, s.kind) for s in further] == [("field", ("field",), "data")]
    args = build_parser().parse_args(["report", "--synthetic-seeds", "3", "--robustness-seeds", "1"])
    assert (args.synthetic_seeds, args.robustness_seeds) == (3, 1)


def test_ablation_runs_may_follow_one_flag_or_repeat_it():
    # Repeating the flag used to keep only the last run, silently.
    parse = build_parser().parse_args
    repeated = parse(["report", "--ablation", "a=runs/a/best", "--ablation", "b=runs/b/best", "c=runs/c/best"])
    assert repeated.ablation == ["a=runs/a/best", "b=runs/b/best", "c=runs/c/best"]
    assert parse(["report"]).ablation == []


def test_cli_report_scores_every_scene_of_the_data_directory(report, tmp_path):
    from spectral.io import envi

    data = tmp_path / "data"
    data.mkdir()
    wavelengths = np.arange(400.0, 1001.0, 20.0)
    cube = np.random.default_rng(1).random((16, 16, wavelengths.size), dtype=np.float32) + 0.5
    envi.save_image(str(data / "field.hdr"), cube, dtype=np.float32, force=True, ext=".img",
                    metadata={"wavelength": wavelengths.tolist(), "fwhm": [20.0] * wavelengths.size})
    # An earlier report whose ablation checkpoint this machine no longer has.
    earlier = write_report(report, tmp_path / "earlier").with_name("results.json")
    done = subprocess.run(
        [sys.executable, "-m", "s3rnet", "report", "--synthetic-seeds", "1", "--robustness-seeds", "1",
         "--methods", "bicubic", "--checkpoint-oli4", "none", "--checkpoint-oli6", "none", "--out", str(tmp_path / "out"),
         "--carry-ablation", str(earlier)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "S3RNET_DATA": str(data)},
    )
    assert done.returncode == 0, done.stderr
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert list(saved["scenes"]) == ["indian_pines", "synthetic-radiance", "synthetic-reflectance", "field"]
    field = saved["scenes"]["field"]["msi"]["oli4"]["cases"]["15 dB"]
    assert field["protocol"]["region"] == {"rows": [0, 16], "cols": [0, 16]} and field["targets"] is None
    assert len(saved["scenes"]["synthetic-radiance"]["names"]) == 1
    # A VNIR scene cannot give the 6-band MSI (SWIR bands): said, and the rest of the report still written.
    unscored = saved["scenes"]["field"]["msi"]["oli6"]
    assert unscored["cases"] == {} and "MSI band 6" in unscored["error"]
    markdown = (tmp_path / "out" / "results.md").read_text()
    assert "Further scenes from `$S3RNET_DATA`: `field`." in markdown and f"Not scored: {unscored['error']}." in markdown
    assert (tmp_path / "out" / "robustness-field.svg").is_file()
    # The earlier report's ablation row is kept as it was scored, and marked.
    kept = saved["ablation"]["smoke"]
    assert kept.pop("carried_from") == {"file": str(earlier), "code_version": report["code_version"]}
    assert kept == json.loads(earlier.read_text())["ablation"]["smoke"]
    assert "| smoke (carried over) |" in markdown and "Rows marked *carried over* are copied from an earlier report" in markdown


def test_carrying_an_ablation_from_a_file_that_is_not_a_report_says_which_file_and_why(report, tmp_path):
    from s3rnet.errors import ConfigError
    from s3rnet.report import carried_ablation

    with pytest.raises(ConfigError, match="missing.json does not exist"):
        carried_ablation(tmp_path / "missing.json")
    (tmp_path / "notes.json").write_text("{not json")
    with pytest.raises(ConfigError, match="notes.json is not a report's results.json"):
        carried_ablation(tmp_path / "notes.json")
    (tmp_path / "config.json").write_text(json.dumps({"preset": "lite"}))
    with pytest.raises(ConfigError, match="config.json has no 'ablation' section"):
        carried_ablation(tmp_path / "config.json")
    broken = json.loads(json.dumps(report, default=float))
    del broken["ablation"]["smoke"]["test"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    with pytest.raises(ConfigError, match="ablation entry 'smoke' lacks test"):
        carried_ablation(tmp_path / "broken.json")
    # Carried twice, an entry keeps the report that first scored it.
    once = {**report, "ablation": carried_ablation(write_report(report, tmp_path / "first").with_name("results.json"))}
    twice = carried_ablation(write_report(once, tmp_path / "second").with_name("results.json"))
    assert twice["smoke"]["carried_from"]["file"] == str(tmp_path / "first" / "results.json")


def test_cli_evaluate_adapts_projects_and_shifts(checkpoint, tmp_path):
    out = tmp_path / "e.json"
    done = subprocess.run(
        [sys.executable, "-m", "s3rnet", "evaluate", "--methods", "gsa,s3rnet", "--checkpoint", checkpoint,
         "--adapt", "2", "--project", "--spectral-shift", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["protocol"]["adapt_steps"] == 2 and result["protocol"]["projection"]["factor"] > 0
    assert result["protocol"]["spectral_shift"] == "reflectance-like gain"
