"""Run slither over contracts/ with the project's offline solc and fail on unexplained findings.

Every High or Medium finding must be explained in .ci/slither-triage.json (check name + a substring of the
finding's description + the reason it is acceptable); Low/Informational/Optimization findings are listed but
do not fail the run. OpenZeppelin (node_modules) and test-only contracts (contracts/test) are not analysed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRIAGE = ROOT / ".ci" / "slither-triage.json"
FAILING = {"High", "Medium"}


def run_slither() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "slither.json"
        cmd = [
            str(Path(sys.executable).parent / "slither"), "contracts/",
            "--solc-standard-json", "--solc", str(ROOT / "scripts" / "bin" / "solc-v0.8.37"),
            "--solc-remaps", "@openzeppelin=node_modules/@openzeppelin",
            "--filter-paths", "node_modules|contracts/test|contracts/dev",
            "--exclude-dependencies", "--json", str(out),
        ]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if not out.exists():
            sys.stderr.write(proc.stdout + proc.stderr)
            raise SystemExit(f"slither did not produce a report (exit {proc.returncode})")
        report = json.loads(out.read_text())
    if not report.get("success"):
        raise SystemExit(f"slither failed: {report.get('error')}")
    return report.get("results", {}).get("detectors", [])


def main() -> int:
    triage = json.loads(TRIAGE.read_text()) if TRIAGE.exists() else []
    findings = run_slither()
    unexplained = []
    for finding in findings:
        impact, check = finding["impact"], finding["check"]
        first_line = finding["description"].strip().splitlines()[0]
        reason = next((t["reason"] for t in triage
                       if t["check"] == check and t["match"] in finding["description"]), None)
        status = "explained" if reason else ("FAIL" if impact in FAILING else "note")
        print(f"[{impact:>13}] {check}: {first_line} -> {status}{': ' + reason if reason else ''}")
        if impact in FAILING and reason is None:
            unexplained.append(finding)
    print(f"slither: {len(findings)} findings, {len(unexplained)} high/medium unexplained")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
