"""All oracle benchmarks in one run (`make bench-oracle`): scoring speed, HTTP ingestion, detection-to-mined.

    python bench/oracle.py [--trials N]

Runs, one after the other (never in parallel: the machine's cores are shared), each benchmark present in
bench/: oracle_detect.py (readings scored per second per core; target >= 50,000), api_ingest.py (ingestion
throughput over HTTP) and oracle_latency.py (detection-to-mined latency; target <= 2 blocks). Each writes its
own result file; this script collects them into bench/results/oracle.json and prints the headline figures.
A benchmark that is missing or fails is recorded as such, with its exit code and the tail of its output.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
OUT = RESULTS / "oracle.json"

# name -> (script, result file it writes, extra arguments)
BENCHES: dict[str, tuple[str, str, list[str]]] = {
    "scoring": ("oracle_detect.py", "detect.json", []),
    "ingestion": ("api_ingest.py", "api_ingest.json", []),
    "latency": ("oracle_latency.py", "oracle_latency.json", []),
}


def _run(script: str, result_file: str, args: list[str]) -> dict[str, Any]:
    path = ROOT / "bench" / script
    if not path.exists():
        return {"status": "missing", "script": f"bench/{script}"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(path), *args], cwd=ROOT, capture_output=True, text=True)
    elapsed = round(time.monotonic() - started, 1)
    print(done.stdout, end="")
    entry: dict[str, Any] = {"script": f"bench/{script}", "exit_code": done.returncode, "elapsed_s": elapsed}
    result = RESULTS / result_file
    # A result file older than this run belongs to an earlier run: never report it as this one's.
    if result.exists() and result.stat().st_mtime >= time.time() - elapsed - 1:
        entry["status"] = "ok" if done.returncode == 0 else "below_target_or_failed"
        entry["result"] = json.loads(result.read_text())
    else:
        entry["status"] = "failed"
        entry["output_tail"] = (done.stdout + done.stderr)[-2000:]
    return entry


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20, help="verdicts measured by oracle_latency.py")
    args = parser.parse_args()
    BENCHES["latency"][2].extend(["--trials", str(args.trials)])
    summary = {name: _run(*spec) for name, spec in BENCHES.items()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(summary, indent=2) + "\n")
    print("\noracle benchmarks:")
    for name, entry in summary.items():
        print(f"  {name:10s} {entry['status']} ({entry['script']})")
    print(f"written to {OUT.relative_to(ROOT)}")
    return 0 if all(e["status"] == "ok" for e in summary.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
