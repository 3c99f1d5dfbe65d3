"""``python -m s3rnet report``: the paper's tables, the issue's targets and the ablation, per scene.

Every number comes from :func:`s3rnet.evaluation.run_evaluation`, the function behind
``python -m s3rnet evaluate``, so each row can be reproduced with the CLI calls the report prints
under it. What is scored:

* **Scenes** (:class:`ReportScene`, :func:`report_scenes`): the Indian Pines test region; the
  fixed synthetic test set of the declared synthetic split
  (:func:`s3rnet.data.synthetic_split.load_synthetic_split`), one entry per unit (reflectance,
  radiance), each the mean over its seeds, made on the grid of the checkpoint it is scored with;
  every further scene the catalog finds in ``$S3RNET_DATA`` (its test region, or the whole scene
  when it declares no split). The first scene is the reference one: the adaptation rows, the
  spectral-shift test and the keys that predate per-scene reports come from it.
* **Cases**: each scene with the OLI 4- and 6-band MSI, clean and with AWGN at 35 and 15 dB on
  the LR-HSI, in the scene convention and in the authors' (:data:`NOISE_CASES`); rows: every
  baseline (the estimate the checkpoint corrects among them by default) and ``s3rnet``.
* **Targets** (:func:`targets`): S3RNet against the best classical method in PSNR and SAM, and
  against its own skip estimate (for a checkpoint with an ensemble partner or a projection onto
  its inputs, also its network alone, ``s3rnet-network``); **SSAWB**: spatial mean and standard deviation of each branch's
  weight map; the **robustness curve** over SNR; the **spectral shift**; the **ablation** (each
  run on the reference scene and on the synthetic sets, with its training recipe).

The files written:

* ``results.md``: all of the above, each table with the commands that produce it;
* ``results.json``: the same numbers, machine-readable (per-seed rows of the synthetic set
  included; the notebooks read ``table_one``, ``table_two``, ``robustness`` and ``ablation``,
  which keep their meaning: the reference scene's);
* ``robustness.csv`` and ``robustness.plotly.json``: the reference scene's curve over SNR as a
  table and as a plotly figure (``plotly.io.read_json``), and ``robustness.svg`` for the
  markdown; ``robustness-KEY.csv`` / ``.plotly.json`` / ``.svg`` for each other scene's curve
  (on a synthetic set: the mean over its first ``robustness_scenes`` seeds).

Without ``scenes``, :class:`ReportSettings` scores its one ``scene`` (what the notebooks do);
``python -m s3rnet report`` passes :func:`report_scenes`.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .analysis import BRANCHES, branch_weight_stats
from .data import Scene, load_scene
from .data.catalog import BUILTIN_SCENES, SYNTHETIC_PREFIX, list_scenes
from .data.synthetic import GRIDS, parse_name
from .data.synthetic_split import load_synthetic_split
from .errors import ConfigError, ResponseRangeError, WavelengthError
from .evaluation import DEFAULT_METHODS, WHOLE_SCENE, run_evaluation
from .inference import ProgressCallback
from .metrics import Scorer

ROBUSTNESS_SNRS_DB = (math.inf, 40.0, 35.0, 25.0, 15.0, 10.0)
TABLE_TWO_SNRS_DB = (35.0, 15.0)
METRIC_COLUMNS = ("psnr", "sam", "rmse", "ergas", "ssim")
MSIS = ("oli4", "oli6")
NETWORK = "s3rnet"
# The row of a checkpoint's network without its ensemble partner and projection (``--network-alone``).
NETWORK_ALONE = "s3rnet-network"
# The tolerance: S3RNet never worse than its own skip estimate by more than this (dB).
SKIP_TOLERANCE_DB = 0.1


@dataclass(frozen=True)
class NoiseCase:
    """One noise setting of the LR-HSI: a label, an SNR (dB; inf: clean) and its convention."""

    label: str
    snr_db: float
    reference: str = "scene"


NOISE_CASES = (
    NoiseCase("clean", math.inf),
    NoiseCase("35 dB", 35.0),
    NoiseCase("15 dB", 15.0),
    NoiseCase("35 dB (authors)", 35.0, "authors"),
    NoiseCase("15 dB (authors)", 15.0, "authors"),
)
# The ablation's cases (scene convention).
ABLATION_CASES = (NOISE_CASES[0], NOISE_CASES[2])


@dataclass(frozen=True)
class ReportScene:
    """A scene of the report: one scene, or a set reported as the mean over its members.

    Attributes
    ----------
    key : str
        Its key in ``results.json`` (and in file names).
    title : str
        Heading in ``results.md``.
    names : tuple of str
        Scene names for :func:`s3rnet.data.load_scene`; with several, every table shows the mean
        over them (the rows of each are in ``results.json``).
    split : str
        Region scored: a region of the scene's declared split, or ``"whole"``.
    kind : {"real", "synthetic", "data"}
        A built-in real scene, synthetic scenes (made on the scored checkpoint's grid when it has
        a synthetic grid name), or a scene found in ``$S3RNET_DATA``.
    """

    key: str
    title: str
    names: tuple[str, ...]
    split: str = "test"
    kind: str = "real"

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def synthetic_test_scenes(seeds: int | None = None) -> list[ReportScene]:
    """The fixed synthetic test set, one :class:`ReportScene` per unit; ``seeds``: the first so
    many test seeds only (all when None)."""
    if seeds is not None and seeds < 0:
        raise ConfigError(f"report: the number of synthetic test seeds must be >= 0, got {seeds}")
    split = load_synthetic_split()
    chosen = set(split.test_seeds if seeds is None else split.test_seeds[:seeds])
    scenes = []
    for units in split.units:
        names = tuple(
            name for name in split.scene_names("test")
            if parse_name(name)[0] in chosen and parse_name(name)[1]["units"] == units
        )
        title = (f"Synthetic test set, {units} ({len(names)} of {len(split.test_seeds)} test seeds of split version "
                 f"{split.version}, {split.size} x {split.size} px, mean over seeds)")
        scenes.append(ReportScene(f"synthetic-{units}", title, names, WHOLE_SCENE, "synthetic"))
    return scenes


def data_dir_scenes() -> list[str]:
    """Scenes the catalog finds in ``$S3RNET_DATA`` besides the built-in ones."""
    return [n for n in list_scenes() if n not in BUILTIN_SCENES and not n.startswith(SYNTHETIC_PREFIX)]


def report_scenes(scene: str = "indian_pines", split: str = "test", synthetic_seeds: int | None = None) -> list[ReportScene]:
    """The scenes of the full report: ``scene``'s ``split`` region (the reference scene), the
    synthetic test set in each unit (:func:`synthetic_test_scenes`), and every further scene in
    ``$S3RNET_DATA`` (:func:`data_dir_scenes`: its ``split`` region, or the whole scene when it
    declares no split). ``synthetic_seeds``: the first so many synthetic test seeds (all when
    None, no synthetic scene when 0)."""
    scenes = [ReportScene(scene, f"{scene}, {split} region", (scene,), split, "real")]
    if synthetic_seeds != 0:
        scenes += synthetic_test_scenes(synthetic_seeds)
    scenes += [
        ReportScene(name, f"{name} (from $S3RNET_DATA)", (name,), split, "data")
        for name in data_dir_scenes() if name != scene
    ]
    return scenes


@dataclass
class ReportSettings:
    """What the report evaluates.

    Attributes
    ----------
    scene : str
        Scene name or path; its ``split`` region is the one scene scored when ``scenes`` is None.
    split : str
    checkpoints : dict
        MSI response name -> S3RNet checkpoint (name or path) for that response; responses
        without one are scored with the baselines only.
    adapt_steps : int
        Test-time adaptation steps of the extra ``s3rnet+adapt`` row (reference scene only); 0
        leaves it out.
    baselines : sequence of str
    ablation : dict
        Label -> checkpoint of the ablation runs (scored on the reference scene, clean, at 15 dB
        and with the spectral shift, and on the synthetic scenes, clean and at 15 dB).
    carried_ablation : dict
        Label -> ablation entry of an earlier report (:func:`carried_ablation`), for runs whose
        checkpoints are not on this machine: shown as they were, marked as carried over, before
        the runs of ``ablation`` (a label in both is scored anew).
    seed : int
        Seed of the noise.
    scenes : sequence of ReportScene, optional
        The scenes scored, the reference scene first (:func:`report_scenes` gives the full
        list); None: ``scene``'s ``split`` region alone.
    robustness_scenes : int
        Members of a multi-scene entry (the first so many) on its robustness curve.
    """

    scene: str = "indian_pines"
    split: str = "test"
    checkpoints: dict[str, str] = field(default_factory=dict)
    adapt_steps: int = 0
    baselines: Sequence[str] = DEFAULT_METHODS
    ablation: dict[str, str] = field(default_factory=dict)
    carried_ablation: dict[str, dict[str, Any]] = field(default_factory=dict)
    seed: int = 0
    scenes: Sequence[ReportScene] | None = None
    robustness_scenes: int = 2

    def scored_scenes(self) -> list[ReportScene]:
        """``scenes``, or the single scene ``scene`` / ``split``."""
        if self.scenes is None:
            return [ReportScene(self.scene, f"{self.scene}, {self.split} region", (self.scene,), self.split, "real")]
        if self.robustness_scenes < 1:
            raise ConfigError(f"report: robustness_scenes must be >= 1, got {self.robustness_scenes}")
        scenes = list(self.scenes)
        if not scenes or len(scenes[0].names) != 1:
            raise ConfigError("report: the first scene (the reference one) must be a single scene")
        if len({s.key for s in scenes}) != len(scenes):
            raise ConfigError(f"report: scene keys must differ, got {[s.key for s in scenes]}")
        return scenes


# ----------------------------------------------------------------------------------------------
# Networks and scenes
# ----------------------------------------------------------------------------------------------


def _checkpoint_metadata(checkpoint: str) -> dict[str, Any]:
    from .inference import CheckpointMethod

    return CheckpointMethod(checkpoint, device="cpu").metadata


def synthetic_grid_name(metadata: dict[str, Any]) -> str | None:
    """The synthetic grid (:data:`s3rnet.data.synthetic.GRIDS`) with a checkpoint's band
    centres (within 1 nm), or None: synthetic scenes are made on it, so that none is resampled."""
    centres = metadata.get("wavelengths_nm")
    if centres is None:
        return None
    centres = np.asarray(centres, dtype=float)
    for name, make in GRIDS.items():
        grid = make()
        if grid.centres.shape == centres.shape and np.abs(grid.centres - centres).max() <= 1.0:
            return name
    return None


def _on_grid(name: str, grid: str | None) -> str:
    """A synthetic scene name made on ``grid`` (unless it names a grid); other names unchanged."""
    if grid is None or not name.startswith(SYNTHETIC_PREFIX) or "grid=" in name.partition("?")[2]:
        return name
    return f"{name}{'&' if '?' in name else '?'}grid={grid}"


@dataclass(frozen=True)
class _Network:
    """A checkpoint, the classical estimate it corrects and the synthetic grid of its bands."""

    checkpoint: str
    estimate: str | None
    grid: str | None
    ensemble: dict | None = None
    projection: dict | None = None

    @property
    def published_extras(self) -> bool:
        """Whether the checkpoint as published adds to its network (a partner, a projection)."""
        return bool(self.ensemble or self.projection)


def _networks(settings: ReportSettings) -> dict[str, _Network]:
    networks = {}
    for msi, checkpoint in settings.checkpoints.items():
        meta = _checkpoint_metadata(checkpoint)
        networks[msi] = _Network(str(checkpoint), meta.get("estimate"), synthetic_grid_name(meta),
                                  meta.get("ensemble"), meta.get("projection"))
    return networks


def _methods(settings: ReportSettings, network: _Network | None) -> list[str]:
    """The baselines, then the network when there is one. The estimate the network corrects is
    compared with only when it is among the baselines (:data:`DEFAULT_METHODS` holds them all)."""
    return [*settings.baselines, *([NETWORK] if network is not None else [])]


class _Workspace:
    """Scenes loaded once and the scorers of their ground truths, for the calls of one report."""

    def __init__(self) -> None:
        self.scenes: dict[str, Scene] = {}
        self.scorers: dict[tuple[str, str], Scorer] = {}

    def scene(self, name: str) -> Scene:
        if name not in self.scenes:
            self.scenes[name] = load_scene(name)
        return self.scenes[name]


# ----------------------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------------------


def _snr_text(snr_db: float) -> str:
    return "inf" if math.isinf(snr_db) else f"{snr_db:g}"


def _command(
    scene: str, split: str, msi: str, case: NoiseCase, seed: int, methods: Sequence[str],
    checkpoint: str | None, extra: str = "",
) -> str:
    parts = [
        "python -m s3rnet evaluate", f"--scene {scene}", f"--split {split}", f"--msi {msi}",
        f"--snr-db {_snr_text(case.snr_db)}", f"--seed {seed}", f"--methods {','.join(methods)}",
    ]
    if case.reference != "scene":
        parts.insert(4, f"--snr-reference {case.reference}")
    if NETWORK in methods:
        parts.append(f"--checkpoint {checkpoint}")
    return " ".join(parts) + extra


def _commands(
    names: Sequence[str], split: str, msi: str, case: NoiseCase, seed: int, methods: Sequence[str],
    checkpoint: str | None, extra: str = "",
) -> list[str]:
    """The evaluate calls for these scenes: one line, or a shell loop over the seeds of synthetic
    scenes that differ in their seed alone."""
    queries = {name.partition("?")[2] for name in names}
    if len(names) > 1 and len(queries) == 1 and all(n.startswith(SYNTHETIC_PREFIX) for n in names):
        seeds = " ".join(name[len(SYNTHETIC_PREFIX):].partition("?")[0] for name in names)
        query = queries.pop()
        scene = f'"{SYNTHETIC_PREFIX}$seed' + (f"?{query}" if query else "") + '"'
        return [f"for seed in {seeds}; do {_command(scene, split, msi, case, seed, methods, checkpoint, extra)}; done"]
    return [_command(shlex.quote(name), split, msi, case, seed, methods, checkpoint, extra) for name in names]


# ----------------------------------------------------------------------------------------------
# Scores
# ----------------------------------------------------------------------------------------------


def mean_rows(per_scene: Sequence[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """The mean over scenes of each method's scores (methods and keys that every scene has)."""
    first = per_scene[0]
    methods = [m for m in first if all(m in rows for rows in per_scene)]
    return {
        m: {k: float(np.mean([rows[m][k] for rows in per_scene])) for k in first[m] if all(k in rows[m] for rows in per_scene)}
        for m in methods
    }


