"""Run one oracle node: ``python -m oracles.node``. Settings come from ``ASC_ORACLE_*`` (and ``ASC_STORAGE_*``
for the evidence store); the flags below override the few an orchestrator sets per node. SIGTERM/SIGINT
finish the current step, stop the peer endpoint and exit 0.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from pydantic import ValidationError

from offchain.manifest import ManifestError
from oracles.node.chain import ChainError
from oracles.node.daemon import NodeConfigError, OracleNode
from oracles.node.settings import OracleNodeSettings

log = logging.getLogger("asc.oracle.node")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oracles.node", description=__doc__)
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--manifest", dest="manifest_path", help="deployment manifest (ASC_ORACLE_MANIFEST_PATH)")
    parser.add_argument("--rpc-url", dest="rpc_url", help="JSON-RPC endpoint (default: the manifest's rpc_hint)")
    parser.add_argument("--api-url", dest="api_url", help="reading API base URL (ASC_ORACLE_API_URL)")
    parser.add_argument("--dev-key-index", dest="dev_key_index", type=int, help="local chains: the i-th dev oracle key")
    parser.add_argument("--peers", dest="peers", help="other nodes' base URLs, comma-separated")
    parser.add_argument("--port", dest="listen_port", type=int, help="peer endpoint port (ASC_ORACLE_LISTEN_PORT)")
    parser.add_argument("--data-dir", dest="data_dir", help="checkpoint directory (ASC_ORACLE_DATA_DIR)")
    args = parser.parse_args(argv)
    overrides = {name: value for name, value in vars(args).items() if name != "log_level" and value is not None}
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = OracleNodeSettings(**overrides)
    except ValidationError as exc:
        # Name the wrong settings, never their values (the key is one of them).
        for error in exc.errors():
            name = "ASC_ORACLE_" + "_".join(str(part) for part in error["loc"]).upper()
            log.error("setting %s: %s", name.rstrip("_"), error["msg"])
        return 2
    try:
        node = OracleNode(settings)
    except (NodeConfigError, ManifestError) as exc:
        log.error("%s", exc)
        return 2

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        node.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        node.run()
    except ChainError as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
