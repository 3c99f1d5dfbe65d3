"""Command line: ``python -m s3rnet {info,evaluate,scenes,train,report,publish,ensemble,project,fuse,...} ...``."""

from __future__ import annotations

import argparse
import json
import sys

from .errors import ConfigError, S3RNetError


def _snr(text: str) -> float:
    if text.lower() in ("inf", "none", "off"):
        return float("inf")
    return float(text)


def _shift(text: str) -> tuple[float, float]:
    parts = [float(p) for p in text.split(",")]
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2:
        raise argparse.ArgumentTypeError("shift is 'ROWS,COLS' or one number for both")
    return parts[0], parts[1]


def _ratio_list(text: str) -> list[int]:
    try:
        ratios = [int(p) for p in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"ratios are whole numbers, comma-separated (e.g. 2,3,6), got {text!r}") from None
    if any(r < 2 for r in ratios):
        raise argparse.ArgumentTypeError(f"each ratio must be at least 2, got {text!r}")
    return list(dict.fromkeys(ratios))


def build_parser() -> argparse.ArgumentParser:
    from .baselines import METHODS
    from .checkpoints import ENSEMBLE_SHARES
    from .degrade import MSI_RESPONSES, PSFS
    from .evaluation import ALL_METHODS, DEFAULT_METHODS
    from .models import list_presets

    parser = argparse.ArgumentParser(prog="python -m s3rnet", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="parameters and multiply-accumulates of a model preset")
    info.add_argument("--preset", default="paper", choices=list_presets())
    info.add_argument("--bands", type=int, default=172, help="hyperspectral bands C")
    info.add_argument("--msi-bands", type=int, default=4, help="multispectral bands M")
    info.add_argument("--size", type=int, default=256, help="output height and width")
    info.add_argument("--ratio", type=int, default=4)
    info.add_argument("--json", action="store_true", help="print JSON (keys params, macs)")

    evaluate = commands.add_parser("evaluate", help="simulate the inputs from a scene and score fusion methods")
    evaluate.add_argument("--scene", default="indian_pines", help="built-in name or path (.hdr, .mat, .npy, .npz)")
    evaluate.add_argument("--split", default="test", help="region of the scene's declared split, or 'whole'; the whole scene when none is declared")
    evaluate.add_argument("--msi", default="oli4", choices=MSI_RESPONSES)
    evaluate.add_argument("--psf", default="box", choices=PSFS)
    evaluate.add_argument("--ratio", type=int, default=4)
    evaluate.add_argument("--snr-db", type=_snr, default=float("inf"), help="AWGN on the LR-HSI (dB; inf: none)")
    evaluate.add_argument("--msi-snr-db", type=_snr, default=float("inf"), help="AWGN on the HR-MSI (dB; inf: none)")
    evaluate.add_argument("--snr-reference", choices=("scene", "authors"), default="scene",
                          help="how SNRs are measured: on the images in scene units (default), or as the authors' code does, on the tile mapped to [-1, 1] by the ground truth's min and max")
    evaluate.add_argument("--shift", type=_shift, default=(0.0, 0.0), help="misregistration of the LR-HSI in LR pixels: ROWS,COLS")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--methods", default=",".join(DEFAULT_METHODS), help=f"comma-separated, from: {', '.join(METHODS)}, s3rnet; or '{ALL_METHODS}' (every baseline, and s3rnet with --checkpoint)")
    evaluate.add_argument("--checkpoint", help="S3RNet weights for method 's3rnet': a published name or a .safetensors path")
    evaluate.add_argument("--adapt", type=int, default=0, metavar="N", help="test-time adaptation steps of s3rnet on the scene's own inputs (Wald's protocol)")
    evaluate.add_argument("--network-alone", action="store_true",
                          help="run the checkpoint's network without the classical partner its sidecar blends in (python -m s3rnet "
                               "ensemble) and without its projection (python -m s3rnet project)")
    evaluate.add_argument("--project", action="store_true", help="project s3rnet's output onto its inputs, as far as their estimated noise allows, also when its "
                               "checkpoint does not (python -m s3rnet project)")
    evaluate.add_argument("--spectral-shift", action="store_true", help="multiply the scene by a reflectance-like spectral gain first (a test of unseen spectra)")
    evaluate.add_argument("--json", metavar="FILE", help="also write the results as JSON")

    report = commands.add_parser("report", help="per scene: tables, targets, SSAWB weights, robustness curve, ablation -> docs/results.md")
    report.add_argument("--out", default="docs", help="output directory (default: docs)")
    report.add_argument("--scene", default="indian_pines", help="the reference scene (the synthetic test set and the scenes in $S3RNET_DATA follow)")
    report.add_argument("--split", default="test")
    report.add_argument("--synthetic-seeds", type=int, metavar="N", help="score the first N seeds of the synthetic test set (default: all; 0: none)")
    report.add_argument("--robustness-seeds", type=int, default=2, metavar="N", help="synthetic seeds on each synthetic robustness curve (default: 2)")
    report.add_argument("--checkpoint-oli4", default="lite-oli4", help="S3RNet for the 4-band MSI ('none' to leave it out)")
    report.add_argument("--checkpoint-oli6", default="lite-oli6", help="S3RNet for the 6-band MSI ('none' to leave it out)")
    report.add_argument("--adapt", type=int, default=0, metavar="N", help="also report s3rnet with N adaptation steps")
    report.add_argument("--methods", default=",".join(DEFAULT_METHODS), help="baselines")
    report.add_argument("--ablation", nargs="+", action="extend", default=[], metavar="LABEL=CHECKPOINT",
                        help="ablation runs to score (several after one flag, or the flag repeated)")
    report.add_argument("--carry-ablation", metavar="RESULTS_JSON",
                        help="keep the ablation rows of an earlier report's results.json (runs whose checkpoints are "
                             "not on this machine), marked as carried over; --ablation labels are scored anew")

    publish = commands.add_parser("publish", help="score a trained checkpoint and copy it to assets/weights with its scores")
    publish.add_argument("--checkpoint", required=True, help="e.g. runs/lite-oli4/best.safetensors")
    publish.add_argument("--name", required=True, help="published name, e.g. lite-oli4")
    publish.add_argument("--adapt", type=int, default=0, metavar="N", help="also score with N adaptation steps")
    publish.add_argument("--machine", default="2 CPU cores", help="where it was trained (for the record)")

    ensemble = commands.add_parser(
        "ensemble", help="choose on validation data how much of a classical method to blend into a checkpoint's output, "
                         "and write the checkpoint with that choice")
    ensemble.add_argument("--checkpoint", required=True, help="e.g. runs/lite-oli4/best.safetensors")
    ensemble.add_argument("--config", required=True, help="training config whose validation problems are used")
    ensemble.add_argument("--method", default="pca-wiener-cnmf", choices=tuple(METHODS), help="the classical partner")
    ensemble.add_argument("--share", default="fixed", choices=ENSEMBLE_SHARES,
                          help="fixed: the chosen weight on every scene; consistency: the chosen weight as a floor, raised "
                               "on each scene as far as the inputs show the partner explains them better; "
                               "band-consistency: the same in each band; scene-band-consistency: each band's share "
                               "raised from the scene's")
    ensemble.add_argument("--out", required=True, help="checkpoint to write: OUT.safetensors + OUT.json (then publish it)")

    project = commands.add_parser(
        "project", help="choose on validation data how far to project a checkpoint's output onto its inputs "
                        "(weighing their estimated noise), and write the checkpoint with that choice")
    project.add_argument("--checkpoint", required=True, help="e.g. runs/lite-oli4/ensemble.safetensors")
    project.add_argument("--config", required=True, help="training config whose validation problems are used")
    project.add_argument("--out", required=True, help="checkpoint to write: OUT.safetensors + OUT.json (then publish it)")

    ratios = commands.add_parser(
        "ratios", help="validate a checkpoint at other spatial ratios than it was trained for (against every classical "
                       "method, on validation data), and write the checkpoint with the ratios it may fuse at")
    ratios.add_argument("--checkpoint", required=True, help="a published name or a .safetensors path")
    ratios.add_argument("--config", required=True, help="training config whose validation problems are used")
    ratios.add_argument("--ratios", required=True, type=_ratio_list, help="comma-separated, e.g. 2,3,6")
    ratios.add_argument("--out", required=True, help="checkpoint to write: OUT.safetensors + OUT.json (then publish it)")

    commands.add_parser("scenes", help="list the scenes load_scene knows by name")

    authors = commands.add_parser("import-authors", help="convert the authors' FNN_Teacher weights (.pth state dict, read without unpickling code) to a checkpoint")
    authors.add_argument("file", help="a torch.save state dict of their FNN_Teacher (adaptive_fuse=3)")
    authors.add_argument("--out", required=True, help="checkpoint to write: OUT.safetensors + OUT.json")
    authors.add_argument("--attention", choices=("authors", "paper"), default="authors",
                         help="'authors' reproduces their code's attention product; 'paper' applies eq. 3 as written")
    authors.add_argument("--bands", type=int, help="check: hyperspectral bands C the weights must have")
    authors.add_argument("--msi-bands", type=int, help="check: multispectral bands M the weights must have")
    authors.add_argument("--ratio", type=int, default=4, help="spatial ratio (not recorded in the tensors)")
    authors.add_argument("--heads", type=int, default=4, help="SSAWB heads (fixed at 4 in their code)")

    train = commands.add_parser("train", help="train S3RNet on problems simulated from the config's sources (train regions, synthetic scenes, a folder of scenes)")
    train.add_argument("--config", required=True, help="training config (JSON), e.g. configs/lite-oli4.json")
    train.add_argument("--out", help="output directory (default: the config's out_dir)")
    train.add_argument("--resume", action="store_true", help="continue the run saved in the output directory")
    train.add_argument("--steps", type=int, help="override the config's steps (the cosine schedule follows)")
    train.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")

    fuse = commands.add_parser("fuse", help="fuse your own LR-HSI and HR-MSI files (GeoTIFF or ENVI) into a georeferenced file")
    fuse.add_argument("--lrhsi", required=True, help="low-resolution hyperspectral image (.tif or .hdr)")
    fuse.add_argument("--hrmsi", required=True, help="high-resolution multispectral (or panchromatic) image (.tif or .hdr)")
    fuse.add_argument("--out", required=True, help="output: .hdr (ENVI) or .tif (GeoTIFF), float32")
    fuse.add_argument("--method", help=f"classical method ({', '.join(METHODS)}); default: a published checkpoint that fits, else mtf-glp-hpm")
    fuse.add_argument("--checkpoint", help="S3RNet weights: a published name or a .safetensors path")
    fuse.add_argument("--msi-response", default="estimate", help=f"'estimate' (from the pair), a sensor ({', '.join(MSI_RESPONSES)}) or a CSV table")
    fuse.add_argument("--ratio", type=int, help="spatial ratio, when the files are not georeferenced and their sizes do not give it")
    fuse.add_argument("--register", default="auto", choices=("auto", "off"), help="correct a measured shift above 0.1 LR pixel (auto) or only report it")
    fuse.add_argument("--tile", type=int, default=256, help="tile side in HR pixels (memory grows with it, not with the scene)")
    fuse.add_argument("--psf", default="box", choices=PSFS, help="PSF assumed between the two images")
    fuse.add_argument("--report", help="write the report (every choice, estimate and quality figure) as JSON")
    fuse.add_argument("--device", choices=("cpu", "cuda"), help="for a checkpoint; default: cuda when available")
    fuse.add_argument("--window", type=int, default=512,
                      help="CNMF and its kin (and a checkpoint's ensemble partner) unmix the whole pair up to this side "
                           "squared HR pixels, larger pairs in overlapping windows of this side (memory grows with it)")
    fuse.add_argument("--network-alone", action="store_true",
                      help="a checkpoint's network without the classical partner its sidecar blends in")
    fuse.add_argument("--project", action="store_true",
                      help="project a checkpoint's output onto both inputs through the fitted response and the assumed "
                           "--psf (gains where the PSF is the assumed one, loses where it is not; README)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        commands = {"info": _info, "evaluate": _evaluate, "scenes": _scenes, "train": _train, "report": _report,
                    "publish": _publish, "ensemble": _ensemble, "project": _project, "ratios": _ratios,
                    "import-authors": _import_authors, "fuse": _fuse}
        return commands[args.command](args)
    except S3RNetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _info(args: argparse.Namespace) -> int:
    from .models import model_info

    info = model_info(args.preset, args.bands, args.msi_bands, args.size, ratio=args.ratio)
    if args.json:
        print(json.dumps(info))
    else:
        print(
            f"preset {info['preset']}: C={info['bands']}, M={info['msi_bands']}, {info['size']}x{info['size']} output\n"
            f"  parameters:             {info['params']:,} ({info['params'] / 1e6:.2f} M)\n"
            f"  multiply-accumulates:   {info['macs']:,} ({info['macs'] / 1e9:.2f} G)"
        )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .evaluation import method_names, run_evaluation

    methods = method_names(args.methods, args.checkpoint)
    result = run_evaluation(
        args.scene, split=args.split, methods=methods, msi=args.msi, psf=args.psf, ratio=args.ratio,
        snr_db=args.snr_db, hrmsi_snr_db=args.msi_snr_db, shift=args.shift, seed=args.seed,
        snr_reference=args.snr_reference, checkpoint=args.checkpoint, adapt_steps=args.adapt, project=args.project,
        spectral_shift=args.spectral_shift, ensemble=not args.network_alone,
    )
    protocol = result.protocol
    region = protocol["region"]
    print(
        f"scene {protocol['scene']} ({protocol['units']}), region rows {region['rows'][0]}:{region['rows'][1]} "
        f"cols {region['cols'][0]}:{region['cols'][1]}; MSI {protocol['msi']}, PSF {protocol['psf']}, "
        f"ratio {protocol['ratio']}, LR-HSI SNR {protocol['lrhsi_snr_db']} dB ({protocol['snr_reference']} "
        f"convention), seed {protocol['seed']}"
    )
    filled = protocol.get("filled_bands")
    if filled:
        print(f"bands filled for the network and left out of every score: {', '.join(f'{w:.0f}' for w in filled['wavelengths_nm'])} nm")
    for name, reason in (protocol.get("skipped") or {}).items():
        print(f"{name}: {reason}")
    ensemble = protocol.get("ensemble")
    if ensemble and ensemble["applied"]:
        print(f"s3rnet: the network's output blended with {_blend_in_words(ensemble)} "
              f"(its checkpoint's ensemble; --network-alone for the network alone)")
    elif ensemble:
        print(f"s3rnet: not blended with its checkpoint's partner: {ensemble['why']}", file=sys.stderr)
    projection = protocol.get("projection")
    if projection:
        print(f"s3rnet: projected onto its inputs with noise factor {projection['factor']:g} (LR-HSI noise power "
              f"estimated at {projection['noise_power']:.3g})")
    print(result.table())
    if args.json:
        result.write_json(args.json)
    return 0


