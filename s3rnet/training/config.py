"""A training run's configuration: :class:`TrainConfig`, read from JSON by :func:`load_config`.

A run trains on one or more weighted **sources** of ground-truth patches (:mod:`.sources`):

* ``{"kind": "region", "scene": "indian_pines", "region": "train"}``: a region of a scene's
  declared split (never ``"test"``);
* ``{"kind": "synthetic", "size": 64, "units": ["radiance", "reflectance"], "artefacts": true}``:
  a stream of synthetic scenes (:mod:`s3rnet.data.synthetic`), a new one per batch, its seed drawn
  from the run's generator in the training range of the declared synthetic split; an optional
  ``"variability": [0, 1]`` and ``"variants": [1, 6]`` draw each scene's within-class spectral
  variability and number of spectra per class in those ranges (a number fixes one; defaults:
  the scenes' defaults, 1 and 6);
* ``{"kind": "folder", "path": "/data/aviris_tiles"}``: every scene file in a folder (ENVI
  ``.hdr``, ``.mat``, ``.npy`` / ``.npz``, GeoTIFF ``.tif``), e.g. the paper's 1,678 AVIRIS tiles.

Each source has a ``weight`` (the share of patches it gives). Without ``sources`` a config trains
on ``train_region`` of ``scene``, as configs did before sources existed. Every patch is brought
onto one training ``grid``: ``"scene"`` (the bands of ``scene``) or a named grid such as
``"aviris-172"`` (:data:`TRAINING_GRIDS`), whose checkpoints run on any VNIR-SWIR scene.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data import AVIRIS_172, load_split
from ..data.synthetic import MAX_VARIABILITY, VARIANTS
from ..degrade import MSI_RESPONSES, NORMALISATIONS, PSFS, SNR_REFERENCES
from ..errors import ConfigError
from ..estimates import ESTIMATES
from ..losses import LOSSES
from ..models import ATTENTIONS, FUSIONS, list_presets

TRAIN_SKIPS = ("none", "bicubic", *ESTIMATES)
# Training grids by name; "scene" is the bands of the config's scene.
TRAINING_GRIDS = {"aviris-172": AVIRIS_172}
SOURCE_KINDS = ("region", "synthetic", "folder")
SYNTHETIC_UNITS = ("radiance", "reflectance")
# Keys each kind of source takes, with their defaults ("scene" of a region defaults to the config's).
_SOURCE_KEYS: dict[str, dict[str, Any]] = {
    "region": {"weight": 1.0, "scene": None, "region": "train"},
    "synthetic": {"weight": 1.0, "size": 64, "units": ["radiance"], "artefacts": True, "variability": 1.0, "variants": VARIANTS},
    "folder": {"weight": 1.0, "path": None, "recursive": True},
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; checked when constructed.

    Attributes
    ----------
    preset : str
        Model preset (:func:`s3rnet.models.list_presets`).
    scene : str
        The real scene validated on (its ``val_region``), and the one trained on when there are
        no ``sources``; it must have a declared split (:func:`s3rnet.data.available_splits`).
    train_region, val_region : str
        Regions of that split to train on (without ``sources``) and to validate (select) on;
        never ``"test"``.
    sources : list of dict, optional
        Weighted sources of training patches (module docstring); None: ``train_region`` of
        ``scene``.
    grid : str
        Bands every patch is brought onto: ``"scene"`` (those of ``scene``) or a name of
        :data:`TRAINING_GRIDS`. Real scenes are resampled (:func:`s3rnet.data.resample`, filling
        within its limits), synthetic ones are made on the grid.
    val_synthetic : bool
        Also validate on the fixed synthetic validation scenes of the declared synthetic split
        (:func:`s3rnet.data.synthetic_split.load_synthetic_split`), made on the training grid.
    msi : str
        MSI spectral response (:data:`s3rnet.degrade.MSI_RESPONSES`).
    psf : str
        Point spread function of the LR-HSI (:data:`s3rnet.degrade.PSFS`).
    ratio : int
        Spatial ratio.
    patch_size : int
        Side of the ground-truth patches, a multiple of ``ratio`` that fits every source.
    batch_size : int
        Patches per step.
    steps : int
        Optimisation steps; the learning rate anneals to 0 over them.
    lr : float
        Initial Adam learning rate.
    sam_weight : float
        Weight of the mean spectral angle (radians) in the ``"paper"``, ``"band-balanced"`` and
        ``"band-psnr"`` losses.
    loss : {"paper", "authors", "band-balanced", "band-psnr"}
        ``"paper"``: ``L1 + sam_weight * SAM`` as the paper's text says; ``"authors"``: the loss
        of the authors' public code (``sam_weight`` unused); ``"band-balanced"``: each band's L1
        divided by the band's mean absolute truth in the batch, plus ``sam_weight * SAM``
        (:func:`s3rnet.losses.band_balanced_loss`), so that dark bands count as much as bright
        ones, as in the per-band PSNR the models are scored with; ``"band-psnr"``: minus the mean
        over samples and bands of each band's PSNR (:func:`s3rnet.losses.band_psnr`), plus
        ``sam_weight * SAM``, so that a band's relative change in error counts the same whether
        the band is fused at 30 or at 45 dB, as in the score (its SAM weight is 200-400 times
        the other losses' for the same share of the gradient).
    noise_snr_db : (float, float) or None
        AWGN on the training LR-HSI at an SNR drawn uniformly in ``[low, high]`` dB per patch;
        None trains on noise-free inputs. ``[35, 35]`` with ``noise_reference="authors"``
        reproduces the authors' training.
    clean_fraction : float
        Share of the patches (drawn per patch) left noise-free when ``noise_snr_db`` is set.
    msi_noise_snr_db : (float, float) or None
        AWGN on the training HR-MSI, every band at one SNR drawn uniformly in ``[low, high]`` dB
        per patch, each band's own mean square its signal (as a sensor's SNR specification reads,
        so that a dark SWIR band is not drowned); drawn for every patch, whatever ``clean_fraction``
        does to its LR-HSI. None (the default, and every published recipe) trains on a noise-free
        HR-MSI; ``benchmarks/msi_noise.py`` measures what that costs.
    noise_reference : {"scene", "authors"}
        How those SNRs are measured (:func:`s3rnet.degrade.add_awgn`): on the patch in the
        scene's units, or as the authors' code does, on the patch mapped to [-1, 1] by its
        ground truth's minimum and maximum.
    val_snr_db : float, None, or list of them
        SNR(s) of the AWGN on the validation LR-HSIs (scene convention); None: noise-free. With
        a list every validation scene is simulated at each.
    val_seed : int
        Seed of the validation noise (the validation problems are simulated once).
    val_every : int
        Validate every this many steps (and after the last one).
    checkpoint_every : int
        Save the training state every this many steps (and after the last one).
    seed : int
        Seed of the initial weights and of every random draw of the run.
    skip : {"none", "bicubic", "gsa", "mtf-glp-hpm", "hysime-gsa", "hysime-mtf", "hysime-wiener-mtf", "hysime-wiener-hybrid", "pca-wiener-cnmf"}
        Global skip (:class:`s3rnet.models.S3RNetConfig`): none (the paper), the bicubic
        upsampling of the LR-HSI, or a classical estimate (:data:`s3rnet.estimates.ESTIMATES`)
        that the network corrects, computed on the normalised inputs of each sample.
    estimate_context : int or None
        Side (pixels of the ground truth) of the square each sample's classical estimate is
        computed on; None: the patch itself. With a larger context each sample is cut as a square
        of this side, degraded, normalised and given its estimate whole, and the ``patch_size``
        patch is then cut from the four images at a random position on the LR grid. Inference
        computes the estimate on the whole scene, and a HySime subspace or a GSA regression
        fitted on 48 x 48 pixels (144 LR pixels for 172 bands) is worse than one fitted on a
        scene: on the validation problems of ``generalise-oli4-unmixing`` HySime-Wiener-Hybrid
        on 48 x 48 tiles scored 0.14 / 0.19 / 0.48 dB under the same method on the 96 x 96
        synthetic scenes (clean / 35 / 15 dB). A multiple of ``ratio``, at least ``patch_size``;
        only with an estimate skip.
    spectral_gain : float
        Strength of the spectral augmentation: each ground-truth patch is multiplied by a smooth
        random gain ``exp(g(lambda))`` (:func:`~s3rnet.training.sampler.smooth_spectral_gain`)
        before it is degraded, with ``g`` of this standard deviation at a few wavelength knots;
        0 turns it off.
    fusion : str
        ``"ssawb"`` (the paper) or ``"sum"`` (the ablation).
    normalisation : {"global", "band", "minmax"}
        Mode of the input-only normalisation (:class:`s3rnet.degrade.InputNormalisation`).
    attention : {"paper", "authors"}
        The SSAWB's attention (:class:`s3rnet.models.S3RNetConfig`).
    out_dir : str
        Output directory, when :func:`~s3rnet.training.train` is given none.
    init : str or None
        Start from the weights of this model checkpoint (a published name such as ``"lite-oli4"``
        or a path) instead of seeded ones: fine-tuning, on other sources, another skip estimate
        or longer. Its network must be this config's (preset, bands, MSI bands, ratio, skip
        kind, fusion, attention); the new run's sidecar records where it started.
    """

    preset: str = "lite"
    scene: str = "indian_pines"
    train_region: str = "train"
    val_region: str = "val"
    sources: tuple[dict[str, Any], ...] | None = None
    grid: str = "scene"
    val_synthetic: bool = False
    msi: str = "oli4"
    psf: str = "box"
    ratio: int = 4
    patch_size: int = 48
    batch_size: int = 4
    steps: int = 1000
    lr: float = 1e-4
    sam_weight: float = 0.1
    loss: str = "paper"
    noise_snr_db: tuple[float, float] | None = (35.0, 35.0)
    clean_fraction: float = 0.0
    msi_noise_snr_db: tuple[float, float] | None = None
    noise_reference: str = "scene"
    val_snr_db: float | None | tuple[float | None, ...] = None
    val_seed: int = 0
    val_every: int = 100
    checkpoint_every: int = 100
    seed: int = 0
    skip: str = "none"
    estimate_context: int | None = None
    spectral_gain: float = 0.0
    fusion: str = "ssawb"
    normalisation: str = "global"
    attention: str = "paper"
    out_dir: str = "runs/train"
    init: str | None = None

    def __post_init__(self) -> None:
        for name in ("ratio", "patch_size", "batch_size", "steps", "val_every", "checkpoint_every"):
            require_int(name, getattr(self, name), minimum=1)
        for name in ("seed", "val_seed"):
            require_int(name, getattr(self, name), minimum=0)
        choices = {
            "preset": list_presets(), "msi": MSI_RESPONSES, "psf": PSFS, "fusion": FUSIONS,
            "normalisation": NORMALISATIONS, "skip": TRAIN_SKIPS, "loss": LOSSES,
            "noise_reference": SNR_REFERENCES, "attention": ATTENTIONS, "grid": ("scene", *TRAINING_GRIDS),
        }
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigError(
                    f"key {name!r}: unknown value {value!r}; choose one of {', '.join(allowed)}"
                )
        for name in ("scene", "train_region", "val_region", "out_dir"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ConfigError(f"key {name!r}: expected a non-empty string, got {getattr(self, name)!r}")
        if self.init is not None and (not isinstance(self.init, str) or not self.init):
            raise ConfigError(f"key 'init': expected a checkpoint name or path, got {self.init!r}")
        if not isinstance(self.val_synthetic, bool):
            raise ConfigError(f"key 'val_synthetic': expected true or false, got {self.val_synthetic!r}")
        if _require_number("spectral_gain", self.spectral_gain) < 0:
            raise ConfigError(f"key 'spectral_gain': must be >= 0, got {self.spectral_gain!r}")
        if _require_number("lr", self.lr) <= 0:
            raise ConfigError(f"key 'lr': the learning rate must be > 0, got {self.lr!r}")
        if _require_number("sam_weight", self.sam_weight) < 0:
            raise ConfigError(f"key 'sam_weight': must be >= 0, got {self.sam_weight!r}")
        if not 0.0 <= _require_number("clean_fraction", self.clean_fraction) <= 1.0:
            raise ConfigError(f"key 'clean_fraction': a share between 0 and 1, got {self.clean_fraction!r}")
        object.__setattr__(self, "val_snr_db", _val_snrs(self.val_snr_db))
        object.__setattr__(self, "noise_snr_db", _snr_range("noise_snr_db", self.noise_snr_db))
        object.__setattr__(self, "msi_noise_snr_db", _snr_range("msi_noise_snr_db", self.msi_noise_snr_db))
        if self.patch_size % self.ratio:
            raise ConfigError(
                f"key 'patch_size': {self.patch_size} is not a multiple of the ratio {self.ratio}"
            )
        self._check_estimate_context()
        if self.sources is not None:
            object.__setattr__(self, "sources", _check_sources(self.sources, self.scene))
        self._check_regions()

    def _check_estimate_context(self) -> None:
        if self.estimate_context is None:
            return
        require_int("estimate_context", self.estimate_context, minimum=self.patch_size)
        if self.estimate_context % self.ratio:
            raise ConfigError(
                f"key 'estimate_context': {self.estimate_context} is not a multiple of the ratio {self.ratio}"
            )
        if self.skip not in ESTIMATES:
            raise ConfigError(
                f"key 'estimate_context': only with a classical estimate as the skip, not {self.skip!r}"
            )

    @property
    def context_size(self) -> int:
        """Side of the square cut from a source per sample: ``estimate_context`` or ``patch_size``."""
        return self.patch_size if self.estimate_context is None else self.estimate_context

    def _check_regions(self) -> None:
        for name in ("train_region", "val_region"):
            if getattr(self, name) == "test":
                raise ConfigError(f"key {name!r}: never train or select models on the test region")
        regions = [(self.scene, self.train_region)] if self.sources is None else [
            (source["scene"], source["region"]) for source in self.sources if source["kind"] == "region"
        ]
        for scene, region in regions:
            (r0, r1), (c0, c1) = load_split(scene).region(region)
            if self.context_size > min(r1 - r0, c1 - c0):
                raise ConfigError(
                    f"key {self._size_key!r}: {self.context_size} does not fit in the training region "
                    f"{region!r} of {scene!r} ({r1 - r0}x{c1 - c0} pixels)"
                )
        for source in self.sources or ():
            if source["kind"] == "synthetic" and source["size"] < self.context_size:
                raise ConfigError(
                    f"key 'sources': synthetic scenes of size {source['size']} are smaller than the "
                    f"{self._size_key} {self.context_size}"
                )
        (r0, r1), (c0, c1) = load_split(self.scene).region(self.val_region)
        if (r1 - r0) % self.ratio or (c1 - c0) % self.ratio:
            raise ConfigError(
                f"key 'ratio': the validation region {self.val_region!r} ({r1 - r0}x{c1 - c0} "
                f"pixels) is not a multiple of the ratio {self.ratio}"
            )

    @property
    def _size_key(self) -> str:
        return "patch_size" if self.estimate_context is None else "estimate_context"

    @property
    def training_sources(self) -> tuple[dict[str, Any], ...]:
        """The sources trained on: ``sources``, or ``train_region`` of ``scene``."""
        if self.sources is not None:
            return self.sources
        return ({"kind": "region", "weight": 1.0, "scene": self.scene, "region": self.train_region},)

    @property
    def val_snrs(self) -> tuple[float, ...]:
        """The validation SNRs in dB, ``inf`` for noise-free."""
        values = self.val_snr_db if isinstance(self.val_snr_db, tuple) else (self.val_snr_db,)
        return tuple(math.inf if value is None else float(value) for value in values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (tuples as lists)."""
        data = dataclasses.asdict(self)
        for name in ("noise_snr_db", "msi_noise_snr_db", "val_snr_db", "sources"):
            if isinstance(data[name], tuple):
                data[name] = list(data[name])
        return data

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed, checked again."""
        return dataclasses.replace(self, **changes)


def require_int(name: str, value: Any, minimum: int) -> int:
    """``value`` if it is an integer of at least ``minimum``, else a ConfigError naming the key."""
    # bool is an int subclass, and "true" for a step count is a mistake worth reporting.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"key {name!r}: expected an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"key {name!r}: must be >= {minimum}, got {value}")
    return value


def _require_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"key {name!r}: expected a finite number, got {value!r}")
    return float(value)


def _snr_range(name: str, value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ConfigError(
            f"key {name!r}: expected null or [low, high] in dB (e.g. [35, 35]), got {value!r}"
        )
    low, high = (_require_number(name, v) for v in value)
    if low > high:
        raise ConfigError(f"key {name!r}: low {low} is above high {high}")
    return (low, high)


def _val_snrs(value: Any) -> float | None | tuple[float | None, ...]:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        if not value:
            raise ConfigError("key 'val_snr_db': an empty list; give null (noise-free), a number or a list")
        return tuple(None if v is None else _require_number("val_snr_db", v) for v in value)
    return _require_number("val_snr_db", value)


def _check_sources(sources: Any, scene: str) -> tuple[dict[str, Any], ...]:
    """The sources with their defaults filled in, each checked; messages name the source."""
    if isinstance(sources, (str, bytes, dict)) or not hasattr(sources, "__iter__") or not len(sources):
        raise ConfigError("key 'sources': expected a non-empty list of sources ({\"kind\": ...})")
    checked = []
    for index, source in enumerate(sources):
        where = f"key 'sources', entry {index}"
        if not isinstance(source, dict) or source.get("kind") not in SOURCE_KINDS:
            raise ConfigError(f"{where}: expected an object with \"kind\" one of {', '.join(SOURCE_KINDS)}, got {source!r}")
        allowed = _SOURCE_KEYS[source["kind"]]
        unknown = sorted(set(source) - set(allowed) - {"kind"})
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} for a {source['kind']} source; valid: {', '.join(allowed)}")
        entry = {"kind": source["kind"], **allowed, **source}
        if _require_number(f"sources[{index}].weight", entry["weight"]) <= 0:
            raise ConfigError(f"{where}: weight must be > 0, got {entry['weight']!r}")
        entry["weight"] = float(entry["weight"])
        if entry["kind"] == "region":
            entry["scene"] = entry["scene"] or scene
            if entry["region"] == "test":
                raise ConfigError(f"{where}: never train or select models on the test region")
        elif entry["kind"] == "synthetic":
            require_int(f"sources[{index}].size", entry["size"], minimum=16)
            units = [entry["units"]] if isinstance(entry["units"], str) else list(entry["units"])
            if not units or any(u not in SYNTHETIC_UNITS for u in units):
                raise ConfigError(f"{where}: units must be among {', '.join(SYNTHETIC_UNITS)}, got {entry['units']!r}")
            entry["units"] = units
            if not isinstance(entry["artefacts"], bool):
                raise ConfigError(f"{where}: artefacts must be true or false, got {entry['artefacts']!r}")
            entry["variability"] = _synthetic_range(where, "variability", entry["variability"], 0.0, MAX_VARIABILITY)
            entry["variants"] = [int(v) for v in _synthetic_range(where, "variants", entry["variants"], 1, VARIANTS, whole=True)]
        else:
            if not isinstance(entry["path"], str) or not Path(entry["path"]).expanduser().is_dir():
                raise ConfigError(f"{where}: path {entry['path']!r} is not a folder")
            if not isinstance(entry["recursive"], bool):
                raise ConfigError(f"{where}: recursive must be true or false, got {entry['recursive']!r}")
        checked.append(entry)
    return tuple(checked)


def _synthetic_range(where: str, key: str, value: Any, lowest: float, highest: float, whole: bool = False) -> list[float]:
    """A synthetic source's scene option given as a number or ``[low, high]``, as ``[low, high]``."""
    pair = [value, value] if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    try:
        low, high = (float(v) for v in pair)
    except (TypeError, ValueError):
        low = high = math.nan
    if not lowest <= low <= high <= highest or (whole and not (low.is_integer() and high.is_integer())):
        kind = "whole number" if whole else "number"
        raise ConfigError(
            f"{where}: {key} must be a {kind} or [low, high] with {lowest:g} <= low <= high <= {highest:g}, got {value!r}"
        )
    return [low, high]


def load_config(path: str | os.PathLike, **overrides: Any) -> TrainConfig:
    """Read and check a training config from a JSON file.

    Keys missing from the file take the defaults of :class:`TrainConfig`; ``overrides`` replace
    the file's values (e.g. a smaller preset for a smoke test of a GPU config).

    Raises
    ------
    ConfigError
        Missing or unreadable file, invalid JSON, an unknown key, or an impossible value; the
        message names the file and the key.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a training config is a JSON object of keys and values")
    known = [f.name for f in dataclasses.fields(TrainConfig)]
    unknown = sorted((set(data) | set(overrides)) - set(known))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; valid keys are {', '.join(known)}"
        )
    try:
        return TrainConfig(**(data | overrides))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
