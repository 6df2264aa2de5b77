"""The local chain's clock follows the simulated clock, so on-chain deadlines, sensor timestamps and the
agents (which read time from the latest block) agree in sped-up runs.

Forward only: a chain's time never goes back, so the driver warps anvil (`evm_setNextBlockTimestamp` +
`evm_mine`) when the chain lags the world, and does nothing when the chain is ahead. It refuses any chain
that is not a local development chain: warping a shared chain is impossible and would be wrong.
"""

from __future__ import annotations

import logging

from web3 import Web3
from web3.exceptions import Web3RPCError

from offchain.devkeys import LOCAL_CHAIN_IDS

logger = logging.getLogger(__name__)

DAY_MS = 24 * 3600 * 1000


class ClockError(RuntimeError):
    """The chain cannot follow the simulated clock (not a local chain, unreachable, or it refused a warp)."""


def aligned_start_ms(scenario_start_ms: int, chain_now_ms: int) -> int:
    """The scenario's start, or, when the chain is already past it, the same time of day on the first day
    after the chain's clock: traffic peaks and the daily temperature swing stay where the scenario put them."""
    if chain_now_ms < scenario_start_ms:
        return scenario_start_ms
    days = (chain_now_ms - scenario_start_ms) // DAY_MS + 1
    return scenario_start_ms + days * DAY_MS


class ChainClock:
    def __init__(self, rpc_url: str, *, warp_min_s: int = 5, timeout_s: float = 10.0) -> None:
        self._w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout_s}))
        self._warp_min_s = warp_min_s
        try:
            chain_id = self._w3.eth.chain_id
        except (OSError, Web3RPCError) as exc:
            raise ClockError(f"chain at {rpc_url} unreachable: {exc}") from exc
        if chain_id not in LOCAL_CHAIN_IDS:
            raise ClockError(
                f"chain {chain_id} at {rpc_url} is not a local development chain {sorted(LOCAL_CHAIN_IDS)}: "
                "its clock cannot be warped"
            )
        self.chain_id = chain_id
        self.warps = 0

    def chain_now_s(self) -> int:
        return int(self._w3.eth.get_block("latest")["timestamp"])

    def follow(self, sim_now_ms: int) -> bool:
        """Mine a block at the simulated time if the chain lags it by `warp_min_s` or more; True if warped."""
        target_s = sim_now_ms // 1000
        if target_s - self.chain_now_s() < self._warp_min_s:
            return False
        response = self._w3.provider.make_request("evm_setNextBlockTimestamp", [target_s])  # type: ignore[arg-type]
        if "error" in response:
            # A transaction mined in between may have moved the chain past the target: that is not an error.
            if self.chain_now_s() >= target_s:
                return False
            raise ClockError(f"evm_setNextBlockTimestamp({target_s}) refused: {response['error']}")
        self._w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        self.warps += 1
        return True
