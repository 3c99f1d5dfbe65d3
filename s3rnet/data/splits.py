"""Versioned spatial splits: train / val / test rectangles that share no pixel.

A split file lives in ``s3rnet/data/splits/<scene>.json`` and declares, for one scene, its
``version``, the ``shape`` it applies to, the ``ratio`` its sides are multiples of, and a
``regions`` mapping of rectangles ``{"rows": [r0, r1], "cols": [c0, c1]}`` (end excluded).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, ShapeError
from .scene import Scene, crop

_SPLIT_DIR = Path(__file__).with_name("splits")


@dataclass(frozen=True)
class Split:
    """A scene's declared regions.

    Attributes
    ----------
    scene : str
    version : int
    shape : (int, int)
        Rows and columns of the scene it was declared for.
    ratio : int
        Every region side is a multiple of it.
    regions : dict
        Region name -> ``((r0, r1), (c0, c1))``.
    """

    scene: str
    version: int
    shape: tuple[int, int]
    ratio: int
    regions: dict[str, tuple[tuple[int, int], tuple[int, int]]]

    def region(self, name: str) -> tuple[tuple[int, int], tuple[int, int]]:
        if name not in self.regions:
            raise ConfigError(
                f"split {self.scene!r} v{self.version} has no region {name!r}; "
                f"it has {', '.join(self.regions)}"
            )
        return self.regions[name]


def available_splits() -> list[str]:
    """Scenes with a declared split."""
    return sorted(p.stem for p in _SPLIT_DIR.glob("*.json"))


def load_split(scene: str) -> Split:
    """The declared split of a scene, checked (disjoint regions, sides multiples of the ratio)."""
    path = _SPLIT_DIR / f"{scene}.json"
    if not path.is_file():
        raise ConfigError(f"no split is declared for scene {scene!r} (declared: {', '.join(available_splits())})")
    data = json.loads(path.read_text())
    regions = {
        name: (tuple(r["rows"]), tuple(r["cols"])) for name, r in data["regions"].items()
    }
    split = Split(data["scene"], int(data["version"]), tuple(data["shape"]), int(data["ratio"]), regions)
    _check(split)
    return split


def _check(split: Split) -> None:
    boxes = list(split.regions.items())
    for name, ((r0, r1), (c0, c1)) in boxes:
        if (r1 - r0) % split.ratio or (c1 - c0) % split.ratio or r1 <= r0 or c1 <= c0:
            raise ConfigError(f"split {split.scene!r}: region {name!r} sides are not positive multiples of {split.ratio}")
        if r1 > split.shape[0] or c1 > split.shape[1] or min(r0, c0) < 0:
            raise ConfigError(f"split {split.scene!r}: region {name!r} leaves the scene")
    for i, (a, ((ar0, ar1), (ac0, ac1))) in enumerate(boxes):
        for b, ((br0, br1), (bc0, bc1)) in boxes[i + 1 :]:
            if ar0 < br1 and br0 < ar1 and ac0 < bc1 and bc0 < ac1:
                raise ConfigError(f"split {split.scene!r}: regions {a!r} and {b!r} overlap")


def split_region(scene: Scene, region: str, split: Split | None = None) -> Scene:
    """The named region of a scene under its declared split.

    Raises
    ------
    ConfigError
        When the scene has no declared split or the split has no such region.
    ShapeError
        When the scene's size differs from the one the split was declared for.
    """
    split = split or load_split(scene.name)
    if scene.shape[:2] != split.shape:
        raise ShapeError(
            f"split {split.scene!r} v{split.version} was declared for {split.shape[0]}x{split.shape[1]} "
            f"pixels, scene {scene.name!r} is {scene.shape[0]}x{scene.shape[1]}"
        )
    rows, cols = split.region(region)
    cropped = crop(scene, rows, cols)
    cropped.meta["split"] = {"scene": split.scene, "version": split.version, "region": region}
    return cropped