def _report(args: argparse.Namespace) -> int:
    from .report import ReportSettings, build_report, carried_ablation, report_scenes, write_report

    checkpoints = {
        msi: name for msi, name in (("oli4", args.checkpoint_oli4), ("oli6", args.checkpoint_oli6))
        if name and name.lower() != "none"
    }
    ablation = {}
    for item in args.ablation:
        label, sep, checkpoint = item.partition("=")
        if not sep:
            raise ConfigError(f"--ablation takes LABEL=CHECKPOINT, got {item!r}")
        ablation[label] = checkpoint
    settings = ReportSettings(
        scene=args.scene, split=args.split, checkpoints=checkpoints, adapt_steps=args.adapt,
        baselines=[m.strip() for m in args.methods.split(",") if m.strip()], ablation=ablation,
        carried_ablation=carried_ablation(args.carry_ablation) if args.carry_ablation else {},
        scenes=report_scenes(args.scene, args.split, args.synthetic_seeds), robustness_scenes=args.robustness_seeds,
    )
    path = write_report(build_report(settings), args.out)
    print(f"wrote {path} (and results.json, robustness*.csv/.plotly.json/.svg)")
    return 0


def _blend_in_words(ensemble: dict) -> str:
    """The partner and its share, as :func:`s3rnet.inference.blend_with_partner` recorded them."""
    method = ensemble["method"]
    if "windows" in ensemble:
        shares = ensemble["window_weights"]
        return (f"{method} in {ensemble['windows']} overlapping windows of {ensemble['window_hr_px']} HR px, at the share "
                f"each window's inputs give: {min(shares):.3g}-{max(shares):.3g} (mean {ensemble['weight']:.3g})")
    if ensemble.get("weights"):
        above = (f"the scene's {ensemble['scene_weight']:.3g} (floor {ensemble['floor']:g})" if "scene_weight" in ensemble
                 else f"{ensemble['floor']:g}")
        return (f"{method} band by band at weights {min(ensemble['weights']):.3g}-{max(ensemble['weights']):.3g} "
                f"(mean {ensemble['weight']:.3g}; above {above} in the bands of the LR-HSI that {method} "
                f"reproduces better)")
    raised = (f", raised from {ensemble['floor']:g} on this scene, whose inputs {method} reproduces better "
              f"(reliability {ensemble['reliability']:.2f})" if ensemble["weight"] > ensemble.get("floor", 1.0) else "")
    return f"{method} at weight {ensemble['weight']:.3g}{raised}"


