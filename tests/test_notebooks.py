"""The tutorial notebooks: committed clean, and reporting the numbers the command line gives.

Each notebook runs in quick mode (``S3RNET_QUICK=1``) with nbclient, on the real Indian Pines
scene, with ``S3RNET_NOTEBOOK_RECORD`` naming a JSON file where it writes the numbers it shows and
the settings that produced them, and ``S3RNET_NOTEBOOK_OUT`` a temporary folder for what it writes
(the training run of notebook 2). The same settings are then given to ``python -m s3rnet evaluate
... --json`` in a subprocess, and the scores must agree. ``make test`` also runs the notebooks
through nbmake (``pytest --nbmake notebooks``).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from s3rnet.inference import CheckpointMethod

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ("01_degradation.ipynb", "02_training.ipynb", "03_analysis.ipynb", "04_real_pair.ipynb")
METRICS = ("psnr", "sam", "rmse", "ergas", "ssim")


# --------------------------------------------------------------------------------------------
# Committed form
# --------------------------------------------------------------------------------------------


def test_notebooks_are_committed_without_outputs_and_match_their_generator():
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        import build_notebooks
    finally:
        sys.path.remove(str(NOTEBOOKS))
    assert sorted(build_notebooks.NOTEBOOKS) == sorted(NAMES)
    for name in NAMES:
        text = (NOTEBOOKS / name).read_text()
        assert text == build_notebooks.render(name), (
            f"notebooks/{name} differs from notebooks/build_notebooks.py: run "
            f"`python notebooks/build_notebooks.py` and commit both"
        )
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert code, name
        for cell in code:
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: committed with outputs"
        assert "widgets" not in notebook.metadata, f"{name}: committed with widget state"
        sources = "\n".join(cell.source for cell in notebook.cells)
        # The quick switch, read from the environment at the top of every notebook.
        assert 'QUICK = os.environ.get("S3RNET_QUICK") == "1"' in code[0].source, name
        # Data come from S3RNET_DATA or the built-in scene, never from a path on this machine.
        assert "/work/" not in sources and "shared/data" not in sources, name


# --------------------------------------------------------------------------------------------
# Running them
# --------------------------------------------------------------------------------------------



def test_the_generator_refuses_a_notebook_it_does_not_know():
    run = subprocess.run([sys.executable, str(NOTEBOOKS / "build_notebooks.py"), "05_missing.ipynb"],
                         capture_output=True, text=True)
    assert run.returncode != 0 and "no notebook 05_missing.ipynb; choose among 01_degradation.ipynb" in run.stderr


def cli_environment() -> dict[str, str]:
    """The environment of the notebook kernels and of the CLI runs they are compared with.

    One OpenMP thread per process unless the caller chose otherwise: on a 2-core machine shared
    with other jobs, torch's spinning worker threads made a two-thread training step 10 to 15 times
    slower than a one-thread step. Kernel and CLI get the same setting, so they compute alike.
    """
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name not in ("__pycache__", ".ipynb_checkpoints")}


def run_notebook(name: str, workdir: Path) -> dict:
    """Execute one notebook in quick mode from the notebooks folder; return what it recorded."""
    record = workdir / "record.json"
    out = workdir / "out"
    env = dict(
        cli_environment(), S3RNET_QUICK="1", S3RNET_NOTEBOOK_RECORD=str(record), S3RNET_NOTEBOOK_OUT=str(out),
        MPLCONFIGDIR=str(workdir / "mpl"),
    )
    before_notebooks, before_root = _listing(NOTEBOOKS), _listing(ROOT)
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute(env=env)
    # The notebook wrote nothing into the repository (only into its temporary folders).
    assert _listing(NOTEBOOKS) == before_notebooks
    assert _listing(ROOT) - before_root == set()
    return json.loads(record.read_text())


def cli_evaluate(workdir: Path, settings: dict, methods: list[str], checkpoint: str | None = None,
                 adapt_steps: int | None = None, spectral_shift: bool = False, network_alone: bool = False) -> dict:
    """``python -m s3rnet evaluate`` on the built-in scene with the notebook's settings."""
    out = workdir / f"cli-{len(list(workdir.glob('cli-*.json')))}.json"
    args = [
        sys.executable, "-m", "s3rnet", "evaluate", "--scene", "indian_pines",
        "--split", settings.get("split", "test"), "--msi", settings.get("msi", "oli4"),
        "--psf", settings.get("psf", "box"), "--ratio", str(settings.get("ratio", 4)),
        "--snr-db", str(settings.get("snr_db", "inf")), "--seed", str(settings.get("seed", 0)),
        "--methods", ",".join(methods), "--json", str(out),
    ]
    shift = settings.get("shift")
    if shift is not None:
        args += ["--shift", f"{shift[0]},{shift[1]}"]
    if checkpoint is not None:
        args += ["--checkpoint", checkpoint]
    if adapt_steps:
        args += ["--adapt", str(adapt_steps)]
    if spectral_shift:
        args.append("--spectral-shift")
    if network_alone:
        args.append("--network-alone")
    done = subprocess.run(args, cwd=workdir, capture_output=True, text=True, env=cli_environment())
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text())["methods"]


