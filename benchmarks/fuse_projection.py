"""``fuse`` with and without projecting a checkpoint's output onto the pair's inputs, as markdown.

In a simulation the projection (:mod:`s3rnet.consistency`) knows the PSF and the MSI response the
inputs were made with. On a real pair ``fuse`` knows neither: it assumes a PSF and fits the
response. This script measures what the projection does there, on pairs with a ground truth made
from validation data only (the Indian Pines val region and synthetic scenes of the first validation
seeds, radiance and reflectance, on the Indian Pines band set), each degraded with one mismatch that
real pairs have and simulations usually do not:

* ``matched``: the box PSF ``fuse`` assumes;
* ``gaussian``: a Gaussian PSF (gain ``--mtf`` at Nyquist), ``fuse`` still assuming the box;
* ``shift``: the LR-HSI shifted by ``--shift`` LR pixels, under ``fuse``'s correction threshold;
* ``msinoise``: the HR-MSI with ``--msi-snr`` dB of noise;
* ``gaps``: the LR-HSI file without its bands in ``--gaps`` (nm), inside MSI bands, so that no
  response on the file's bands reproduces the HR-MSI exactly; scored on the kept bands.

Each pair is written as two georeferenced GeoTIFFs and fused from the files with the response
estimated (``msi_response="estimate"``), as a user with a real pair would, without and with the
projection (``project=True`` of :func:`s3rnet.fuse.fuse_pair`, ``--project``). Rows: PSNR dB /
SAM deg against the truth, the mean over the three sets of each set's mean (the selection score).

Usage::

    python benchmarks/fuse_projection.py --msi oli6 --seeds 2 --snr clean,35,15
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from _harness import add_fuse_study_options, fuse_study_scenes, parse_snrs, score_rows, write_study_pair

CONDITIONS = ("matched", "gaussian", "shift", "msinoise", "gaps")
MODES = ("off", "on")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--msi", default="oli6", help="the HR-MSI's response (fuse chooses the checkpoint)")
    add_fuse_study_options(parser, snr="clean,35,15", seeds=2)
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    parser.add_argument("--mtf", type=float, default=0.3)
    parser.add_argument("--shift", type=float, default=0.08)
    parser.add_argument("--msi-snr", type=float, default=30.0)
    parser.add_argument("--gaps", default="1565-1655,2150-2230", help="nm ranges of LR-HSI bands left out")
    parser.add_argument("--json", type=Path, help="also write every score here")
    args = parser.parse_args(argv)
    from s3rnet.degrade import simulate
    from s3rnet.fuse import fuse_pair
    from s3rnet.geo import open_image
    from s3rnet.metrics import psnr, sam

    ratio = 4
    snrs = parse_snrs(args.snr)
    scenes = fuse_study_scenes(args.seeds, args.size, ratio)
    gaps = [tuple(float(x) for x in g.split("-")) for g in args.gaps.split(",")]
    print(f"{args.msi} pairs through `fuse` (response estimated, checkpoint chosen by fuse) at ratio {ratio}: the Indian "
          f"Pines val region and synthetic scenes of the first {args.seeds} validation seeds ({args.size} x {args.size} HR "
          "px, radiance and reflectance); PSNR dB / SAM deg, the mean over the sets of each set's mean.\n")
    everything: dict = {}
    for condition in args.conditions.split(","):
        for snr in snrs:
            scores: dict[str, dict[str, list[tuple[float, float]]]] = {mode: {} for mode in MODES}
            chosen: set[str] = set()
            with tempfile.TemporaryDirectory() as folder:
                folder = Path(folder)
                for label, scene in scenes:
                    sim = simulate(scene.cube, scene.wavelengths, scene.fwhm, msi=args.msi, ratio=ratio,
                                   psf="gaussian" if condition == "gaussian" else "box", mtf=args.mtf,
                                   lrhsi_snr_db=np.inf if snr is None else snr,
                                   hrmsi_snr_db=args.msi_snr if condition == "msinoise" else np.inf,
                                   shift=(args.shift, args.shift) if condition == "shift" else (0.0, 0.0), seed=0)
                    keep = np.ones(scene.cube.shape[-1], dtype=bool)
                    if condition == "gaps":
                        for lo, hi in gaps:
                            keep &= ~((scene.wavelengths >= lo) & (scene.wavelengths <= hi))
                    lr, hr = write_study_pair(folder, sim.lrhsi[..., keep], sim.hrmsi, scene, ratio, keep)
                    for mode in MODES:
                        result = fuse_pair(lr, hr, folder / "out.tif", msi_response="estimate", project=mode == "on")
                        chosen.add(result.report["method"]["name"])
                        fused = open_image(result.output).read()
                        score = (psnr(sim.truth[..., keep], fused), sam(sim.truth[..., keep], fused))
                        scores[mode].setdefault(label, []).append(score)
                        print(f"{condition} {snr} {label} {mode}: {score[0]:.3f} / {score[1]:.3f}", file=sys.stderr, flush=True)
            sets = list(scores[MODES[0]])
            print(f"\n{condition}, LR-HSI {'clean' if snr is None else f'{snr:g} dB'}; fuse chose {', '.join(sorted(chosen))}\n")
            print("| projection | score | " + " | ".join(sets) + " |")
            print("|---|---:|" + "---:|" * len(sets))
            for mode, (total, means) in score_rows(scores).items():
                everything.setdefault(condition, {}).setdefault(str(snr), {})[mode] = [float(t) for t in total]
                print(f"| {mode} | {total[0]:.3f} / {total[1]:.3f} | "
                      + " | ".join(f"{m[0]:.3f} / {m[1]:.3f}" for m in means) + " |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
