"""How well ``fuse``'s HR-MSI noise estimate reads a known noise, as markdown.

:func:`s3rnet.baselines.noise.hrmsi_band_snr` estimates each HR-MSI band's SNR from the image alone;
``fuse`` reports it and warns under :data:`s3rnet.fuse.NOISY_MSI_SNR_DB`. This script simulates the
HR-MSI of each validation scene of a training config (its real val region and the synthetic split's
val seeds, never a test region or test seed), adds white noise to every band at each SNR asked for
(each band at its own SNR, from its mean square; noise seed 1), and prints the SNR the estimate reads,
lowest / median / highest over scenes and bands, per set and over all scenes.

Usage::

    python benchmarks/msi_noise_estimate.py --config configs/generalise-oli6-psnr.json --snr clean,40,30,25,20,15
"""

from __future__ import annotations

import argparse
import sys


def _snrs(text: str) -> list[float]:
    return [float("inf") if part.strip() == "clean" else float(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="training config whose validation scenes are used")
    parser.add_argument("--snr", default="clean,40,30,25,20,15", help="band SNRs in dB, comma-separated ('clean' for none)")
    args = parser.parse_args(argv)
    import numpy as np

    from s3rnet.baselines.noise import hrmsi_band_snr
    from s3rnet.degrade import add_awgn
    from s3rnet.training import load_config, training_grid, validation_problems

    config = load_config(args.config, val_snr_db=None)
    problems, _ = validation_problems(config, training_grid(config))
    readings: dict[tuple[str, float], list[np.ndarray]] = {}
    for problem in problems:
        clean = problem.simulation.hrmsi
        for snr in _snrs(args.snr):
            hrmsi = clean if np.isinf(snr) else add_awgn(clean, snr, np.random.default_rng(1), per_band=True)
            readings.setdefault((problem.set, snr), []).append(hrmsi_band_snr(hrmsi))
    sets = sorted({name for name, _ in readings})
    print(f"HR-MSI noise estimate on the validation scenes of {args.config} (msi {config.msi}); "
          f"SNR read in dB, lowest / median / highest over scenes and bands\n")
    print("| band SNR | " + " | ".join(f"{name} ({len(readings[name, _snrs(args.snr)[0]])})" for name in sets) + " | all |")
    print("|---|" + "---:|" * (len(sets) + 1))
    for snr in _snrs(args.snr):
        groups = [np.concatenate(readings[name, snr]) for name in sets]
        cells = [f"{g.min():.1f} / {np.median(g):.1f} / {g.max():.1f}" for g in [*groups, np.concatenate(groups)]]
        print(f"| {'clean' if np.isinf(snr) else f'{snr:g} dB'} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
