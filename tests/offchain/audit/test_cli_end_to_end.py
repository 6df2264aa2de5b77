"""The audit CLI against a real chain: a clean deployment passes; each tampering is detected and named."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
from pathlib import Path

from eth_utils.crypto import keccak
from web3 import Web3

from offchain.storage.cid import parse_cid
from offchain.storage.store import EmbeddedStore
from tests.offchain.audit.conftest import ROOT, Deployment, run_audit_cli, tool_env


def test_a_clean_deployment_passes_every_check(deployment: Deployment, tmp_path: Path) -> None:
    run = run_audit_cli(
        "--manifest", str(deployment.manifest), "--json", "--report", str(tmp_path / "audit.md"), env=deployment.env()
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = run.result
    assert result["passed"] is True
    assert {c["name"]: c["status"] for c in result["checks"]} == {
        "custody": "PASS",
        "verdicts": "PASS",
        "evidence": "PASS",
        "penalties": "PASS",
        "escrow": "PASS",
        "code": "PASS",
    }
    assert deployment.summary["order_id"] in result["orders"]
    assert run.check("custody")["checked"] == 3  # pickup, cross-dock, delivery offers
    assert run.check("verdicts")["checked"] == 1
    notes = [f for f in run.check("code")["findings"] if f["status"] == "NOTE"]
    assert [n["where"] for n in notes] == [f"BackdoorToken at {deployment.summary['token']}"]


def test_the_report_is_written_with_plots(deployment: Deployment, tmp_path: Path) -> None:
    run = run_audit_cli(
        "--manifest", str(deployment.manifest), "--report", str(tmp_path / "audit.md"), env=deployment.env()
    )
    assert run.returncode == 0, run.stdout + run.stderr
    markdown = (tmp_path / "audit.md").read_text()
    assert "PASS code" in markdown and deployment.summary["verdict_id"] in markdown
    assert "no API configured" in markdown  # no sensor series invented
    assert "CustodyTwin.HandoffAccepted(twinId=1" in markdown and "Escrow.OrderSettled(orderId=1" in markdown
    assert markdown.count("Escrow.Withdrawn(") == 4  # supplier, two carriers, wholesaler
    assert (tmp_path / "audit.html").read_text().startswith("<!doctype html>")
    order = deployment.summary["order_id"]
    assert (tmp_path / "audit-plots" / f"order-{order}-timeline.png").stat().st_size > 0


def test_an_altered_evidence_object_fails_naming_the_verdict_and_cid(deployment: Deployment, tmp_path: Path) -> None:
    store_dir = tmp_path / "evidence"
    shutil.copytree(deployment.evidence, store_dir)
    cid = deployment.summary["evidence_cid"]
    stored = EmbeddedStore(store_dir)._path(parse_cid(cid))
    stored.chmod(stat.S_IWUSR | stat.S_IRUSR)
    stored.write_bytes(stored.read_bytes().replace(b'"temp_centi_c":650', b'"temp_centi_c":450'))

    run = run_audit_cli(
        "--manifest", str(deployment.manifest), "--json", env=deployment.env(ASC_STORAGE_DIRECTORY=str(store_dir))
    )
    assert run.returncode == 1
    (failure,) = run.failures("evidence")
    assert "altered" in failure["what"]
    assert deployment.summary["verdict_id"] in failure["where"] and cid in failure["where"]
    assert [c["name"] for c in run.result["checks"] if c["status"] == "FAIL"] == ["evidence"]


def test_a_missing_evidence_object_fails(deployment: Deployment, tmp_path: Path) -> None:
    run = run_audit_cli(
        "--manifest",
        str(deployment.manifest),
        "--json",
        env=deployment.env(ASC_STORAGE_DIRECTORY=str(tmp_path / "empty")),
    )
    assert run.returncode == 1
    (failure,) = run.failures("evidence")
    assert "missing" in failure["what"] and deployment.summary["evidence_cid"] in failure["where"]


def test_an_impostor_contract_in_the_manifest_fails_naming_it(deployment: Deployment, tmp_path: Path) -> None:
    # The impostor manifest is self-consistent: it records the impostor's own code hash, as a forger would.
    manifest = json.loads(deployment.manifest.read_text())
    impostor = deployment.summary["token"]  # some other contract: the backdoor token
    code = Web3(Web3.HTTPProvider(deployment.rpc_url)).eth.get_code(impostor)
    manifest["contracts"]["ParticipantRegistry"]["address"] = impostor
    manifest["contracts"]["ParticipantRegistry"]["runtime_code_hash"] = "0x" + keccak(code).hex()
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(manifest))

    run = run_audit_cli("--manifest", str(forged), "--json", env=deployment.env())
    assert run.returncode == 1
    (failure,) = run.failures("code")
    assert "impostor" in failure["what"] and "ParticipantRegistry" in failure["what"]
    assert failure["where"] == f"ParticipantRegistry at {impostor}"


def test_an_escrow_drained_through_a_backdoor_fails_naming_the_difference(deployment: Deployment) -> None:
    w3 = Web3(Web3.HTTPProvider(deployment.rpc_url))
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    try:
        token = w3.eth.contract(
            address=deployment.summary["token"],
            abi=[
                {
                    "inputs": [
                        {"name": "from", "type": "address"},
                        {"name": "to", "type": "address"},
                        {"name": "amount", "type": "uint256"},
                    ],
                    "name": "backdoorTransfer",
                    "outputs": [],
                    "stateMutability": "nonpayable",
                    "type": "function",
                }
            ],
        )
        thief = w3.eth.accounts[9]
        tx = token.functions.backdoorTransfer(deployment.summary["escrow"], thief, 123_456_789).transact(
            {"from": deployment.summary["deployer"]}
        )
        assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1

        run = run_audit_cli("--manifest", str(deployment.manifest), "--json", env=deployment.env())
        assert run.returncode == 1
        failures = run.failures("escrow")
        assert any("difference -123456789" in f["what"] for f in failures)
        unexplained = [f for f in failures if "explained by no Escrow event" in f["what"]]
        assert (
            len(unexplained) == 1
            and f"to {thief}" in unexplained[0]["what"]
            and tx.hex().removeprefix("0x") in unexplained[0]["where"]
        )
    finally:
        w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


def test_one_shipment_can_be_audited_alone(deployment: Deployment) -> None:
    order = deployment.summary["funded_order_id"]
    run = run_audit_cli(
        "--manifest", str(deployment.manifest), "--json", "--shipment", str(order), env=deployment.env()
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result["orders"] == [order]


def test_an_unknown_shipment_is_bad_input(deployment: Deployment) -> None:
    run = run_audit_cli("--manifest", str(deployment.manifest), "--shipment", "999", env=deployment.env())
    assert run.returncode == 2
    assert "no shipment (order) 999" in run.stderr


def test_a_missing_manifest_is_bad_input(tmp_path: Path) -> None:
    run = run_audit_cli("--manifest", str(tmp_path / "nope.json"), env=tool_env())
    assert run.returncode == 2
    assert "no deployment manifest" in run.stderr


def test_a_manifest_for_another_chain_is_bad_input(deployment: Deployment, tmp_path: Path) -> None:
    manifest = json.loads(deployment.manifest.read_text())
    manifest["chain_id"] = 1
    other = tmp_path / "other.json"
    other.write_text(json.dumps(manifest))
    run = run_audit_cli("--manifest", str(other), env=deployment.env())
    assert run.returncode == 2
    assert "manifest is for chain 1" in run.stderr


def test_the_brownie_script_audits_the_active_network(deployment: Deployment, network_name: str) -> None:
    env = deployment.env(ASC_MANIFEST=str(deployment.manifest))
    del env["ASC_AUDIT_RPC_URL"]  # the script takes the active network's endpoint
    done = subprocess.run(
        ["brownie", "run", "scripts/audit.py", "--network", network_name, "--silent"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "PASS code" in done.stdout and done.stdout.rstrip().endswith("PASS")


def test_invalid_settings_are_bad_input(tmp_path: Path) -> None:
    run = run_audit_cli("--manifest", str(tmp_path / "m.json"), env=tool_env(ASC_AUDIT_LOG_CHUNK_BLOCKS="0"))
    assert run.returncode == 2
    assert "log_chunk_blocks" in run.stderr
