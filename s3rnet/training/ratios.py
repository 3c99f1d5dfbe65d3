"""Other spatial ratios than the one a checkpoint was trained at, validated on validation data.

No weight of S3RNet depends on the ratio ``r``: the Q and V branches run on the LR grid and are
upsampled by ``r`` (:class:`s3rnet.models.S3RNet`, its ``ratio`` argument). What the weights
learned does depend on it, so a checkpoint fuses at another ratio only where it was validated
there. Real pairs rarely come at the ratio 4 of the published weights: a 30 m spaceborne
hyperspectral image (Hyperion, EnMAP, PRISMA) with a 10 m Sentinel-2 image is at ratio 3.

:func:`ratio_scores` degrades a config's validation problems (the same scenes, SNRs, seed and
selection score as model selection, never a test region or test seed) at each ratio asked for, and
scores the checkpoint as published (its network, blended with its partner and projected onto the
inputs as chosen at its own ratio) and every registered classical method there;
:func:`validated_ratios` keeps the ratios where the checkpoint's selection PSNR is above every
classical method's; :func:`write_ratios_checkpoint` records them and the scores in the sidecar
(``"ratios"``), where :func:`s3rnet.checkpoints.check_compatible` reads them.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..baselines import METHODS, get_method
from ..errors import ConfigError
from ..inference import CheckpointMethod, resolve_checkpoint
from ..metrics import psnr, sam
from .config import TrainConfig
from .ensemble import copy_checkpoint_with
from .sources import training_grid
from .validation import selection_score, validation_problems

# The name of the checkpoint's row among the classical methods'.
CHECKPOINT_ROW = "s3rnet"


def ratio_scores(
    checkpoint: str | os.PathLike, config: TrainConfig, ratios: list[int], methods: list[str] | None = None,
    device: str = "cpu",
) -> dict[int, dict[str, dict]]:
    """The selection score of a checkpoint as published and of each classical method, at each ratio.

    Parameters
    ----------
    checkpoint : str or path
        Published name or path.
    config : TrainConfig
        Whose validation problems are degraded at each ratio (its own ``ratio`` is replaced).
    ratios : list of int
        Each >= 2.
    methods : list of str, optional
        Classical methods to compare with; every registered one by default.
    device : str

    Returns
    -------
    dict of int to dict of str to dict
        For each ratio, :data:`CHECKPOINT_ROW` and each method's score as
        :func:`s3rnet.training.validate_all` returns it.
    """
    methods = list(METHODS) if methods is None else methods
    for ratio in ratios:
        if isinstance(ratio, bool) or not isinstance(ratio, int) or ratio < 2:
            raise ConfigError(f"ratios must be whole numbers >= 2, got {ratio!r}")
    # Every ratio is checked before any is scored, so that a long run does not fail half-way.
    configs = {ratio: _config_at(config, ratio) for ratio in ratios}
    scores = {}
    for ratio in ratios:
        problems, _ = validation_problems(configs[ratio], training_grid(config))
        fusers = {CHECKPOINT_ROW: CheckpointMethod(checkpoint, device=device, study_ratio=ratio)}
        fusers |= {name: get_method(name) for name in methods}
        by_method: dict[str, dict[str, list[dict[str, float]]]] = {name: {} for name in fusers}
        for problem in problems:
            inputs, truth = problem.simulation.inputs(), problem.simulation.truth
            if problem.scored is not None:
                truth = truth[..., problem.scored]
            for name, fuse in fusers.items():
                cube = fuse(inputs)
                if problem.scored is not None:
                    cube = cube[..., problem.scored]
                by_method[name].setdefault(problem.set, []).append({"psnr": psnr(truth, cube), "sam": sam(truth, cube)})
        scores[ratio] = {name: selection_score(by_set) for name, by_set in by_method.items()}
    return scores


def _config_at(config: TrainConfig, ratio: int) -> TrainConfig:
    """``config`` at ``ratio``, or a ConfigError saying why its validation problems cannot be made there."""
    try:
        # Validation reads no patch; the patch side only has to stay a multiple of the ratio.
        return config.replace(ratio=ratio, patch_size=ratio * max(1, config.patch_size // ratio))
    except ConfigError as exc:
        raise ConfigError(f"ratio {ratio} cannot be validated on this config's problems: {exc}") from None


def best_classical(at_ratio: dict[str, dict]) -> str:
    """The classical method of the highest selection PSNR in one ratio's scores."""
    return max((name for name in at_ratio if name != CHECKPOINT_ROW), key=lambda name: at_ratio[name]["psnr"])


