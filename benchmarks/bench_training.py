"""Training throughput (samples per second, seconds per step) of the S3RNet presets, and the published runs' cost.

For each preset the script times full optimisation steps of :mod:`s3rnet.training` on batches
drawn by its own sampler (patch cut, spectral gain, degradation, normalisation, classical
estimate: the data side is included, as it is in a real run) and prints samples per second. The
reference, measured in the same run on the same device, is the forward and backward pass of one
3x3 convolution C -> C on the same batch, so each throughput is also given as a multiple of the
reference's time per sample, which carries over between machines better than seconds do.

Then, for every published checkpoint in ``assets/weights/``, it prints the recorded time it took
to train from scratch and on what machine (the ``published`` section of its sidecar).

Example
-------
    python benchmarks/bench_training.py --threads 2 --steps 10
    OMP_NUM_THREADS=1 python benchmarks/bench_training.py --threads 1   # what a busy 2-core machine gets
    OMP_NUM_THREADS=1 python benchmarks/bench_training.py --threads 1 --presets lite --config configs/generalise-oli4.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

from s3rnet.inference import WEIGHTS_DIR, list_checkpoints, resolve_device
from s3rnet.training import load_config, optimisation_step, prepare_data, sample_batch, seeded_model


def time_steps(step, device: torch.device, steps: int) -> float:
    """Median seconds of ``step()`` after one warm-up call."""
    step()
    times = []
    for _ in range(steps):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="configs/lite-oli4.json", help="data side of the steps (patch, batch, skip...)")
    parser.add_argument("--presets", default="tiny,lite", help="comma-separated; add 'paper' on a GPU")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--device", choices=("cpu", "cuda"))
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    base = load_config(args.config)
    data = prepare_data(base)
    rng = np.random.default_rng(0)
    bands = data.grid.bands
    sources = ", ".join(f"{s['source']} {s['share']:.0%}" for s in data.sampler.describe())
    print(f"device {device} ({args.threads} CPU threads), batch {base.batch_size} x {base.patch_size}^2 patches, "
          f"{bands} bands (grid {data.grid.name}), sources {sources}, skip {base.skip}, loss {base.loss}, "
          f"spectral gain {base.spectral_gain}")

    batch = sample_batch(data.sampler, data.srf, base, rng, data.grid.centres)
    conv = torch.nn.Conv2d(bands, bands, 3, padding=1, bias=False).to(device)
    truth = torch.from_numpy(batch[2]).to(device)

    def reference() -> None:
        conv.zero_grad(set_to_none=True)
        conv(truth).abs().mean().backward()

    reference_seconds = time_steps(reference, device, args.steps) / base.batch_size
    rows = [("reference: conv3x3 C->C fwd+bwd", 1.0 / reference_seconds, 1.0)]
    sampling = time_steps(lambda: sample_batch(data.sampler, data.srf, base, rng, data.grid.centres), device, args.steps)
    rows.append(("data side alone (sources, degradation, estimate)", base.batch_size / sampling, sampling / base.batch_size / reference_seconds))
    for preset in [p.strip() for p in args.presets.split(",") if p.strip()]:
        config = base.replace(preset=preset)
        model = seeded_model(config, bands, data.srf.shape[0]).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)

        def step() -> None:
            drawn = sample_batch(data.sampler, data.srf, config, rng, data.grid.centres)
            optimisation_step(model, optimizer, drawn, config.sam_weight, device, config.loss)

        per_sample = time_steps(step, device, args.steps) / config.batch_size
        rows.append((f"{preset} training step", 1.0 / per_sample, per_sample / reference_seconds))

    print(f"\n| what | samples / s | s / step of {base.batch_size} | time per sample / reference |\n|---|---:|---:|---:|")
    for name, rate, ratio in rows:
        print(f"| {name} | {rate:.2f} | {base.batch_size / rate:.3f} | {ratio:.1f} |")

    published = list_checkpoints()
    if published:
        print("\n| published checkpoint | steps | training time | machine |\n|---|---:|---:|---|")
        for name in published:
            sidecar = json.loads((WEIGHTS_DIR / f"{name}.json").read_text())
            record = sidecar.get("published", {})
            seconds = record.get("training_seconds")
            time_text = "-" if seconds is None else f"{seconds / 60:.1f} min"
            print(f"| {name} | {sidecar['steps']} | {time_text} | {record.get('training_machine', '-')} |")


if __name__ == "__main__":
    main()
