"""Forward latency of the S3RNet presets, against a single 3x3 convolution as speed reference.

For each preset the script prints its parameters and MACs at the requested size and the
median forward latency (float32, ``torch.inference_mode``, after a warm-up run) on the CPU with
``--threads`` threads and on CUDA when available. The reference, measured in the same run, is
one 3x3 convolution C -> C at the output size: the reconstruction's last layer, a floor under
the cost of any S3RNet for these bands. Each latency is also given as a multiple of that reference, which
carries over between machines better than milliseconds do.

Slow configurations (the paper preset on a CPU takes seconds) get fewer repeats: a preset is
run at most ``--repeats`` times and at most as often as fits in ``--budget`` seconds.

Example
-------
    PYTHONPATH=. python benchmarks/bench_models.py --size 144 --bands 200 --msi-bands 4

(``PYTHONPATH=.`` is not needed once the package is installed.)
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from s3rnet.models import build_model, list_presets, model_info


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_latency(
    run: Callable[[], object], device: torch.device, repeats: int, budget: float
) -> tuple[float, int]:
    """Median seconds of ``run()`` after one warm-up call, and the number of timed calls."""
    with torch.inference_mode():
        start = time.perf_counter()
        run()
        synchronize(device)
        warmup = time.perf_counter() - start
        count = max(1, min(repeats, int(budget / max(warmup, 1e-9))))
        times = []
        for _ in range(count):
            start = time.perf_counter()
            run()
            synchronize(device)
            times.append(time.perf_counter() - start)
    return statistics.median(times), count


def benchmark_device(
    args: argparse.Namespace, device: torch.device
) -> dict[str, tuple[float, int]]:
    """Latency of the reference convolution and of every preset on one device."""
    generator = torch.Generator().manual_seed(0)
    low = args.size // args.ratio
    lrhsi = torch.rand(1, args.bands, low, low, generator=generator).to(device)
    hrmsi = torch.rand(1, args.msi_bands, args.size, args.size, generator=generator).to(device)
    full = torch.rand(1, args.bands, args.size, args.size, generator=generator).to(device)

    reference = nn.Conv2d(args.bands, args.bands, 3, padding=1).to(device).eval()
    latencies = {
        "reference": median_latency(lambda: reference(full), device, args.repeats, args.budget)
    }
    for preset in args.presets:
        model = build_model(preset, args.bands, args.msi_bands, ratio=args.ratio)
        model = model.to(device).eval()
        latencies[preset] = median_latency(
            lambda: model(lrhsi, hrmsi), device, args.repeats, args.budget
        )
        del model
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    parser.add_argument("--size", type=int, default=144, help="side of the output / HR-MSI")
    parser.add_argument("--bands", type=int, default=200, help="bands C of the LR-HSI")
    parser.add_argument("--msi-bands", type=int, default=4, help="bands M of the HR-MSI")
    parser.add_argument("--ratio", type=int, default=4, help="spatial resolution ratio")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per preset, at most")
    parser.add_argument(
        "--budget", type=float, default=20.0, help="seconds of timed runs per preset, at most"
    )
    parser.add_argument("--presets", nargs="+", default=list_presets(), choices=list_presets())
    parser.add_argument("--no-cuda", action="store_true", help="skip CUDA even when available")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    devices = [torch.device("cpu")]
    if torch.cuda.is_available() and not args.no_cuda:
        devices.append(torch.device("cuda"))
    results = {device.type: benchmark_device(args, device) for device in devices}

    gpu = f", {torch.cuda.get_device_name()}" if len(devices) > 1 else ""
    print(
        f"torch {torch.__version__}, {args.threads} CPU threads{gpu}; C = {args.bands}, "
        f"M = {args.msi_bands}, output {args.size}x{args.size}, ratio {args.ratio}"
    )
    print()
    header = ["model", "params (M)", "MACs (G)"]
    for device in devices:
        header += [f"{device.type} median (ms)", f"{device.type} runs", f"{device.type} / ref"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    reference_macs = args.bands * args.bands * 9 * args.size * args.size
    reference_params = args.bands * (args.bands * 9 + 1)
    rows = [("reference: conv3x3 C->C", "reference", reference_params, reference_macs)]
    for preset in args.presets:
        info = model_info(preset, args.bands, args.msi_bands, args.size, args.ratio)
        rows.append((preset, preset, info["params"], info["macs"]))
    for label, key, params, macs in rows:
        cells = [label, f"{params / 1e6:.3f}", f"{macs / 1e9:.2f}"]
        for device in devices:
            latency, runs = results[device.type][key]
            reference_latency = results[device.type]["reference"][0]
            cells += [f"{latency * 1e3:.1f}", str(runs), f"{latency / reference_latency:.2f}"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
