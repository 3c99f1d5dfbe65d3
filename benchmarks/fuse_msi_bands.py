"""``fuse`` on pairs whose HR-MSI has more bands than the checkpoint's, as markdown.

A real multispectral image often has more bands than a published checkpoint learned: a 10-band
Sentinel-2 stack (its 10 and 20 m bands) for ``lite-s2-6``, a 7-band Landsat 8/9 product for
``lite-oli6``. ``fuse`` then runs the checkpoint on the MSI bands nearest its own
(:func:`s3rnet.response.nearest_bands`) and adds the network's correction to its classical
estimate made with every MSI band. This script measures that on pairs with a ground truth, made
from validation data only: the Indian Pines val region and synthetic scenes of the first
validation seeds (radiance and reflectance, on the Indian Pines band set, so that the network
runs through its grid as on a real pair), degraded by the evaluation protocol (box PSF, the
ratio asked for, the wide MSI response, LR-HSI noise at each SNR), written as two georeferenced
GeoTIFFs and fused from the files with the named wide response, as a user would:

* ``fuse`` as it runs (the checkpoint on the nearest bands, its correction on the wide estimate);
* the checkpoint on a file holding only the nearest bands (a user who drops the others);
* every classical method with every band (``--method``).

Rows: PSNR dB / SAM deg against the truth, the mean over the three sets of each set's mean (the
selection score of model selection), then each set's.

Usage::

    python benchmarks/fuse_msi_bands.py --checkpoint lite-s2-6 --wide s2-10 --snr clean,15 --seeds 4
    python benchmarks/fuse_msi_bands.py --checkpoint lite-oli6 --wide ali.csv --response estimate \
        --methods mtf-glp-hpm,hysime-gsa,hysime-wiener-hybrid,pca-wiener-cnmf
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

import numpy as np

from _harness import add_fuse_study_options, parse_snrs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default="lite-s2-6")
    parser.add_argument("--wide", default="s2-10",
                        help="the HR-MSI's response, with more bands than the checkpoint's: a name or a CSV table")
    parser.add_argument("--response", default="wide", help="what fuse is told: 'wide' (the true response) or 'estimate'")
    add_fuse_study_options(parser, snr="clean,15", seeds=4)
    parser.add_argument("--ratio", type=int, default=4)
    parser.add_argument("--methods", default="all", help="classical methods, comma-separated, or 'all'")
    args = parser.parse_args(argv)
    from rasterio.crs import CRS
    from rasterio.transform import Affine

    from s3rnet.baselines import METHODS
    from s3rnet.data import crop_to_multiple, load_scene, split_region
    from s3rnet.data.synthetic_split import load_synthetic_split
    from s3rnet.degrade import simulate, spectral_degrade, spectral_response
    from s3rnet.fuse import fuse_pair
    from s3rnet.geo import open_image, write_image
    from s3rnet.inference import CheckpointMethod
    from s3rnet.metrics import psnr, sam
    from s3rnet.response import nearest_bands, read_response_csv

    narrow_name = CheckpointMethod(args.checkpoint).metadata["msi"]["name"]
    methods = list(METHODS) if args.methods == "all" else args.methods.split(",")
    snrs = parse_snrs(args.snr)
    seeds = load_synthetic_split().val_seeds[: args.seeds]
    scenes = [("indian_pines:val", split_region(load_scene("indian_pines"), "val"))]
    scenes += [(f"synthetic {units}", load_scene(f"synthetic:{seed}", size=args.size, units=units))
               for units in ("radiance", "reflectance") for seed in seeds]
    rows = ["fuse (checkpoint on the nearest bands, its correction on the wide estimate)",
            "the checkpoint on a file of the nearest bands only", *[f"{m} (every band)" for m in methods]]
    crs = CRS.from_epsg(32616)
    lr_grid = Affine(5.0 * args.ratio, 0, 6e5, 0, -5.0 * args.ratio, 45e5)
    hr_grid = Affine(5.0, 0, 6e5, 0, -5.0, 45e5)
    print(f"`{args.checkpoint}` ({narrow_name}) through `fuse` on {args.wide} pairs at ratio {args.ratio}, fuse told "
          f"the response {args.wide if args.response == 'wide' else args.response}: "
          f"the Indian Pines val region and synthetic validation seeds {', '.join(map(str, seeds))} "
          f"({args.size} x {args.size} HR px, radiance and reflectance); PSNR dB / SAM deg, the mean over the "
          "sets of each set's mean, then each set's.\n")
    for snr in snrs:
        scores: dict[str, dict[str, list[tuple[float, float]]]] = {row: {} for row in rows}
        chosen = set()
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            for label, scene in scenes:
                scene = crop_to_multiple(scene, args.ratio)
                tabulated = args.wide.lower().endswith(".csv")
                sim = simulate(scene.cube, scene.wavelengths, scene.fwhm, msi=narrow_name if tabulated else args.wide,
                               ratio=args.ratio, lrhsi_snr_db=np.inf if snr is None else snr, seed=0)
                if tabulated:  # the LR-HSI does not depend on the MSI; the HR-MSI is the table's
                    srf = read_response_csv(args.wide, scene.wavelengths, scene.fwhm)[0]
                    sim = dataclasses.replace(sim, hrmsi=spectral_degrade(sim.truth, srf), srf=srf)
                bands, _ = nearest_bands(spectral_response(narrow_name, scene.wavelengths, scene.fwhm), sim.srf)
                lr = write_image(folder / "lr.tif", sim.lrhsi, transform=lr_grid, crs=crs,
                                 wavelengths=scene.wavelengths, fwhm=scene.fwhm, units=scene.units)
                hr = write_image(folder / "hr.tif", sim.hrmsi, transform=hr_grid, crs=crs, units=scene.units)
                hr_narrow = write_image(folder / "hr6.tif", sim.hrmsi[..., list(bands)], transform=hr_grid, crs=crs,
                                        units=scene.units)
                told = args.wide if args.response == "wide" else args.response
                runs = [(rows[0], hr, {"msi_response": told}),
                        (rows[1], hr_narrow, {"msi_response": narrow_name, "checkpoint": args.checkpoint})]
                runs += [(row, hr, {"msi_response": told, "method": m}) for row, m in zip(rows[2:], methods)]
                for row, msi_file, options in runs:
                    result = fuse_pair(lr, msi_file, folder / "out.tif", **options)
                    if row == rows[0]:
                        chosen.add(f"{result.report['method']['name']}{' (near sensor)' if result.report['method'].get('near_sensor') else ''} on MSI bands "
                                   f"{result.report['method'].get('msi_bands')}")
                    fused = open_image(result.output).read()
                    scores[row].setdefault(label, []).append((psnr(sim.truth, fused), sam(sim.truth, fused)))
                    print(f"{snr} {label} {row[:40]}: {scores[row][label][-1][0]:.3f} / {scores[row][label][-1][1]:.3f}",
                          file=sys.stderr, flush=True)
        sets = list(scores[rows[0]])
        print(f"\nLR-HSI {'clean' if snr is None else f'{snr:g} dB'}; `fuse` chose: {'; '.join(sorted(chosen))} (0-based)\n")
        print("| run | score | " + " | ".join(sets) + " |")
        print("|---|---:|" + "---:|" * len(sets))
        for row in rows:
            means = [np.mean(scores[row][s], axis=0) for s in sets]
            total = np.mean(means, axis=0)
            print(f"| {row} | {total[0]:.3f} / {total[1]:.3f} | " + " | ".join(f"{m[0]:.3f} / {m[1]:.3f}" for m in means) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
