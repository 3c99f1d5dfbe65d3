"""Is the projection onto the inputs S3RNet's gain, or anyone's? Classical methods projected too, as markdown.

The published checkpoints project their output onto their inputs as far as the inputs' noise
allows (``python -m s3rnet project``, :func:`s3rnet.consistency.project_onto_inputs`), and the
report's targets compare them with classical methods as those are, unprojected. The projection
takes any cube: this script scores each classical method as it is and projected with the published
checkpoint's noise factor, beside S3RNet as published, on a region of Indian Pines resampled onto
the checkpoint's grid, box PSF, ratio 4, noise seed 0, clean and at each SNR (our convention).

Usage::

    python benchmarks/projected_methods.py --region val --msi oli4 --snrs inf 35 15

Each cell is PSNR (dB) / SAM (degrees); the classical methods' cells read "as they are -> projected".
Run it on ``val`` for a decision; ``test`` only to report one already taken.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--region", default="val", help="region of Indian Pines' declared split")
    parser.add_argument("--msi", default="oli4")
    parser.add_argument("--checkpoint", help="default: the published lite checkpoint of the MSI")
    parser.add_argument("--methods", default="mtf-glp-hpm,cnmf,hysime-wiener-hybrid,hysime-wiener-cnmf,pca-wiener-cnmf",
                        help="comma-separated baselines")
    parser.add_argument("--snrs", type=float, nargs="+", default=[float("inf"), 35.0, 15.0], help="LR-HSI SNRs (dB; inf: none)")
    args = parser.parse_args(argv)
    from s3rnet.baselines import get_method
    from s3rnet.consistency import lrhsi_noise_power, project_onto_inputs
    from s3rnet.data import load_scene, split_region
    from s3rnet.degrade import simulate
    from s3rnet.inference import CheckpointMethod, prepare_scene
    from s3rnet.metrics import psnr, sam

    network = CheckpointMethod(args.checkpoint or f"lite-{args.msi}", device="cpu")
    factor = network.projection_factor
    region = prepare_scene(split_region(load_scene("indian_pines"), args.region), network.metadata)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    print(f"Indian Pines {args.region} region on {network.name}'s grid, MSI {args.msi}, box PSF, ratio 4, noise seed 0; "
          f"classical methods as they are -> projected with noise factor {factor:g}; PSNR dB / SAM deg.\n")
    print("| LR-HSI | " + " | ".join(methods) + f" | s3rnet ({network.name} as published) |")
    print("|---|" + "---:|" * (len(methods) + 1))
    for snr in args.snrs:
        simulation = simulate(region.cube, region.wavelengths, region.fwhm, msi=args.msi, lrhsi_snr_db=snr, seed=0)
        inputs, truth = simulation.inputs(), simulation.truth
        noise_power = lrhsi_noise_power(inputs)
        cells = []
        for name in methods:
            cube = get_method(name)(inputs)
            projected = project_onto_inputs(cube, inputs, factor=factor, noise_power=noise_power)
            cells.append(f"{psnr(truth, cube):.2f} / {sam(truth, cube):.3f} -> "
                         f"{psnr(truth, projected):.2f} / {sam(truth, projected):.3f}")
        fused = network(inputs)
        cells.append(f"{psnr(truth, fused):.2f} / {sam(truth, fused):.3f}")
        label = "clean" if snr == float("inf") else f"{snr:g} dB"
        print(f"| {label} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
