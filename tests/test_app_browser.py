"""The app in a real browser: headless Debian Chromium driven by playwright.

Loads the page (a complete start-up result must be on it), moves the band slider, clicks a pixel
of an image, checks that the spectral profile changes to that pixel, and saves a screenshot: the
one the README shows (docs/screenshots/app.png) when ``S3RNET_UPDATE_SCREENSHOTS=1`` or when it
is missing, otherwise one in pytest's temporary folder, so that a test run leaves the committed
picture alone. Every request the page makes must stay on the app's own server (offline use: no
fonts, scripts or analytics from the internet).

At 1024 x 768 (a classroom projector) the Fuse button must be on the first screen with the
status (where progress shows) beside it, the results must come into view after a fusion, and no
page may scroll sideways at 1024 or 1280 px. axe-core (npm) is injected into the page: no serious
or critical accessibility violation (contrast included). Its script comes from ``S3RNET_AXE_JS``
(``.ci/run`` installs a pinned version) or, when that is unset, from ``npm install`` into a
temporary folder; the accessibility test is skipped only when neither works.

Skipped only when /usr/bin/chromium is missing (``apt-get install -y chromium``; never
``playwright install``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHROMIUM = Path("/usr/bin/chromium")
AXE_VERSION = "4.14.1"  # the version .ci/run installs
SCREENSHOT = ROOT / "docs" / "screenshots" / "app.png"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install -y chromium)"),
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),  # gradio's, on every table
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server_url():
    from app.main import build_demo, launch_options

    demo = build_demo()
    port = _free_port()
    demo.launch(prevent_thread_lock=True, server_port=port, quiet=True, **launch_options())
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _profile_title(page) -> str:
    """The title text of the spectral profile plot (it names the pixel shown)."""
    return page.locator("#profile .gtitle").first.text_content(timeout=30_000) or ""


def _screenshot_path(tmp_path: Path) -> Path:
    if os.environ.get("S3RNET_UPDATE_SCREENSHOTS") == "1" or not SCREENSHOT.exists():
        return SCREENSHOT
    return tmp_path / SCREENSHOT.name


def test_page_loads_slides_clicks_and_screenshots(server_url, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1600, "height": 1300}, device_scale_factor=1)
    page = context.new_page()
    outside: list[str] = []
    errors: list[str] = []

    def keep_local(route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", keep_local)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(server_url, wait_until="load", timeout=120_000)

        # The start-up result is on the page: composites, a metrics table with every method, a status.
        for elem_id in ("rgb-truth", "rgb-fused", "rgb-baseline", "rgb-lrhsi", "rgb-hrmsi"):
            page.locator(f"#{elem_id} img").first.wait_for(state="visible", timeout=60_000)
        assert "S3RNet runs on the" in page.locator("#title").text_content()  # GPU or CPU, said in the page
        status = page.locator("#status").text_content()
        assert "Done" in status
        table = page.locator("#metrics").text_content()
        for method in ("Bicubic", "GSA", "MTF-GLP-HPM"):
            assert method in table
        title_before = _profile_title(page)
        assert title_before.startswith("Pixel x=72, y=24")  # the centre of the 48 x 144 test region, until a click

        # Band slider: move it with the keyboard; the caption names the new band in nm.
        page.get_by_role("tab", name="Bands").click()
        caption_before = page.locator("#band-caption").text_content()
        slider = page.locator("#band-slider input[type=range]")
        slider.focus()
        for _ in range(40):
            slider.press("ArrowRight")
        page.wait_for_function(
            "before => document.querySelector('#band-caption').textContent !== before",
            arg=caption_before, timeout=30_000,
        )
        caption_after = page.locator("#band-caption").text_content()
        assert "nm" in caption_after and caption_after != caption_before

        # Click a pixel on the fused image of the first tab: the profile now shows that pixel.
        page.get_by_role("tab", name="Images").click()
        image = page.locator("#rgb-fused img").first
        image.wait_for(state="visible")
        box = image.bounding_box()
        image.click(position={"x": box["width"] * 0.30, "y": box["height"] * 0.60})
        page.wait_for_function(
            "before => { const t = document.querySelector('#profile .gtitle');"
            " return t && t.textContent.startsWith('Pixel') && t.textContent !== before; }",
            arg=title_before, timeout=30_000,
        )
        title = _profile_title(page)
        assert title.startswith("Pixel x=")
        # The pixel under the click, mapped back through the display enlargement.
        x = int(title.split("x=")[1].split(",")[0])
        y = int(title.split("y=")[1].split(" ")[0])
        assert abs(x - 0.30 * 144) <= 2 and abs(y - 0.60 * 48) <= 2
        assert page.locator("#profile .scatterlayer .trace").count() >= 4  # truth, LR-HSI, methods

        page.wait_for_timeout(500)  # let the plot finish its transition before the picture
        picture = _screenshot_path(tmp_path)
        picture.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(picture), full_page=False)
        assert picture.stat().st_size > 50_000
    finally:
        context.close()
    assert not outside, f"the page asked for resources outside the app: {outside[:5]}"
    assert not errors, f"JavaScript errors on the page: {errors[:3]}"


# --------------------------------------------------------------------------------------------
# A classroom projector: 1024 x 768 and 1280 x 800
# --------------------------------------------------------------------------------------------


def _open(browser, url: str, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
    page = context.new_page()
    page.goto(url, wait_until="load", timeout=120_000)
    page.locator("#rgb-fused img").first.wait_for(state="visible", timeout=60_000)
    return context, page


def _horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("width, height", [(1024, 768), (1280, 800)])
def test_no_sideways_scrolling(server_url, browser, width, height):
    context, page = _open(browser, server_url, width, height)
    try:
        assert _horizontal_overflow(page) <= 0
        # The metrics table fits its column: no column cut off on the right.
        table = page.locator("#metrics").bounding_box()
        assert table["x"] + table["width"] <= width
        for tab in ("Bands", "Errors", "SSAWB weights", "Pixel and details"):
            page.get_by_role("tab", name=tab).click()
            page.wait_for_timeout(300)
            assert _horizontal_overflow(page) <= 0, tab
    finally:
        context.close()


def test_fuse_on_the_first_screen_and_results_come_into_view(server_url, browser):
    context, page = _open(browser, server_url, 1024, 768)
    try:
        button = page.locator("#fuse-button").bounding_box()
        assert button["y"] >= 0 and button["y"] + button["height"] <= 768, button
        status = page.locator("#status").bounding_box()
        # The status line, where the progress shows, sits right under the button's row.
        assert 0 <= status["y"] - (button["y"] + button["height"]) < 80, (button, status)
        assert status["y"] + 40 <= 768
        # The pixel boxes name the pixel whose spectrum the profile shows.
        page.get_by_role("tab", name="Pixel and details").click()
        x = page.locator("#pixel-x input").input_value()
        y = page.locator("#pixel-y input").input_value()
        page.get_by_role("tab", name="Images").click()
        assert _profile_title(page).startswith(f"Pixel x={x}, y={y}")

        # Another region, then Fuse: the status names it and the results scroll into view.
        page.locator("#region input").click()
        page.get_by_role("option", name="Validation region").click()
        page.locator("#fuse-button").click()
        page.wait_for_function(
            "() => document.querySelector('#status').textContent.includes('cols 96-144')", timeout=120_000)
        page.wait_for_timeout(1500)  # the smooth scroll
        top = page.evaluate("() => document.getElementById('results').getBoundingClientRect().top")
        # The smooth scroll may stop a fraction of a pixel past the results' top (seen: -0.36 px).
        assert -1 <= top <= 0.4 * 768, top
    finally:
        context.close()


def test_the_ratio_control_fuses_at_that_ratio(server_url, browser):
    """The folded simulation section's ratio radio reaches the fusion: the status and the LR-HSI's size follow it."""
    context, page = _open(browser, server_url, 1280, 800)
    try:
        page.locator("#simulation").get_by_text("Noise, blur and misregistration").click()
        page.locator("#ratio").get_by_label("3", exact=True).check()
        page.locator("#fuse-button").click()
        page.wait_for_function(
            "() => document.querySelector('#status').textContent.includes('ratio 3,')", timeout=120_000)
        assert "S3RNet did not run" not in page.locator("#status").text_content()
        assert page.get_by_text("LR-HSI (16 x 48 px)").count() >= 1
    finally:
        context.close()


@pytest.fixture(scope="module")
def axe_script(tmp_path_factory) -> str:
    """The text of axe.min.js: from $S3RNET_AXE_JS, or npm-installed into a temporary folder."""
    path = os.environ.get("S3RNET_AXE_JS")
    if not path:
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("axe-core: S3RNET_AXE_JS is unset and npm is missing")
        folder = tmp_path_factory.mktemp("axe")
        try:
            subprocess.run([npm, "install", "--prefix", str(folder), "--no-save", "--no-audit", "--no-fund",
                            f"axe-core@{AXE_VERSION}"], check=True, capture_output=True, timeout=180)
        except (subprocess.SubprocessError, OSError) as exc:
            pytest.skip(f"axe-core could not be installed with npm: {exc}")
        path = str(folder / "node_modules" / "axe-core" / "axe.min.js")
    return Path(path).read_text()


@pytest.mark.parametrize("width, height", [(1024, 768), (1280, 800)])
def test_no_serious_accessibility_violations(server_url, browser, axe_script, width, height):
    context, page = _open(browser, server_url, width, height)
    try:
        page.add_script_tag(content=axe_script)
        # Open the settings too, so that their help texts are checked as well.
        for box in ("#simulation", "#methods-box", "#upload-box", "#export-box"):
            page.locator(f"{box} button").first.click()
        page.wait_for_timeout(500)
        found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']}; e.g. {v['nodes'][0]['target']} {v['nodes'][0].get('failureSummary', '')[:200]}"
            for v in found if v["impact"] in ("serious", "critical")
        ]
        assert not serious, "\n".join(serious)
    finally:
        context.close()


def test_closing_the_tab_frees_its_session(server_url, browser):
    from app.state import OPEN_SESSIONS

    context, page = _open(browser, server_url, 1280, 800)
    before = len(OPEN_SESSIONS)
    title = _profile_title(page)
    image = page.locator("#rgb-fused img").first
    box = image.bounding_box()
    image.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.25})  # this session now has state
    page.wait_for_function("before => document.querySelector('#profile .gtitle').textContent !== before",
                           arg=title, timeout=30_000)
    assert len(OPEN_SESSIONS) == before + 1
    context.close()
    for _ in range(120):  # gradio calls the unload event when the page's heartbeat stream ends
        if len(OPEN_SESSIONS) == before:
            break
        threading.Event().wait(0.5)
    assert len(OPEN_SESSIONS) == before
