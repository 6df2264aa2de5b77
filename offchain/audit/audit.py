"""Runs the whole audit of one deployment at one block: connect, read events, rebuild, check."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eth_typing import HexStr
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3Exception

from offchain.audit.build import BuildError, build
from offchain.audit.checks import code, custody, escrow, evidence, verdicts
from offchain.audit.events import ERC20_ABI, ChainEvent, EventReader, RpcClient, in_chain_order
from offchain.audit.findings import CheckResult, Status
from offchain.audit.history import History, rebuild
from offchain.audit.settings import AuditSettings
from offchain.manifest import DeploymentManifest
from offchain.storage.store import EvidenceStore, open_store

log = logging.getLogger(__name__)


class AuditInputError(ValueError):
    """The audit cannot start: no RPC endpoint, wrong chain, unknown shipment."""


@dataclass
class AuditReport:
    network: str
    chain_id: int
    block: int
    manifest: DeploymentManifest
    history: History
    checks: list[CheckResult] = field(default_factory=list)
    shipment: int | None = None

    @property
    def passed(self) -> bool:
        return all(c.status is Status.PASS for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "chain_id": self.chain_id,
            "block": self.block,
            "shipment": self.shipment,
            "passed": self.passed,
            "orders": sorted(self.history.orders),
            "checks": [c.as_dict() for c in self.checks],
        }


def connect(manifest: DeploymentManifest, settings: AuditSettings) -> Web3:
    url = settings.rpc_url or manifest.rpc_hint
    if not url:
        raise AuditInputError("no RPC endpoint: set ASC_AUDIT_RPC_URL (the manifest has no rpc_hint)")
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
    try:
        chain_id = w3.eth.chain_id
    except (OSError, Web3Exception, ValueError) as exc:  # requests' connection errors are OSErrors
        raise AuditInputError(f"cannot reach the node at {url}: {exc}") from exc
    if chain_id != manifest.chain_id:
        raise AuditInputError(f"the node at {url} is chain {chain_id}; the manifest is for chain {manifest.chain_id}")
    return w3


def run_audit(
    manifest: DeploymentManifest,
    settings: AuditSettings,
    shipment: int | None = None,
    w3: Web3 | None = None,
    store: EvidenceStore | None = None,
) -> AuditReport:
    w3 = w3 or connect(manifest, settings)
    rpc = RpcClient(w3, settings.rpc_retries, settings.rpc_backoff_s)
    block = int(rpc.call("eth_blockNumber", lambda: w3.eth.block_number))
    reader = EventReader(rpc, block, settings.log_chunk_blocks)
    escrow_entry, hub_entry = manifest.contract("Escrow"), manifest.contract("VerdictHub")
    events = reader.fetch_manifest(manifest)
    transfers = _escrow_token_transfers(reader, manifest.token, escrow_entry.address, escrow_entry.deploy_block)
    history = rebuild(manifest.chain_id, block, events, transfers)
    if shipment is not None:
        if shipment not in history.orders:
            raise AuditInputError(f"no shipment (order) {shipment} on chain; orders: {sorted(history.orders)}")
        history.orders = {shipment: history.orders[shipment]}

    transactions: dict[str, Any] = {}

    def transaction(tx_hash: str) -> Any:
        if tx_hash not in transactions:
            transactions[tx_hash] = rpc.call(
                f"eth_getTransaction {tx_hash}", lambda: w3.eth.get_transaction(HexStr(tx_hash))
            )
        return transactions[tx_hash]

    hub = w3.eth.contract(address=to_checksum_address(hub_entry.address), abi=hub_entry.abi)

    def decode_call(tx_hash: str) -> tuple[str, Mapping[str, Any]] | None:
        tx = transaction(tx_hash)
        if tx["to"] is None or to_checksum_address(tx["to"]) != hub_entry.address:
            return None
        try:
            function, arguments = hub.decode_function_input(HexBytes(tx["input"]))
        except ValueError:
            return None
        return str(function.fn_name), arguments

    token = w3.eth.contract(address=to_checksum_address(manifest.token), abi=ERC20_ABI)
    owned_store = store is None
    store = store or open_store(settings.storage)
    try:
        report = AuditReport(manifest.network, manifest.chain_id, block, manifest, history, shipment=shipment)
        report.checks.append(
            custody.check(
                history,
                lambda h: to_checksum_address(transaction(h)["from"]),
                lambda a: len(rpc.call(f"eth_getCode {a}", lambda: w3.eth.get_code(to_checksum_address(a)))) > 0,
            )
        )
        report.checks.append(verdicts.check(history, hub_entry.address, decode_call))
        report.checks.append(evidence.check(history, store))
        report.checks.append(escrow.check_penalties(history))
        report.checks.append(
            escrow.check_reconciliation(
                history,
                escrow_entry.address,
                manifest.token,
                lambda a: int(rpc.call("balanceOf", lambda: token.functions.balanceOf(a).call(block_identifier=block))),
            )
        )
        report.checks.append(_code_check(manifest, settings, rpc, block))
    finally:
        if owned_store:
            store.close()
    for check in report.checks:
        log.info("%s %s (%d checked, %d failures)", check.status.value, check.name, check.checked, len(check.failures))
    return report


def _escrow_token_transfers(reader: EventReader, token: str, escrow: str, from_block: int) -> list[ChainEvent]:
    """Transfers of the escrow token into or out of Escrow (topic-filtered: a real stablecoin has millions)."""
    transfer_topic = "0x" + event_abi_to_log_topic(ERC20_ABI[0]).hex()  # type: ignore[arg-type]
    padded = "0x" + bytes.fromhex(escrow[2:]).rjust(32, b"\0").hex()
    out = reader.fetch("token", token, ERC20_ABI, from_block, [transfer_topic, padded])
    into = reader.fetch("token", token, ERC20_ABI, from_block, [transfer_topic, None, padded])
    return in_chain_order({e.position: e for e in out + into}.values())


def _code_check(manifest: DeploymentManifest, settings: AuditSettings, rpc: RpcClient, block: int) -> CheckResult:
    try:
        built = build(settings.project_root, set(manifest.contracts), settings.build_cache)
    except BuildError as exc:
        result = CheckResult("code", "Deployed code is the code built from this repository's sources")
        result.fail(f"cannot build the sources: {exc}", str(settings.project_root))
        return result
    w3 = rpc.w3
    return code.check(
        manifest,
        built,
        lambda a: bytes(
            rpc.call(f"eth_getCode {a}", lambda: w3.eth.get_code(to_checksum_address(a), block_identifier=block))
        ),
    )
