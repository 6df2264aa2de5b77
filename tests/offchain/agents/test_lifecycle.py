"""An agent process registers on start and unregisters on SIGTERM; registering again changes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from offchain.agents.chain import Chain
from offchain.devkeys import dev_account
from tests.chain_support import ROOT
from tests.offchain.agents import configs as c
from tests.offchain.agents.conftest import Node
from tests.offchain.agents.harness import World

CONFIG = ROOT / "offchain" / "agents" / "configs" / "supplier-newmarket.yaml"


def _roles(chain: Chain, address: str) -> int:
    return int(chain.registry.functions.participant(address).call()[0])


def _start(node: Node, tmp_path: Path, manifest: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASC_AGENT_MANIFEST": str(manifest), "ASC_AGENT_RPC_URL": node.url,
           "ASC_AGENT_DEV_KEY_INDEX": "3", "ASC_AGENT_DATA_DIR": str(tmp_path), "ASC_AGENT_CONFIRMATIONS": "0",
           "ASC_AGENT_POLL_INTERVAL_S": "0.2"}
    return subprocess.Popen([sys.executable, "-m", "offchain.agents", "run", str(CONFIG), *extra], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_the_process_registers_then_unregisters_on_sigterm(chain_node: Node, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(chain_node.manifest.to_json())
    chain = Chain(chain_node.w3, chain_node.manifest)
    address = dev_account(3, 31337).address
    process = _start(chain_node, tmp_path, manifest)
    try:
        deadline = time.monotonic() + 60
        while _roles(chain, address) != 1:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the agent did not register"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert _roles(chain, address) == 0
    assert "unregistered (mined)" in output


def test_a_bad_config_exits_2_naming_it(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "offchain.agents", "run", str(tmp_path / "missing.yaml")], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "missing.yaml" in done.stderr


def test_registering_again_sends_nothing(world: World) -> None:
    agent = world.add(c.supplier("supplier-ely", "supplier_ely"), 2)
    assert agent.register() is None
    assert _roles(world.chain, world.account(2).address) == 1
