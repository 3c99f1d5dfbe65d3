"""Shared fixtures: the real Indian Pines scene (from $S3RNET_DATA or the tensorly wheel)."""

from __future__ import annotations

import pytest

from s3rnet.data import load_scene, split_region
from s3rnet.degrade import simulate


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
