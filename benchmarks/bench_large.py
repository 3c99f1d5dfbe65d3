"""Peak memory and speed of ``fuse`` on a large pair (default: a 2048 x 2048 x 200 output), as a markdown table.

The pair is built from Indian Pines: the evaluation protocol's inputs of the 144 x 144 tile
(OLI 4-band MSI, box PSF, ratio 4) are mirrored to the size asked for (the LR-HSI 36 x 36 tile and
the HR-MSI 144 x 144 tile alike, so that the two stay consistent: mirroring at multiples of the
ratio commutes with the box PSF), and written, strip by strip, as two georeferenced ENVI files in
a temporary folder. Each method then runs ``s3rnet.fuse.fuse_pair`` in its own process, and the
table gives its wall time, seconds per output megapixel, time relative to bicubic (measured in
the same run), and the process's peak resident memory (``wait4``'s ``ru_maxrss``) against the size
of the output it wrote. The goal is a peak under 2 GB whatever the size. The last column says where
the peak is reached: the resident memory sampled every 0.2 s, its largest value after each progress
message (the work announced last: ``tile`` covers the tiles after the first, ``window`` the windows
after the first; the first tile runs under ``fusing with ...``, a checkpoint's partner's first
window under ``blending with ...``).

Usage::

    python benchmarks/bench_large.py --threads 2 --size 2048
    python benchmarks/bench_large.py --size 1024 --checkpoint runs/lite-oli4/best.safetensors
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import THREAD_VARIABLES

CHILD = """
import json, re, sys, threading, time
from s3rnet.fuse import fuse_pair
args = json.loads(sys.argv[1])
phase, peaks = ["reading the pair"], {}

def resident_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024

def sample():
    while True:
        peaks[phase[0]] = max(peaks.get(phase[0], 0.0), resident_mib())
        time.sleep(0.2)

def progress(fraction, message):
    phase[0] = re.sub(r" [0-9]+/[0-9]+$", "", message)  # "window 3/9" -> "window": what was announced last

threading.Thread(target=sample, daemon=True).start()
start = time.perf_counter()
result = fuse_pair(args["lr"], args["hr"], args["out"], method=args["method"], checkpoint=args["checkpoint"],
                   msi_response="oli4", tile=args["tile"], window=args["window"], progress=progress)
print(json.dumps({"seconds": time.perf_counter() - start, "method": result.report["method"]["name"],
                  "tiles": result.report["tiling"]["tiles"], "phases": peaks,
                  "spatial_psnr": result.report["quality"]["consistency"]["spatial"]["psnr"]}))
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS and torch threads (default 2)")
    parser.add_argument("--size", type=int, default=2048, help="output side in HR pixels, a multiple of 4 (default 2048)")
    parser.add_argument("--tile", type=int, default=256, help="fuse's tile side (default 256)")
    parser.add_argument("--window", type=int, default=512,
                        help="fuse's window for methods that are not tiled and for a checkpoint's partner (default 512)")
    parser.add_argument("--methods", default="bicubic,gsa,mtf-glp-hpm", help="classical methods (comma-separated)")
    parser.add_argument("--checkpoint", help="also a network checkpoint (published name or path)")
    parser.add_argument("--format", default="hdr", choices=("hdr", "tif"), help="output format (default ENVI)")
    parser.add_argument("--workdir", help="where the pair and outputs go (default: a temporary folder, removed)")
    args = parser.parse_args(argv)
    if args.size < 144 or args.size % 4:
        parser.error("--size must be a multiple of 4, at least 144")
    return args


def mirrored_index(length: int, period: int):
    """Indices ``0..length-1`` folded onto ``0..period-1`` by mirror tiling (0 1 .. p-1 p-1 .. 1 0 0 1 ..)."""
    import numpy as np

    index = np.arange(length) % (2 * period)
    return np.where(index < period, index, 2 * period - 1 - index)


