"""What a checkpoint's ensemble partner and projection cost: the network alone against the checkpoint
as published (blended with its partner, then projected onto its inputs when its sidecar says so),
on synthetic scenes of growing size, as a markdown table.

Each scene is ``synthetic:SEED`` at ``size`` x ``size`` HR pixels on the checkpoint's band grid,
simulated with its MSI (box PSF, ratio 4, no noise). Timed in the same run: the checkpoint's
network alone (``CheckpointMethod(..., ensemble=False)``, the unit of the ratio column), its
partner alone, the projection alone (:func:`s3rnet.consistency.project_onto_inputs` of the network's
cube, with the checkpoint's factor) and the published method. PSNR (dB, per-band peak) of the
network alone and as published are printed beside the times.

Usage::

    python benchmarks/bench_ensemble.py --threads 2 --checkpoint lite-oli4 --sizes 96 192 384 --repeats 2
"""

from __future__ import annotations

import statistics
import sys

from _harness import parse, timed, timing_parser, use_threads


def main(argv: list[str] | None = None) -> int:
    parser = timing_parser(__doc__, 2, "timed runs per method and size")
    parser.add_argument("--checkpoint", default="lite-oli4", help="a checkpoint with an ensemble partner")
    parser.add_argument("--sizes", type=int, nargs="+", default=[96, 192, 384], help="HR sides (multiples of 4)")
    parser.add_argument("--seed", type=int, default=3_000_001, help="synthetic scene seed (no split uses 3,000,001 on)")
    args = parse(parser, argv)
    if any(size < 16 or size % 4 for size in args.sizes):
        parser.error("--sizes must be multiples of 4, at least 16")
    use_threads(args.threads)
    from s3rnet.baselines import get_method
    from s3rnet.consistency import project_onto_inputs
    from s3rnet.data import load_scene
    from s3rnet.degrade import simulate
    from s3rnet.inference import CheckpointMethod
    from s3rnet.report import synthetic_grid_name
    from s3rnet.metrics import psnr

    blended = CheckpointMethod(args.checkpoint, device="cpu")
    if blended.ensemble is None:
        parser.error(f"{args.checkpoint} has no ensemble partner (python -m s3rnet ensemble)")
    alone = CheckpointMethod(args.checkpoint, device="cpu", ensemble=False)
    partner_name = blended.ensemble["method"]
    partner = get_method(partner_name)
    grid = synthetic_grid_name(blended.metadata)
    factor = blended.projection_factor
    projected = f"then projected with factor {factor:g}" if blended.projection else "not projected"
    print(f"{args.checkpoint}: network alone vs as published (blended with {partner_name} at weight "
          f"{blended.ensemble['weight']:g}, {projected}); synthetic:{args.seed} on grid {grid}, MSI "
          f"{blended.metadata['msi']['name']}, {args.threads} thread(s), median of {args.repeats} runs.\n")
    print(f"| HR size | network alone (s) | {partner_name} (s) | projection (s) | as published (s) | "
          "as published / network alone | PSNR network alone | PSNR as published |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        scene = load_scene(f"synthetic:{args.seed}", size=size, grid=grid)
        simulation = simulate(scene.cube, scene.wavelengths, scene.fwhm, msi=blended.metadata["msi"]["name"])
        inputs = simulation.inputs()
        network_seconds, network_cube = timed(lambda _: alone(inputs), args.repeats)
        partner_seconds, _ = timed(lambda _: partner(inputs), args.repeats)
        projection_seconds, _ = timed(lambda _: project_onto_inputs(network_cube, inputs, factor=factor), args.repeats)
        blended_seconds, blended_cube = timed(lambda _: blended(inputs), args.repeats)
        unit = statistics.median(network_seconds)
        print(f"| {size} x {size} | {unit:.2f} | {statistics.median(partner_seconds):.2f} | "
              f"{statistics.median(projection_seconds):.2f} | "
              f"{statistics.median(blended_seconds):.2f} | {statistics.median(blended_seconds) / unit:.2f} | "
              f"{psnr(simulation.truth, network_cube):.2f} | {psnr(simulation.truth, blended_cube):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
