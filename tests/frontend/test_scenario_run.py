"""tests/frontend/scenario_run.py: reading the orchestrator's output (the run itself is the e2e's fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.frontend.scenario_run import ScenarioRunError, _kept_running, attach

KEPT = """[sim  --:-- | wall    0.0 s] scenario default: a story (run 20261124T045446-1)
[sim +03:03 | wall  147.5 s] scenario default: {result}
[sim +03:03 | wall  147.5 s] everything keeps running; Ctrl-C stops it
[sim +03:03 | wall  147.5 s]   API: http://127.0.0.1:9551
[sim +03:03 | wall  147.5 s]   world: http://127.0.0.1:9555
[sim +03:03 | wall  147.5 s]   chain: http://127.0.0.1:9550
"""


def test_the_urls_kept_running_are_read_from_the_output(tmp_path: Path) -> None:
    urls = _kept_running(KEPT.format(result="PASS"), tmp_path / "log")
    assert urls == {"API": "http://127.0.0.1:9551", "world": "http://127.0.0.1:9555", "chain": "http://127.0.0.1:9550"}


def test_a_failed_scenario_is_an_error_with_the_output(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text(KEPT.format(result="FAIL"))
    with pytest.raises(ScenarioRunError, match="did not pass its expectations"):
        _kept_running(log.read_text(), log)


def test_attaching_to_a_run_not_kept_running_is_an_error(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text(KEPT.splitlines()[0])
    with pytest.raises(ScenarioRunError, match="not \\(yet\\) kept running"):
        attach(log, tmp_path)