def assert_same_scores(notebook: dict, cli: dict, rel: float = 1e-6, abs_: float = 1e-9) -> None:
    assert set(cli) <= set(notebook), (sorted(cli), sorted(notebook))
    for method, scores in cli.items():
        for metric in METRICS:
            mine, theirs = notebook[method][metric], scores[metric]
            assert math.isclose(mine, theirs, rel_tol=rel, abs_tol=abs_), (method, metric, mine, theirs)


@pytest.fixture(scope="module")
def degradation(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("nb01")
    return workdir, run_notebook("01_degradation.ipynb", workdir)


@pytest.fixture(scope="module")
def training(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("nb02")
    return workdir, run_notebook("02_training.ipynb", workdir)


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("nb03")
    return workdir, run_notebook("03_analysis.ipynb", workdir)


# --------------------------------------------------------------------------------------------
# 01: degradation
# --------------------------------------------------------------------------------------------


def test_degradation_notebook_simulates_the_protocol_shapes(degradation):
    _, record = degradation
    assert record["scene_shape"] == [145, 145, 200]
    assert record["lrhsi_shape"] == [36, 36, 200]
    assert record["hrmsi_shape"] == [144, 144, 4]
    # Per-image AWGN at 30 dB leaves the dark bands of Indian Pines far below 10 dB.
    assert 20 <= record["bands_below_10db_at_30db_per_image"] <= 80


def test_degradation_notebook_shows_which_scenes_favour_unmixing(degradation):
    _, record = degradation
    gaps = record["cnmf_minus_mtf"]
    # CNMF beats MTF-GLP-HPM on the real train region and on the low-variability synthetic scenes,
    # and each of those scenes favours it more than any default synthetic scene does.
    assert gaps["Indian Pines, train region"][0] > 0
    pure, default = gaps["synthetic, variability=0, variants=1"], gaps["synthetic, defaults"]
    assert len(pure) == len(default) == 2 and min(pure) > max(0.0, max(default))


def test_degradation_notebook_sliders_drive_the_figure(degradation):
    _, record = degradation
    # The notebook set the ratio slider to 8 and the SNR slider to 15 dB from code: the LR-HSI
    # panel follows the ratio (144 / 8 = 18), and the noise added has the SNR asked for.
    assert record["explorer_lr_panel_shape"] == [18, 18]
    assert record["explorer_snr_asked"] == 15.0
    assert abs(record["explorer_snr_measured"] - 15.0) < 0.1


def test_degradation_notebook_misregistration_costs_psnr(degradation):
    _, record = degradation
    curve = record["psnr_vs_shift"]
    assert curve["shifts"][0] == 0.0
    for method in ("bicubic", "gsa", "mtf-glp-hpm"):
        psnrs = curve[method]
        assert all(a > b for a, b in zip(psnrs, psnrs[1:])), (method, psnrs)


def test_degradation_notebook_matches_the_cli(degradation):
    workdir, record = degradation
    evaluation = record["evaluation"]
    settings = evaluation["settings"]
    assert settings["psf"] == "gaussian" and settings["snr_db"] == 30.0 and settings["shift"] == [0.25, 0.25]
    cli = cli_evaluate(workdir, settings, settings["methods"])
    assert sorted(cli) == sorted(settings["methods"])
    assert_same_scores(evaluation["methods"], cli)


# --------------------------------------------------------------------------------------------
# 02: training
# --------------------------------------------------------------------------------------------


def test_training_notebook_trained_and_validated(training):
    _, record = training
    run = record["train"]
    assert run["steps"] >= 1
    assert Path(run["checkpoint"]).is_file()
    assert math.isfinite(run["best"]["psnr"]) and run["best"]["psnr"] > 10
    # The recipe of the published weights: validated on the real val region and the synthetic val
    # seeds, trained on patches from both sources, with LR-HSI noise in 10-50 dB or none.
    assert sorted(run["best"]["sets"]) == sorted(record["skip_alone"]["sets"]) == ["indian_pines:val", "synthetic:val"]
    assert {row["source"] for row in record["batch"]} <= {"synthetic", "indian_pines:train"}
    assert all(math.isinf(row["snr_db"]) or 10 <= row["snr_db"] <= 50 for row in record["batch"])


def test_training_notebook_run_matches_the_cli(training):
    workdir, record = training
    ours = record["ours"]
    cli = cli_evaluate(workdir, ours["protocol"], ["s3rnet"], checkpoint=ours["checkpoint"])
    assert_same_scores(ours["methods"], cli, rel=1e-5)


def test_training_notebook_published_checkpoint_matches_the_cli(training):
    workdir, record = training
    published = record["published"]
    methods = sorted(published["methods"])
    cli = cli_evaluate(workdir, published["protocol"], methods, checkpoint=published["checkpoint"])
    assert_same_scores(published["methods"], cli, rel=1e-5)


def test_training_notebook_published_checkpoint_at_15_db_matches_the_cli(training):
    workdir, record = training
    noisy = record["published_15db"]
    assert noisy["protocol"]["snr_db"] == 15.0
    methods = sorted(noisy["methods"])
    cli = cli_evaluate(workdir, noisy["protocol"], methods, checkpoint=noisy["checkpoint"])
    assert_same_scores(noisy["methods"], cli, rel=1e-5)


def test_training_notebook_adaptation_matches_the_cli(training):
    workdir, record = training
    adapted = record["adapted"]
    assert adapted["adapt_steps"] > 0
    cli = cli_evaluate(
        workdir, adapted["protocol"], ["s3rnet"], checkpoint=adapted["checkpoint"],
        adapt_steps=adapted["adapt_steps"],
    )
    assert_same_scores(adapted["methods"], cli, rel=1e-4)


def test_training_notebook_spectral_shift_matches_the_cli(training):
    workdir, record = training
    shifted = record["spectral_shift"]
    methods = sorted(shifted["methods"])
    assert "s3rnet" in methods and "gsa" in methods
    cli = cli_evaluate(
        workdir, shifted["protocol"], methods, checkpoint=shifted["checkpoint"], spectral_shift=True
    )
    assert_same_scores(shifted["methods"], cli, rel=1e-5)


# --------------------------------------------------------------------------------------------
# 03: analysis
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table, key, msi, snr", [
    ("table_one", "oli4", "oli4", "inf"),
    ("table_one", "oli6", "oli6", "inf"),
    ("table_two", "15", "oli4", "15"),
])
def test_analysis_notebook_tables_match_the_cli(analysis, table, key, msi, snr):
    workdir, record = analysis
    settings = record["report_settings"]
    rows = record[table][key]
    methods = [*settings["baselines"], "s3rnet"]
    # A published checkpoint with an ensemble partner also has its network alone scored.
    blended = "ensemble" in CheckpointMethod(settings["checkpoints"][msi], device="cpu").metadata
    assert sorted(rows) == sorted(methods + (["s3rnet-network"] if blended else []))
    problem = {"split": settings["split"], "msi": msi, "snr_db": snr, "seed": settings["seed"]}
    cli = cli_evaluate(workdir, problem, methods, checkpoint=settings["checkpoints"][msi])
    assert_same_scores(rows, cli, rel=1e-5)
    if blended:
        alone = cli_evaluate(workdir, problem, ["s3rnet"], checkpoint=settings["checkpoints"][msi], network_alone=True)
        assert_same_scores({"s3rnet": rows["s3rnet-network"]}, alone, rel=1e-5)
    # The network's entry also carries its size, as the CLI's does.
    assert rows["s3rnet"]["params"] == cli["s3rnet"]["params"]
    assert rows["s3rnet"]["macs"] == cli["s3rnet"]["macs"]


