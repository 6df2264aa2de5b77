"""The gas floor of a mined transaction, from the EVM cost schedule.

For each transaction the floor is what no implementation of the same effects could avoid paying:

* intrinsic gas: 21,000 per transaction plus calldata (4 gas per zero byte, 16 per non-zero byte; plus 32,000
  and 2 gas per init-code word for a contract creation),
* 20,000 per storage slot that goes from zero to non-zero (read from the node's ``prestateTracer`` diff),
* 3,000 per ``ecrecover`` (a call to precompile 0x01, read from the ``callTracer`` frames),
* log costs: 375 + 375 per topic + 8 per data byte for every log (``callTracer`` with ``withLog``).

Everything is read back from a real node's traces (anvil's ``debug_traceTransaction``), so the floor counts what
the contracts actually stored and logged, not what we think they do.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from web3 import Web3

TX_BASE = 21_000
CREATE_BASE = 32_000
CALLDATA_ZERO = 4
CALLDATA_NONZERO = 16
INITCODE_WORD = 2
NEW_SLOT = 20_000
ECRECOVER = 3_000
LOG_BASE = 375
LOG_TOPIC = 375
LOG_BYTE = 8
ECRECOVER_PRECOMPILE = 1


@dataclass(frozen=True)
class TxFloor:
    """Gas as mined next to the floor and its parts."""

    gas_used: int
    floor: int
    intrinsic: int
    new_slots: int
    ecrecovers: int
    log_gas: int

    @property
    def ratio(self) -> float:
        return self.gas_used / self.floor

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": round(self.ratio, 4)}


def intrinsic_gas(data: bytes, is_create: bool) -> int:
    zeros = data.count(0)
    gas = TX_BASE + zeros * CALLDATA_ZERO + (len(data) - zeros) * CALLDATA_NONZERO
    if is_create:
        gas += CREATE_BASE + INITCODE_WORD * ((len(data) + 31) // 32)
    return gas


def count_new_slots(diff: dict[str, Any]) -> int:
    """Slots that were zero (absent from ``pre``) before the transaction and are non-zero after it."""
    pre, post = diff.get("pre", {}), diff.get("post", {})
    count = 0
    for address, account in post.items():
        before = pre.get(address, {}).get("storage", {})
        for slot, value in account.get("storage", {}).items():
            if int(value, 16) != 0 and int(before.get(slot, "0x0"), 16) == 0:
                count += 1
    return count


def scan_calls(frame: dict[str, Any]) -> tuple[int, int]:
    """(ecrecover calls, gas of all logs) from a ``callTracer`` frame tree (``withLog``)."""
    ecrecovers = 0
    log_gas = 0
    if int(frame.get("to") or "0x0", 16) == ECRECOVER_PRECOMPILE:
        ecrecovers += 1
    for log_entry in frame.get("logs", []):
        data_bytes = (len(log_entry.get("data", "0x")) - 2) // 2
        log_gas += LOG_BASE + LOG_TOPIC * len(log_entry.get("topics", [])) + LOG_BYTE * data_bytes
    for child in frame.get("calls", []):
        child_ecrecovers, child_log_gas = scan_calls(child)
        ecrecovers += child_ecrecovers
        log_gas += child_log_gas
    return ecrecovers, log_gas


def _trace(w3: Web3, tx_hash: str, config: dict[str, Any]) -> Any:
    response = w3.provider.make_request("debug_traceTransaction", [tx_hash, config])  # type: ignore[arg-type]
    if "error" in response:
        raise RuntimeError(f"debug_traceTransaction({tx_hash}) failed: {response['error']}")
    return response["result"]


def tx_floor(w3: Web3, tx_hash: str) -> TxFloor:
    """Measure one mined transaction against its floor."""
    tx = w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    receipt = w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    data = bytes(tx["input"])
    intrinsic = intrinsic_gas(data, tx["to"] is None)
    diff = _trace(w3, tx_hash, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}})
    calls = _trace(w3, tx_hash, {"tracer": "callTracer", "tracerConfig": {"withLog": True}})
    new_slots = count_new_slots(diff)
    ecrecovers, log_gas = scan_calls(calls)
    floor = intrinsic + NEW_SLOT * new_slots + ECRECOVER * ecrecovers + log_gas
    return TxFloor(receipt["gasUsed"], floor, intrinsic, new_slots, ecrecovers, log_gas)
