"""Audit the active brownie network's deployment: `brownie run scripts/audit.py --network asc-local`.

A thin wrapper over offchain.audit: the manifest is ASC_MANIFEST or .state/deployments/<network>.json, the RPC
endpoint the active network's (unless ASC_AUDIT_RPC_URL says otherwise). Exits 1 when any check fails, 2 for bad
input, like `python -m offchain.audit`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from brownie import network, web3

from offchain.audit.__main__ import main as audit_main
from offchain.audit.settings import AuditSettings
from offchain.manifest import default_manifest_path
from scripts.deploy import ROOT


def main() -> None:
    manifest = Path(os.environ.get("ASC_MANIFEST") or default_manifest_path(network.show_active(), ROOT))
    settings = AuditSettings()
    if settings.rpc_url is None:
        settings = settings.model_copy(update={"rpc_url": getattr(web3.provider, "endpoint_uri", None)})
    argv = ["--manifest", str(manifest)]
    if report := os.environ.get("ASC_AUDIT_REPORT"):
        argv += ["--report", report]
    status = audit_main(argv, settings)
    if status:
        sys.exit(status)
