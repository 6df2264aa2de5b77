"""The chain as an agent sees it: contracts from the deployment manifest, decoded logs, the chain clock."""

from __future__ import annotations

from typing import Any, cast

from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract

from offchain.audit.events import ChainEvent as ChainEvent  # one decoded log: the audit's, re-exported
from offchain.manifest import DeploymentManifest

SUITE_CONTRACTS = ("ParticipantRegistry", "Procurement", "Escrow", "CustodyTwin", "VerdictHub")
GOODS, DELIVERY = 0, 1
ACTION_PENALTY, ACTION_HOLD, ACTION_REROUTE = 1, 2, 3


def to_bytes32(text: str) -> bytes:
    """A short label (product code, place id) as the right-padded bytes32 the contracts store."""
    raw = text.encode()
    if len(raw) > 32:
        raise ValueError(f"{text!r} is longer than 32 bytes")
    return raw.ljust(32, b"\0")


def from_bytes32(value: bytes) -> str:
    return bytes(value).rstrip(b"\0").decode(errors="replace")


class Chain:
    """web3 plus the suite's contracts; every address comes from the manifest."""

    def __init__(self, w3: Web3, manifest: DeploymentManifest) -> None:
        self.w3 = w3
        self.manifest = manifest
        chain_id = w3.eth.chain_id
        if chain_id != manifest.chain_id:
            raise RuntimeError(
                f"the RPC serves chain {chain_id} but the manifest {manifest.network} is for chain {manifest.chain_id}"
            )
        self.contracts: dict[str, Contract] = {
            name: w3.eth.contract(address=to_checksum_address(manifest.contract(name).address),
                                  abi=cast(Any, manifest.contract(name).abi))
            for name in (*SUITE_CONTRACTS, "TestStablecoin")
            if name in manifest.contracts
        }
        erc20_abi = manifest.contract("TestStablecoin").abi if "TestStablecoin" in manifest.contracts else []
        self.token = w3.eth.contract(address=to_checksum_address(manifest.token), abi=cast(Any, erc20_abi))
        self._by_topic: dict[tuple[str, bytes], tuple[str, Any]] = {}
        for name in SUITE_CONTRACTS:
            contract = self.contracts[name]
            for item in manifest.contract(name).abi:
                if item.get("type") == "event":
                    topic = bytes(event_abi_to_log_topic(cast(Any, item)))
                    self._by_topic[(contract.address.lower(), topic)] = (name, getattr(contract.events, item["name"]))
        self.chain_id = chain_id

    @property
    def registry(self) -> Contract:
        return self.contracts["ParticipantRegistry"]

    @property
    def procurement(self) -> Contract:
        return self.contracts["Procurement"]

    @property
    def escrow(self) -> Contract:
        return self.contracts["Escrow"]

    @property
    def custody(self) -> Contract:
        return self.contracts["CustodyTwin"]

    @property
    def hub(self) -> Contract:
        return self.contracts["VerdictHub"]

    @property
    def addresses(self) -> list[str]:
        return [self.contracts[name].address for name in SUITE_CONTRACTS]

    @property
    def first_block(self) -> int:
        return min(self.manifest.contract(name).deploy_block for name in SUITE_CONTRACTS)

    def decode(self, log: Any) -> ChainEvent | None:
        """The decoded event of a raw log, or None for a log of no suite event."""
        if not log["topics"]:
            return None
        found = self._by_topic.get((str(log["address"]).lower(), bytes(log["topics"][0])))
        if found is None:
            return None
        contract_name, event = found
        decoded = event().process_log(log)
        return ChainEvent(
            contract=contract_name,
            name=decoded["event"],
            args=dict(decoded["args"]),
            block_number=int(log["blockNumber"]),
            log_index=int(log["logIndex"]),
            tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
            address=to_checksum_address(log["address"]),
        )

    def now(self) -> int:
        """Chain time: the latest block's timestamp (agents never read the wall clock for deadlines)."""
        block = self.w3.provider.make_request("eth_getBlockByNumber", ["latest", False])  # type: ignore[arg-type]
        if "error" in block:
            raise RuntimeError(f"eth_getBlockByNumber failed: {block['error']}")
        return int(block["result"]["timestamp"], 16)
