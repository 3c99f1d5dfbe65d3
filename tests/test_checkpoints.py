"""Checkpoints: safetensors + JSON sidecar round trip, atomic writes, and every refusal."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil

import numpy as np
import pytest
import torch

from s3rnet import __version__
from s3rnet.checkpoints import (
    CheckpointError,
    atomic_write,
    check_compatible,
    checkpoint_metadata,
    load_checkpoint,
    remove_stale_temporaries,
    save_checkpoint,
    usable_ratios,
)
from s3rnet.data import indian_pines_bands
from s3rnet.degrade import spectral_response
from s3rnet.models import build_model


def tiny_checkpoint(path, bands=200, seed=0):
    """Save a ``tiny`` network for Indian Pines' bands (or the first ``bands`` of them)."""
    wavelengths, fwhm = (a[:bands] for a in indian_pines_bands())
    srf = spectral_response("oli4", wavelengths, fwhm)
    generator = torch.Generator().manual_seed(seed)
    model = build_model("tiny", bands, 4, skip="bicubic")
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)
    config = {f: getattr(model.config, f) for f in model.config.__dataclass_fields__}
    metadata = checkpoint_metadata(
        preset="tiny", model_config=config, wavelengths=wavelengths, fwhm=fwhm, msi="oli4", srf=srf,
        psf="box", ratio=4, normalisation="band",
        training={"scene": "indian_pines", "region": "train", "split_version": 1},
        steps=10, validation={"step": 10, "psnr": 30.0, "sam": 2.0},
    )
    return model, save_checkpoint(path, model, metadata)


@pytest.fixture()
def saved(tmp_path):
    model, weights = tiny_checkpoint(tmp_path / "net")
    return model, weights


def sample_inputs(bands=200, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(1, bands, 4, 4, generator=generator), torch.rand(1, 4, 16, 16, generator=generator)


def test_round_trip_gives_the_same_outputs_and_metadata(saved):
    model, weights = saved
    assert weights.name == "net.safetensors" and weights.with_suffix(".json").is_file()
    loaded, metadata = load_checkpoint(weights.with_suffix(""))
    lrhsi, hrmsi = sample_inputs()
    with torch.no_grad():
        assert torch.equal(model.eval()(lrhsi, hrmsi), loaded(lrhsi, hrmsi))
    assert not loaded.training
    assert metadata["preset"] == "tiny" and metadata["bands"] == 200 and metadata["skip"] == "bicubic"
    assert metadata["msi"]["name"] == "oli4" and np.array(metadata["msi"]["response"]).shape == (4, 200)
    assert len(metadata["wavelengths_nm"]) == 200 and len(metadata["fwhm_nm"]) == 200
    assert metadata["training"]["split_version"] == 1 and metadata["steps"] == 10
    assert metadata["code_version"] == __version__
    assert metadata["weights"]["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert metadata["source"] == str(weights)


def test_atomic_write_failure_keeps_the_old_file_and_leaves_no_temporary(saved, monkeypatch):
    _, weights = saved
    before = weights.read_bytes()

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        tiny_checkpoint(weights, seed=5)
    monkeypatch.undo()
    assert weights.read_bytes() == before
    assert not list(weights.parent.glob(".*"))
    load_checkpoint(weights)


def test_atomic_write_replaces_whole_files(tmp_path):
    target = tmp_path / "file.bin"
    atomic_write(target, b"old")
    atomic_write(target, b"new content")
    assert target.read_bytes() == b"new content"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_stale_temporaries_of_a_killed_writer_are_removed(tmp_path):
    stale = tmp_path / ".state.safetensors.abc123.tmp"
    stale.write_bytes(b"partial")
    keep = tmp_path / "state.json"
    keep.write_text("{}")
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert keep.is_file() and not stale.exists()


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy-pickle"])
def test_pickled_torch_files_are_refused(saved, tmp_path, zip_format):
    model, _ = saved
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path, _use_new_zipfile_serialization=zip_format)
    with pytest.raises(CheckpointError, match="refusing to unpickle") as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)


def test_a_plain_pickle_is_refused_too(tmp_path):
    path = tmp_path / "weights.pth"
    path.write_bytes(pickle.dumps({"weight": [1.0, 2.0]}, protocol=4))
    with pytest.raises(CheckpointError, match="refusing to unpickle"):
        load_checkpoint(path)


def test_other_files_are_not_safetensors(tmp_path):
    path = tmp_path / "cube.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_checkpoint(path)


def test_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "absent")


@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_truncated_safetensors_is_refused(saved, keep):
    _, weights = saved
    data = weights.read_bytes()
    weights.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError, match="truncated") as error:
        load_checkpoint(weights)
    assert str(weights) in str(error.value)


def test_truncated_inside_the_header_is_refused(saved):
    _, weights = saved
    weights.write_bytes(weights.read_bytes()[:40])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(weights)