def validated_ratios(scores: dict[int, dict[str, dict]]) -> list[int]:
    """The ratios at which the checkpoint's selection PSNR is above every classical method's."""
    return [ratio for ratio, at in scores.items()
            if at[CHECKPOINT_ROW]["psnr"] > at[best_classical(at)]["psnr"]]


def check_same_problems(earlier: dict, chosen_on: str) -> None:
    """Raise a ConfigError unless a checkpoint's earlier ``"ratios"`` were measured on ``chosen_on``."""
    if earlier.get("chosen_on") != chosen_on:
        raise ConfigError(f"the checkpoint's ratios were validated on other problems ({earlier.get('chosen_on')}); "
                          f"validate them again on the {chosen_on}, from a checkpoint without \"ratios\"")


def ratios_record(scores: dict[int, dict[str, dict]], chosen_on: str, earlier: dict | None = None) -> dict:
    """The sidecar's ``"ratios"``: the validated ratios, the rule, where and how they were scored.

    ``earlier``, a checkpoint's record from before, keeps the ratios measured then and not now; it
    must have been measured on the same problems (``chosen_on``), else a ConfigError says so."""
    kept = {}
    if earlier:
        check_same_problems(earlier, chosen_on)
        kept = {int(ratio): at for ratio, at in earlier["scores"].items() if int(ratio) not in scores}
    rounded = {ratio: {name: {"psnr": round(s["psnr"], 4), "sam": round(s["sam"], 4)} for name, s in at.items()}
               for ratio, at in scores.items()}
    merged = dict(sorted((kept | rounded).items()))
    return {
        "validated": validated_ratios(merged),
        "rule": "selection PSNR above every registered classical method's at that ratio",
        "chosen_on": chosen_on,
        "scores": {str(ratio): at for ratio, at in merged.items()},
    }


def write_ratios_checkpoint(source: str | os.PathLike, target: str | os.PathLike, record: dict) -> Path:
    """Copy a model checkpoint (a path or a published name) to ``target`` with ``record``
    (:func:`ratios_record`) in its sidecar."""
    return copy_checkpoint_with(resolve_checkpoint(source), target, "ratios", dict(record))


def ratios_table(scores: dict[int, dict[str, dict]]) -> list[str]:
    """Markdown rows of :func:`ratio_scores`: each ratio's checkpoint, best classical method and margin."""
    lines = ["| ratio | s3rnet PSNR / SAM | best classical (PSNR) | its PSNR / SAM | s3rnet minus it (dB) | validated |",
             "|---:|---:|---|---:|---:|---|"]
    for ratio, at in scores.items():
        ours, best = at[CHECKPOINT_ROW], best_classical(at)
        theirs = at[best]
        margin = ours["psnr"] - theirs["psnr"]
        lines.append(f"| {ratio} | {ours['psnr']:.3f} / {ours['sam']:.3f} | {best} | {theirs['psnr']:.3f} / "
                     f"{theirs['sam']:.3f} | {margin:+.3f} | {'yes' if margin > 0 else 'no'} |")
    return lines


__all__ = ["CHECKPOINT_ROW", "best_classical", "check_same_problems", "ratio_scores", "ratios_record", "ratios_table", "validated_ratios",
           "write_ratios_checkpoint"]
