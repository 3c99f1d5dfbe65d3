"""What ``fuse`` should run when no checkpoint fits a pair, by the LR-HSI's SNR as HySime reads it, as markdown.

When no published checkpoint fits (a panchromatic HR image, an unvalidated ratio, a PSF no
checkpoint learned), ``fuse`` falls back on a classical method. MTF-GLP-HPM passes the LR-HSI's
noise on; a method that denoises it first (HySime-Wiener-*) loses a little on clean pairs. This
script measures, on pairs with a ground truth made from validation data only (the Indian Pines val
region and synthetic scenes of the first validation seeds, radiance and reflectance, on the Indian
Pines band set; box PSF, ratio 4, LR-HSI noise at each SNR, seed 0; written as GeoTIFFs and fused
with the response estimated, as a user would), each candidate method and the SNR that ``fuse``
reads on each pair (``lrhsi_noise.snr_db``), then the rule "a denoiser under GATE dB, MTF-GLP-HPM
above" for each gate.

Rows: PSNR dB / SAM deg, the mean over the three sets of each set's mean (the selection score).

Usage::

    python benchmarks/fuse_fallback.py --responses benchmarks/responses/ali-pan-box.csv,oli4 --seeds 4
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from _harness import (
    add_fuse_study_options, fuse_study_scenes, parse_snrs, score_rows, simulate_study_pair, write_study_pair,
)

DEFAULT = "mtf-glp-hpm"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", default="benchmarks/responses/ali-pan-box.csv,oli4",
                        help="MSI responses, comma-separated: names or CSV tables")
    add_fuse_study_options(parser, snr="clean,35,25,15", seeds=4)
    parser.add_argument("--denoisers", default="hysime-wiener-hybrid,hysime-wiener-mtf")
    parser.add_argument("--gates", default="28,30,32,34", help="SNR gates in dB, comma-separated")
    parser.add_argument("--json", type=Path, help="also write every pair's scores and reading here")
    args = parser.parse_args(argv)
    from s3rnet.fuse import fuse_pair
    from s3rnet.geo import open_image
    from s3rnet.metrics import psnr, sam

    ratio = 4
    snrs = parse_snrs(args.snr)
    denoisers = args.denoisers.split(",")
    gates = [float(g) for g in args.gates.split(",")]
    methods = [DEFAULT, *denoisers]
    scenes = fuse_study_scenes(args.seeds, args.size, ratio)
    pairs: list[dict] = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for msi in args.responses.split(","):
            for snr in snrs:
                for label, scene in scenes:
                    sim = simulate_study_pair(scene, msi, snr, ratio)
                    lr, hr = write_study_pair(folder, sim.lrhsi, sim.hrmsi, scene, ratio)
                    pair = {"msi": msi, "snr": snr, "set": label, "scores": {}}
                    for method in methods:
                        result = fuse_pair(lr, hr, folder / "out.tif", msi_response="estimate", method=method)
                        fused = open_image(result.output).read()
                        pair["scores"][method] = (psnr(sim.truth, fused), sam(sim.truth, fused))
                        pair["read_snr_db"] = result.report["lrhsi_noise"]["snr_db"]
                    pairs.append(pair)
                    print(f"{msi} {snr} {label} reads {pair['read_snr_db']:.1f} dB: "
                          + ", ".join(f"{m} {v[0]:.3f}" for m, v in pair["scores"].items()), file=sys.stderr, flush=True)
    rules = {DEFAULT: lambda pair: DEFAULT}
    for denoiser in denoisers:
        rules[denoiser] = lambda pair, d=denoiser: d
        for gate in gates:
            rules[f"{denoiser} under {gate:g} dB"] = (
                lambda pair, d=denoiser, g=gate: d if pair["read_snr_db"] < g else DEFAULT)
    print(f"Fallback rules on the Indian Pines val region and synthetic scenes of the first {args.seeds} validation "
          f"seeds ({args.size} x {args.size} HR px, radiance and reflectance), response estimated; PSNR dB / SAM deg, "
          "the mean over the sets of each set's mean; last column: the mean PSNR over the rows.\n")
    keys = [(msi, snr) for msi in args.responses.split(",") for snr in snrs]
    print("| rule | " + " | ".join(f"{m} {'clean' if s is None else f'{s:g} dB'}" for m, s in keys) + " | mean |")
    print("|---|" + "---:|" * (len(keys) + 1))
    for name, rule in rules.items():
        cells, means = [], []
        for msi, snr in keys:
            scores: dict[str, dict[str, list]] = {name: {}}
            for pair in pairs:
                if pair["msi"] == msi and pair["snr"] == snr:
                    scores[name].setdefault(pair["set"], []).append(pair["scores"][rule(pair)])
            total = score_rows(scores)[name][0]
            cells.append(f"{total[0]:.3f} / {total[1]:.3f}")
            means.append(total[0])
        print(f"| {name} | " + " | ".join(cells) + f" | {np.mean(means):.3f} |")
    readings = {}
    for pair in pairs:
        readings.setdefault(("clean" if pair["snr"] is None else f"{pair['snr']:g} dB"), []).append(pair["read_snr_db"])
    print("\nSNR read by HySime (min-max over pairs): "
          + "; ".join(f"{k} {min(v):.1f}-{max(v):.1f} dB" for k, v in readings.items()))
    if args.json:
        args.json.write_text(json.dumps(pairs, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