def _ensemble(args: argparse.Namespace) -> int:
    from .checkpoints import load_checkpoint
    from .data.synthetic_split import load_synthetic_split
    from .training import (
        choose_ensemble, ensemble_scores, ensemble_table, load_config, training_grid, validation_problems,
        write_ensemble_checkpoint,
    )

    config = load_config(args.config)
    model, metadata = load_checkpoint(args.checkpoint)
    problems, _ = validation_problems(config, training_grid(config))
    scores = ensemble_scores(model, problems, metadata["normalisation"], args.method, metadata.get("estimate"),
                             share=args.share)
    chosen = choose_ensemble(scores)
    snrs = ", ".join("clean" if s == float("inf") else f"{s:g} dB" for s in config.val_snrs)
    chosen_on = (f"validation problems of {args.config} ({', '.join(dict.fromkeys(p.set for p in problems))}; "
                 f"synthetic split version {load_synthetic_split().version}; LR-HSI {snrs}; seed {config.val_seed})")
    shared = {"fixed": "", "consistency": " (the weight a floor, raised on each scene by consistency with its inputs)",
              "band-consistency": " (the weight a floor, raised in each band of each scene by consistency with its inputs)",
              "scene-band-consistency": " (the weight a floor, raised on each scene, then in each of its bands, by "
                                        "consistency with its inputs)",
              }[args.share]
    print(f"{args.checkpoint} blended with {args.method}{shared}, scored on the {chosen_on}; PSNR dB / SAM deg.\n")
    print("\n".join(ensemble_table(scores, chosen)))
    path = write_ensemble_checkpoint(args.checkpoint, args.out, {
        "method": args.method, "weight": chosen, **({} if args.share == "fixed" else {"share": args.share}),
        "chosen_on": chosen_on,
        "scores": {f"{w:g}": {"psnr": round(v["psnr"], 4), "sam": round(v["sam"], 4)} for w, v in scores.items()},
    })
    print(f"\nwrote {path} (weight {chosen:g})")
    return 0


