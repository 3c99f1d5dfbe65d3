"""The LR-HSI's SNR as ``fuse`` reads it (HySime, :func:`s3rnet.baselines.noise.lrhsi_band_noise`), as markdown.

``fuse`` warns when a method that passes the LR-HSI's noise on runs on an LR-HSI whose SNR, read
from the image alone, is under :data:`s3rnet.fuse.NOISY_LRHSI_SNR_DB`. This script shows what the
reading gives on LR-HSIs of known SNR, made from validation data only (the Indian Pines val region
and synthetic scenes of the first validation seeds, radiance and reflectance, 128 x 128), degraded
by the evaluation protocol (box PSF, ratio 4, white noise at each SNR in our convention, seed 0):
the SNR read per scene, its mean power over the mean of HySime's per-band noise powers.

Usage::

    python benchmarks/lrhsi_noise_estimate.py --seeds 4 --snr clean,45,40,35,25,15
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snr", default="clean,45,40,35,25,15", help="LR-HSI SNRs in dB, comma-separated")
    parser.add_argument("--seeds", type=int, default=4, help="synthetic validation seeds per unit (default 4)")
    parser.add_argument("--size", type=int, default=128)
    args = parser.parse_args(argv)
    from s3rnet.baselines.noise import lrhsi_band_noise
    from s3rnet.data import crop_to_multiple, load_scene, split_region
    from s3rnet.data.synthetic_split import load_synthetic_split
    from s3rnet.degrade import simulate

    seeds = load_synthetic_split().val_seeds[: args.seeds]
    scenes = [("Indian Pines val", crop_to_multiple(split_region(load_scene("indian_pines"), "val"), 4))]
    scenes += [(f"{units} {seed}", load_scene(f"synthetic:{seed}", size=args.size, units=units))
               for units in ("radiance", "reflectance") for seed in seeds]
    print("| LR-HSI | " + " | ".join(name for name, _ in scenes) + " | lowest | highest |")
    print("|---|" + "---:|" * (len(scenes) + 2))
    for text in args.snr.split(","):
        snr = np.inf if text.strip() == "clean" else float(text)
        read = []
        for _, scene in scenes:
            sim = simulate(scene.cube, scene.wavelengths, scene.fwhm, msi="oli6", lrhsi_snr_db=snr, seed=0)
            noise = float(np.mean(lrhsi_band_noise(sim.lrhsi, scene.wavelengths)))
            read.append(10.0 * np.log10(float(np.mean(np.square(sim.lrhsi.astype(np.float64)))) / noise))
        print(f"| {text.strip()} {'' if text.strip() == 'clean' else 'dB'} | " + " | ".join(f"{r:.1f}" for r in read)
              + f" | {min(read):.1f} | {max(read):.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
