"""Response times, fairness and memory of the Gradio app against the library called directly, as a markdown table.

The app runs as it is deployed, ``python app/main.py`` in its own process; this process is its
client (gradio_client, one client per simulated user) and runs the references. Each
measurement has a reference measured in the same run:

* ``/fuse`` with the start-up settings (Indian Pines test region 48 x 144, OLI 4-band MSI, box
  PSF, S3RNet and the fast baselines; a new seed each call, so that no stored result is
  reused), alternating with the reference, ``s3rnet.evaluation.run_evaluation`` in-process with
  the same settings. Also the part of the library's time spent in the methods themselves, and
  ``/details``, which the page chains after each fusion (the other tabs).
* a pixel click (``/spectrum``) and a band view (``/band``), idle and while other users' fusions
  run, against the same spectra read in-process (:func:`app.compute.pixel_spectra`).
* fairness: a plain ``/fuse`` of one user while another user's 200-step test-time adaptation
  runs, against the same plain ``/fuse`` on an idle app.
* memory: the app's resident memory (RSS) after SESSIONS sessions that each fuse once (their own
  seed, so each is a new result) and after twice as many, against the in-process size of one
  result; the app's store keeps results within ``S3RNET_APP_RESULT_BUDGET_MB``.
* start-up to a ready page (``python app/main.py`` until its page and API answer), against
  ``python -m s3rnet evaluate`` with the same methods.

Targets (issue 13, on 2 CPU cores): /fuse 1.0 s, click and band view 0.2 s (also during
fusions), a plain fuse during an adaptation 4 s, RSS growth under 1 GB after 30 fusing sessions
and flat after that, start-up 15 s.

``--checkpoint PATH`` runs S3RNet from that checkpoint (listed to the app through
``S3RNET_APP_CHECKPOINTS``) instead of the start-up one, for example when the published weights
cannot run with this version of the network; the table says which ran.

Usage::

    python benchmarks/bench_app.py --threads 2 --repeats 5
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
import threading
import time
import urllib.request
from pathlib import Path

from _harness import parse, timed, timing_parser, use_threads

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"fuse": 1.0, "click": 0.2, "fair": 4.0, "memory": 1024.0, "startup": 15.0}
ADAPT_STEPS = 200


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = timing_parser(__doc__, 5, "timed calls per measurement")
    parser.add_argument("--checkpoint", help="S3RNet checkpoint (.safetensors) to run instead of the start-up one")
    parser.add_argument("--sessions", type=int, default=30, help="fusing sessions before the first memory reading")
    parser.add_argument("--skip-startup", action="store_true", help="do not time the start-up (two subprocesses)")
    parser.add_argument("--skip-fairness", action="store_true", help="do not run the 200-step adaptation")
    return parse(parser, argv)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, limit: float = 180.0) -> float:
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
                               env=dict(env, GRADIO_SERVER_PORT=str(port)), stdout=subprocess.DEVNULL,
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


def rss_mb(pid: int) -> float:
    """Resident memory of a process (MB), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


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


