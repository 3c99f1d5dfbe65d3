"""Published checkpoints scored on a training config's validation problems at other LR-HSI SNRs, as markdown.

``python -m s3rnet ensemble`` and ``project`` choose a checkpoint's partner share and noise factor on
the config's validation problems at its validation SNRs (clean and 15 dB for the generalise
configs). The report also scores 35 dB, which no choice saw; before a new choice is published, this
script checks that it does not lose there either: the same validation scenes (the config's real val
region and the synthetic split's val seeds, never a test region or test seed), degraded at each SNR
asked for, each checkpoint run as :class:`s3rnet.inference.CheckpointMethod` runs it (blended with
its ensemble partner and projected onto its inputs when its sidecar says so).

Usage::

    python benchmarks/val_snr.py --config configs/generalise-s2-4-psnr.json --snr 35,15 \\
        lite-s2-4 runs/generalise-s2-4-psnr/projected-sband.safetensors

Rows: for each SNR, the selection score (mean over the sets of each set's mean PSNR) and SAM,
then each set's; the last column, each checkpoint minus the first (PSNR dB).
"""

from __future__ import annotations

import argparse
import sys

from _harness import selection_rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="training config whose validation scenes are used")
    parser.add_argument("--snr", default="35", help="LR-HSI SNRs in dB, comma-separated ('clean' for none)")
    parser.add_argument("checkpoints", nargs="+", help="model checkpoints (paths or published names)")
    args = parser.parse_args(argv)
    from s3rnet.data.synthetic_split import load_synthetic_split
    from s3rnet.inference import CheckpointMethod
    from s3rnet.metrics import psnr, sam
    from s3rnet.training import load_config, training_grid, validation_problems
    from s3rnet.training.validation import selection_score

    snrs = [None if s.strip() == "clean" else float(s) for s in args.snr.split(",")]
    config = load_config(args.config)
    problems, _ = validation_problems(config.replace(val_snr_db=tuple(snrs)), training_grid(config))
    methods = [CheckpointMethod(name, device="cpu") for name in args.checkpoints]
    by_snr: dict[str, list[dict[str, list[dict[str, float]]]]] = {}
    for index, problem in enumerate(problems):
        snr = snrs[index % len(snrs)]  # validation_problems degrades each scene at each SNR in turn
        label = "clean" if snr is None else f"{snr:g} dB"
        row = by_snr.setdefault(label, [{} for _ in methods])
        inputs = problem.simulation.inputs()
        for method, by_set in zip(methods, row):
            cube, truth = method(inputs), problem.simulation.truth
            if problem.scored is not None:
                cube, truth = cube[..., problem.scored], truth[..., problem.scored]
            by_set.setdefault(problem.set, []).append({"psnr": psnr(truth, cube), "sam": sam(truth, cube)})
    print(f"Validation scenes of {args.config} (msi {config.msi}, grid {config.grid}, synthetic split version "
          f"{load_synthetic_split().version}, seed {config.val_seed}), checkpoints as published; PSNR dB / SAM deg.\n")
    print("| LR-HSI | score | " + " | ".join(args.checkpoints) + (" | minus the first |" if len(methods) > 1 else " |"))
    print("|---|---|" + "---:|" * len(methods) + ("---|" if len(methods) > 1 else ""))
    for label, row in by_snr.items():
        print("\n".join(selection_rows([selection_score(by_set) for by_set in row], f"| {label} ")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
