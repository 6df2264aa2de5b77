"""End to end: the dapp served by `streamlit run` against the session's chain and API (the scripted shipment,
its readings along the road and the agents' transcript), opened in headless Debian Chromium through
selenium. Checks that the map, the charts and the chat render with the scenario's data, and saves a
screenshot of every page under ASC_DAPP_E2E_ARTIFACTS (default .state/artifacts/e2e)."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import matplotlib.image as mpimg
import numpy as np
import pytest
from pydantic_settings import BaseSettings, SettingsConfigDict

from tests.chain_support import ROOT, free_port

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (pip install selenium==4.45.0)")
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


class E2ESettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASC_DAPP_E2E_")

    artifacts: Path = ROOT / ".state" / "artifacts" / "e2e"
    chromium: Path = Path("/usr/bin/chromium")
    chromedriver: Path = Path("/usr/bin/chromedriver")
    timeout_s: float = 90.0


SETTINGS = E2ESettings()
# deck.gl colours of frontend/views/shipments.py: the trail and the first planned leg.
TRAIL, PLANNED = (220, 40, 40), (30, 110, 200)


def _require_browser() -> None:
    missing = [str(p) for p in (SETTINGS.chromium, SETTINGS.chromedriver) if not p.exists()]
    if missing:
        reason = f"{', '.join(missing)} missing (apt-get install -y chromium chromium-driver)"
        if os.environ.get("ASC_TEST_REQUIRE_CHROMIUM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def dapp(world) -> Iterator[str]:
    port = free_port(range(9500, 9600))
    env = {**os.environ, **world.env(ASC_DAPP_REFRESH_S="3600"), "PYTHONPATH": str(ROOT)}
    log = tempfile.NamedTemporaryFile(prefix="dapp-e2e-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "frontend/app.py",
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            "--client.toolbarMode",
            "viewer",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n{Path(log.name).read_text()}")
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after 60 s:\n{Path(log.name).read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        Path(log.name).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def browser(dapp) -> Iterator[webdriver.Chrome]:
    _require_browser()
    profile = tempfile.mkdtemp(prefix="dapp-chromium-")
    options = Options()
    options.binary_location = str(SETTINGS.chromium)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1600,1400",
        # deck.gl and vega need WebGL/canvas: software rendering, as there is no GPU
        "--enable-unsafe-swiftshader",
        "--use-angle=swiftshader",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    # A driver path given: selenium's manager downloads nothing.
    driver = webdriver.Chrome(service=Service(str(SETTINGS.chromedriver)), options=options)
    driver.set_page_load_timeout(SETTINGS.timeout_s)
    SETTINGS.artifacts.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(browser, url: str, ready_css: str, count: int = 1) -> list:
    browser.get(url)
    wait = WebDriverWait(browser, SETTINGS.timeout_s)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ready_css)) >= count)
    # Streamlit keeps re-rendering while the script runs: wait for it to finish.
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'))
    return browser.find_elements(By.CSS_SELECTOR, ready_css)


def _eventually(browser, check: Callable[[], bool], what: str) -> None:
    """Canvases (deck.gl, vega) draw some time after their element appears, and Streamlit may re-render:
    poll instead of guessing a delay."""
    try:
        WebDriverWait(browser, SETTINGS.timeout_s, poll_frequency=0.5).until(lambda _: check())
    except TimeoutException:
        shot = _save(browser, "failed-" + "-".join(what.split()[:6]))
        pytest.fail(f"{what} (waited {SETTINGS.timeout_s:g} s; screenshot {shot})")


def _body(browser) -> str:
    return str(browser.find_element(By.TAG_NAME, "body").text)


def _pixels(element) -> np.ndarray:
    rgba = mpimg.imread(io.BytesIO(element.screenshot_as_png), format="png")
    return (rgba[..., :3] * 255).round().astype(int)


def _share_of(pixels: np.ndarray, colour: tuple[int, int, int], tolerance: int = 20) -> float:
    return float((np.abs(pixels - np.array(colour)).max(axis=-1) <= tolerance).mean())


def _save(browser, name: str) -> Path:
    path = SETTINGS.artifacts / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def test_shipment_map_draws_the_trail_and_the_planned_route(browser, dapp) -> None:
    css = '[data-testid="stDeckGlJsonChart"] canvas'
    _open(browser, f"{dapp}/shipments", css)

    def colours() -> tuple[float, float]:
        pixels = _pixels(browser.find_element(By.CSS_SELECTOR, css))
        return _share_of(pixels, TRAIL), _share_of(pixels, PLANNED)

    _eventually(browser, lambda: colours()[0] > 0.0005, "the red trail of the readings is not on the map")
    _eventually(browser, lambda: colours()[1] > 0.0005, "the blue planned route is not on the map")
    _save(browser, "shipments")


def test_shipment_charts_render_the_readings_with_band_and_verdict(browser, dapp, world) -> None:
    css = '[data-testid="stVegaLiteChart"]'
    assert len(_open(browser, f"{dapp}/shipments", css, count=4)) == 4
    _eventually(
        browser, lambda: f"{world.readings} readings · 1 verdicts" in _body(browser), "the readings count is not shown"
    )

    def temperature() -> np.ndarray:
        return _pixels(browser.find_elements(By.CSS_SELECTOR, css)[0])

    def verdict_tint(pixels: np.ndarray) -> float:
        red, green = pixels[..., 0], pixels[..., 1]
        return float(((red > 200) & (green < 230) & (red - green > 25)).mean())

    _eventually(
        browser,
        lambda: _share_of(temperature(), (31, 119, 180), 30) > 0.0005,
        "no line of readings in the temperature chart",
    )
    _eventually(browser, lambda: verdict_tint(temperature()) > 0.001, "the verdict window is not on the chart")
    assert browser.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]')  # the custody chain (a canvas grid)
    _eventually(browser, lambda: "Delivery report (HTML)" in _body(browser), "no link to the delivery report")


def test_agent_chat_shows_the_transcript(browser, dapp, world) -> None:
    css = '[data-testid="stChatMessage"]'
    assert len(_open(browser, f"{dapp}/chat", css, count=len(world.messages))) == len(world.messages)

    def texts() -> list[str]:
        return [m.text for m in browser.find_elements(By.CSS_SELECTOR, css)]

    _eventually(browser, lambda: "Wholesaler calls for 100 cases of chilled beef" in texts()[0], "no call in the chat")
    _eventually(browser, lambda: "Awarded to supplier 2 at 48.00 per case" in texts()[4], "no award in the chat")
    _save(browser, "chat")


@pytest.mark.parametrize(
    ("page", "path", "title"),
    [("orders", "", "Orders"), ("settlement", "settlement", "Settlement"), ("network", "network", "Network")],
)
def test_other_pages_render_without_error(browser, dapp, page, path, title) -> None:
    _open(browser, f"{dapp}/{path}", '[data-testid="stDataFrame"]')
    _eventually(browser, lambda: title in browser.find_element(By.TAG_NAME, "h1").text, f"no {title} heading")
    _save(browser, page)
    assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
    assert "Page not found" not in _body(browser)
