"""The declared split of synthetic scenes: which seeds train, which validate, which test.

Synthetic scenes are named by seeds (``synthetic:SEED``), so their split is a split of seeds,
declared in the versioned file ``s3rnet/data/splits/synthetic/seeds.json``: training draws
seeds in a range, validation and test use fixed seeds outside it, disjoint from each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

SYNTHETIC_SPLIT_FILE = Path(__file__).with_name("splits") / "synthetic" / "seeds.json"


@dataclass(frozen=True)
class SyntheticSplit:
    """Seeds of synthetic scenes by use.

    Attributes
    ----------
    version : int
    train_seeds : (int, int)
        Training seeds are drawn in ``[low, high)``.
    val_seeds, test_seeds : tuple of int
        Fixed scenes for model selection and for reporting.
    size : int
        Side of the validation and test scenes.
    units : tuple of str
        Each validation or test seed gives one scene in each of these units.
    """

    version: int
    train_seeds: tuple[int, int]
    val_seeds: tuple[int, ...]
    test_seeds: tuple[int, ...]
    size: int
    units: tuple[str, ...]

    def scene_names(self, use: str, grid: str | None = None) -> list[str]:
        """``synthetic:SEED?...`` names of the ``"val"`` or ``"test"`` scenes (``grid``: a
        grid name of :mod:`s3rnet.data.synthetic`, or the default grid)."""
        if use not in ("val", "test"):
            raise ConfigError(f"synthetic split: no use {use!r}; choose val or test (training seeds are drawn)")
        seeds = self.val_seeds if use == "val" else self.test_seeds
        grid_option = "" if grid is None else f"&grid={grid}"
        return [f"synthetic:{seed}?size={self.size}&units={units}{grid_option}" for seed in seeds for units in self.units]


def load_synthetic_split(path: str | Path = SYNTHETIC_SPLIT_FILE) -> SyntheticSplit:
    """The declared synthetic split, checked: val and test seeds disjoint and outside the
    training range."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        split = SyntheticSplit(
            int(data["version"]), tuple(int(s) for s in data["train_seeds"]), tuple(int(s) for s in data["val_seeds"]),
            tuple(int(s) for s in data["test_seeds"]), int(data["size"]), tuple(data["units"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not a readable synthetic split ({exc})") from exc
    low, high = split.train_seeds
    held_out = split.val_seeds + split.test_seeds
    if low >= high or any(low <= seed < high for seed in held_out):
        raise ConfigError(f"{path}: validation and test seeds must lie outside the training range [{low}, {high})")
    if set(split.val_seeds) & set(split.test_seeds):
        raise ConfigError(f"{path}: seeds {sorted(set(split.val_seeds) & set(split.test_seeds))} are both val and test")
    return split
