"""Shared by the tests that need their own chain and a brownie *live* network for it (the live-deployment
test, the audit tests): start anvil on a loopback port, declare/delete the network, forget brownie's cache."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from web3 import Web3

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "node_modules" / ".bin"


def free_port(ports: range | None = None) -> int:
    """A free loopback port: any (ports=None) or the first free one in `ports`."""
    candidates = [0] if ports is None else list(ports)
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError(f"no free loopback port in {ports}")


def tool_env(**extra: str) -> dict[str, str]:
    """The environment brownie and the project's tools need: node_modules/.bin and the venv on PATH, the solc
    wrapper for py-solc-x."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}:{Path(sys.executable).parent}:{env['PATH']}"
    env["SOLCX_BINARY_PATH"] = str(ROOT / "scripts" / "bin")
    return env | extra


@contextmanager
def anvil(port: int, chain_id: int, timeout_s: float = 20) -> Iterator[str]:
    """A throwaway anvil on 127.0.0.1:`port`; yields its URL, stops it on exit."""
    proc = subprocess.Popen(
        [str(BIN / "anvil"), "--port", str(port), "--chain-id", str(chain_id), "--silent"], start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    w3 = Web3(Web3.HTTPProvider(url))
    deadline = time.monotonic() + timeout_s
    try:
        while not w3.is_connected():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"anvil did not start on port {port}")
            time.sleep(0.1)
        # Whoever answers may be another process that took the port first (anvil then exits with "Address
        # already in use" a moment later): a test must never deploy onto someone else's chain.
        time.sleep(0.3)
        if proc.poll() is not None:
            raise RuntimeError(f"anvil exited ({proc.returncode}): port {port} is taken by another process")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def forget_brownie_deployments() -> None:
    """brownie caches live deployments per chain id and crashes on connect when a cached address has no code
    (every test run starts a new chain with the same id); the manifest is our record, not that cache."""
    shutil.rmtree(ROOT / "build" / "deployments", ignore_errors=True)


@contextmanager
def brownie_network(name: str, url: str, chain_id: int) -> Iterator[str]:
    """Declare `name` as a brownie live network for `url` (machine-wide list), delete it on exit."""
    forget_brownie_deployments()
    added = subprocess.run(
        ["brownie", "networks", "add", "Ethereum", name, f"host={url}", f"chainid={chain_id}"],
        cwd=ROOT,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if added.returncode != 0:
        raise RuntimeError(f"brownie networks add {name} failed: {added.stdout}{added.stderr}")
    try:
        yield name
    finally:
        subprocess.run(["brownie", "networks", "delete", name], cwd=ROOT, env=tool_env(), capture_output=True)
        forget_brownie_deployments()
