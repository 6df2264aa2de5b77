"""Write the API's OpenAPI document to interfaces/openapi.json (or check that it is up to date).

python -m offchain.api.export_openapi            # write
python -m offchain.api.export_openapi --check    # exit 1 if the committed file differs
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .main import build_app

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "interfaces" / "openapi.json"


def render() -> str:
    return json.dumps(build_app().openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offchain.api.export_openapi", description=__doc__)
    parser.add_argument("--output", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; run python -m offchain.api.export_openapi", file=sys.stderr)  # noqa: T201
            return 1
        print(f"{args.output} is up to date")  # noqa: T201
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