def _project(args: argparse.Namespace) -> int:
    from .data.synthetic_split import load_synthetic_split
    from .inference import CheckpointMethod
    from .training import (
        choose_projection, load_config, projection_scores, projection_table, training_grid, validation_problems,
        write_projection_checkpoint,
    )

    config = load_config(args.config)
    method = CheckpointMethod(args.checkpoint, device="cpu")
    problems, _ = validation_problems(config, training_grid(config))
    scores = projection_scores(method, problems)
    chosen = choose_projection(scores)
    snrs = ", ".join("clean" if s == float("inf") else f"{s:g} dB" for s in config.val_snrs)
    chosen_on = (f"validation problems of {args.config} ({', '.join(dict.fromkeys(p.set for p in problems))}; "
                 f"synthetic split version {load_synthetic_split().version}; LR-HSI {snrs}; seed {config.val_seed})")
    as_published = "blended with its partner" if method.ensemble else "the network alone"
    print(f"{args.checkpoint} ({as_published}) projected onto its inputs, scored on the {chosen_on}; PSNR dB / SAM deg.\n")
    print("\n".join(projection_table(scores, chosen)))
    if chosen is None:
        print("\nno projection scores higher than none: nothing written")
        return 0
    path = write_projection_checkpoint(args.checkpoint, args.out, {
        "factor": chosen, "chosen_on": chosen_on,
        "scores": {("none" if k is None else f"{k:g}"): {"psnr": round(v["psnr"], 4), "sam": round(v["sam"], 4)}
                   for k, v in scores.items()},
    })
    print(f"\nwrote {path} (factor {chosen:g})")
    return 0


