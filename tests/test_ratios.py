"""A checkpoint at other spatial ratios than it was trained at: validated on validation data
against every classical method, recorded in its sidecar, used (and only then) by CheckpointMethod,
evaluate and fuse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from s3rnet.baselines import METHODS, get_method
from s3rnet.checkpoints import CheckpointError, load_checkpoint
from s3rnet.degrade import simulate
from s3rnet.errors import ConfigError
from s3rnet.inference import CheckpointMethod, prepare_scene
from s3rnet.metrics import psnr
from s3rnet.training import ratio_scores, ratios_record, validated_ratios

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def smoke_scores(smoke_run):
    config, checkpoint = smoke_run
    return checkpoint, ratio_scores(checkpoint, config, [3], methods=["bicubic", "mtf-glp-hpm"])


def test_scores_at_another_ratio_compare_the_checkpoint_with_each_method(smoke_scores, smoke_run):
    checkpoint, scores = smoke_scores
    assert list(scores) == [3] and set(scores[3]) == {"s3rnet", "bicubic", "mtf-glp-hpm"}
    # The validation region degraded at ratio 3, as a user would: MTF-GLP-HPM scored there directly.
    config, _ = smoke_run
    from s3rnet.training import training_grid, validation_problems

    (problem,), _ = validation_problems(config.replace(ratio=3, patch_size=15), training_grid(config))
    assert problem.simulation.inputs().ratio == 3
    direct = psnr(problem.simulation.truth, get_method("mtf-glp-hpm")(problem.simulation.inputs()))
    assert scores[3]["mtf-glp-hpm"]["psnr"] == pytest.approx(direct, abs=1e-6)
    # A network trained for 4 steps is no match for MTF-GLP-HPM, so ratio 3 is not validated.
    assert scores[3]["s3rnet"]["psnr"] < scores[3]["mtf-glp-hpm"]["psnr"]
    assert validated_ratios(scores) == []
    record = ratios_record(scores, "validation problems of configs/smoke.json")
    assert record["validated"] == [] and record["scores"]["3"]["s3rnet"]["psnr"] == round(scores[3]["s3rnet"]["psnr"], 4)


def test_a_ratio_is_validated_only_above_every_method():
    at = {"s3rnet": {"psnr": 30.0, "sam": 2.0}, "gsa": {"psnr": 29.0, "sam": 2.5}, "cnmf": {"psnr": 30.5, "sam": 1.9}}
    assert validated_ratios({3: at, 6: {**at, "cnmf": {"psnr": 29.5, "sam": 1.9}}}) == [6]


def test_bad_ratios_are_refused_before_anything_is_scored(smoke_run):
    with pytest.raises(ConfigError, match="ratios must be whole numbers >= 2"):
        ratio_scores("lite-oli4", None, [1])  # refused before the config is read
    config, checkpoint = smoke_run
    # The Indian Pines val region (96 x 48) has no whole number of LR pixels at ratio 5.
    with pytest.raises(ConfigError, match="ratio 5 cannot be validated on this config's problems: .*not a multiple of the ratio 5"):
        ratio_scores(checkpoint, config, [3, 5])


def test_the_cli_records_the_ratios_and_evaluate_refuses_an_unvalidated_one(smoke_run, tmp_path):
    _, checkpoint = smoke_run
    out = tmp_path / "ratios.safetensors"
    result = subprocess.run(
        [sys.executable, "-m", "s3rnet", "ratios", "--checkpoint", str(checkpoint), "--config",
         str(ROOT / "configs" / "smoke.json"), "--ratios", "3", "--out", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    _, metadata = load_checkpoint(out)
    record = metadata["ratios"]
    assert set(record["scores"]["3"]) == {"s3rnet", *METHODS}
    assert "smoke.json" in record["chosen_on"] and "test" not in record["chosen_on"]
    assert record["validated"] == validated_ratios({3: record["scores"]["3"]})
    assert "| 3 |" in result.stdout and "validated at ratio" in result.stdout
    evaluated = subprocess.run(
        [sys.executable, "-m", "s3rnet", "evaluate", "--scene", "indian_pines", "--split", "test", "--msi", "oli4",
         "--ratio", "3", "--methods", "s3rnet", "--checkpoint", str(out)],
        capture_output=True, text=True, check=False,
    )
    if record["validated"]:
        assert evaluated.returncode == 0, evaluated.stderr
    else:
        assert evaluated.returncode == 2 and "trained for ratio 4; this scene has ratio 3" in evaluated.stderr


def test_a_published_checkpoint_fuses_at_ratio_3_and_corrects_its_skip(test_region):
    method = CheckpointMethod("lite-s2-4", device="cpu")
    assert 3 in method.metadata["ratios"]["validated"]
    scene = prepare_scene(test_region, method.metadata)
    simulation = simulate(scene.cube, scene.wavelengths, scene.fwhm, msi="s2-4", ratio=3)
    inputs = simulation.inputs()
    fused = method(inputs)
    assert fused.shape == simulation.truth.shape
    skip = get_method(method.metadata["estimate"])(inputs)
    assert psnr(simulation.truth, fused) > psnr(simulation.truth, skip) + 0.5
    # evaluate runs it there too (its MAC count at that ratio included).
    from s3rnet.evaluation import run_evaluation

    evaluated = run_evaluation("indian_pines", split="test", methods=["s3rnet"], msi="s2-4", ratio=3, checkpoint="lite-s2-4")
    assert evaluated.methods["s3rnet"]["psnr"] > psnr(simulation.truth, skip)
    with pytest.raises(CheckpointError, match="this scene has ratio 5"):
        method(simulate(scene.cube[:45, :140], scene.wavelengths, scene.fwhm, msi="s2-4", ratio=5).inputs())


def test_a_record_keeps_earlier_ratios_measured_on_the_same_problems_only():
    at = {"s3rnet": {"psnr": 30.0, "sam": 2.0}, "gsa": {"psnr": 29.0, "sam": 2.5}}
    earlier = ratios_record({3: at, 6: {**at, "gsa": {"psnr": 31.0, "sam": 2.5}}}, "problems A")
    assert earlier["validated"] == [3] and list(earlier["scores"]) == ["3", "6"]
    later = ratios_record({2: at, 6: at}, "problems A", earlier)
    assert later["validated"] == [2, 3, 6] and list(later["scores"]) == ["2", "3", "6"]
    with pytest.raises(ConfigError, match="validated on other problems"):
        ratios_record({2: at}, "problems B", earlier)
