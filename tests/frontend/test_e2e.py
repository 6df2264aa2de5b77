"""End to end: a real scenario run (offchain/scenario: anvil, the deployed suite, the API, oracle nodes, the world
service and the agents, headless and sped up) kept up, the dapp served by `streamlit run` against its chain, API
and evidence store, opened in headless Debian Chromium through selenium. Checks that the map draws the
rerouted shipment's trail and both legs, the charts its readings with the SLA band and the verdict window, the
chat the agents' real transcript, Settlement the compressor failure's penalty and Audit PASS; saves a
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
import yaml
from pydantic_settings import BaseSettings, SettingsConfigDict

from tests.chain_support import ROOT, free_port
from tests.frontend.scenario_run import ScenarioRun, attach, scenario_run

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
    scenario: Path = ROOT / "offchain" / "sim" / "scenarios" / "default.yaml"
    speed: float = 120.0  # simulated seconds per wall second
    scenario_timeout_s: float = 900.0
    # the output of `python -m offchain.scenario run ... --keep-running` started by hand: check the dapp against
    # that run instead of playing one (its runs are under attach_state_dir, ASC_SCENARIO_STATE_DIR of that run)
    attach: Path | None = None
    attach_state_dir: Path = ROOT / ".state" / "scenario"


SETTINGS = E2ESettings()
# Ports of this test (9540-9599; 9500-9539 belong to the other dapp tests): the dapp, then the scenario run.
DAPP_PORTS, SCENARIO_PORTS = range(9540, 9550), (9550, 9599)
# deck.gl colours of frontend/views/shipments.py: the trail and the planned legs.
TRAIL, PLANNED, REROUTED = (220, 40, 40), (30, 110, 200), (120, 60, 180)


def _require_browser() -> None:
    missing = [str(p) for p in (SETTINGS.chromium, SETTINGS.chromedriver) if not p.exists()]
    if missing:
        reason = f"{', '.join(missing)} missing (apt-get install -y chromium chromium-driver)"
        if os.environ.get("ASC_TEST_REQUIRE_CHROMIUM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScenarioRun]:
    _require_browser()  # before minutes of scenario
    if SETTINGS.attach is not None:
        yield attach(SETTINGS.attach, SETTINGS.attach_state_dir)
        return
    state = tmp_path_factory.mktemp("scenario")
    with scenario_run(SETTINGS.scenario, state, SETTINGS.speed, SCENARIO_PORTS, SETTINGS.scenario_timeout_s) as run:
        yield run
    # the orchestrator's progress lines beside the screenshots (written once it has stopped everything)
    SETTINGS.artifacts.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run.log, SETTINGS.artifacts / "scenario.log")


@pytest.fixture(scope="module")
def expected(scenario: ScenarioRun) -> dict:
    data: dict = yaml.safe_load(SETTINGS.scenario.read_text())
    return data


@pytest.fixture(scope="module")
def dapp(scenario: ScenarioRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port(DAPP_PORTS)
    reports = tmp_path_factory.mktemp("reports")
    env = {**os.environ, **scenario.env(reports, ASC_DAPP_REFRESH_S="3600"), "PYTHONPATH": str(ROOT)}
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


def _shipment(dapp: str, scenario: ScenarioRun) -> str:
    return f"{dapp}/shipments?twin={scenario.verdict_twin}"


def test_shipment_map_draws_the_trail_and_both_legs_of_the_reroute(browser, dapp, scenario) -> None:
    assert scenario.legs == 2  # the scenario rerouted: the first carrier's leg and the re-tendered one
    css = '[data-testid="stDeckGlJsonChart"] canvas'
    _open(browser, _shipment(dapp, scenario), css)

    def share(colour: tuple[int, int, int]) -> float:
        return _share_of(_pixels(browser.find_element(By.CSS_SELECTOR, css)), colour)

    _eventually(browser, lambda: share(TRAIL) > 0.0005, "the red trail of the readings is not on the map")
    _eventually(browser, lambda: share(PLANNED) > 0.0005, "the blue planned first leg is not on the map")
    _eventually(browser, lambda: share(REROUTED) > 0.0005, "the purple re-tendered leg is not on the map")
    _save(browser, "shipments-map")


def test_shipment_charts_render_the_readings_with_band_and_verdict(browser, dapp, scenario) -> None:
    css = '[data-testid="stVegaLiteChart"]'
    assert len(_open(browser, _shipment(dapp, scenario), css, count=4)) == 4
    counts = f"{scenario.readings} readings · {scenario.twin_verdicts} verdicts"
    _eventually(browser, lambda: counts in _body(browser), f"'{counts}' is not shown")

    def temperature() -> np.ndarray:
        chart = browser.find_elements(By.CSS_SELECTOR, css)[0]
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", chart)
        return _pixels(chart)

    def verdict_tint(pixels: np.ndarray) -> float:
        red, green = pixels[..., 0], pixels[..., 1]
        return float(((red > 200) & (green < 230) & (red - green > 25)).mean())

    def band_tint(pixels: np.ndarray) -> float:
        red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
        return float(((green > 200) & (green - red > 8) & (green - blue > 8)).mean())

    _eventually(
        browser,
        lambda: _share_of(temperature(), (31, 119, 180), 30) > 0.0005,
        "no line of readings in the temperature chart",
    )
    _eventually(browser, lambda: verdict_tint(temperature()) > 0.001, "the verdict window is not on the chart")
    _eventually(browser, lambda: band_tint(temperature()) > 0.01, "the SLA band is not on the chart")
    _save(browser, "shipments-charts")
    assert browser.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]')  # the custody chain (a canvas grid)
    _eventually(browser, lambda: "Delivery report (HTML)" in _body(browser), "no link to the delivery report")


def test_agent_chat_shows_the_real_transcript(browser, dapp, scenario, expected) -> None:
    css = '[data-testid="stChatMessage"]'
    assert scenario.messages, "the agents published no message"
    shown = _open(browser, f"{dapp}/chat", css, count=len(scenario.messages))
    assert len(shown) == len(scenario.messages)
    _eventually(
        browser, lambda: f"{len(scenario.messages)} messages" in _body(browser), "the message count is not shown"
    )
    first = scenario.messages[0]
    summary = str(first["content"].get("summary") or first["content"])
    _eventually(browser, lambda: summary[:60] in _body(browser), "the first message of the transcript is not shown")
    body = _body(browser)
    # the agents are named by the names they registered under, not by bare addresses
    wholesaler = next(o["name"] for o in expected["organisations"] if o["kind"] == "wholesaler")
    assert f"{wholesaler} (" in body
    priced = [m["content"]["unit_price"] for m in scenario.messages if isinstance(m["content"].get("unit_price"), int)]
    if priced:  # amounts in token units, not base units
        assert f"unit price: {priced[0] / 10**6:,.2f}" in body
    _save(browser, "chat")


def test_settlement_shows_the_penalty_of_the_compressor_failure(browser, dapp, scenario, expected) -> None:
    _open(browser, f"{dapp}/settlement", '[data-testid="stDataFrame"]')
    carrier = expected["expect"]["penalties_on"][0]
    for penalty in scenario.penalties:
        line = f"{penalty.amount / 10**6:,.2f} claimed from {carrier} (carrier)"
        _eventually(browser, lambda line=line: line in _body(browser), f"no '{line}' on the Settlement page")
        _eventually(
            browser, lambda p=penalty: p.verdict_id in _body(browser), f"verdict {penalty.verdict_id} not shown"
        )
    rerouted = next(p for p in scenario.penalties if p.verdict_id == scenario.verdict_id)
    claim = f"{rerouted.amount / 10**6:,.2f} claimed from {carrier} (carrier) (leg 1) for a temperature verdict"
    assert claim in _body(browser)
    _eventually(browser, lambda: "Evidence bafkrei" in _body(browser), "no evidence to download")
    _save(browser, "settlement")
    assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')


def test_audit_of_the_scenario_passes(browser, dapp) -> None:
    _open(browser, f"{dapp}/audit", '[data-testid="stButton"] button')
    button = next(
        b for b in browser.find_elements(By.CSS_SELECTOR, '[data-testid="stButton"] button') if b.text == "Verify"
    )
    button.click()
    _eventually(browser, lambda: "PASS:" in _body(browser) or "FAIL:" in _body(browser), "the audit gave no result")
    _save(browser, "audit")
    assert "PASS:" in _body(browser) and "every order" in _body(browser), _body(browser)[:3000]


@pytest.mark.parametrize(("page", "path", "title"), [("orders", "", "Orders"), ("network", "network", "Network")])
def test_other_pages_render_without_error(browser, dapp, page, path, title) -> None:
    _open(browser, f"{dapp}/{path}", '[data-testid="stDataFrame"]')
    _eventually(browser, lambda: title in browser.find_element(By.TAG_NAME, "h1").text, f"no {title} heading")
    _save(browser, page)
    assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
    assert "Page not found" not in _body(browser)