def _mean_weight_stats(per_scene: Sequence[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    return {b: {k: float(np.mean([s[b][k] for s in per_scene])) for k in per_scene[0][b]} for b in per_scene[0]}


def targets(rows: dict[str, dict[str, float]], estimate: str | None) -> dict[str, Any] | None:
    """S3RNet against the classical methods and against its own skip estimate.

    Parameters
    ----------
    rows : dict
        Method -> scores of one case; rows whose name starts with ``s3rnet`` are networks, the
        others classical methods.
    estimate : str or None
        The classical method the network corrects (a key of ``rows``), or None.

    Returns
    -------
    dict or None
        ``psnr`` and ``sam`` of S3RNet; ``best_psnr`` / ``best_psnr_method`` (highest PSNR of a
        classical method), ``best_sam`` / ``best_sam_method`` (lowest SAM); ``beats_psnr`` and
        ``beats_sam`` (S3RNet strictly better than every classical method); ``estimate``,
        ``minus_estimate_psnr`` (S3RNet minus its estimate, dB) and ``within_skip`` (not worse
        than it by more than :data:`SKIP_TOLERANCE_DB`; None without an estimate row). None
        when S3RNet or every classical method is missing.
    """
    classical = {m: s for m, s in rows.items() if not m.startswith(NETWORK)}
    if NETWORK not in rows or not classical:
        return None
    net = rows[NETWORK]
    best_psnr = max(classical, key=lambda m: classical[m]["psnr"])
    best_sam = min(classical, key=lambda m: classical[m]["sam"])
    minus = net["psnr"] - rows[estimate]["psnr"] if estimate in rows else None
    return {
        "psnr": net["psnr"], "sam": net["sam"],
        "best_psnr_method": best_psnr, "best_psnr": classical[best_psnr]["psnr"],
        "best_sam_method": best_sam, "best_sam": classical[best_sam]["sam"],
        "beats_psnr": bool(net["psnr"] > classical[best_psnr]["psnr"]),
        "beats_sam": bool(net["sam"] < classical[best_sam]["sam"]),
        "estimate": estimate,
        "minus_estimate_psnr": minus,
        "within_skip": None if minus is None else bool(minus >= -SKIP_TOLERANCE_DB),
    }


def _wins(per_scene: dict[str, dict[str, dict[str, float]]], estimate: str | None) -> dict[str, int] | None:
    """How many members of a multi-scene entry meet each target on their own."""
    each = [targets(rows, estimate) for rows in per_scene.values()]
    if any(t is None for t in each):
        return None
    return {
        "psnr": sum(t["beats_psnr"] for t in each), "sam": sum(t["beats_sam"] for t in each),
        "skip": sum(bool(t["within_skip"]) for t in each), "of": len(each),
    }


def _protocol_summary(protocol: dict[str, Any]) -> dict[str, Any]:
    filled = protocol.get("filled_bands")
    return {
        "units": protocol.get("units"), "region": protocol.get("region"), "grid": protocol.get("grid"),
        "filled_bands_nm": filled["wavelengths_nm"] if filled else [], "skipped": protocol.get("skipped"),
    }


def _score_case(
    settings: ReportSettings, scene: ReportScene, msi: str, case: NoiseCase, network: _Network | None,
    work: _Workspace, adapt: bool, progress: ProgressCallback | None,
) -> dict[str, Any]:
    """Every method on one scene entry (each member) for one MSI and noise case."""
    methods = _methods(settings, network)
    checkpoint = network.checkpoint if network else None
    names = [_on_grid(n, network.grid if network else None) for n in scene.names]
    per_scene, weights, protocol = {}, {}, None
    for name in names:
        result = run_evaluation(
            work.scene(name), split=scene.split, methods=methods, msi=msi, snr_db=case.snr_db, seed=settings.seed,
            snr_reference=case.reference, checkpoint=checkpoint, scorer=work.scorers.get((name, msi)),
        )
        work.scorers[(name, msi)] = result.scorer
        per_scene[name] = dict(result.methods)
        fusion = result.extras.get(NETWORK)
        if fusion is not None and fusion.weights is not None:
            weights[name] = branch_weight_stats(fusion.weights)
        protocol = protocol or _protocol_summary(result.protocol)
        if network is not None and network.published_extras and NETWORK in per_scene[name]:
            alone = run_evaluation(
                work.scene(name), split=scene.split, methods=[NETWORK], msi=msi, snr_db=case.snr_db, seed=settings.seed,
                snr_reference=case.reference, checkpoint=checkpoint, scorer=work.scorers.get((name, msi)), ensemble=False,
            )
            per_scene[name][NETWORK_ALONE] = alone.methods[NETWORK]
    commands = _commands(names, scene.split, msi, case, settings.seed, methods, checkpoint)
    if NETWORK_ALONE in per_scene.get(names[0], {}):
        commands += _commands(names, scene.split, msi, case, settings.seed, [NETWORK], checkpoint, " --network-alone")
    if adapt and network is not None and NETWORK in per_scene[names[0]]:
        adapted = run_evaluation(
            work.scene(names[0]), split=scene.split, methods=[NETWORK], msi=msi, snr_db=case.snr_db,
            seed=settings.seed, snr_reference=case.reference, checkpoint=checkpoint, adapt_steps=settings.adapt_steps,
            progress=progress, scorer=work.scorers.get((names[0], msi)),
        )
        per_scene[names[0]][f"{NETWORK}+adapt"] = adapted.methods[NETWORK]
        commands += _commands(names, scene.split, msi, case, settings.seed, [NETWORK], checkpoint, f" --adapt {settings.adapt_steps}")
    rows = per_scene[names[0]] if len(names) == 1 else mean_rows(list(per_scene.values()))
    estimate = network.estimate if network else None
    entry = {
        "snr_db": _snr_text(case.snr_db), "snr_reference": case.reference, "rows": rows,
        "ssawb": (weights[names[0]] if len(names) == 1 else _mean_weight_stats(list(weights.values()))) if weights else None,
        "targets": targets(rows, estimate), "commands": commands, "protocol": protocol,
    }
    if NETWORK_ALONE in rows:
        entry["targets_network"] = targets(network_alone_rows(rows), estimate)
    if len(names) > 1:
        entry["per_scene"] = per_scene
        entry["ssawb_per_scene"] = weights or None
        entry["wins"] = _wins(per_scene, estimate)
        if NETWORK_ALONE in rows:
            entry["wins_network"] = _wins({n: network_alone_rows(r) for n, r in per_scene.items()}, estimate)
    return entry


def network_alone_rows(rows: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """A case's rows with the network alone (:data:`NETWORK_ALONE`) in S3RNet's place, for
    :func:`targets`."""
    alone = {m: s for m, s in rows.items() if m not in (NETWORK, NETWORK_ALONE)}
    return alone | {NETWORK: rows[NETWORK_ALONE]}


def _robustness(
    settings: ReportSettings, scene: ReportScene, entry: dict[str, Any], network: _Network | None,
    work: _Workspace, adapt: bool, progress: ProgressCallback | None,
) -> dict[str, Any]:
    """The curve over SNR (OLI 4-band MSI, scene convention) on the first ``robustness_scenes``
    members; the clean, 35 and 15 dB points are those of the cases."""
    members = scene.names if len(scene.names) == 1 else scene.names[: settings.robustness_scenes]
    subset = ReportScene(scene.key, scene.title, tuple(members), scene.split, scene.kind)
    known = {c.snr_db: entry["cases"][c.label] for c in NOISE_CASES if c.reference == "scene"}
    rows, commands = [], []
    for snr_db in ROBUSTNESS_SNRS_DB:
        if snr_db in known:
            case_entry = known[snr_db]
        else:
            case_entry = _score_case(settings, subset, "oli4", NoiseCase(f"{snr_db:g} dB", snr_db), network, work, adapt, progress)
            commands += case_entry["commands"]
        if "per_scene" in case_entry:
            on_grid = [_on_grid(n, network.grid if network else None) for n in members]
            scores = mean_rows([case_entry["per_scene"][n] for n in on_grid])
        else:
            scores = case_entry["rows"]
        for method, s in scores.items():
            rows.append({"method": method, "snr_db": _snr_text(snr_db), **{k: s[k] for k in (*METRIC_COLUMNS, "seconds")}})
    return {"names": list(members), "rows": rows, "commands": commands}


def _score_scene(
    settings: ReportSettings, scene: ReportScene, networks: dict[str, _Network], work: _Workspace,
    reference: bool, progress: ProgressCallback | None,
) -> dict[str, Any]:
    """Every MSI and noise case on one scene entry, and its robustness curve. An MSI that cannot
    be simulated from a further scene (its bands miss the MSI's) is recorded with the reason and
    left out; on the reference scene that is an error."""
    adapt = reference and settings.adapt_steps > 0
    entry: dict[str, Any] = {**scene.to_json(), "msi": {}}
    for msi in MSIS:
        network = networks.get(msi)
        entry["msi"][msi] = {
            "checkpoint": network.checkpoint if network else None,
            "estimate": network.estimate if network else None,
            "synthetic_grid": network.grid if network else None,
            "error": None,
            "cases": {},
        }
        try:
            for case in NOISE_CASES:
                entry["msi"][msi]["cases"][case.label] = _score_case(settings, scene, msi, case, network, work, adapt, progress)
        except (ResponseRangeError, WavelengthError) as exc:
            if reference:
                raise
            entry["msi"][msi] |= {"error": str(exc), "cases": {}}
    oli4 = entry["msi"]["oli4"]
    entry["robustness"] = None if oli4["error"] else _robustness(settings, scene, oli4, networks.get("oli4"), work, adapt, progress)
    return entry


def _spectral_shift(settings: ReportSettings, scene: ReportScene, networks: dict[str, _Network], msi: str) -> tuple[dict, list[str]]:
    network = networks.get(msi)
    methods = _methods(settings, network)
    checkpoint = network.checkpoint if network else None
    common = dict(split=scene.split, msi=msi, seed=settings.seed, checkpoint=checkpoint, spectral_shift=True)
    rows = dict(run_evaluation(scene.names[0], methods=methods, **common).methods)
    if network is not None:
        for label, kwargs in (("s3rnet+project", {"project": True}), ("s3rnet+adapt", {"adapt_steps": settings.adapt_steps})):
            if label == "s3rnet+adapt" and not settings.adapt_steps:
                continue
            rows[label] = run_evaluation(scene.names[0], methods=[NETWORK], **common, **kwargs).methods[NETWORK]
    return rows, _commands(scene.names, scene.split, msi, NOISE_CASES[0], settings.seed, methods, checkpoint, " --spectral-shift")


# ----------------------------------------------------------------------------------------------
# Ablation
# ----------------------------------------------------------------------------------------------


def _training_summary(metadata: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint was trained on and how, from its metadata. Keys a run's config lacks
    (it predates them) take :class:`~s3rnet.training.TrainConfig`'s defaults, as
    :func:`~s3rnet.training.load_config` would."""
    from .training.config import TrainConfig

    training = metadata.get("training") or {}
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    config = {**defaults, **(training.get("config") or {})}
    sources = training.get("sources") or [
        {"source": f"{training.get('scene', config['scene'])}:{training.get('region') or config['train_region']}", "share": 1.0}
    ]
    return {
        "steps": metadata["steps"],
        "planned_steps": config["steps"],
        "sources": sources,
        "grid": training.get("grid", config["grid"]),
        "loss": config["loss"],
        "noise_snr_db": None if config["noise_snr_db"] is None else list(config["noise_snr_db"]),
        "noise_reference": config["noise_reference"],
        "clean_fraction": config["clean_fraction"],
        "skip": config["skip"],
        "spectral_gain": config["spectral_gain"],
        "fusion": config["fusion"],
        "normalisation": config["normalisation"],
        "validation": metadata.get("validation"),
        # The synthetic split's version of the val scenes (runs that predate the record used version 1).
        "synthetic_split_version": training.get("synthetic_split_version", 1)
        if "synthetic:val" in (training.get("validation_sets") or ()) else None,
        "init": training.get("init"),
    }


# What an ablation entry of results.json holds (see :func:`_ablation`).
_ABLATION_KEYS = ("checkpoint", "msi", "commands", "test", "test_15", "shifted", "synthetic", "training")


def carried_ablation(path: str | Path) -> dict[str, dict[str, Any]]:
    """The ablation entries of an earlier report's ``results.json``, to carry into a new report.

    Ablation checkpoints live in ``runs/``, which is not kept: a report written on another
    machine could not re-score them and would drop their rows. Each entry is returned as it was,
    with ``carried_from`` (the file and the code version that scored it) added; entries that an
    earlier report itself carried keep their first origin.

    Raises
    ------
    ConfigError
        When the file is missing, is not JSON, or holds no ablation entries of the expected form.
    """
    path = Path(path)
    try:
        earlier = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"--carry-ablation: {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"--carry-ablation: {path} is not a report's results.json ({error})") from None
    entries = earlier.get("ablation") if isinstance(earlier, dict) else None
    if not isinstance(entries, dict):
        raise ConfigError(f"--carry-ablation: {path} has no 'ablation' section (is it a report's results.json?)")
    carried = {}
    for label, entry in entries.items():
        missing = [key for key in _ABLATION_KEYS if not isinstance(entry, dict) or key not in entry]
        if missing:
            raise ConfigError(f"--carry-ablation: {path}: ablation entry {label!r} lacks {', '.join(missing)}")
        origin = entry.get("carried_from") or {"file": str(path), "code_version": earlier.get("code_version")}
        carried[label] = {**entry, "carried_from": origin}
    return carried


def _ablation(settings: ReportSettings, scenes: list[ReportScene], work: _Workspace) -> dict[str, dict[str, Any]]:
    """Each ablation checkpoint alone, on its MSI: the reference scene clean, at 15 dB and
    spectrally shifted; every synthetic entry clean and at 15 dB, and their pooled mean."""
    reference, synthetic = scenes[0], [s for s in scenes if s.kind == "synthetic"]
    rows = {}
    for label, checkpoint in settings.ablation.items():
        meta = _checkpoint_metadata(checkpoint)
        msi = meta["msi"]["name"]
        network = _Network(str(checkpoint), None, synthetic_grid_name(meta))
        common = dict(split=reference.split, methods=[NETWORK], msi=msi, seed=settings.seed, checkpoint=str(checkpoint))
        entry: dict[str, Any] = {"checkpoint": str(checkpoint), "msi": msi, "commands": []}
        for key, kwargs in (("test", {}), ("test_15", {"snr_db": 15.0}), ("shifted", {"spectral_shift": True})):
            entry[key] = run_evaluation(work.scene(reference.names[0]), **common, **kwargs).methods[NETWORK]
        for case, extra in ((NOISE_CASES[0], ""), (NOISE_CASES[2], ""), (NOISE_CASES[0], " --spectral-shift")):
            entry["commands"] += _commands(reference.names, reference.split, msi, case, settings.seed, [NETWORK], str(checkpoint), extra)
        if synthetic:
            by_scene, pooled = {}, {}
            for case in ABLATION_CASES:
                members = []
                for scene in synthetic:
                    scored = _score_case(
                        dataclasses.replace(settings, baselines=()), scene, msi, case, network, work, False, None
                    )
                    by_scene.setdefault(scene.key, {})[case.label] = scored["rows"][NETWORK]
                    members += [r[NETWORK] for r in (scored.get("per_scene") or {scene.names[0]: scored["rows"]}).values()]
                    entry["commands"] += scored["commands"]
                pooled[case.label] = mean_rows([{NETWORK: m} for m in members])[NETWORK] | {"scenes": len(members)}
            entry["synthetic"] = {"pooled": pooled, "by_scene": by_scene}
        else:
            entry["synthetic"] = None
        entry["training"] = _training_summary(meta)
        rows[label] = entry
    return rows


# ----------------------------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------------------------


def build_report(settings: ReportSettings, progress: ProgressCallback | None = None) -> dict[str, Any]:
    """Evaluate everything the report shows.

    Returns
    -------
    dict
        ``scenes``: key -> the scene's fields (:class:`ReportScene`) and ``msi``: MSI ->
        {``checkpoint``, ``estimate``, ``synthetic_grid``, ``error`` (why the MSI could not be
        simulated from a further scene, else None), ``cases``: case label
        (:data:`NOISE_CASES`) -> {``rows`` (method -> scores, the mean over the members),
        ``ssawb`` (branch -> statistics of S3RNet's weight map over the region), ``targets``
        (:func:`targets`), ``commands``, ``protocol``; and for multi-scene entries
        ``per_scene`` (member -> method -> scores), ``ssawb_per_scene`` and ``wins`` (members
        meeting each target)}}, and ``robustness`` ({``names``, ``rows``, ``commands``}, or
        None without the OLI 4-band MSI).
        ``data_dir_scenes``: the further scenes the catalog found.
        ``spectral_shift`` (MSI -> method -> scores, reference scene) and ``spectral_shift_commands``,
        ``ablation`` (label -> ``test``, ``test_15``, ``shifted``, ``synthetic``
        ({``pooled``, ``by_scene``}), ``training`` (:func:`_training_summary`), ``commands``),
        ``settings`` and ``code_version``.
        The reference scene's rows also fill the keys of the earlier one-scene report:
        ``table_one`` (MSI -> method -> scores, clean), ``table_two`` and ``table_two_authors``
        (SNR -> method -> scores, oli4, each convention), ``ssawb`` ("MSI, SNR dB (convention)"
        -> branch -> statistics), ``robustness`` (rows: method, snr_db, scores).
    """
    scenes = settings.scored_scenes()
    networks = _networks(settings)
    work = _Workspace()
    report: dict[str, Any] = {
        "settings": {
            "scene": scenes[0].names[0], "split": scenes[0].split, "checkpoints": settings.checkpoints,
            "adapt_steps": settings.adapt_steps, "baselines": list(settings.baselines), "seed": settings.seed,
            "scenes": [s.to_json() for s in scenes], "robustness_scenes": settings.robustness_scenes,
            "networks": {msi: dataclasses.asdict(n) for msi, n in networks.items()},
        },
        "code_version": __version__,
        "scenes": {},
        "data_dir_scenes": data_dir_scenes(),
    }
    for index, scene in enumerate(scenes):
        report["scenes"][scene.key] = _score_scene(settings, scene, networks, work, index == 0, progress)
    reference = report["scenes"][scenes[0].key]
    cases = {msi: reference["msi"][msi]["cases"] for msi in MSIS}
    report["table_one"] = {msi: cases[msi]["clean"]["rows"] for msi in MSIS}
    report["table_two"] = {_snr_text(s): cases["oli4"][f"{s:g} dB"]["rows"] for s in TABLE_TWO_SNRS_DB}
    report["table_two_authors"] = {_snr_text(s): cases["oli4"][f"{s:g} dB (authors)"]["rows"] for s in TABLE_TWO_SNRS_DB}
    report["ssawb"] = {
        f"{msi}, {entry['snr_db']} dB ({entry['snr_reference']})": entry["ssawb"]
        for msi in MSIS for entry in cases[msi].values() if entry["ssawb"] is not None
    }
    report["robustness"] = reference["robustness"]["rows"]
    report["spectral_shift"], report["spectral_shift_commands"] = {}, {}
    for msi in MSIS:
        rows, commands = _spectral_shift(settings, scenes[0], networks, msi)
        report["spectral_shift"][msi] = rows
        report["spectral_shift_commands"][msi] = commands
    carried = {label: entry for label, entry in settings.carried_ablation.items() if label not in settings.ablation}
    report["ablation"] = carried | _ablation(settings, scenes, work)
    return report


# ----------------------------------------------------------------------------------------------
# Figures and files
# ----------------------------------------------------------------------------------------------


def _curve_rows(report: dict[str, Any], scene: str | None) -> list[dict[str, Any]]:
    return report["robustness"] if scene is None else report["scenes"][scene]["robustness"]["rows"]


def robustness_frame(report: dict[str, Any], scene: str | None = None):
    """A robustness curve as a pandas DataFrame (method, snr_db, psnr, sam, rmse, ergas, ssim,
    seconds): the reference scene's, or that of the scene with key ``scene``."""
    import pandas as pd

    frame = pd.DataFrame(_curve_rows(report, scene))
    frame["snr_db"] = frame["snr_db"].astype(float)
    return frame


def _curve_title(report: dict[str, Any], scene: str | None) -> str:
    if scene is None:
        return f"{report['settings']['scene']}, {report['settings']['split']} region"
    entry = report["scenes"][scene]
    members = entry["robustness"]["names"]
    return entry["title"] if len(members) == 1 else f"{scene}, mean over {len(members)} scenes"


def robustness_figure(report: dict[str, Any], scene: str | None = None):
    """PSNR and SAM against the LR-HSI SNR, one line per method (plotly)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    frame = robustness_frame(report, scene)
    finite = frame["snr_db"].replace(np.inf, np.nan)
    clean_at = (finite.max() if finite.notna().any() else 40.0) + 10.0
    frame = frame.assign(x=frame["snr_db"].replace(np.inf, clean_at))
    figure = make_subplots(rows=1, cols=2, subplot_titles=("PSNR (dB)", "SAM (degrees)"))
    for method, rows in frame.groupby("method", sort=False):
        rows = rows.sort_values("x")
        for col, metric in ((1, "psnr"), (2, "sam")):
            figure.add_trace(
                go.Scatter(x=rows["x"].tolist(), y=rows[metric].tolist(), mode="lines+markers", name=method,
                           legendgroup=method, showlegend=col == 1),
                row=1, col=col,
            )
    ticks = sorted(frame["x"].unique())
    labels = ["no noise" if t == clean_at else f"{t:g}" for t in ticks]
    for col in (1, 2):
        figure.update_xaxes(title_text="LR-HSI SNR (dB)", tickvals=ticks, ticktext=labels, row=1, col=col)
    figure.update_layout(title=f"Robustness to noise on the LR-HSI ({_curve_title(report, scene)}, OLI 4-band MSI)")
    return figure


def _svg(report: dict[str, Any], path: Path, scene: str | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = robustness_frame(report, scene)
    clean_at = frame["snr_db"].replace(np.inf, np.nan).max() + 10.0
    frame = frame.assign(x=frame["snr_db"].replace(np.inf, clean_at))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for method, rows in frame.groupby("method", sort=False):
        rows = rows.sort_values("x")
        axes[0].plot(rows["x"], rows["psnr"], marker="o", label=method)
        axes[1].plot(rows["x"], rows["sam"], marker="o", label=method)
    ticks = sorted(frame["x"].unique())
    for axis, title in zip(axes, ("PSNR (dB)", "SAM (degrees)")):
        axis.set_xticks(ticks, ["none" if t == clean_at else f"{t:g}" for t in ticks])
        axis.set_xlabel("LR-HSI SNR (dB)")
        axis.set_title(title)
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="svg")
    plt.close(fig)


def _file_key(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", key)


def _write_curve(report: dict[str, Any], out: Path, stem: str, scene: str | None) -> None:
    frame = robustness_frame(report, scene)
    with (out / f"{stem}.csv").open("w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(frame.columns)
        writer.writerows(frame.itertuples(index=False))
    robustness_figure(report, scene).write_json(str(out / f"{stem}.plotly.json"))
    _svg(report, out / f"{stem}.svg", scene)


# ----------------------------------------------------------------------------------------------
# Markdown
# ----------------------------------------------------------------------------------------------


def _table(rows: dict[str, dict[str, Any]], with_size: bool = True) -> list[str]:
    header = "| method | PSNR (dB) | SAM (deg) | RMSE | ERGAS | SSIM |"
    rule = "|---|---:|---:|---:|---:|---:|"
    if with_size:
        header += " params | MACs | seconds |"
        rule += "---:|---:|---:|"
    lines = [header, rule]
    for method, s in rows.items():
        line = f"| {method} | {s['psnr']:.2f} | {s['sam']:.3f} | {s['rmse']:.4f} | {s['ergas']:.3f} | {s['ssim']:.4f} |"
        if with_size:
            params = f"{s['params'] / 1e6:.2f} M" if "params" in s else "-"
            macs = f"{s['macs'] / 1e9:.2f} G" if "macs" in s else "-"
            line += f" {params} | {macs} | {s['seconds']:.2f} |"
        lines.append(line)
    return lines


def _code(commands: Sequence[str]) -> list[str]:
    return ["", "```", *commands, "```", ""] if commands else [""]


def _yes(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "**no**")


_MSI_TITLES = {"oli4": "OLI 4-band MSI (bands 2-5)", "oli6": "OLI 6-band MSI (bands 2-7)"}


def _targets_lines(report: dict[str, Any]) -> list[str]:
    lines = [
        "## Targets",
        "",
        "The issue's targets, case by case: S3RNet's PSNR and SAM; the best classical method in PSNR "
        "(highest) and in SAM (lowest), each named (bicubic included); whether S3RNet beats every classical "
        "method (strictly: above the best PSNR, below the best SAM); S3RNet minus the classical estimate its "
        f"checkpoint corrects (its skip), and whether it is within {SKIP_TOLERANCE_DB} dB of it or above. On the "
        "synthetic sets every number is the mean over the seeds; `seeds` counts the seeds on which S3RNet "
        "meets each target on its own (PSNR / SAM / skip). The rows and their commands are under "
        "\"Scores per scene\". A checkpoint with an ensemble partner (its output blended with a classical "
        "method's, the share chosen on validation data: `python -m s3rnet ensemble`) or a projection onto its "
        "inputs (as far as their estimated noise allows, the noise factor chosen on validation data: "
        "`python -m s3rnet project`) is S3RNet as published; "
        "its network alone (`--network-alone`, row `s3rnet-network`) is scored against the same targets in the "
        "last columns.",
        "",
    ]
    counts = {"psnr": [0, 0], "sam": [0, 0], "skip": [0, 0]}
    alone_counts = {"psnr": [0, 0], "sam": [0, 0], "skip": [0, 0]}
    any_alone = False
    body: list[str] = []
    for key, scene in report["scenes"].items():
        table = []
        for msi, per_msi in scene["msi"].items():
            for label, entry in per_msi["cases"].items():
                t = entry["targets"]
                if t is None:
                    continue
                for name, value in (("psnr", t["beats_psnr"]), ("sam", t["beats_sam"]), ("skip", t["within_skip"])):
                    if value is not None:
                        counts[name][0] += bool(value)
                        counts[name][1] += 1
                minus = (f"- ({t['estimate']} not scored)" if t["minus_estimate_psnr"] is None
                         else f"{t['minus_estimate_psnr']:+.3f} ({t['estimate']})")
                seeds = ""
                if "wins" in entry:
                    seeds = _seeds_cell(entry["wins"])
                alone = ""
                if entry.get("targets_network") is not None:
                    any_alone = True
                    n = entry["targets_network"]
                    for name, value in (("psnr", n["beats_psnr"]), ("sam", n["beats_sam"]), ("skip", n["within_skip"])):
                        if value is not None:
                            alone_counts[name][0] += bool(value)
                            alone_counts[name][1] += 1
                    alone = (f" {n['psnr']:.2f} / {n['sam']:.3f} | {_yes(n['beats_psnr'])} / {_yes(n['beats_sam'])} |"
                             + (_seeds_cell(entry.get("wins_network")) if "wins" in entry else ""))
                table.append(
                    f"| {msi} | {label} | {t['psnr']:.2f} / {t['sam']:.3f} | {t['best_psnr']:.2f} ({t['best_psnr_method']}) | "
                    f"{t['best_sam']:.3f} ({t['best_sam_method']}) | {_yes(t['beats_psnr'])} | {_yes(t['beats_sam'])} | "
                    f"{minus} | {_yes(t['within_skip'])} |{seeds}{alone}"
                )
        if not table:
            body += [f"### {scene['title']}", "", "No S3RNet row on this scene (no checkpoint, or it could not run: see \"Scores per scene\").", ""]
            continue
        several = len(scene["names"]) > 1
        with_alone = any(
            e.get("targets_network") is not None for per_msi in scene["msi"].values() for e in per_msi["cases"].values()
        )
        header = ("| MSI | LR-HSI | S3RNet PSNR / SAM | best classical PSNR | best classical SAM | beats all in PSNR | "
                  "beats all in SAM | S3RNet - skip (dB) | within skip |" + (" seeds |" if several else ""))
        rule = "|---|---|---:|---:|---:|---|---|---:|---|" + ("---:|" if several else "")
        if with_alone:
            header += " network alone PSNR / SAM | network alone beats all (PSNR / SAM) |" + (" network alone seeds |" if several else "")
            rule += "---:|---|" + ("---:|" if several else "")
        body += [f"### {scene['title']}", "", header, rule, *table, ""]
    summary = f"Over all scenes, S3RNet {_count_text(counts)}."
    if any_alone:
        summary += f" Its network alone, without the ensemble partner and the projection: {_count_text(alone_counts)}."
    return [*lines, summary, "", *body]


def _seeds_cell(wins: dict[str, int] | None) -> str:
    return " - |" if wins is None else f" {wins['psnr']}/{wins['sam']}/{wins['skip']} of {wins['of']} |"


def _count_text(counts: dict[str, list[int]]) -> str:
    return "; ".join(
        f"{what}: {counts[name][0]} of {counts[name][1]} cases"
        for name, what in (("psnr", "beats every classical method in PSNR"), ("sam", "in SAM"),
                           ("skip", f"within {SKIP_TOLERANCE_DB} dB of its skip or above"))
    )


def _scene_lines(report: dict[str, Any]) -> list[str]:
    lines = ["## Scores per scene", ""]
    for key, scene in report["scenes"].items():
        several = len(scene["names"]) > 1
        lines += [f"### {scene['title']}", ""]
        if several:
            members = ", ".join(f"`{n}`" for n in scene["names"])
            lines += [f"Members: {members}. Each row is the mean over them; "
                      "`results.json` holds each one's rows (`per_scene`).", ""]
        for msi, per_msi in scene["msi"].items():
            if per_msi["error"]:
                lines += [f"#### {_MSI_TITLES.get(msi, msi)}", "", f"Not scored: {per_msi['error']}.", ""]
                continue
            first = next(iter(per_msi["cases"].values()))["protocol"] or {}
            filled = first.get("filled_bands_nm") or []
            notes = [f"units: {first.get('units')}", f"bands: {first.get('grid')}"]
            region = first.get("region")
            if region:
                notes.insert(0, f"region rows {region['rows'][0]}:{region['rows'][1]}, cols {region['cols'][0]}:{region['cols'][1]}")
            if filled:
                notes.append(f"bands filled for the network and left out of every score: {', '.join(f'{w:.0f}' for w in filled)} nm")
            for method, reason in (first.get("skipped") or {}).items():
                notes.append(f"{method}: {reason}")
            lines += [f"#### {_MSI_TITLES.get(msi, msi)}", "", "; ".join(notes) + ".", ""]
            for label, entry in per_msi["cases"].items():
                lines += [f"##### {msi}, LR-HSI {label}", "", *_table(entry["rows"], with_size=label == "clean"),
                          *_code(entry["commands"])]
    return lines


def _ssawb_lines(report: dict[str, Any]) -> list[str]:
    table = []
    for scene in report["scenes"].values():
        for msi, per_msi in scene["msi"].items():
            for label, entry in per_msi["cases"].items():
                stats = entry["ssawb"]
                if stats is None:
                    continue
                cells = " | ".join(f"{stats[b]['mean']:.3f} / {stats[b]['std']:.3f}" for b in BRANCHES)
                table.append(f"| {scene['key']} | {msi} | {label} | {cells} |")
    if not table:
        return []
    return [
        "## SSAWB branch weights over the region",
        "",
        "S3RNet's four per-pixel sigmoid weights (eq. 5) in the cases above: their spatial mean over the "
        "region and their spatial standard deviation (how much the weighting changes from pixel to pixel; a "
        "flat map has 0). On the synthetic sets both are the means over the seeds of each seed's value. Q: "
        "the LR-HSI; K: the HR-MSI; V: LR-HSI with the downsampled MSI (low resolution); Z': the upsampled "
        "LR-HSI with the MSI (high resolution), after the attention. The commands are those of the "
        "`s3rnet` rows under \"Scores per scene\".",
        "",
        "| scene | MSI | LR-HSI | W_Q mean / std | W_K mean / std | W_V mean / std | W_Z mean / std |",
        "|---|---|---|---:|---:|---:|---:|",
        *table,
        "",
    ]


def _robustness_lines(report: dict[str, Any]) -> list[str]:
    reference = next(iter(report["scenes"]))
    lines = [
        "## Robustness curve over SNR (OLI 4-band MSI, our SNR convention)",
        "",
        f"### {report['scenes'][reference]['title']}",
        "",
        "![PSNR and SAM against the LR-HSI SNR](robustness.svg)",
        "",
        "Data: `robustness.csv`; interactive figure: `robustness.plotly.json` (`plotly.io.read_json`). "
        "Rows at inf, 35 and 15 dB are those of the tables above; the others come from these commands:",
        *_code(report["scenes"][reference]["robustness"]["commands"]),
    ]
    for key, scene in list(report["scenes"].items())[1:]:
        curve = scene["robustness"]
        if curve is None:
            lines += [f"### {scene['title']}", "", "No curve: the OLI 4-band MSI could not be simulated from this scene.", ""]
            continue
        stem = f"robustness-{_file_key(key)}"
        subset = (f"mean over its first {len(curve['names'])} of {len(scene['names'])} scenes "
                  f"({', '.join(f'`{n}`' for n in curve['names'])})" if len(scene["names"]) > 1 else "")
        lines += [f"### {scene['title']}", "", f"![PSNR and SAM against the LR-HSI SNR]({stem}.svg)", "",
                  f"Data: `{stem}.csv`, `{stem}.plotly.json`. " + (f"The curve is the {subset}; " if subset else "")
                  + "the points at inf, 35 and 15 dB are those of the tables above (on these scenes); the others:",
                  *_code(curve["commands"])]
    return lines


def _ablation_lines(report: dict[str, Any]) -> list[str]:
    if not report["ablation"]:
        return []
    reference = report["settings"]["scene"]
    lines = [
        "## Ablation",
        "",
        f"Each run scored alone on its MSI: on `{reference}` ({report['settings']['split']} region) clean, at 15 dB "
        "and spectrally shifted (clean); on the synthetic test set clean and at 15 dB, the mean over every "
        "synthetic scene of the report, both units pooled (`results.json` holds each unit's mean). Selection "
        "on validation data only; `val` is the selection score of the checkpoint, on the validation set of its "
        "run: with the synthetic split's version (v1: 4 val seeds per unit, v2: 12), so only rows of one version "
        "compare." + _carried_note(report["ablation"]),
        "",
        "| run | sources | grid | loss | noise (dB) / clean share | skip | steps | val PSNR | "
        f"{reference} clean | {reference} 15 dB | {reference} shifted | synthetic clean | synthetic 15 dB |",
        "|---|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def pair(s: dict[str, float] | None) -> str:
        return "-" if s is None else f"{s['psnr']:.2f} / {s['sam']:.3f}"

    for label, entry in report["ablation"].items():
        tr = entry["training"]
        sources = ", ".join(f"{s['source']} {s['share']:.2f}" for s in tr["sources"])
        noise = "none" if tr["noise_snr_db"] is None else "-".join(f"{v:g}" for v in tr["noise_snr_db"])
        noise += f" ({tr['noise_reference']}) / {tr['clean_fraction']:g}"
        val = f"{tr['validation']['psnr']:.2f}" if tr.get("validation") else "-"
        if tr.get("synthetic_split_version"):
            val += f" (v{tr['synthetic_split_version']})"
        steps = f"{tr['steps']} of {tr['planned_steps']}"
        if tr.get("init"):
            steps += f" after {tr['init']['steps']} ({tr['init']['estimate']} skip)"
        pooled = (entry.get("synthetic") or {}).get("pooled") or {}
        if entry.get("carried_from"):
            label += " (carried over)"
        lines.append(
            f"| {label} | {sources} | {tr['grid']} | {tr['loss']} | {noise} | {tr['skip']} | "
            f"{steps} | {val} | {pair(entry['test'])} | {pair(entry.get('test_15'))} | "
            f"{pair(entry['shifted'])} | {pair(pooled.get('clean'))} | {pair(pooled.get('15 dB'))} |"
        )
    lines += ["", "PSNR (dB) / SAM (deg). Checkpoints and commands:", ""]
    for label, entry in report["ablation"].items():
        lines += [f"* {label}: `{entry['checkpoint']}` ({entry['msi']})" + (", carried over" if entry.get("carried_from") else "")]
    lines += _code([c for entry in report["ablation"].values() for c in entry["commands"]])
    return lines


def _carried_note(entries: dict[str, dict[str, Any]]) -> str:
    origins = sorted({(e["carried_from"]["file"], str(e["carried_from"]["code_version"])) for e in entries.values() if e.get("carried_from")})
    if not origins:
        return ""
    where = "; ".join(f"`{file}`, code version {version}" for file, version in origins)
    return (f" Rows marked *carried over* are copied from an earlier report ({where}): their checkpoints were not on "
            "the machine that wrote this file, so they were not re-scored here; their commands still reproduce them "
            "where the checkpoints are.")


def render_markdown(report: dict[str, Any]) -> str:
    """``results.md`` from :func:`build_report`'s dictionary."""
    s = report["settings"]
    networks = s.get("networks", {})
    checkpoints = ", ".join(
        f"`{v}` ({k}; corrects {networks.get(k, {}).get('estimate') or 'no estimate'})" for k, v in s["checkpoints"].items()
    )
    further = [sc for sc in report["scenes"].values() if sc["kind"] == "data"]
    found = report.get("data_dir_scenes", [])
    if further:
        further_line = "Further scenes from `$S3RNET_DATA`: " + ", ".join(f"`{sc['key']}`" for sc in further) + "."
    elif found:
        further_line = f"Scenes in `$S3RNET_DATA` not scored in this report: {', '.join(f'`{n}`' for n in found)}."
    else:
        further_line = "No further scene: the data directory (`$S3RNET_DATA`) holds none besides Indian Pines."
    lines = [
        "# Results",
        "",
        f"Written by `python -m s3rnet report` (code version {report['code_version']}). Box PSF, ratio 4, noise "
        f"seed {s['seed']}, each scene in its own units. Regions and scenes scored here were never used in training "
        "or model selection. Every row comes from `python -m s3rnet evaluate`, with the commands under each "
        "table. PSNR is the mean over bands with each band's maximum as peak; SAM in degrees over non-zero pixels; "
        "ERGAS with 100/ratio; seconds on the machine that wrote this file (2 CPU cores unless said otherwise), "
        "S3RNet's including its test-time adaptation.",
        "",
        f"S3RNet checkpoints: {checkpoints or 'none'}. "
        + (f"`s3rnet+adapt` (reference scene only) adds {s['adapt_steps']} steps of test-time adaptation "
           "(Wald's protocol, no ground truth). " if s["adapt_steps"] else "")
        + "When a checkpoint has other bands than a scene, the scene is resampled onto its grid and every method "
        "of that MSI is scored there; synthetic scenes are made on the checkpoint's grid.",
        "",
        "Noise on the LR-HSI in two conventions for the same number of dB. Ours: noise power = mean square of the "
        "LR-HSI in scene units / 10^(SNR/10). The authors' code: the same on the tile mapped to [-1, 1] by the "
        "ground truth's minimum and maximum (`--snr-reference authors`); on the Indian Pines test region their 35 "
        "and 15 dB are 32.56 and 12.56 dB of ours, so their rows are noisier.",
        "",
        "## Scenes",
        "",
        *[f"* `{sc['key']}`: {sc['title']} ({len(sc['names'])} scene{'s' if len(sc['names']) > 1 else ''}, "
          f"region `{sc['split']}`)" for sc in report["scenes"].values()],
        "",
        further_line,
        "",
        *_targets_lines(report),
        *_ssawb_lines(report),
        *_scene_lines(report),
        *_robustness_lines(report),
        "## Spectral shift: spectra unlike the training scenes'",
        "",
        f"The reference scene (`{s['scene']}`, {s['split']} region) multiplied by a fixed smooth gain "
        "(`s3rnet.evaluation.reflectance_like_gain`: exp(g), g from -1.3 at 500 nm to +2.7 at 2400 nm, the size of "
        "the gap between reflectance and radiance). Classical methods are fitted on each scene and barely notice; "
        "a network meets spectra it may never have seen. `s3rnet+project` projects the output onto the degradation "
        "model (`--project`).",
        "",
    ]
    for msi, rows in report["spectral_shift"].items():
        lines += [f"### {msi}", "", *_table(rows, with_size=False), *_code(report["spectral_shift_commands"][msi])]
    lines += _ablation_lines(report)
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], out_dir: str | Path) -> Path:
    """Write ``results.md``, ``results.json``, ``robustness.csv/.plotly.json/.svg`` (and those
    of each further scene's curve); returns the md."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
    _write_curve(report, out, "robustness", None)
    for key, scene in list(report["scenes"].items())[1:]:
        if scene["robustness"] is not None:
            _write_curve(report, out, f"robustness-{_file_key(key)}", key)
    path = out / "results.md"
    path.write_text(render_markdown(report))
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


__all__ = [
    "NOISE_CASES", "ROBUSTNESS_SNRS_DB", "NoiseCase", "ReportScene", "ReportSettings", "build_report", "carried_ablation",
    "data_dir_scenes", "mean_rows", "render_markdown", "report_scenes", "robustness_figure", "robustness_frame",
    "synthetic_grid_name", "synthetic_test_scenes", "targets", "write_report",
]