def test_analysis_notebook_robustness_curve_falls_with_noise(analysis):
    _, record = analysis
    curve = record["robustness"]
    for method in {row["method"] for row in curve}:
        rows = sorted((row for row in curve if row["method"] == method), key=lambda r: -float(r["snr_db"]))
        assert float(rows[0]["snr_db"]) == math.inf
        psnrs = [row["psnr"] for row in rows]
        assert all(a > b for a, b in zip(psnrs, psnrs[1:])), (method, psnrs)


def test_analysis_notebook_weights_sparsity_and_cka_are_well_formed(analysis):
    _, record = analysis
    for label, stats in record["branch_weights"].items():
        assert sorted(stats) == ["K", "Q", "V", "Z"], label
        assert math.isclose(sum(s["dominant_share"] for s in stats.values()), 1.0, abs_tol=1e-9)
        for s in stats.values():
            assert 0.0 <= s["min"] <= s["mean"] <= s["max"] <= 1.0
    sparsity = record["sparsity"]
    assert sorted(sparsity) == ["ssawb", "sum"]
    for fusion, s in sparsity.items():
        assert 0.0 <= s["gini"] < 1.0 and 0.0 < s["top10_share"] <= 1.0 and s["effective_channels"] >= 1.0
        assert math.isfinite(s["psnr"])
    # The no-SSAWB network's score is the CLI's for the same checkpoint.
    workdir = analysis[0]
    cli = cli_evaluate(workdir, {"msi": "oli4"}, ["s3rnet"], checkpoint=sparsity["sum"]["checkpoint"])
    assert math.isclose(sparsity["sum"]["psnr"], cli["s3rnet"]["psnr"], rel_tol=1e-5)
    assert len(record["cka_between_branches"]) == 6
    assert all(0.0 <= v <= 1.0 for v in record["cka_between_branches"].values())
    assert len(record["reading"]) == 5


