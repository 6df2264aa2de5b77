"""python -m offchain.audit --manifest PATH [--shipment ID] [--json] [--report FILE]

Exit status: 0 when every check passes, 1 when any fails (each failure printed with what and where), 2 for
bad input (missing or invalid manifest, unreachable or wrong chain, unknown shipment, bad settings).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from offchain.audit.audit import AuditInputError, AuditReport, run_audit
from offchain.audit.events import AuditRpcError
from offchain.audit.findings import Status
from offchain.audit.settings import AuditSettings
from offchain.manifest import ManifestError, load_manifest

log = logging.getLogger("asc.audit")

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m offchain.audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", required=True, type=Path, help="deployment manifest (scripts/deploy.py)")
    parser.add_argument(
        "--shipment",
        type=int,
        help="report only this order (custody, escrow reconciliation and code stay deployment-wide)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of text")
    parser.add_argument("--report", type=Path, help="write FILE.md, FILE.html and plots next to them")
    parser.add_argument("--verbose", action="store_true", help="log progress")
    return parser


def text_summary(report: AuditReport) -> str:
    lines = [f"audit of {report.network} (chain {report.chain_id}) at block {report.block}"]
    for check in report.checks:
        lines.append(f"{check.status.value} {check.name}: {check.title} ({check.checked} checked)")
        lines += [f"  {f.status.value} {f.what} [{f.where}]" for f in check.findings if f.status is not Status.PASS]
    lines.append("PASS" if report.passed else "FAIL")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, settings: AuditSettings | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        settings = settings or AuditSettings()
        manifest = load_manifest(args.manifest)
        report = run_audit(manifest, settings, shipment=args.shipment)
    except (ManifestError, AuditInputError, ValidationError) as exc:
        print(f"audit: {exc}", file=sys.stderr)  # noqa: T201 (the CLI's own output)
        return EXIT_BAD_INPUT
    except AuditRpcError as exc:
        print(f"audit: the node failed: {exc}", file=sys.stderr)  # noqa: T201
        return EXIT_BAD_INPUT
    if args.report is not None:
        from offchain.audit.report import write_report  # matplotlib only when a report is asked for

        write_report(report, args.report, settings.api_url)
    print(json.dumps(report.as_dict(), indent=2) if args.json else text_summary(report))  # noqa: T201
    return EXIT_OK if report.passed else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