def _ratios(args: argparse.Namespace) -> int:
    from .checkpoints import read_pair
    from .data.synthetic_split import load_synthetic_split
    from .inference import resolve_checkpoint
    from .training import load_config, ratio_scores, ratios_record, ratios_table, write_ratios_checkpoint
    from .training.ratios import check_same_problems

    config = load_config(args.config)
    snrs = ", ".join("clean" if s == float("inf") else f"{s:g} dB" for s in config.val_snrs)
    chosen_on = (f"validation problems of {args.config} degraded at each ratio (synthetic split version "
                 f"{load_synthetic_split().version}; LR-HSI {snrs}; seed {config.val_seed})")
    earlier = read_pair(resolve_checkpoint(args.checkpoint))[1].get("ratios")
    if earlier:
        check_same_problems(earlier, chosen_on)
    scores = ratio_scores(args.checkpoint, config, args.ratios)
    print(f"{args.checkpoint} as published, and every classical method, on the {chosen_on}; PSNR dB / SAM deg.\n")
    print("\n".join(ratios_table(scores)))
    record = ratios_record(scores, chosen_on, earlier)
    path = write_ratios_checkpoint(args.checkpoint, args.out, record)
    validated = ", ".join(map(str, record["validated"])) or "none"
    others = sorted(set(map(int, record["scores"])) - set(args.ratios))
    kept = f"; kept from before: ratio {', '.join(map(str, others))}" if others else ""
    print(f"\nwrote {path} (validated at ratio {validated}{kept})")
    return 0


