"""Everything a run reads before its first step: the training grid, the sources on it, the MSI
response on it, and the validation problems."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import Scene, SpectralGrid, load_scene
from ..data.synthetic_split import load_synthetic_split
from ..degrade import Simulation, spectral_response
from .config import TrainConfig
from .sources import PatchSampler, RegionSource, build_sampler, training_grid
from .validation import ValidationProblem, validation_problems


@dataclass(frozen=True)
class TrainingData:
    """The sources, the MSI response and the validation problems of a run, on one grid.

    Attributes
    ----------
    grid : SpectralGrid
        The training grid: the network's bands.
    sampler : PatchSampler
        The weighted sources of ground-truth patches.
    srf : ndarray, shape (M, C)
        Spectral response of the configured MSI on the grid.
    problems : list of ValidationProblem
        Simulated once.
    split_version : int
        Version of the real scene's declared split.
    synthetic_split_version : int
        Version of the declared synthetic split (its training range and val seeds).
    """

    grid: SpectralGrid
    sampler: PatchSampler
    srf: np.ndarray
    problems: list[ValidationProblem]
    split_version: int
    synthetic_split_version: int

    @property
    def train(self) -> Scene | None:
        """The first real training region (for plots), or None when every source is synthetic
        or a folder."""
        regions = [s for s in self.sampler.sources if isinstance(s, RegionSource)]
        return regions[0].scene if regions else None

    @property
    def validation(self) -> Simulation:
        """The first validation problem: the real scene's validation region at the first SNR."""
        return self.problems[0].simulation


def prepare_data(config: TrainConfig) -> TrainingData:
    """Load the sources onto the training grid and simulate the validation problems."""
    grid = training_grid(config, None if config.grid != "scene" else load_scene(config.scene))
    sampler = build_sampler(config, grid)
    srf = spectral_response(config.msi, grid.centres, grid.fwhm, n_bands=grid.bands)
    problems, split_version = validation_problems(config, grid)
    return TrainingData(grid, sampler, srf, problems, split_version, load_synthetic_split().version)
