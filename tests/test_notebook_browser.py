"""Notebook 01 in a real browser: JupyterLab headless, Debian's chromium driven by playwright.

The test serves a copy of ``notebooks/01_degradation.ipynb`` from a temporary folder (so that
JupyterLab's autosave never touches the committed file), opens it, runs every cell through
JupyterLab's own "run all cells" command, and checks what a student would see: ipywidgets
sliders, plotly figures drawn by the FigureWidget, the figure following a slider moved in the
browser, and no traceback. A screenshot is written to the test's temporary folder; with
``S3RNET_UPDATE_SCREENSHOTS=1`` it also replaces ``docs/screenshots/notebook-01.png``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01_degradation.ipynb"
SCREENSHOT = ROOT / "docs" / "screenshots" / "notebook-01.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]
TOKEN = "s3rnet-notebook-test"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install -y chromium)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server on a free local port, serving a temporary copy of notebook 01."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    port = _free_port()
    env = dict(
        os.environ,
        S3RNET_QUICK="1",
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        JUPYTER_DATA_DIR=str(base / "data"),
        JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        MPLCONFIGDIR=str(base / "mpl"),
    )
    env.pop("S3RNET_NOTEBOOK_RECORD", None)
    # Render every cell (JupyterLab 4 detaches cells scrolled out of view by default).
    settings = base / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    notifications = base / "settings" / "@jupyterlab" / "apputils-extension"
    notifications.mkdir(parents=True)
    (notifications / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    log = (base / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
            f"--port={port}", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.expose_app_in_browser=True",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if server.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer:\n" + (base / "jupyterlab.log").read_text()[-3000:])
        if server.poll() is not None:
            pytest.fail("JupyterLab exited:\n" + (base / "jupyterlab.log").read_text()[-3000:])
        yield url, base
    finally:
        # The server was started in its own session: stop its whole process group (kernels too).
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server.wait(timeout=30)
        log.close()


def test_notebook_01_runs_in_jupyterlab_and_renders_widgets_and_plotly(jupyterlab):
    from playwright.sync_api import sync_playwright

    url, base = jupyterlab
    shot = base / "notebook-01.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={TOKEN}")
            # JupyterLab is up, the notebook is open and its kernel is idle.
            page.wait_for_function(
                "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                " return !!(w && w.sessionContext && w.sessionContext.session"
                " && w.sessionContext.session.kernel"
                " && w.sessionContext.session.kernel.status === 'idle'); }",
                timeout=120_000,
            )
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            # The last code cell prints this once everything above it has run.
            page.locator(".jp-OutputArea-output", has_text="same numbers from the command line").wait_for(
                timeout=300_000
            )
            page.wait_for_function(
                "() => { const w = window.jupyterapp.shell.currentWidget;"
                " return w.sessionContext.session.kernel.status === 'idle'; }",
                timeout=120_000,
            )
            outputs = page.locator(".jp-OutputArea-output")
            assert "Traceback" not in " ".join(outputs.all_inner_texts())

            # ipywidgets controls and plotly figures, rendered by their front-end extensions.
            assert page.locator(".jp-OutputArea-output .widget-slider").count() >= 5
            # Four FigureWidgets (anywidget views inside the ipywidgets boxes) and five static
            # figures (plotly's JupyterLab renderer; the fifth shows how a synthetic scene is made):
            # every figure of the notebook is drawn.
            live = page.locator(".jp-OutputArea .widget-vbox .js-plotly-plot")
            live.first.wait_for(timeout=60_000)
            assert live.count() == 4
            assert page.locator(".jp-OutputArea .js-plotly-plot").count() == 9
            # The explorer's FigureWidget followed the sliders that the notebook set from code.
            page.locator(".js-plotly-plot", has_text="LR-HSI, ratio 8").wait_for(timeout=60_000)

            # A slider moved in the browser redraws its figure through the kernel: the band
            # slider of the first figure, one step to the right with the keyboard.
            first = page.locator(".jp-OutputArea .widget-vbox").first
            title = first.locator(".js-plotly-plot .annotation-text", has_text="band ").first
            title.wait_for(timeout=60_000)
            match = re.match(r"band (\d+): ", title.text_content())
            assert match, title.text_content()
            band = int(match.group(1))
            handle = first.locator(".widget-slider .noUi-handle").first
            handle.scroll_into_view_if_needed()
            handle.focus()
            page.keyboard.press("ArrowRight")
            first.locator(".js-plotly-plot .annotation-text", has_text=f"band {band + 1}: ").wait_for(
                timeout=60_000
            )

            # The picture: the explorer's controls and figure at the top of the window.
            page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
            explorer = page.locator(".jp-OutputArea .widget-vbox", has_text="LR-HSI, ratio 8").first
            explorer.evaluate("element => element.scrollIntoView({block: 'start'})")
            page.mouse.move(700, 500)
            page.mouse.wheel(0, -40)
            page.wait_for_timeout(500)  # let plotly finish drawing before the picture is taken
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert shot.stat().st_size > 20_000
    if os.environ.get("S3RNET_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SCREENSHOT)
