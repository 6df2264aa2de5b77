"""Run the API: `python -m offchain.api [--fd N]`. Settings come from `ASC_API_*` environment variables.

uvicorn handles SIGINT/SIGTERM: it stops accepting, lets in-flight requests finish (up to
`graceful_shutdown_s`), closes feed sockets, then the lifespan closes the hub and the database.
`--fd` serves on an already-bound listening socket inherited from the parent (socket activation; the
tests use it to get a free port without a race).
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys

import uvicorn
from pydantic import ValidationError

from .main import create_app
from .settings import ApiSettings

logger = logging.getLogger("offchain.api")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offchain.api", description=__doc__)
    parser.add_argument("--fd", type=int, help="serve on this inherited listening socket")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = ApiSettings()  # type: ignore[call-arg]  # required fields come from the environment
    except ValidationError as exc:
        # Show which settings are wrong, never their values (they may be secrets).
        for error in exc.errors():
            name = "ASC_API_" + "_".join(str(part) for part in error["loc"]).upper()
            logger.error("setting %s: %s", name, error["msg"])
        return 2
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=args.log_level,
        timeout_graceful_shutdown=int(settings.graceful_shutdown_s),
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    sockets = [socket.socket(fileno=args.fd)] if args.fd is not None else None
    server.run(sockets=sockets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