def _publish(args: argparse.Namespace) -> int:
    from .checkpoints import publish_checkpoint, read_pair, weights_path
    from .evaluation import run_evaluation
    from .inference import WEIGHTS_DIR

    source = weights_path(args.checkpoint)
    _, sidecar = read_pair(source)
    msi = sidecar["msi"]["name"]
    state = source.parent / "state.json"
    seconds = json.loads(state.read_text())["seconds"] if state.is_file() else None
    cases = {
        "test": {}, "test_snr35": {"snr_db": 35.0}, "test_snr15": {"snr_db": 15.0},
        "test_spectral_shift": {"spectral_shift": True},
    }
    # GSA for scale, the classical estimate the network corrects and its ensemble partner, when it
    # has them; with a partner or a projection, the network alone is scored too.
    partner = (sidecar.get("ensemble") or {}).get("method")
    extras = bool(partner or sidecar.get("projection"))
    methods = list(dict.fromkeys(["gsa", sidecar.get("estimate") or "gsa", *([partner] if partner else []), "s3rnet"]))
    if args.adapt:
        cases["test_spectral_shift_adapt"] = {"spectral_shift": True, "adapt_steps": args.adapt}
    scores, commands = {}, {}
    for case, options in cases.items():
        result = run_evaluation("indian_pines", split="test", methods=methods, msi=msi, checkpoint=str(source), **options)
        rows = dict(result.methods)
        if extras:
            alone = run_evaluation("indian_pines", split="test", methods=["s3rnet"], msi=msi, checkpoint=str(source),
                                   ensemble=False, **options)
            rows["s3rnet-network"] = alone.methods["s3rnet"]
        scores[case] = {name: {k: round(v, 4) for k, v in entry.items() if k in ("psnr", "sam", "ergas", "seconds")}
                        for name, entry in rows.items()}
        flags = " ".join(
            f"--snr-db {v:g}" if k == "snr_db" else "--spectral-shift" if k == "spectral_shift" else f"--adapt {v}"
            for k, v in options.items()
        )
        commands[case] = (f"python -m s3rnet evaluate --scene indian_pines --split test --msi {msi} "
                          f"--methods {','.join(methods)} --checkpoint {args.name} {flags}").strip()
    published = {
        "name": args.name,
        "trained_from": str(source),
        "training_seconds": seconds,
        "training_machine": args.machine,
        "scores": scores,
        "commands": commands,
    }
    target = publish_checkpoint(source, WEIGHTS_DIR / args.name, published)
    print(json.dumps(scores, indent=2))
    print(f"published {target}")
    return 0