class Background:
    """Another user fusing over and over (a new seed each time) until stopped."""

    def __init__(self, client, first_seed: int, checkpoint: str | None) -> None:
        self.client, self.seed, self.checkpoint = client, first_seed, checkpoint
        self.fusions = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.client.predict(seed=self.seed + self.fusions, checkpoint=self.checkpoint, api_name="/fuse")
            self.fusions += 1

    def __enter__(self) -> Background:
        self._thread.start()
        time.sleep(0.3)  # the first fusion is under way
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=120)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_threads(args.threads)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    env = dict(os.environ)
    if args.checkpoint:
        checkpoint_path = str(Path(args.checkpoint).resolve().with_suffix(".safetensors"))
        env["S3RNET_APP_CHECKPOINTS"] = os.environ["S3RNET_APP_CHECKPOINTS"] = checkpoint_path
    sys.path.insert(0, str(ROOT))
    import dataclasses

    import torch
    from gradio_client import Client

    from app import compute, library, results, scenes
    from app.compute import pixel_spectra
    from app.handlers import default_settings

    settings = default_settings()
    if args.checkpoint:
        settings = dataclasses.replace(settings, checkpoint=checkpoint_path)
    full_scene = scenes.load_named_scene(settings.scene)
    scene = scenes.cut_region(full_scene, settings.region)
    local_result = compute.run_fusion(full_scene, settings)
    methods = [m for m in settings.methods if m in local_result.methods]
    one_result_mb = results.nbytes(local_result) / 2**20

    def library_fuse(i: int):
        return library.run_evaluation(
            scene, methods=methods, msi=settings.msi, psf=settings.psf, ratio=4, snr_db=float("inf"),
            hrmsi_snr_db=float("inf"), shift=(0.0, 0.0), seed=1000 + i, checkpoint=settings.checkpoint,
        )

    def client() -> Client:
        return Client(url, verbose=False, download_files=False)

    process, url = start_app(env)
    rows = []
    notes = []
    try:
        start_rss = rss_mb(process.pid)
        user = client()
        # Library and app calls alternate, so that load from other jobs falls on both alike.
        library_fuse(-1)
        output = user.predict(seed=1999, checkpoint=settings.checkpoint, api_name="/fuse")
        user.predict(api_name="/details")
        reference_fuse, app_fuse, app_details, in_methods = [], [], [], []
        for i in range(args.repeats):
            start = time.perf_counter()
            evaluation = library_fuse(i)
            reference_fuse.append(time.perf_counter() - start)
            in_methods.append(sum(scores["seconds"] for scores in evaluation.methods.values()))
            start = time.perf_counter()
            output = user.predict(seed=2000 + i, checkpoint=settings.checkpoint, api_name="/fuse")
            app_fuse.append(time.perf_counter() - start)
            start = time.perf_counter()
            user.predict(api_name="/details")
            app_details.append(time.perf_counter() - start)
        fused_methods = list(output[2]["methods"])
        app_click, _ = timed(lambda i: user.predict(x=10 + i, y=20, api_name="/spectrum"), args.repeats)
        app_band, _ = timed(lambda i: user.predict(wavelength_nm=500 + 50 * i, api_name="/band"), args.repeats)
        reference_click, _ = timed(lambda i: pixel_spectra(local_result, 10 + i, 20), args.repeats)
        rows += [
            ("/fuse, start-up settings", app_fuse, TARGETS["fuse"], "library run_evaluation", reference_fuse, "s"),
            ("library: time in the methods themselves", in_methods, None, "library run_evaluation", reference_fuse, "s"),
            ("/details (the other tabs, chained after /fuse)", app_details, None, "library run_evaluation",
             reference_fuse, "s"),
            ("pixel click (/spectrum), idle", app_click, TARGETS["click"], "pixel_spectra in-process", reference_click, "s"),
            ("band view (/band), idle", app_band, TARGETS["click"], "pixel_spectra in-process", reference_click, "s"),
        ]

        # Clicks and band views while another user fuses again and again.
        other = client()
        with Background(other, 5000, settings.checkpoint) as busy:
            busy_click, _ = timed(lambda i: user.predict(x=30 + i, y=10, api_name="/spectrum"), 2 * args.repeats)
            busy_band, _ = timed(lambda i: user.predict(wavelength_nm=900 + 40 * i, api_name="/band"), 2 * args.repeats)
        notes.append(f"{busy.fusions} fusions of another user ran during the busy clicks and band views")
        rows += [
            ("pixel click during another user's fusions", busy_click, TARGETS["click"], "/spectrum idle", app_click, "s"),
            ("band view during another user's fusions", busy_band, TARGETS["click"], "/band idle", app_band, "s"),
        ]

        if not args.skip_fairness:
            adapter = client()
            if "s3rnet" not in fused_methods:
                notes.append("S3RNet did not run with this checkpoint: no adaptation to measure (use --checkpoint)")
            else:
                job = adapter.submit(seed=7000, methods=["s3rnet"], adapt=True, adapt_steps=ADAPT_STEPS,
                                     checkpoint=settings.checkpoint, api_name="/fuse")
                adapt_start = time.perf_counter()
                time.sleep(3.0)  # the adaptation is under way
                fair, _ = timed(lambda i: user.predict(seed=8000 + i, checkpoint=settings.checkpoint,
                                                       api_name="/fuse"), args.repeats)
                fair_click, _ = timed(lambda i: user.predict(x=5 + i, y=5, api_name="/spectrum"), args.repeats)
                running = not job.done()  # so the plain fusions above were measured while it ran
                adapted = job.result(timeout=1800)
                adapt_seconds = time.perf_counter() - adapt_start
                notes.append(f"the {ADAPT_STEPS}-step adaptation took {adapt_seconds:.0f} s in all "
                             f"({adapted[0].splitlines()[0][:80]}...)")
                if not running:
                    notes.append("the adaptation ended before the plain fusions did: no fairness row")
                else:
                    rows += [
                        (f"plain /fuse during a {ADAPT_STEPS}-step adaptation", fair, TARGETS["fair"], "/fuse idle",
                         app_fuse, "s"),
                        ("pixel click during that adaptation", fair_click, TARGETS["click"], "/spectrum idle",
                         app_click, "s"),
                    ]

        # Memory: many sessions that each fuse once, then as many again.
        def sessions(first: int, count: int) -> None:
            for index in range(first, first + count):
                visitor = client()
                visitor.predict(seed=10_000 + index, checkpoint=settings.checkpoint, api_name="/fuse")
                visitor.predict(api_name="/details")

        sessions(0, args.sessions)
        after_first = rss_mb(process.pid)
        sessions(args.sessions, args.sessions)
        after_second = rss_mb(process.pid)
        budget = float(env.get("S3RNET_APP_RESULT_BUDGET_MB", results.RESULT_BUDGET_MB))
        rows += [
            (f"RSS growth after {args.sessions} fusing sessions (MB)", [after_first - start_rss], TARGETS["memory"],
             "one result in-process (MB)", [one_result_mb], "MB"),
            (f"RSS growth from {args.sessions} to {2 * args.sessions} sessions (MB)", [after_second - after_first],
             None, "one result in-process (MB)", [one_result_mb], "MB"),
        ]
        notes.append(f"RSS at start {start_rss:.0f} MB, after {args.sessions} sessions {after_first:.0f} MB, after "
                     f"{2 * args.sessions} {after_second:.0f} MB; result budget {budget:.0f} MB")
    finally:
        stop(process)

    if not args.skip_startup:
        startup = [time_startup(env) for _ in range(max(1, min(args.repeats, 2)))]
        cli = [time_cli(env, methods, settings.checkpoint) for _ in range(max(1, min(args.repeats, 2)))]
        rows.append(("start-up to a ready page", startup, TARGETS["startup"], "python -m s3rnet evaluate", cli, "s"))

    checkpoint_name = Path(settings.checkpoint).name if settings.checkpoint else "none published"
    print(f"Indian Pines {scene.shape[0]} x {scene.shape[1]} x {scene.shape[2]}, {settings.msi}, box PSF, ratio 4, "
          f"methods {', '.join(fused_methods)} (checkpoint {checkpoint_name}); {args.threads} thread(s), "
          f"{torch.device(library.device_name())}, {os.cpu_count()} CPUs; median of {args.repeats} call(s) after a "
          f"warm-up unless said otherwise\n")
    print("| measurement | median | target | reference | reference median | ratio |")
    print("|---|---:|---:|---|---:|---:|")
    for name, values, target, reference_name, reference, unit in rows:
        median, base = statistics.median(values), statistics.median(reference)
        goal = "" if target is None else f"{target:g}"
        digits = 0 if unit == "MB" else 3
        print(f"| {name} | {median:.{digits}f} | {goal} | {reference_name} | {base:.{digits}f} | {median / base:.2f} |")
    print()
    for note in notes:
        print(f"* {note}")
    print("\n" + json.dumps({name: statistics.median(values) for name, values, *_ in rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
