"""Checkpoints scored on a training config's validation problems, as markdown: the selection
score the training loop uses, recomputed for checkpoints trained on other validation sets.

A checkpoint's logged validation score was computed on the validation problems of its own run
(the synthetic split's version at the time). To compare a new run with a published checkpoint,
score both on the same problems: :func:`s3rnet.training.validation_problems` of one config (its
real val region and the current split's synthetic val seeds, never a test region or seed), with
:func:`s3rnet.training.validation.validate_all`, as in training.

Usage::

    python benchmarks/val_checkpoints.py --config configs/generalise-oli4-unmixing.json \\
        runs/generalise-oli4-hybrid/best.safetensors runs/generalise-oli4-unmixing/best.safetensors

Rows: the selection score (mean over the sets of each set's mean PSNR) and SAM, then each set's
mean PSNR / SAM; the last column, each checkpoint minus the first. Networks are scored alone, as
training selects them: a checkpoint's ensemble partner is scored by ``python -m s3rnet ensemble``.
"""

from __future__ import annotations

import argparse
import sys

from _harness import selection_rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="training config whose validation problems are used")
    parser.add_argument("checkpoints", nargs="+", help="model checkpoints (paths or published names)")
    args = parser.parse_args(argv)
    import torch

    from s3rnet.checkpoints import load_checkpoint
    from s3rnet.data.synthetic_split import load_synthetic_split
    from s3rnet.inference import resolve_checkpoint
    from s3rnet.training import load_config, training_grid, validation_problems
    from s3rnet.training.validation import validate_all

    config = load_config(args.config)
    problems, _ = validation_problems(config, training_grid(config))
    results = []
    for name in args.checkpoints:
        model, metadata = load_checkpoint(resolve_checkpoint(name))
        model.eval()
        results.append(validate_all(model, problems, metadata["normalisation"], torch.device("cpu"), metadata.get("estimate")))
    snrs = ", ".join("clean" if s == float("inf") else f"{s:g} dB" for s in config.val_snrs)
    print(f"Validation problems of {args.config} (msi {config.msi}, grid {config.grid}, synthetic split version "
          f"{load_synthetic_split().version}, LR-HSI {snrs}, seed {config.val_seed}); PSNR dB / SAM deg.\n")
    print("| score | " + " | ".join(args.checkpoints) + (" | minus the first |" if len(results) > 1 else " |"))
    print("|---|" + "---:|" * len(results) + ("---|" if len(results) > 1 else ""))
    print("\n".join(selection_rows(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
