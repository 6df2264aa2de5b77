"""A throwaway js-ipfs node for tests and local runs (the rig in ``offchain/storage/ipfs-node``).

``IpfsNode`` initialises a repository in a temporary directory, lets the daemon pick free 127.0.0.1 ports
(port 0; the daemon writes the address it bound to ``$IPFS_PATH/api``), runs ``jsipfs daemon --offline``
in its own process group, waits until the RPC API answers, and on exit stops the whole group and deletes
the repository.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from multiaddr import Multiaddr

from offchain.storage.cid import CidLike, cid_to_text, parse_cid

logger = logging.getLogger(__name__)

NODE_DIR = Path(__file__).resolve().parent / "ipfs-node"
JSIPFS = NODE_DIR / "node_modules" / ".bin" / "jsipfs"
INSTALL_SCRIPT = NODE_DIR / "install.sh"
_ANY_LOCAL_PORT = "/ip4/127.0.0.1/tcp/0"


class IpfsNodeError(RuntimeError):
    """The test node could not be installed, started or stopped."""


def is_installed(jsipfs: Path = JSIPFS) -> bool:
    return jsipfs.is_file() and shutil.which("node") is not None


class IpfsNode:
    """A running offline js-ipfs daemon; use as a context manager."""

    def __init__(
        self, *, jsipfs: Path = JSIPFS, start_timeout_s: float = 60.0, stop_timeout_s: float = 10.0
    ) -> None:
        self._jsipfs = jsipfs
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._repo: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None
        self._api: str | None = None

    @property
    def api_multiaddr(self) -> str:
        """The RPC API address, e.g. ``/ip4/127.0.0.1/tcp/41234/http``."""
        if self._api is None:
            raise IpfsNodeError("the node is not running")
        return self._api

    @property
    def pid(self) -> int:
        """The daemon's process id, which is also its process group id."""
        if self._process is None:
            raise IpfsNodeError("the node is not running")
        return self._process.pid

    @property
    def repo_path(self) -> Path:
        if self._repo is None:
            raise IpfsNodeError("the node is not running")
        return self._repo

    def block_file(self, cid: CidLike) -> Path:
        """The node's file for the block of ``cid`` (flatfs, keyed by multihash), for fault injection."""
        key = base64.b32encode(bytes(parse_cid(cid).digest)).decode("ascii").rstrip("=")
        path = self.repo_path / "blocks" / key[-3:-1] / f"{key}.data"
        if not path.is_file():
            raise IpfsNodeError(f"no block file for {cid_to_text(cid)} at {path}")
        return path

    def _environment(self) -> dict[str, str]:
        return {**os.environ, "IPFS_PATH": str(self.repo_path)}

    def start(self) -> None:
        if self._process is not None:
            raise IpfsNodeError("the node is already running")
        if not is_installed(self._jsipfs):
            raise IpfsNodeError(f"js-ipfs is not installed at {self._jsipfs}: run {INSTALL_SCRIPT}")
        self._repo = Path(tempfile.mkdtemp(prefix="asc-ipfs-"))
        try:
            self._init_repo()
            self._log = (self.repo_path / "daemon.log").open("wb")
            self._process = subprocess.Popen(
                [str(self._jsipfs), "daemon", "--offline"],
                env=self._environment(),
                stdout=self._log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, so stop() reaches node's children too
            )
            self._api = self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        logger.info("IPFS test node ready at %s (repo %s)", self._api, self._repo)

    def _init_repo(self) -> None:
        result = subprocess.run(
            [str(self._jsipfs), "init", "--profile", "test", "--empty-repo"],
            env=self._environment(),
            capture_output=True,
            timeout=self._start_timeout_s,
            check=False,
        )
        if result.returncode != 0:
            raise IpfsNodeError(
                f"jsipfs init failed ({result.returncode}): {result.stderr.decode(errors='replace')}"
            )
        config_path = self.repo_path / "config"
        config = json.loads(config_path.read_text())
        # Port 0 everywhere: parallel nodes (pytest-xdist, other developers) never collide.
        addresses = config["Addresses"]
        addresses.update(
            API=_ANY_LOCAL_PORT, Gateway=_ANY_LOCAL_PORT, RPC=_ANY_LOCAL_PORT, Swarm=[_ANY_LOCAL_PORT]
        )
        config_path.write_text(json.dumps(config, indent=2))

    def _daemon_log(self) -> str:
        try:
            return (self.repo_path / "daemon.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def _wait_until_ready(self) -> str:
        assert self._process is not None
        api_file = self.repo_path / "api"
        deadline = time.monotonic() + self._start_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise IpfsNodeError(
                    f"jsipfs daemon exited with {self._process.returncode}:\n{self._daemon_log()}"
                )
            if api_file.is_file():
                api = api_file.read_text().strip()
                if api and self._answers(api):
                    return api
            time.sleep(0.1)
        raise IpfsNodeError(f"jsipfs daemon not ready after {self._start_timeout_s}s:\n{self._daemon_log()}")

    @staticmethod
    def _answers(api: str) -> bool:
        address = Multiaddr(api)
        url = f"http://{address.value_for_protocol('ip4')}:{address.value_for_protocol('tcp')}/api/v0/version"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        """Stop the daemon's process group (SIGTERM, then SIGKILL) and delete the repository."""
        process, self._process = self._process, None
        if process is not None:
            self._signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout=self._stop_timeout_s)
            except subprocess.TimeoutExpired:
                logger.warning("jsipfs daemon ignored SIGTERM for %ss; killing it", self._stop_timeout_s)
                self._signal_group(process, signal.SIGKILL)
                process.wait(timeout=self._stop_timeout_s)
            # Children (if any) outlived the daemon: they are in the same group.
            self._signal_group(process, signal.SIGKILL)
        self._api = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._repo is not None:
            shutil.rmtree(self._repo, ignore_errors=True)
            self._repo = None

    @staticmethod
    def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)

    def __enter__(self) -> IpfsNode:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
