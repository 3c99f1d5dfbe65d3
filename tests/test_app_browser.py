"""The app in a real browser: headless Debian Chromium driven by playwright.

Loads the page (a complete start-up result must be on it), moves the band slider, clicks a pixel
of an image, checks that the spectral profile changes to that pixel, and saves a screenshot: the
one the README shows (docs/screenshots/app.png) when ``S3RNET_UPDATE_SCREENSHOTS=1`` or when it
is missing, otherwise one in pytest's temporary folder, so that a test run leaves the committed
picture alone. Every request the page makes must stay on the app's own server (offline use: no
fonts, scripts or analytics from the internet).

Skipped only when /usr/bin/chromium is missing (``apt-get install -y chromium``; never
``playwright install``).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHROMIUM = Path("/usr/bin/chromium")
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
        assert title_before.startswith("Pixel x=72, y=72")  # the centre pixel, until a click

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
        assert abs(x - 0.30 * 144) <= 2 and abs(y - 0.60 * 144) <= 2
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
