"""Data-parallel training with torchrun: 2 CPU processes (gloo) follow the same trajectory as
one process with the same global batch."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from s3rnet.training import load_config, seeded_model

ROOT = Path(__file__).resolve().parents[1]


def _run(command: list[str], tmp_path: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def _losses(run: Path) -> list[float]:
    with (run / "log.csv").open() as file:
        return [float(row["loss"]) for row in csv.DictReader(file)]


@pytest.mark.skipif(not torch.distributed.is_available(), reason="this torch build has no torch.distributed")
def test_two_processes_match_one_process_at_the_same_global_batch(tmp_path):
    config = load_config(ROOT / "configs" / "smoke.json").replace(
        batch_size=4, steps=4, val_every=4, checkpoint_every=2
    )
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config.to_dict()))
    train = ["-m", "s3rnet", "train", "--config", str(config_file), "--device", "cpu"]
    _run([sys.executable, *train, "--out", str(tmp_path / "one")], tmp_path)
    _run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *train,
         "--out", str(tmp_path / "two")],
        tmp_path,
    )
    one, two = (load_file(tmp_path / run / "last.safetensors") for run in ("one", "two"))
    assert one.keys() == two.keys()
    for name in one:
        torch.testing.assert_close(two[name], one[name], rtol=1e-4, atol=1e-6)
    # The weights moved: the comparison is not between two untrained networks.
    initial = seeded_model(config, 200, 4).state_dict()
    assert sum(not torch.allclose(one[name], initial[name]) for name in one) > len(one) // 2
    assert _losses(tmp_path / "two") == pytest.approx(_losses(tmp_path / "one"), rel=1e-4)
    assert len(_losses(tmp_path / "two")) == 4
