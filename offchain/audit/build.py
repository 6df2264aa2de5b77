"""Runtime code built from this repository's sources, with the positions of its immutables.

The auditor compiles the sources itself with the repository's pinned compiler (scripts/bin/solc-v0.8.37, the
solc-js 0.8.37 wrapper brownie uses) and the settings of brownie-config.yaml, through solc's standard JSON: only
that output carries `evm.deployedBytecode.immutableReferences` (brownie's build artefacts drop them). The
output is cached by the hash of the compiler input, so a second audit of the same sources compiles nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

SOLC = Path("scripts") / "bin" / "solc-v0.8.37"
COMPILE_TIMEOUT_S = 600


class BuildError(RuntimeError):
    """The sources could not be compiled, or do not define a contract the manifest names."""


@dataclass(frozen=True)
class BuiltContract:
    name: str
    source_path: str
    runtime: bytes
    immutables: tuple[tuple[int, int], ...]  # (start, length) byte ranges filled in at deployment


def _sources_defining(root: Path, names: set[str]) -> dict[str, str]:
    """Source unit name (path relative to `root`) -> text, for the files defining any of `names`."""
    found: dict[str, str] = {}
    missing = set(names)
    for path in sorted((root / "contracts").rglob("*.sol")):
        relative = path.relative_to(root)
        if any(part.startswith("_") for part in relative.parts):  # brownie skips these too
            continue
        text = path.read_text(encoding="utf-8")
        defined = {m for m in re.findall(r"^\s*(?:abstract\s+)?contract\s+(\w+)", text, re.MULTILINE)}
        if defined & missing:
            found[relative.as_posix()] = text
            missing -= defined
    if not found:
        raise BuildError(f"no source under {root / 'contracts'} defines any of {sorted(names)}")
    # Names no source defines are left out: the code check reports each of them.
    return found


def _settings(root: Path) -> dict[str, Any]:
    config = yaml.safe_load((root / "brownie-config.yaml").read_text(encoding="utf-8"))["compiler"]
    solc = config["solc"]
    return {
        "optimizer": {"enabled": bool(solc["optimizer"]["enabled"]), "runs": int(solc["optimizer"]["runs"])},
        "evmVersion": config["evm_version"],
        "remappings": list(solc.get("remappings", [])),
        "outputSelection": {"*": {"*": ["evm.deployedBytecode.object", "evm.deployedBytecode.immutableReferences"]}},
    }


def build(root: Path, names: set[str], cache: Path) -> dict[str, BuiltContract]:
    """Compile the sources defining `names`; returns every contract of those files by name."""
    request = {"language": "Solidity", "sources": {}, "settings": _settings(root)}
    sources = _sources_defining(root, names)
    request["sources"] = {path: {"content": text} for path, text in sources.items()}
    payload = json.dumps(request, sort_keys=True).encode()
    cached = cache / f"{hashlib.sha256(payload).hexdigest()}.json"
    if cached.is_file():
        output = json.loads(cached.read_text(encoding="utf-8"))
    else:
        output = _compile(root, payload)
        cache.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(output), encoding="utf-8")
    built: dict[str, BuiltContract] = {}
    for path, contracts in output.get("contracts", {}).items():
        if path not in sources:
            continue
        for name, artefact in contracts.items():
            deployed = artefact["evm"]["deployedBytecode"]
            ranges = tuple(
                sorted(
                    (int(r["start"]), int(r["length"]))
                    for refs in deployed.get("immutableReferences", {}).values()
                    for r in refs
                )
            )
            built[name] = BuiltContract(name, path, bytes.fromhex(deployed["object"]), ranges)
    return built


def _compile(root: Path, payload: bytes) -> dict[str, Any]:
    log.info("compiling the sources with %s (standard JSON) ...", SOLC)
    allow = ",".join([str(root), str(root / "node_modules")])
    try:
        done = subprocess.run(
            ["node", str(root / SOLC), "--standard-json", "--allow-paths", allow],
            input=payload,
            cwd=root,
            capture_output=True,
            timeout=COMPILE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"cannot run the compiler {SOLC}: {exc}") from exc
    if done.returncode != 0:
        raise BuildError(f"{SOLC} failed: {done.stderr.decode(errors='replace').strip()}")
    output: dict[str, Any] = json.loads(done.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise BuildError("compilation failed: " + "; ".join(e.get("formattedMessage", e["message"]) for e in errors))
    return output
