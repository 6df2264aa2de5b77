"""Command line for the evidence store configured by ``ASC_STORAGE_*``.

    python -m offchain.storage put FILE           store FILE's bytes unchanged; print CID (+ on-chain bytes32)
    python -m offchain.storage get CID [-o OUT]   write the verified bytes to OUT (default: stdout)
    python -m offchain.storage verify CID         fetch, re-hash and compare; exit 1 if missing or altered
    python -m offchain.storage cid FILE           the CID of FILE, computed locally (nothing stored)
    python -m offchain.storage from-bytes32 HEX   the CID an on-chain evidence hash stands for

Exit status: 0 success, 1 missing or altered content or unreachable store, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from multiformats import CID
from pydantic import ValidationError

from offchain.storage.cid import MAX_ONE_BLOCK_BYTES, bytes32_to_cid, cid_to_bytes32, cid_to_text, compute_cid
from offchain.storage.errors import InvalidCidError, StorageError
from offchain.storage.store import open_store

logger = logging.getLogger("offchain.storage")


def _out(line: str) -> None:
    """The CLI's own output (results on stdout; diagnostics go to logging on stderr)."""
    sys.stdout.write(line + "\n")


def _describe(cid: CID, size: int) -> str:
    line = f"{cid_to_text(cid)}\tsize={size}"
    if size <= MAX_ONE_BLOCK_BYTES:
        line += f"\tbytes32=0x{cid_to_bytes32(cid).hex()}"
    return line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m offchain.storage", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("put", help="store a file").add_argument("file", type=Path)
    get = commands.add_parser("get", help="fetch verified bytes")
    get.add_argument("cid")
    get.add_argument("-o", "--output", type=Path, help="output file (default: stdout)")
    commands.add_parser("verify", help="check that the store serves intact bytes").add_argument("cid")
    commands.add_parser("cid", help="compute a file's CID locally").add_argument("file", type=Path)
    commands.add_parser("from-bytes32", help="CID of an on-chain evidence hash").add_argument("hex")
    return parser


def _run(args: argparse.Namespace) -> None:
    if args.command == "cid":
        data = args.file.read_bytes()
        _out(_describe(compute_cid(data), len(data)))
        return
    if args.command == "from-bytes32":
        text = args.hex.removeprefix("0x")
        try:
            raw = bytes.fromhex(text)
        except ValueError as exc:
            raise InvalidCidError(f"not hex: {args.hex!r}") from exc
        _out(cid_to_text(bytes32_to_cid(raw)))
        return
    store = open_store()
    try:
        if args.command == "put":
            data = args.file.read_bytes()
            _out(_describe(store.put(data), len(data)))
        elif args.command == "get":
            data = store.get(args.cid)
            if args.output is None:
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
            else:
                args.output.write_bytes(data)
        elif args.command == "verify":
            data = store.get(args.cid)
            _out(f"ok\t{_describe(compute_cid(data), len(data))}")
    finally:
        store.close()


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    args = _parser().parse_args(argv)
    try:
        _run(args)
    except (InvalidCidError, ValidationError) as exc:
        logger.error("%s", exc)
        return 2
    except (StorageError, OSError) as exc:
        logger.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
