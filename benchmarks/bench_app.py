"""Response times of the Gradio app against the library called directly, as a markdown table.

The app runs as it is deployed, ``python app/main.py`` in its own process; this process is its
client (gradio_client) and runs the references. Each measurement has a reference measured in
the same run:

* ``/fuse`` (Indian Pines 144 x 144, OLI 4-band MSI, box PSF, S3RNet with the CPU checkpoint
  and the fast baselines; a new seed each call, so that no cached result is reused): the status,
  metrics, composites and pixel spectrum, what the page shows first. It alternates with the
  reference, ``s3rnet.evaluation.run_evaluation`` in-process with the same settings (a plain
  script's call: checkpoint loaded and reference statistics computed each time). A second row
  is the part of the library's time spent in the methods themselves (the rest is simulation,
  model loading and scoring), a third the ``/details`` call that the page chains after each
  fusion (the other tabs: bands, swipe, error maps, plots).
* a pixel click (``/spectrum``), against the same spectra read in-process
  (:func:`app.compute.pixel_spectra`): the ratio is the cost of the round trip.
* start-up to a ready page (``python app/main.py`` until its page and API answer), against
  ``python -m s3rnet evaluate`` with the same methods (import, load, evaluate; on the test
  region, 48 x 144, as the CLI cannot select the whole scene of a scene with a declared split).

Targets (issue 4, on 2 CPU cores): /fuse 1.5 s, click 0.2 s, start-up 15 s.

Usage::

    python benchmarks/bench_app.py --threads 2 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _harness import parse, timed, timing_parser, use_threads

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"fuse": 1.5, "click": 0.2, "startup": 15.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = timing_parser(__doc__, 3, "timed calls per measurement")
    parser.add_argument("--skip-startup", action="store_true", help="do not time the start-up (two subprocesses)")
    return parse(parser, argv)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, limit: float = 120.0) -> float:
    """Seconds until the page and its API config answer (polled every 50 ms)."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with code {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url + "config", timeout=1) as reply:
                if reply.status == 200:
                    with urllib.request.urlopen(url, timeout=1) as page:
                        if page.status == 200:
                            return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the app was not ready after {limit:.0f} s")


def start_app(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """``python app/main.py`` on a free port, in a new process group; returns it and its URL once ready."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "app" / "main.py")], cwd=ROOT,
                               env=dict(env, S3RNET_APP_PORT=str(port)), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_ready(url, process)
    except BaseException:
        stop(process)
        raise
    return process, url


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, 15)
    process.wait(timeout=30)


def time_startup(env: dict[str, str]) -> float:
    """Seconds from ``python app/main.py`` to a page and API that answer."""
    start = time.perf_counter()
    process, _ = start_app(env)
    elapsed = time.perf_counter() - start
    stop(process)
    return elapsed


def time_cli(env: dict[str, str], methods: list[str], checkpoint: str | None) -> float:
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "s3rnet", "evaluate", "--scene", "indian_pines", "--split", "test",
                   "--msi", "oli4", "--methods", ",".join(methods), "--json", str(Path(folder) / "out.json")]
        if checkpoint:
            command += ["--checkpoint", checkpoint]
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_threads(args.threads)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    sys.path.insert(0, str(ROOT))
    import torch
    from gradio_client import Client

    from app import compute, library, scenes
    from app.compute import pixel_spectra
    from app.handlers import default_settings

    settings = default_settings()
    full_scene = scenes.load_named_scene(settings.scene)
    scene = scenes.cut_region(full_scene, settings.region)
    methods = [m for m in settings.methods if m != "s3rnet" or settings.checkpoint]
    local_result = compute.run_fusion(full_scene, settings)

    def library_fuse(i: int):
        return library.run_evaluation(
            scene, methods=methods, msi=settings.msi, psf=settings.psf, ratio=4, snr_db=float("inf"),
            hrmsi_snr_db=float("inf"), shift=(0.0, 0.0), seed=1000 + i, checkpoint=settings.checkpoint,
        )

    process, url = start_app(dict(os.environ))
    try:
        client = Client(url, verbose=False, download_files=False)
        # Library and app calls alternate, so that load from other jobs falls on both alike.
        library_fuse(-1)
        output = client.predict(seed=1999, api_name="/fuse")
        client.predict(api_name="/details")
        reference_fuse, app_fuse, app_details, in_methods = [], [], [], []
        for i in range(args.repeats):
            start = time.perf_counter()
            evaluation = library_fuse(i)
            reference_fuse.append(time.perf_counter() - start)
            in_methods.append(sum(scores["seconds"] for scores in evaluation.methods.values()))
            start = time.perf_counter()
            output = client.predict(seed=2000 + i, api_name="/fuse")
            app_fuse.append(time.perf_counter() - start)
            start = time.perf_counter()
            client.predict(api_name="/details")
            app_details.append(time.perf_counter() - start)
        fused_methods = list(output[2]["methods"])
        app_click, _ = timed(lambda i: client.predict(x=10 + i, y=20, api_name="/spectrum"), args.repeats)
        reference_click, _ = timed(lambda i: pixel_spectra(local_result, 10 + i, 20), args.repeats)
    finally:
        stop(process)

    rows = [
        ("/fuse (S3RNet + fast baselines)", app_fuse, TARGETS["fuse"], "library run_evaluation", reference_fuse),
        ("library: time in the methods themselves", in_methods, None, "library run_evaluation", reference_fuse),
        ("/details (the other tabs, chained after /fuse)", app_details, None, "library run_evaluation", reference_fuse),
        ("pixel click (/spectrum)", app_click, TARGETS["click"], "pixel_spectra in-process", reference_click),
    ]
    if not args.skip_startup:
        env = dict(os.environ)
        startup = [time_startup(env) for _ in range(max(1, min(args.repeats, 2)))]
        cli = [time_cli(env, methods, settings.checkpoint) for _ in range(max(1, min(args.repeats, 2)))]
        rows.append(("start-up to a ready page", startup, TARGETS["startup"], "python -m s3rnet evaluate", cli))

    print(f"Indian Pines {scene.shape[0]} x {scene.shape[1]} x {scene.shape[2]}, {settings.msi}, box PSF, ratio 4, "
          f"methods {', '.join(fused_methods)} (checkpoint {settings.checkpoint or 'none published'}); "
          f"{args.threads} thread(s), {torch.device(library.device_name())}; median of {args.repeats} call(s) "
          f"after a warm-up\n")
    print("| measurement | median s | target s | reference | reference median s | ratio |")
    print("|---|---:|---:|---|---:|---:|")
    for name, seconds, target, reference_name, reference in rows:
        median, base = statistics.median(seconds), statistics.median(reference)
        goal = "" if target is None else f"{target:.1f}"
        print(f"| {name} | {median:.3f} | {goal} | {reference_name} | {base:.3f} | {median / base:.2f} |")
    print("\n" + json.dumps({name: statistics.median(s) for name, s, *_ in rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