def build_pair(folder: Path, size: int) -> tuple[Path, Path]:
    """The mirrored Indian Pines pair as two georeferenced ENVI files (written in strips)."""
    from rasterio.transform import Affine
    from rasterio.crs import CRS

    from s3rnet.data import load_scene
    from s3rnet.degrade import simulate
    from s3rnet.geo import RasterWriter

    scene = load_scene("indian_pines")
    sim = simulate(scene.cube[:144, :144], scene.wavelengths, scene.fwhm, msi="oli4")
    crs = CRS.from_epsg(32616)
    paths = []
    for name, image, pixel, wavelengths, fwhm in (
        ("lrhsi.hdr", sim.lrhsi, 20.0, scene.wavelengths, scene.fwhm), ("hrmsi.hdr", sim.hrmsi, 5.0, None, None),
    ):
        side = size * image.shape[0] // 144
        rows, cols = mirrored_index(side, image.shape[0]), mirrored_index(side, image.shape[1])
        writer = RasterWriter(folder / name, side, side, image.shape[2], transform=Affine(pixel, 0, 600000.0, 0, -pixel, 4500000.0),
                              crs=crs, wavelengths=wavelengths, fwhm=fwhm, units=scene.units)
        for start in range(0, side, 64):
            writer.write(start, 0, image[rows[start : start + 64]][:, cols])
        paths.append(writer.close())
    return paths[0], paths[1]


def run_method(lr: Path, hr: Path, out: Path, method: str | None, checkpoint: str | None, tile: int,
               threads: int, window: int) -> dict:
    """One fusion in a child process; its report line, wall time and peak resident memory, and the
    peak sampled (every 0.2 s) in each phase its progress messages announce."""
    env = dict(os.environ, **{name: str(threads) for name in THREAD_VARIABLES})
    payload = json.dumps({"lr": str(lr), "hr": str(hr), "out": str(out), "method": method, "checkpoint": checkpoint,
                          "tile": tile, "window": window})
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", CHILD, payload], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    stdout, stderr = child.stdout.read(), child.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{method or checkpoint} failed:\n{stderr}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result.update(wall=wall, peak_rss_mib=usage.ru_maxrss / 1024.0)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name in THREAD_VARIABLES:
        os.environ[name] = str(args.threads)
    folder = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="s3rnet-bench-large-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        lr, hr = build_pair(folder, args.size)
        print(f"pair: {lr.name} {args.size // 4}x{args.size // 4}x200 ({lr.with_suffix('.img').stat().st_size / 2**20:.0f} MiB), "
              f"{hr.name} {args.size}x{args.size}x4 ({hr.with_suffix('.img').stat().st_size / 2**20:.0f} MiB); "
              f"built in {time.perf_counter() - start:.0f} s", flush=True)
        runs = [(m.strip(), None) for m in args.methods.split(",") if m.strip()]
        if args.checkpoint:
            runs.append((None, args.checkpoint))
        megapixels = args.size * args.size / 1e6
        output_mib = args.size * args.size * 200 * 4 / 2**20
        rows = []
        for method, checkpoint in runs:
            out = folder / f"fused-{method or 'checkpoint'}.{args.format}"
            result = run_method(lr, hr, out, method, checkpoint, args.tile, args.threads, args.window)
            rows.append(result)
            print(f"  {result['method']}: {result['wall']:.1f} s, peak {result['peak_rss_mib']:.0f} MiB", flush=True)
            for stale in folder.glob("fused-*"):
                stale.unlink()
        reference = next((r["wall"] for r in rows if r["method"] == "bicubic"), rows[0]["wall"])
        print()
        print(f"Output {args.size} x {args.size} x 200 float32 ({output_mib:.0f} MiB, {megapixels:.2f} Mpx), tile {args.tile}, "
              f"window {args.window}, {args.threads} threads, output .{args.format}")
        print()
        print("| method | tiles | wall (s) | s / Mpx | time vs bicubic | peak RSS (MiB) | peak / output size | "
              "sampled peak after each announcement (MiB) |")
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            phases = ", ".join(f"{name} {peak:.0f}" for name, peak in r["phases"].items())
            print(f"| {r['method']} | {r['tiles']} | {r['wall']:.1f} | {r['wall'] / megapixels:.1f} | "
                  f"{r['wall'] / reference:.2f} | {r['peak_rss_mib']:.0f} | {r['peak_rss_mib'] / output_mib:.3f} | {phases} |")
    finally:
        if not args.workdir:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
