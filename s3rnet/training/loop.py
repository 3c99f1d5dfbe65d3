"""The training loop: a seeded network, Adam with cosine annealing, batches from the sampler,
validation and checkpoints, data-parallel under ``torchrun``.

Each step draws ``batch_size`` problems (:func:`~s3rnet.training.sampler.sample_batch`) and
takes one Adam step on the configured loss, computed in the normalised units of each problem.
Every ``val_every`` steps the network fuses the validation problems
(:mod:`~s3rnet.training.validation`); the weights with the best selection score are kept as
``best.safetensors`` and the final ones as ``last.safetensors`` (:mod:`s3rnet.checkpoints`). The
test region and the synthetic test seeds are never used.

Reproducibility: the initial weights come from torch's generator seeded with ``seed`` (in a
forked RNG, so the caller's global state is untouched); everything random afterwards comes from
one NumPy generator seeded with ``seed``, saved with the state (:mod:`~s3rnet.training.state`).

Files in the output directory: ``config.json``, ``log.csv`` (step, loss, lr, val_psnr, val_sam,
seconds, and each validation set's PSNR when there are several), ``state.safetensors/.json``,
``best.safetensors/.json``, ``last.safetensors/.json``.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..checkpoints import (
    CheckpointError, atomic_write, checkpoint_metadata, load_checkpoint, remove_stale_temporaries, save_checkpoint,
)
from ..device import autocast, resolve_device
from ..errors import ConfigError
from ..estimates import ESTIMATES
from ..losses import training_loss
from ..models import S3RNet, build_model
from .config import TrainConfig, require_int
from .data import TrainingData, prepare_data
from .sampler import estimate_name, sample_batch
from .state import (
    BEST_NAME, CONFIG_NAME, LAST_NAME, LOG_COLUMNS, LOG_NAME, STATE_NAME, Progress, TrainingError, load_state,
    open_log, save_state,
)
from .validation import validate_all


def seeded_model(config: TrainConfig, bands: int, msi_bands: int) -> S3RNet:
    """The configured network with initial weights fixed by ``config.seed``."""
    # The layers initialise themselves from torch's global generator; forking it lets the seed
    # decide the weights without changing the caller's global RNG state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return build_model(
            config.preset, bands, msi_bands, ratio=config.ratio, skip=model_skip(config.skip),
            fusion=config.fusion, attention=config.attention,
        )


def load_initial_weights(model: S3RNet, init: str) -> dict[str, Any]:
    """Copy a model checkpoint's weights into ``model`` (a config's ``init``).

    Returns
    -------
    dict
        Where the weights came from, for the new checkpoint's sidecar: the name, its steps, the
        estimate it corrected and its training config.

    Raises
    ------
    ConfigError
        When the checkpoint's network is not ``model``'s.
    """
    from ..inference import resolve_checkpoint

    path = resolve_checkpoint(init)
    source, metadata = load_checkpoint(path)
    if source.config != model.config:
        mismatched = {
            key: (value, getattr(model.config, key))
            for key, value in dataclasses.asdict(source.config).items() if value != getattr(model.config, key)
        }
        raise ConfigError(
            f"key 'init': {path} is another network than this config builds "
            + ", ".join(f"{key} {theirs!r} against {ours!r}" for key, (theirs, ours) in mismatched.items())
        )
    model.load_state_dict(source.state_dict())
    return {
        "checkpoint": str(init), "steps": metadata.get("steps"), "estimate": metadata.get("estimate"),
        "config": metadata.get("training", {}).get("config"),
    }


def model_skip(skip: str) -> str:
    """The network's skip (``S3RNetConfig.skip``) for a training config's ``skip``."""
    return "estimate" if skip in ESTIMATES else skip


def _model_metadata(
    config: TrainConfig, model: S3RNet, data: TrainingData, steps: int, validation: dict | None,
    init: dict[str, Any] | None = None,
) -> dict[str, Any]:
    region = data.train
    return checkpoint_metadata(
        preset=config.preset,
        model_config=dataclasses.asdict(model.config),
        wavelengths=data.grid.centres,
        fwhm=data.grid.fwhm,
        msi=config.msi,
        srf=data.srf,
        psf=config.psf,
        ratio=config.ratio,
        normalisation=config.normalisation,
        training={
            "scene": config.scene,
            "region": config.train_region if config.sources is None else None,
            "val_region": config.val_region,
            "split_version": data.split_version,
            "synthetic_split_version": data.synthetic_split_version,
            "units": None if region is None or config.sources is not None else region.units,
            "grid": data.grid.name,
            "sources": data.sampler.describe(),
            "validation_sets": sorted({p.set for p in data.problems}),
            "selection": "mean over validation sets of each set's mean PSNR (filled bands not scored)",
            "config": config.to_dict(),
            "init": init,
        },
        steps=steps,
        validation=validation,
        estimate=estimate_name(config.skip),
    )


@dataclass
class TrainResult:
    """What :func:`train` did.

    Attributes
    ----------
    out_dir : Path
    first_step : int
        Steps already done when this call started (0 unless resumed).
    step : int
        Steps done when it returned.
    finished : bool
        Whether ``step`` reached ``config.steps``.
    losses : list of float
        Training loss of each step of this call (steps ``first_step + 1`` to ``step``).
    validations : list of dict
        ``{"step", "psnr", "sam"}`` (and ``"sets"``) of each validation of this call.
    best : dict or None
        Best validation of the whole run (highest selection score).
    seconds_per_step : float
        Mean time of one optimisation step in this call, validation and saving excluded.
    best_checkpoint, last_checkpoint : Path or None
        Weights files written so far.
    """

    out_dir: Path
    first_step: int
    step: int
    finished: bool
    losses: list[float] = field(default_factory=list)
    validations: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] | None = None
    seconds_per_step: float = float("nan")
    best_checkpoint: Path | None = None
    last_checkpoint: Path | None = None


@dataclass(frozen=True)
class Distributed:
    """This process's place in a data-parallel run (one process: rank 0 of 1).

    Every process draws the same global batch from the same generator and keeps its own
    contiguous share (:meth:`shard`); DDP averages the gradients, so the update is the one of the
    whole batch. Only rank 0 (:attr:`main`) validates and writes files.
    """

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_environment(cls, device: torch.device) -> tuple[Distributed, torch.device, bool]:
        """Join the process group that ``torchrun`` describes in the environment, if any.

        Returns the ranks, the device of this process (``cuda:LOCAL_RANK`` on GPUs) and whether
        this call created the group (and so must destroy it).
        """
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls(), device, False
        dist = torch.distributed
        created = not dist.is_initialized()
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
        if created:
            dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        return cls(dist.get_rank(), dist.get_world_size()), device, created

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        if self.world == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        device_ids = None if next(model.parameters()).device.type == "cpu" else [next(model.parameters()).device]
        return DistributedDataParallel(model, device_ids=device_ids)

    def shard(self, batch: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        share = len(batch[0]) // self.world
        return tuple(array[self.rank * share : (self.rank + 1) * share] for array in batch)

    def mean(self, value: float) -> float:
        """The mean of ``value`` over the processes (the loss of the global batch)."""
        if self.world == 1:
            return value
        total = torch.tensor([value], dtype=torch.float64)
        torch.distributed.all_reduce(total)
        return total.item() / self.world

    def barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()


def optimisation_step(
    model: S3RNet,
    optimizer: torch.optim.Optimizer,
    batch: tuple[np.ndarray, ...],
    sam_weight: float,
    device: torch.device,
    loss_name: str = "paper",
) -> float:
    """One Adam step on a batch from :func:`sample_batch`; returns the loss."""
    lrhsi, hrmsi, truth, *estimate = (torch.from_numpy(array).to(device) for array in batch)
    extra = {"estimate": estimate[0]} if estimate else {}
    optimizer.zero_grad(set_to_none=True)
    with autocast(device):
        fused = model(lrhsi, hrmsi, **extra)
    # The loss in float32 whatever the autocast: L1 and acos lose too much in bf16.
    loss = training_loss(loss_name, fused.float(), truth, sam_weight)
    loss.backward()
    optimizer.step()
    return loss.item()


def log_columns(data: TrainingData) -> tuple[str, ...]:
    """The log's columns: :data:`LOG_COLUMNS`, then each validation set's PSNR when there are several."""
    sets = sorted({p.set for p in data.problems})
    return LOG_COLUMNS if len(sets) == 1 else (*LOG_COLUMNS, *(f"val_psnr[{name}]" for name in sets))


def train(
    config: TrainConfig,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = True,
    device: str | torch.device | None = None,
    max_steps_this_run: int | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Train S3RNet as configured, or continue an interrupted run.

    Started by ``torchrun --nproc_per_node N -m s3rnet train ...`` (``WORLD_SIZE`` > 1 in the
    environment), it runs data-parallel (:class:`Distributed`): every process draws the same
    global batch and trains on its share of it, so N processes follow the same trajectory as one
    process with the same ``batch_size``; process 0 validates, logs and saves.

    Parameters
    ----------
    config : TrainConfig
    out_dir : str or path, optional
        Output directory (created); ``config.out_dir`` by default.
    resume : bool
        Continue from ``out_dir/state.safetensors``: the same config (``steps`` included) must
        be given. A fresh run refuses a directory that already holds a training state.
    progress : bool
        Show a tqdm progress bar (loss, validation PSNR, ETA) on stderr.
    device : str or torch.device, optional
        ``"cpu"`` or ``"cuda"``; CUDA when available by default. CUDA runs in bf16 autocast.
    max_steps_this_run : int, optional
        Stop after this many steps (saving the state), so the run can be resumed later.
    callback : callable, optional
        Called after every step (by process 0) with ``{"step", "loss", "lr", "validation",
        "seconds"}``, ``validation`` being ``{"step", "psnr", "sam"}`` or None; for live plots.

    Returns
    -------
    TrainResult

    Raises
    ------
    ConfigError, CheckpointError, TrainingError
        Before the first step for anything wrong with the config, the data or the directory;
        ``TrainingError`` if the loss becomes NaN or infinite.
    """
    from tqdm.auto import tqdm

    ranks, device, own_group = Distributed.from_environment(resolve_device(device))
    try:
        return _train(config, out_dir, resume, progress, device, max_steps_this_run, callback, ranks, tqdm)
    finally:
        if own_group:
            torch.distributed.destroy_process_group()


