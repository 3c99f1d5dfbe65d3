"""Shared fixtures: the real Indian Pines scene (from $S3RNET_DATA or the tensorly wheel)."""

from __future__ import annotations

from pathlib import Path

import pytest

from s3rnet.data import load_scene, split_region
from s3rnet.degrade import simulate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def indian_pines():
    """The 145 x 145 x 200 Indian Pines scene in radiance units."""
    return load_scene("indian_pines")


@pytest.fixture(scope="session")
def test_region(indian_pines):
    """The declared test region of Indian Pines (48 x 144 pixels)."""
    return split_region(indian_pines, "test")


@pytest.fixture(scope="session")
def oli4_simulation(test_region):
    """The evaluation protocol's inputs: test region, OLI 4-band MSI, box PSF, ratio 4, no noise."""
    return simulate(test_region.cube, test_region.wavelengths, test_region.fwhm, msi="oli4", psf="box", ratio=4)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """A tiny S3RNet trained for 4 steps (smoke config: Indian Pines, clean): its config and last
    checkpoint, for what is added to a checkpoint after training (ensemble partner, projection)."""
    from s3rnet.training import load_config, train

    out = tmp_path_factory.mktemp("smoke-run")
    config = load_config(ROOT / "configs" / "smoke.json").replace(steps=4, val_every=4, checkpoint_every=4)
    train(config, out, progress=False)
    return config, out / "last.safetensors"