def _import_authors(args: argparse.Namespace) -> int:
    from .authors import import_authors
    from .checkpoints import load_checkpoint

    target = import_authors(
        args.file, args.out, attention=args.attention, bands=args.bands, msi_bands=args.msi_bands,
        ratio=args.ratio, heads=args.heads,
    )
    model, metadata = load_checkpoint(target)
    config = metadata["model_config"]
    print(
        f"wrote {target} and {target.with_suffix('.json').name}: C={config['bands']}, M={config['msi_bands']}, "
        f"nf={config['nf']}, gc={config['gc']}, groups Q/K/V/Z={config['groups_q']}/{config['groups_k']}/"
        f"{config['groups_v']}/{config['groups_z']}, fusion {config['fusion']}, attention {config['attention']}, "
        f"{sum(p.numel() for p in model.parameters()):,} parameters"
    )
    return 0


def _scenes(args: argparse.Namespace) -> int:
    from .data import list_scenes

    for name in list_scenes():
        print(name)
    return 0


def _train(args: argparse.Namespace) -> int:
    from .training import load_config, train

    config = load_config(args.config)
    if args.steps is not None:
        config = config.replace(steps=args.steps)
    result = train(config, args.out, resume=args.resume, progress=True, device=args.device)
    done = result.step - result.first_step
    pace = f"{done} this run, {result.seconds_per_step:.3f} s per step" if done else "nothing left to do"
    print(f"{result.out_dir}: {result.step}/{config.steps} steps ({pace})")
    if result.best is not None:
        print(
            f"best validation ({config.val_region}, step {result.best['step']}): "
            f"PSNR {result.best['psnr']:.2f} dB, SAM {result.best['sam']:.3f} deg -> {result.best_checkpoint}"
        )
    return 0


def _fuse(args: argparse.Namespace) -> int:
    from .fuse import fuse_pair

    result = fuse_pair(
        args.lrhsi, args.hrmsi, args.out, method=args.method, checkpoint=args.checkpoint,
        msi_response=args.msi_response, ratio=args.ratio, register=args.register, tile=args.tile, psf=args.psf,
        report=args.report, progress_bar=True, device=args.device, ensemble=not args.network_alone, window=args.window,
        project=args.project,
    )
    report = result.report
    registration, quality = report["registration"], report["quality"]
    for step in report["geometry"]["steps"]:
        print(step)
    print(f"MSI response: {report['response']['source']}; explained variance per band: "
          + ", ".join(f"{v:.3f}" for v in report["response"]["explained_variance"]))
    print(f"shift {registration['shift_lr_px'][0]:+.3f}, {registration['shift_lr_px'][1]:+.3f} LR px "
          f"({'corrected' if registration['corrected'] else 'not corrected'})")
    print(f"LR-HSI noise: SNR about {report['lrhsi_noise']['snr_db']:.1f} dB (HySime, from the image: an upper bound on "
          "the noise)")
    print("HR-MSI noise, SNR per band estimated from the image: "
          + ", ".join("none measurable" if v is None else f"{v:.1f} dB" for v in report["hrmsi_noise"]["band_snr_db"]))
    print(f"method: {report['method']['name']} ({report['method']['reason']})")
    ensemble = report["method"].get("ensemble")
    if ensemble and ensemble["applied"]:
        print(f"blended with {_blend_in_words(ensemble)} (the checkpoint's ensemble; --network-alone for the network alone)")
    projection = report["method"].get("projection")
    if projection and projection["applied"]:
        print(f"projected onto both inputs (noise factor {projection['factor']:g}), as asked")
    spatial, spectral = quality["consistency"]["spatial"], quality["consistency"]["spectral"]
    print(f"consistency: with the LR-HSI {spatial['psnr']:.2f} dB / {spatial['sam']:.3f} deg, "
          f"with the HR-MSI {spectral['psnr']:.2f} dB / {spectral['sam']:.3f} deg")
    scores = quality["no_reference"]
    if "qnr" in scores:
        print(f"no reference: D_lambda {scores['d_lambda']:.4f}, D_s {scores['d_s']:.4f}, QNR {scores['qnr']:.4f}, "
              f"HQNR {scores['hqnr']:.4f}")
    for warning in report["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {result.output}" + (f" and {args.report}" if args.report else ""))
    return 0
