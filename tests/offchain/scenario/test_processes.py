"""The supervisor: children in their own sessions, logs per child, SIGTERM then SIGKILL to the whole group,
dead children reported; the port pool stays in its range and skips taken ports."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import pytest

from offchain.scenario.processes import PortPool, ProcessError, Supervisor, wait_until

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]
# Ignores SIGTERM and starts a grandchild in the same group: both must be gone after stop().
STUBBORN = [
    sys.executable,
    "-c",
    "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); print(p.pid, flush=True); "
    "time.sleep(60)",
]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_child_output_goes_to_its_log(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs", tmp_path, stop_timeout_s=2)
    child = sup.start("sleeper", SLEEPER, os.environ)
    wait_until("sleeper", lambda: "up" in child.tail(), child, 10)
    assert sup.stop("sleeper") is not None
    assert (tmp_path / "logs" / "sleeper.log").read_text().strip() == "up"


def test_stop_kills_a_child_that_ignores_sigterm_and_its_group(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs", tmp_path, stop_timeout_s=1)
    child = sup.start("stubborn", STUBBORN, os.environ)
    wait_until("stubborn", lambda: child.tail().strip().isdigit(), child, 10)
    grandchild = int(child.tail().strip())
    sup.stop_all()
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert child.popen.poll() is not None and not _alive(grandchild)


def test_a_child_that_exits_unasked_is_reported_dead(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs", tmp_path)
    child = sup.start("quick", [sys.executable, "-c", "raise SystemExit(3)"], os.environ)
    child.popen.wait(timeout=10)
    assert [c.name for c in sup.dead()] == ["quick"]


def test_wait_until_names_a_child_that_died(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs", tmp_path)
    child = sup.start("broken", [sys.executable, "-c", "print('boom'); raise SystemExit(4)"], os.environ)
    with pytest.raises(ProcessError, match="broken exited with 4:\nboom"):
        wait_until("broken", lambda: False, child, 10)


def test_restart_counts(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path / "logs", tmp_path, stop_timeout_s=2)
    sup.start("sleeper", SLEEPER, os.environ)
    sup.kill("sleeper")
    assert sup.restart("sleeper").restarts == 1
    sup.stop_all()


def test_port_pool_skips_taken_ports_and_stays_in_range() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        pool = PortPool(port, port + 1)
        assert pool.take() == port + 1
        with pytest.raises(ProcessError, match="no free port"):
            pool.take()


def test_a_child_that_exits_right_after_something_answered_for_it_is_an_error(tmp_path: Path) -> None:
    # Another program on the child's port answers the readiness check; the child itself then fails to bind.
    sup = Supervisor(tmp_path / "logs", tmp_path, stop_timeout_s=2)
    child = sup.start("loser", ["sh", "-c", "sleep 0.1; echo 'address already in use'; exit 3"], os.environ)
    with pytest.raises(ProcessError, match="loser exited with 3"):
        wait_until("loser", lambda: True, child, 10)
