"""The chain as the dapp sees it: web3 from the deployment manifest, cached reads, events, and `send()`.

`send()` builds the transaction (the node estimates gas, which surfaces a revert before anything is signed),
signs it here with the unlocked keystore, sends the raw bytes, waits for the receipt and returns what a
person needs to see: hash, gas used, outcome and the decoded events.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from frontend.errors import ErrorDecoder, WrongNetworkError
from frontend.wallet import Wallet
from offchain.audit.events import ChainEvent, EventReader, RpcClient, in_chain_order
from offchain.audit.history import History, rebuild
from offchain.manifest import DeploymentManifest, ManifestError

log = logging.getLogger(__name__)

# The settlement token need not be built from this repository: what the dapp calls of any ERC-20.
ERC20_ABI: list[dict[str, Any]] = [
    {
        "name": name,
        "type": "function",
        "stateMutability": mutability,
        "inputs": [{"name": n, "type": t} for n, t in inputs],
        "outputs": [{"name": "", "type": out}],
    }
    for name, mutability, inputs, out in (
        ("balanceOf", "view", [("account", "address")], "uint256"),
        ("allowance", "view", [("owner", "address"), ("spender", "address")], "uint256"),
        ("approve", "nonpayable", [("spender", "address"), ("value", "uint256")], "bool"),
        ("decimals", "view", [], "uint8"),
        ("symbol", "view", [], "string"),
    )
]


@dataclass(frozen=True)
class TxOutcome:
    """What a write did, for the person who signed it."""

    what: str
    tx_hash: str
    gas_used: int
    succeeded: bool
    block: int
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        outcome = "succeeded" if self.succeeded else "was reverted"
        return f"{self.what} {outcome} in block {self.block}: transaction {self.tx_hash}, {self.gas_used:,} gas."


class Chain:
    """One deployment on one node."""

    def __init__(self, manifest: DeploymentManifest, rpc_url: str | None = None, *, log_chunk_blocks: int = 5_000):
        url = rpc_url or manifest.rpc_hint
        if not url:
            raise ManifestError(f"the manifest of {manifest.network} has no rpc_hint; set ASC_DAPP_RPC_URL")
        self.manifest = manifest
        self.url = url
        self.w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
        self.errors = ErrorDecoder.from_manifest(manifest)
        self._chunk = log_chunk_blocks
        self._events: list[ChainEvent] = []
        self._scanned_to: dict[str, int] = {}
        self._timestamps: dict[int, int] = {}
        self._lock = threading.Lock()
        self._contracts: dict[str, Contract] = {}

    # ---------------------------------------------------------------------------------------- reads
    def check_network(self) -> int:
        """The node's chain id; raises `WrongNetworkError` when it is not the manifest's."""
        chain_id = int(self.w3.eth.chain_id)
        if chain_id != self.manifest.chain_id:
            raise WrongNetworkError(self.manifest.chain_id, chain_id, self.url)
        return chain_id

    def contract(self, name: str) -> Contract:
        if name not in self._contracts:
            entry = self.manifest.contract(name)
            self._contracts[name] = self.w3.eth.contract(address=to_checksum_address(entry.address), abi=entry.abi)
        return self._contracts[name]

    @cached_property
    def token(self) -> Contract:
        return self.w3.eth.contract(address=to_checksum_address(self.manifest.token), abi=ERC20_ABI)

    def call(self, contract: str, function: str, *args: Any) -> Any:
        return self.contract(contract).functions[function](*args).call()

    def block_time(self, block_number: int) -> int:
        """A block's timestamp (cached: mined blocks never change time)."""
        if block_number not in self._timestamps:
            self._timestamps[block_number] = int(self.w3.eth.get_block(block_number)["timestamp"])
        return self._timestamps[block_number]

    def now(self) -> int:
        """The chain's clock: the latest block's timestamp (local chains jump ahead of the wall clock)."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def events(self) -> list[ChainEvent]:
        """Every event of the deployment up to the head, read incrementally (only new blocks are asked)."""
        # One Chain serves every browser session of the process (st.cache_resource): one reader at a time.
        with self._lock:
            return self._read_events()

    def _read_events(self) -> list[ChainEvent]:
        head = int(self.w3.eth.block_number)
        if self._scanned_to and head < max(self._scanned_to.values()):
            # The node is behind what was read: a local chain was reset. Read its history afresh.
            log.warning("the chain's head %d is behind the events already read: reading them again", head)
            self._events, self._scanned_to = [], {}
        rpc = RpcClient(self.w3, retries=2, backoff_s=0.2)
        new: list[ChainEvent] = []
        for name, entry in self.manifest.contracts.items():
            start = self._scanned_to.get(name, entry.deploy_block - 1) + 1
            # One reader per chunk: each request is a single range, so nothing carries over between chunks.
            for chunk_start in range(start, head + 1, self._chunk):
                chunk_end = min(chunk_start + self._chunk - 1, head)
                reader = EventReader(rpc, chunk_end, chunk_end - chunk_start + 1)
                new += reader.fetch(name, entry.address, entry.abi, chunk_start)
            self._scanned_to[name] = head
        if new:
            self._events = in_chain_order([*self._events, *new])
            log.info("read %d new events up to block %d", len(new), head)
        return list(self._events)

    def history(self) -> History:
        return rebuild(self.manifest.chain_id, int(self.w3.eth.block_number), self.events(), [])

    # ---------------------------------------------------------------------------------------- writes
    def send(self, wallet: Wallet, what: str, call: ContractFunction) -> TxOutcome:
        """Build, sign locally, send, wait; a revert at estimation raises (see `errors.explain`)."""
        self.check_network()
        tx = call.build_transaction(
            {
                "from": wallet.address,
                "nonce": self.w3.eth.get_transaction_count(to_checksum_address(wallet.address), "pending"),
                "chainId": self.manifest.chain_id,
            }
        )
        signed = wallet.sign_transaction(dict(tx))
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        outcome = TxOutcome(
            what=what,
            tx_hash="0x" + bytes(tx_hash).hex(),
            gas_used=int(receipt["gasUsed"]),
            succeeded=int(receipt["status"]) == 1,
            block=int(receipt["blockNumber"]),
            events=self._decode_receipt(receipt),
        )
        log.info("%s", outcome.sentence)
        return outcome

    def _decode_receipt(self, receipt: Any) -> list[tuple[str, dict[str, Any]]]:
        decoded: list[tuple[str, dict[str, Any]]] = []
        by_address = {to_checksum_address(c.address): n for n, c in self.manifest.contracts.items()}
        for raw in receipt["logs"]:
            name = by_address.get(to_checksum_address(raw["address"]))
            if name is None:
                continue
            topics = raw["topics"]
            event_name = self._event_names(name).get(bytes(topics[0])) if topics else None
            if event_name is None:
                continue
            entry = self.contract(name).events[event_name]().process_log(raw)
            decoded.append((f"{name}.{event_name}", dict(entry["args"])))
        return decoded

    def _event_names(self, contract: str) -> dict[bytes, str]:
        abi = self.manifest.contract(contract).abi
        return {
            bytes(event_abi_to_log_topic(item)): str(item["name"])  # type: ignore[arg-type]
            for item in abi
            if item.get("type") == "event" and not item.get("anonymous")
        }