def test_corrupt_header_is_refused(saved):
    _, weights = saved
    data = bytearray(weights.read_bytes())
    data[9:20] = b"\xff" * 11
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt safetensors header"):
        load_checkpoint(weights)


def test_missing_sidecar_is_refused(saved):
    _, weights = saved
    weights.with_suffix(".json").unlink()
    with pytest.raises(CheckpointError, match="sidecar net.json is missing"):
        load_checkpoint(weights)


def test_modified_weights_fail_the_sha256(saved):
    _, weights = saved
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256") as error:
        load_checkpoint(weights)
    assert "net.json" in str(error.value)


def test_sidecar_with_another_sha256_is_refused(saved):
    _, weights = saved
    sidecar = weights.with_suffix(".json")
    metadata = json.loads(sidecar.read_text())
    metadata["weights"]["sha256"] = "0" * 64
    sidecar.write_text(json.dumps(metadata))
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(weights)


def test_sidecar_of_another_checkpoint_is_refused(saved, tmp_path):
    _, weights = saved
    _, other = tiny_checkpoint(tmp_path / "other", bands=172)
    shutil.copy(other.with_suffix(".json"), weights.with_suffix(".json"))
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(weights)


def test_sidecar_for_other_shapes_is_refused_even_with_the_right_sha256(saved, tmp_path):
    _, weights = saved
    _, other = tiny_checkpoint(tmp_path / "other", bands=172)
    metadata = json.loads(other.with_suffix(".json").read_text())
    metadata["weights"]["sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    weights.with_suffix(".json").write_text(json.dumps(metadata))
    with pytest.raises(CheckpointError, match=r"tensor '.*' is float32 \[.*\] in the weights but float32 \[.*\] in the sidecar"):
        load_checkpoint(weights)


def test_sidecar_whose_model_config_disagrees_with_the_weights_is_refused(saved):
    _, weights = saved
    sidecar = weights.with_suffix(".json")
    metadata = json.loads(sidecar.read_text())
    metadata["model_config"]["nf"] = 16
    sidecar.write_text(json.dumps(metadata))
    with pytest.raises(CheckpointError, match="does not describe"):
        load_checkpoint(weights)


@pytest.mark.parametrize("recorded", [None, 1])
def test_weights_of_the_swapped_v_z_wiring_are_refused_saying_why(saved, recorded):
    """Checkpoints written before the V/Z fix have no architecture version (or version 1)."""
    _, weights = saved
    sidecar = weights.with_suffix(".json")
    metadata = json.loads(sidecar.read_text())
    assert metadata["architecture_version"] == 2
    if recorded is None:
        del metadata["architecture_version"]
    else:
        metadata["architecture_version"] = recorded
    sidecar.write_text(json.dumps(metadata))
    with pytest.raises(CheckpointError, match="V and Z branches had their inputs swapped") as error:
        load_checkpoint(weights)
    assert "cannot be converted" in str(error.value) and str(sidecar) in str(error.value)


def test_incompatible_bands_or_msi_are_refused(saved):
    _, weights = saved
    _, metadata = load_checkpoint(weights)
    wavelengths, _ = indian_pines_bands()
    check_compatible(metadata, 200, "oli4", wavelengths=wavelengths, ratio=4)
    with pytest.raises(CheckpointError) as error:
        check_compatible(metadata, 172, "oli6")
    message = str(error.value)
    assert "trained for 200 bands and MSI 'oli4'" in message
    assert "has 172 bands / MSI 'oli6'" in message and str(weights) in message
    with pytest.raises(CheckpointError, match="MSI 'oli4'.*MSI 's2-4'"):
        check_compatible(metadata, 200, "s2-4")
    with pytest.raises(CheckpointError, match="ratio 4.*ratio 8"):
        check_compatible(metadata, 200, "oli4", ratio=8)
    with pytest.raises(CheckpointError, match="other wavelengths"):
        check_compatible(metadata, 200, "oli4", wavelengths=wavelengths + 5.0)


def test_a_checkpoint_fuses_at_the_ratios_it_was_validated_at_and_no_others(saved):
    _, weights = saved
    _, metadata = load_checkpoint(weights)
    assert usable_ratios(metadata) == (4,)
    with pytest.raises(CheckpointError, match="trained for ratio 4; this scene has ratio 3") as error:
        check_compatible(metadata, 200, "oli4", ratio=3)
    assert "python -m s3rnet ratios" in str(error.value)
    metadata["ratios"] = {"validated": [3, 6]}
    assert usable_ratios(metadata) == (4, 3, 6)
    check_compatible(metadata, 200, "oli4", ratio=3)
    with pytest.raises(CheckpointError, match="trained for ratio 4 and validated at ratio 3, 6; this scene has ratio 2"):
        check_compatible(metadata, 200, "oli4", ratio=2)
