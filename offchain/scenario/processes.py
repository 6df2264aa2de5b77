"""Child processes of a run: each in its own session (a Ctrl-C reaches the orchestrator only, which then stops
them in reverse order), its output in `<run>/logs/<name>.log`; SIGTERM first, SIGKILL to the whole group
after a timeout, so nothing is left behind."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

logger = logging.getLogger(__name__)


class ProcessError(RuntimeError):
    """A child process failed to start, did not become ready, or died."""


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes]
    restarts: int = 0
    expected_exit: bool = field(default=False)
    terminated: bool = False  # SIGTERM sent once (a second one makes uvicorn skip its graceful shutdown)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Supervisor:
    def __init__(self, logs_dir: Path, cwd: Path, stop_timeout_s: float = 10.0) -> None:
        self.logs_dir = logs_dir
        self.cwd = cwd
        self.stop_timeout_s = stop_timeout_s
        self.children: dict[str, Child] = {}
        logs_dir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> Child:
        if name in self.children and self.children[name].popen.poll() is None:
            raise ProcessError(f"{name} is running already")
        log_path = self.logs_dir / f"{name}.log"
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd or self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        previous = self.children.get(name)
        child = Child(name, list(argv), dict(env), log_path, popen, restarts=previous.restarts + 1 if previous else 0)
        self.children[name] = child
        logger.debug("started %s (pid %d): %s", name, popen.pid, " ".join(argv))
        return child

    def restart(self, name: str) -> Child:
        child = self.children[name]
        return self.start(name, child.argv, child.env)

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash would (the crash-and-restart test)."""
        child = self.children[name]
        _signal_group(child.popen, signal.SIGKILL)
        child.popen.wait(timeout=10)

    def stop(self, name: str) -> int | None:
        child = self.children[name]
        child.expected_exit = True
        if child.popen.poll() is None:
            if not child.terminated:
                child.terminated = True
                _signal_group(child.popen, signal.SIGTERM)
            try:
                child.popen.wait(timeout=self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                logger.warning("%s ignored SIGTERM for %.0f s: killing it", name, self.stop_timeout_s)
                _signal_group(child.popen, signal.SIGKILL)
                child.popen.wait(timeout=10)
        # Helpers the child started in its session (e.g. brownie's compiler) go with it.
        _signal_group(child.popen, signal.SIGKILL)
        return child.popen.returncode

    def stop_all(self, last: tuple[str, ...] = ()) -> None:
        """SIGTERM to every child but `last` at once (agents unregister on the chain as they go, in parallel),
        then `last` in reverse order of start (the API, the chain)."""
        first = [c for n, c in self.children.items() if n not in last and c.popen.poll() is None]
        for child in first:
            child.expected_exit = child.terminated = True
            _signal_group(child.popen, signal.SIGTERM)
        for name in [*(c.name for c in first), *reversed([n for n in self.children if n in last])]:
            try:
                self.stop(name)
            except (OSError, subprocess.SubprocessError) as exc:
                logger.error("stopping %s: %s", name, exc)

    def dead(self) -> list[Child]:
        """Children that exited without being asked to."""
        return [c for c in self.children.values() if not c.expected_exit and c.popen.poll() is not None]


def _signal_group(popen: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(popen.pid, sig)  # the child is its session's (and group's) leader


def wait_until(what: str, ready: Callable[[], bool], child: Child | None, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child is not None and child.popen.poll() is not None:
            raise ProcessError(f"{what} exited with {child.popen.returncode}:\n{child.tail()}")
        if ready():
            # What answered may be another program on that port: ours then exits ("address already in use").
            time.sleep(0.2)
            if child is not None and child.popen.poll() is not None:
                raise ProcessError(f"{what} exited with {child.popen.returncode}:\n{child.tail()}")
            return
        time.sleep(0.2)
    raise ProcessError(f"{what} not ready after {timeout_s:.0f} s" + (f":\n{child.tail()}" if child else ""))


def http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    return check


class PortPool:
    """Free loopback ports from the run's range, never the same one twice in a run."""

    def __init__(self, low: int, high: int) -> None:
        self._next, self._high = low, high

    def take(self) -> int:
        while self._next <= self._high:
            port, self._next = self._next, self._next + 1
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
        raise ProcessError(f"no free port left in the run's range (up to {self._high})")
