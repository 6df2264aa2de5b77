"""Detection-to-mined latency of the oracle network on a local chain.

    python bench/oracle_latency.py [--trials N] [--block-time S] [--ports FIRST-LAST]

Set-up (all real processes, on loopback ports of --ports, default 9100-9199): anvil mining a block every S
seconds, the suite deployed with a 2-of-3 development oracle set, the reading API, and 3 oracle node processes
(k = 2) watching one picked-up order per trial. Each trial posts a shipment's readings up to, but not
including, the reading that completes the evidence of a temperature excursion (the one past the grace
period), waits until the nodes have read them, then posts that reading and measures until the
VerdictAccepted event is on-chain:

* blocks: block of the VerdictAccepted log minus the latest block when the completing reading was accepted;
* seconds: wall time from the API accepting the completing reading to the event being seen (polled every
  20 ms, so the figure includes up to 20 ms of observation delay).

Target (issue): a verdict mined within 2 blocks of the reading that completes the evidence. Prints a summary
and writes bench/results/oracle_latency.json. With N trials, p99 is the nearest-rank percentile (the maximum
for N < 100).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tests.oracles.node.conftest as node_support  # noqa: E402
from offchain.scenario.processes import PortPool  # noqa: E402
from tests.oracles.node.conftest import (  # noqa: E402
    ADMIN_TOKEN,
    ORACLE_TOKEN,
    Api,
    Chain,
    Nodes,
    _env,
    _ready,
    _setup,
    excursion_readings,
    now_ms,
    stop_process,
    wait_until,
)

OUT = ROOT / "bench" / "results" / "oracle_latency.json"
TARGET_BLOCKS = 2
log = logging.getLogger("asc.bench.oracle_latency")


def use_ports(ports: range) -> None:
    """Take every port this run listens on (anvil, the API, the nodes) from ``ports``.

    The node test helpers pick their ports through their module's ``free_port`` (fixed to 9100-9199, the
    node tests' range); replacing it lets the bench run beside those tests on a range of its own.
    """
    pool = PortPool(ports.start, ports.stop - 1)
    node_support.free_port = pool.take


def port_range(text: str) -> range:
    """``FIRST-LAST`` (inclusive) as a range, for argparse."""
    try:
        first, last = (int(part) for part in text.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected FIRST-LAST, got {text!r}") from None
    if not 1024 <= first <= last <= 65535:
        raise argparse.ArgumentTypeError(f"expected 1024 <= FIRST <= LAST <= 65535, got {text!r}")
    return range(first, last + 1)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _trial(chain: Chain, api: Api, order: dict[str, Any], hub: Any) -> dict[str, float]:
    shipment = str(order["twin_id"])
    device = api.device_for(shipment)
    readings = excursion_readings(now_ms() - 40 * 60_000, normal=5, hot=17)
    # 5 normal, then hot readings one a minute: the 17th hot one is 960 s into the excursion (grace 900 s).
    api.post(shipment, device, readings[:-1])
    time.sleep(1.5)  # the nodes poll every 0.25 s: let them read everything before the completing reading
    block_before = chain.w3.eth.block_number
    started = time.perf_counter()
    api.post(shipment, device, readings[-1:])
    event_filter = {"orderId": order["order_id"]}
    while True:
        logs = hub.events.VerdictAccepted.get_logs(from_block=block_before, argument_filters=event_filter)
        if logs:
            seconds = time.perf_counter() - started
            return {"blocks": logs[0]["blockNumber"] - block_before, "seconds": seconds}
        if time.perf_counter() - started > 60:
            raise RuntimeError(f"no verdict for order {order['order_id']} within 60 s")
        time.sleep(0.02)


def run(trials: int, block_time_s: int, workdir: Path) -> dict[str, Any]:
    port = node_support.free_port()
    anvil = subprocess.Popen(
        [
            str(ROOT / "node_modules" / ".bin" / "anvil"),
            "--port",
            str(port),
            "--silent",
            "--accounts",
            "10",
            "--block-time",
            str(block_time_s),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    api_process = None
    nodes = None
    try:
        from web3 import Web3

        from offchain.manifest import load_manifest

        rpc_url = f"http://127.0.0.1:{port}"
        w3 = Web3(Web3.HTTPProvider(rpc_url))
        wait_until(lambda: _chain_up(w3), 20, "anvil")
        manifest_path = workdir / "manifest.json"
        project = workdir / "brownie-project"
        log.info("deploying the suite and %d orders (block time %d s) ...", trials, block_time_s)
        _setup("deploy", rpc_url, manifest_path, project)
        chain = Chain(rpc_url, manifest_path, load_manifest(manifest_path), project, w3)
        orders = [chain.new_order() for _ in range(trials)]

        api_port = node_support.free_port()
        api_env = {
            **_env(),
            "ASC_API_ADMIN_TOKEN": ADMIN_TOKEN,
            "ASC_API_ORACLE_TOKEN": ORACLE_TOKEN,
            "ASC_API_DATA_DIR": str(workdir),
            "ASC_API_PORT": str(api_port),
        }
        with (workdir / "api.log").open("wb") as api_log:
            api_process = subprocess.Popen(
                [sys.executable, "-m", "offchain.api"],
                env=api_env,
                cwd=ROOT,
                stdout=api_log,
                stderr=subprocess.STDOUT,
            )
        api = Api(f"http://127.0.0.1:{api_port}", api_process, workdir / "api.log")
        wait_until(lambda: _ready(api.base_url), 30, "the API")

        nodes = Nodes(chain, api, workdir)
        specs = nodes.specs(3)
        shipments = ",".join(str(o["twin_id"]) for o in orders)
        running = [nodes.start(spec, specs, shipments) for spec in specs]
        # Measure a running network, not start-up: every node has loaded every shipment's terms.
        wait_until(lambda: all(n.log().count("resuming after") == trials for n in running), 60, "the nodes")
        hub = chain.contract("VerdictHub")
        samples = []
        for index, order in enumerate(orders):
            sample = _trial(chain, api, order, hub)
            log.info("trial %d: %d blocks, %.3f s", index + 1, sample["blocks"], sample["seconds"])
            samples.append(sample)
        blocks = [s["blocks"] for s in samples]
        seconds = [s["seconds"] for s in samples]
        return {
            "trials": trials,
            "block_time_s": block_time_s,
            "nodes": 3,
            "threshold": 2,
            "blocks": {"p50": percentile(blocks, 50), "p99": percentile(blocks, 99), "max": max(blocks)},
            "seconds": {
                "p50": round(percentile(seconds, 50), 3),
                "p99": round(percentile(seconds, 99), 3),
                "max": round(max(seconds), 3),
            },
            "target_blocks": TARGET_BLOCKS,
            "meets_target": percentile(blocks, 99) <= TARGET_BLOCKS,
            "samples": samples,
            "machine": {
                "python": platform.python_version(),
                "cpu": platform.processor() or platform.machine(),
            },
        }
    finally:
        if nodes is not None:
            nodes.stop_all()
        if api_process is not None:
            stop_process(api_process)
        stop_process(anvil)


def _chain_up(w3: Any) -> bool:
    try:
        return bool(w3.eth.chain_id)
    except Exception:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--block-time", type=int, default=1, help="anvil block interval in seconds")
    parser.add_argument(
        "--ports", type=port_range, default=range(9100, 9200), help="loopback ports to use, FIRST-LAST"
    )
    args = parser.parse_args()
    use_ports(args.ports)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="asc-oracle-latency-") as tmp:
        result = run(args.trials, args.block_time, Path(tmp))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"detection-to-mined latency over {result['trials']} verdicts ({result['block_time_s']} s blocks, "
        f"3 nodes, k=2):"
    )
    print(
        f"  blocks : p50 {result['blocks']['p50']}, p99 {result['blocks']['p99']} (target <= {TARGET_BLOCKS})"
    )
    print(f"  seconds: p50 {result['seconds']['p50']}, p99 {result['seconds']['p99']}")
    print(f"written to {OUT.relative_to(ROOT)}")
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
