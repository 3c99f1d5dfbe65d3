"""Training S3RNet on fusion problems simulated on the fly from many sources of scenes.

The path of a training sample reads one way, one module per stage:

* :mod:`.config` — :class:`TrainConfig` (the run, read from JSON by :func:`load_config`);
* :mod:`.sources` — where ground-truth patches come from (real regions, synthetic scenes, a
  folder of the user's scenes), all on one training grid, picked by weight;
* :mod:`.sampler` — patches augmented, degraded as the evaluation protocol does, normalised
  from the inputs alone (:func:`sample_batch`; :func:`draw_batch` also says what was drawn);
* :mod:`.loop` — the model, the optimisation, validation and checkpoints (:func:`train`);
* :mod:`.validation` — the fixed validation problems and the selection score;
* :mod:`.ensemble` — a classical partner for a trained network, its weight chosen on validation;
* :mod:`.projection` — the projection onto the inputs, its noise factor chosen on validation;
* :mod:`.ratios` — other spatial ratios than the trained one, each validated before use;
* :mod:`.state` — the saved state that lets a killed run resume exactly.
"""

from ..losses import spectral_angle
from .config import SOURCE_KINDS, TRAIN_SKIPS, TRAINING_GRIDS, TrainConfig, load_config
from .data import TrainingData, prepare_data
from .ensemble import ENSEMBLE_WEIGHTS, choose_ensemble, ensemble_scores, ensemble_table, write_ensemble_checkpoint
from .projection import (
    PROJECTION_FACTORS, choose_projection, projection_scores, projection_table, write_projection_checkpoint,
)
from .ratios import ratio_scores, ratios_record, ratios_table, validated_ratios, write_ratios_checkpoint
from .loop import Distributed, TrainResult, model_skip, optimisation_step, seeded_model, train
from .sampler import SampleDraw, degrade_patch, draw_batch, estimate_name, sample_batch, smooth_spectral_gain
from .sources import FolderSource, PatchSampler, RegionSource, SyntheticSource, build_sampler, training_grid
from .state import BEST_NAME, CONFIG_NAME, LAST_NAME, LOG_COLUMNS, LOG_NAME, STATE_NAME, TrainingError
from .validation import ValidationProblem, selection_score, validate, validate_all, validation_problems

__all__ = [
    "BEST_NAME", "CONFIG_NAME", "ENSEMBLE_WEIGHTS", "PROJECTION_FACTORS", "LAST_NAME", "LOG_COLUMNS", "LOG_NAME", "SOURCE_KINDS", "STATE_NAME", "TRAINING_GRIDS",
    "TRAIN_SKIPS", "Distributed", "FolderSource", "PatchSampler", "RegionSource", "SyntheticSource", "TrainConfig",
    "SampleDraw", "TrainResult", "TrainingData", "TrainingError", "ValidationProblem", "build_sampler", "choose_ensemble", "choose_projection", "degrade_patch",
    "draw_batch", "ensemble_scores", "ensemble_table", "estimate_name", "load_config", "model_skip", "optimisation_step", "prepare_data", "projection_scores", "projection_table",
    "ratio_scores", "ratios_record", "ratios_table", "sample_batch",
    "seeded_model", "selection_score",
    "smooth_spectral_gain", "spectral_angle", "train", "training_grid", "validate", "validate_all", "validated_ratios",
    "validation_problems", "write_ensemble_checkpoint", "write_projection_checkpoint", "write_ratios_checkpoint",
]