# --------------------------------------------------------------------------------------------
# 04: a real pair
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_pair(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("nb04")
    return workdir, run_notebook("04_real_pair.ipynb", workdir)


def test_real_pair_notebook_recovers_the_known_pair(real_pair):
    _, record = real_pair
    assert record["ratio"] == 4
    assert all(abs(a - b) < 0.05 for a, b in zip(record["shift_lr_px"], (0.3, -0.2)))
    assert max(record["response_distance"]) < 0.5
    assert record["output_transform"][:3] == [5.0, 0.0, 500000.0] and record["output_transform"][5] == 4480000.0
    # Bicubic ignores the MSI: the truth puts it last.
    assert record["ranking"]["psnr"][-1] == "bicubic"
    # A 10-band Sentinel-2 pair: the published lite-s2-6 on B2, B3, B4, B8, B11, B12.
    assert record["wide_msi"] == {"checkpoint": "lite-s2-6", "msi_bands": [0, 1, 2, 6, 8, 9]}


def test_real_pair_notebook_matches_the_cli(real_pair):
    workdir, record = real_pair
    pair = workdir / "out" / "pair"
    done = subprocess.run(
        [sys.executable, "-m", "s3rnet", "fuse", "--lrhsi", str(pair / "lrhsi.tif"), "--hrmsi", str(pair / "hrmsi.tif"),
         "--out", str(workdir / "cli.tif"), "--method", "mtf-glp-hpm", "--tile", "48", "--report", str(workdir / "cli.json")],
        cwd=workdir, capture_output=True, text=True, env=cli_environment(),
    )
    assert done.returncode == 0, done.stderr
    cli = json.loads((workdir / "cli.json").read_text())
    notebook = record["report"]
    assert cli["registration"]["shift_lr_px"] == notebook["registration"]["shift_lr_px"]
    for kind in ("spatial", "spectral"):
        for key in ("psnr", "sam"):
            assert math.isclose(cli["quality"]["consistency"][kind][key], notebook["quality"]["consistency"][kind][key], rel_tol=1e-6)
    for key in ("d_lambda", "d_s", "qnr", "hqnr"):
        assert math.isclose(cli["quality"]["no_reference"][key], notebook["quality"]["no_reference"][key], rel_tol=1e-6)