def _train(config, out_dir, resume, progress, device, max_steps_this_run, callback, ranks, tqdm) -> TrainResult:
    if max_steps_this_run is not None:
        require_int("max_steps_this_run", max_steps_this_run, minimum=1)
    if config.batch_size % ranks.world:
        raise ConfigError(
            f"key 'batch_size': {config.batch_size} patches cannot be shared by {ranks.world} processes"
        )
    out = Path(out_dir if out_dir is not None else config.out_dir)
    state_file = out / f"{STATE_NAME}.safetensors"
    if resume and not state_file.is_file():
        raise CheckpointError(f"{out}: no training state ({state_file.name}) to resume from")
    if not resume and state_file.is_file():
        raise TrainingError(
            f"{out} already holds a training run ({state_file.name}); resume it or choose another directory"
        )
    data = prepare_data(config)
    if ranks.main:
        out.mkdir(parents=True, exist_ok=True)

    model = seeded_model(config, data.grid.bands, data.srf.shape[0]).to(device)
    # On resume the state's weights replace these; the sidecars still say where the run started.
    init = load_initial_weights(model, config.init) if config.init is not None else None
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.steps, eta_min=0.0)
    if resume:
        if ranks.main:
            remove_stale_temporaries(out)
        ranks.barrier()
        rng, state = load_state(out, config, model, optimizer, scheduler)
    else:
        rng, state = np.random.default_rng(config.seed), Progress()
        if ranks.main:
            atomic_write(out / CONFIG_NAME, (json.dumps(config.to_dict(), indent=2) + "\n").encode())
    trained = ranks.wrap(model)
    estimate = estimate_name(config.skip)
    columns = log_columns(data)
    set_columns = columns[len(LOG_COLUMNS):]

    result = TrainResult(
        out, first_step=state.step, step=state.step, finished=state.step >= config.steps, best=state.best
    )
    stop = config.steps
    if max_steps_this_run is not None:
        stop = min(stop, state.step + max_steps_this_run)
    step_seconds = 0.0
    started = time.perf_counter() - state.seconds
    bar = tqdm(
        total=config.steps, initial=state.step, disable=not (progress and ranks.main), unit="step",
        desc="train", dynamic_ncols=True,
    )
    log_context = (
        open_log(out / LOG_NAME, columns, keep_until=state.step if resume else None) if ranks.main else contextlib.nullcontext()
    )
    with log_context as log, bar:
        writer = csv.writer(log, lineterminator="\n") if ranks.main else None
        model.train()
        while state.step < stop:
            tick = time.perf_counter()
            lr = optimizer.param_groups[0]["lr"]
            batch = sample_batch(data.sampler, data.srf, config, rng, data.grid.centres)
            value = optimisation_step(
                trained, optimizer, ranks.shard(batch), config.sam_weight, device, config.loss
            )
            value = ranks.mean(value)
            scheduler.step()
            step_seconds += time.perf_counter() - tick
            state.step += 1
            if not math.isfinite(value):
                raise TrainingError(
                    f"the training loss became {value} at step {state.step}; lower lr ({config.lr}) "
                    f"or check the data"
                )
            result.losses.append(value)
            if not ranks.main:
                continue

            scores = None
            if state.step % config.val_every == 0 or state.step == config.steps:
                scores = {"step": state.step, **validate_all(model, data.problems, config.normalisation, device, estimate)}
                result.validations.append(scores)
                state.last_validation = scores
                if state.best is None or scores["psnr"] > state.best["psnr"]:
                    state.best = scores
                    save_checkpoint(out / BEST_NAME, model, _model_metadata(config, model, data, state.step, scores, init))
            last_psnr = "-" if state.last_validation is None else f"{state.last_validation['psnr']:.2f}"
            bar.set_postfix(loss=f"{value:.4f}", val_psnr=last_psnr, refresh=False)
            if state.step == config.steps:
                save_checkpoint(out / LAST_NAME, model, _model_metadata(config, model, data, state.step, state.last_validation, init))
            state.seconds = time.perf_counter() - started
            per_set = [""] * len(set_columns) if scores is None else [
                f"{scores['sets'][name[len('val_psnr['):-1]]['psnr']:.4f}" for name in set_columns
            ]
            writer.writerow([
                state.step, repr(value), repr(lr),
                "" if scores is None else f"{scores['psnr']:.4f}",
                "" if scores is None else f"{scores['sam']:.4f}",
                f"{state.seconds:.3f}",
                *per_set,
            ])
            if state.step % config.checkpoint_every == 0 or state.step == stop:
                # The log must reach the disk before the state that a resumed run trusts.
                log.flush()
                os.fsync(log.fileno())
                save_state(out, config, model, optimizer, scheduler, rng, state)
            bar.update(1)
            if callback is not None:
                callback({"step": state.step, "loss": value, "lr": lr, "validation": scores, "seconds": state.seconds})
    ranks.barrier()

    result.step = state.step
    result.finished = state.step >= config.steps
    result.best = state.best
    if result.losses:
        result.seconds_per_step = step_seconds / len(result.losses)
    for name, attribute in ((BEST_NAME, "best_checkpoint"), (LAST_NAME, "last_checkpoint")):
        if (out / f"{name}.safetensors").is_file():
            setattr(result, attribute, out / f"{name}.safetensors")
    return result
