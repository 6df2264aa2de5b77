"""Run one oracle node: ``python -m oracles.node``. Settings come from ``ASC_ORACLE_*`` (and ``ASC_STORAGE_*``
for the evidence store). SIGTERM/SIGINT finish the current step, stop the peer endpoint and exit 0.
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
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = OracleNodeSettings()
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
