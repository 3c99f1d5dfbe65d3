"""A published checkpoint and classical methods when the HR-MSI is noisy too, as markdown.

Every score of the report, and every choice made for a checkpoint on validation data, degrades the
LR-HSI only: the HR-MSI is noise-free, and :mod:`s3rnet.consistency` takes it as exact (its
projection reproduces it, and the partner's share reads its residuals). A real pair's HR-MSI is not
exact. This script measures what that costs on a training config's validation scenes (its real
val region and the synthetic split's val seeds, never a test region or test seed), degraded again
with noise on both images (seed 0, the scene convention: one noise power for each image, from its
mean square; with ``--hrmsi-noise band`` the HR-MSI's noise power is set band by band instead, as
a sensor's SNR specification is, so that a dark band is not drowned; with ``--hrmsi-noise one
--noisy-band N`` band N alone gets noise, at its own SNR, and the others stay clean), for:

* the classical methods asked for;
* the checkpoint's network alone (``--network-alone``);
* the network blended with its ensemble partner, as its sidecar says, not projected;
* the checkpoint as published: the blend projected onto its inputs (the sidecar's noise factor).

Usage::

    python benchmarks/msi_noise.py --config configs/generalise-oli4-psnr.json --checkpoint lite-oli4 \\
        --lrhsi-snr 35,15 --hrmsi-snr clean,40,30,20 [--hrmsi-noise band]
    python benchmarks/msi_noise.py --config configs/generalise-oli6-psnr.json --checkpoint lite-oli6 \
        --lrhsi-snr 35 --hrmsi-snr 25,20,15 --hrmsi-noise one --noisy-band 6

Each cell is the mean PSNR (dB) / SAM (deg) over a set's scenes.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys


def _snrs(text: str) -> list[float]:
    return [float("inf") if s.strip() == "clean" else float(s) for s in text.split(",")]


def _label(snr: float) -> str:
    return "clean" if snr == float("inf") else f"{snr:g} dB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="training config whose validation scenes are used")
    parser.add_argument("--checkpoint", required=True, help="a published name or path, with an ensemble partner")
    parser.add_argument("--methods", default="hysime-wiener-hybrid,pca-wiener-cnmf", help="classical methods, comma-separated")
    parser.add_argument("--lrhsi-snr", default="35,15", help="LR-HSI SNRs in dB, comma-separated ('clean' for none)")
    parser.add_argument("--hrmsi-snr", default="clean,40,30,20", help="HR-MSI SNRs in dB, comma-separated")
    parser.add_argument("--hrmsi-noise", choices=("image", "band", "one"), default="image",
                        help="one noise power for the HR-MSI, one for each of its bands, or noise on --noisy-band alone")
    parser.add_argument("--noisy-band", type=int, default=1, help="with --hrmsi-noise one: the noisy band, from 1")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    import numpy as np
    import torch

    from s3rnet.baselines import get_method
    from s3rnet.consistency import lrhsi_noise_power, project_onto_inputs
    from s3rnet.degrade import add_awgn, simulate
    from s3rnet.inference import CheckpointMethod, blend_with_partner
    from s3rnet.metrics import psnr, sam
    from s3rnet.training import load_config, training_grid, validation_problems

    torch.set_num_threads(args.threads)
    config = load_config(args.config, val_snr_db=None)
    problems, _ = validation_problems(config, training_grid(config))
    network = CheckpointMethod(args.checkpoint, device="cpu", ensemble=False)
    ensemble = network.metadata.get("ensemble")
    if ensemble is None:
        raise SystemExit(f"{args.checkpoint} has no ensemble partner: nothing to blend")
    partner = get_method(ensemble["method"])
    classical = {name: get_method(name) for name in args.methods.split(",") if name}
    columns = [*classical, "network alone", f"blend with {ensemble['method']}", "as published (blend, projected)"]
    print(f"{args.checkpoint} on the validation scenes of {args.config} (msi {config.msi}), noise seed 0, scene "
          f"convention, HR-MSI noise power per "
          f"{f'band, on band {args.noisy_band} alone' if args.hrmsi_noise == 'one' else args.hrmsi_noise}; projection noise factor "
          f"{network.projection_factor:g}; PSNR dB / SAM deg\n")
    print("| LR-HSI | HR-MSI | set | " + " | ".join(columns) + " |")
    print("|---|---|---|" + "---:|" * len(columns))
    for lrhsi_snr in _snrs(args.lrhsi_snr):
        for hrmsi_snr in _snrs(args.hrmsi_snr):
            by_set: dict[str, list[list[tuple[float, float]]]] = {}
            for problem in problems:
                truth = problem.simulation
                whole_image = args.hrmsi_noise == "image"
                simulation = simulate(truth.truth, truth.wavelengths, truth.fwhm, ratio=config.ratio, psf=config.psf,
                                      msi=config.msi, lrhsi_snr_db=lrhsi_snr,
                                      hrmsi_snr_db=hrmsi_snr if whole_image else float("inf"), seed=0)
                inputs = simulation.inputs()
                if args.hrmsi_noise == "band":
                    noisy = add_awgn(inputs.hrmsi, hrmsi_snr, np.random.default_rng(1), per_band=True)
                    inputs = dataclasses.replace(inputs, hrmsi=noisy)
                elif args.hrmsi_noise == "one":
                    noisy, band = inputs.hrmsi.copy(), args.noisy_band - 1
                    noisy[..., band] = add_awgn(inputs.hrmsi[..., band : band + 1], hrmsi_snr, np.random.default_rng(1))[..., 0]
                    inputs = dataclasses.replace(inputs, hrmsi=noisy)
                alone = network(inputs)
                blended, _ = blend_with_partner(alone, partner(inputs), inputs, ensemble)
                projected = project_onto_inputs(blended, inputs, factor=network.projection_factor,
                                                noise_power=lrhsi_noise_power(inputs))
                cubes = [*(method(inputs) for method in classical.values()), alone, blended, projected]
                reference = simulation.truth if problem.scored is None else simulation.truth[..., problem.scored]
                scored = [cube if problem.scored is None else cube[..., problem.scored] for cube in cubes]
                by_set.setdefault(problem.set, []).append([(psnr(reference, c), sam(reference, c)) for c in scored])
            for set_name, rows in by_set.items():
                means = np.mean(np.asarray(rows), axis=0)
                cells = " | ".join(f"{p:.2f} / {s:.3f}" for p, s in means)
                print(f"| {_label(lrhsi_snr)} | {_label(hrmsi_snr)} | {set_name} | {cells} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
