"""A delivery award refused because the award phase closed while the logistics agent decided (a slow round) is
not the end of the order: the next round expires the CFP and tenders the order again (found in bench/agents.py
with 50 carrier agents stepped in one thread, rounds of 30 s)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from offchain.agents.roles.logistics import LogisticsRole
from offchain.agents.state import AgentState
from offchain.agents.txs import Outcome
from tests.offchain.agents.configs import logistics

CFP, ORDER, AWARD_DEADLINE = 9, 4, 1_000


class FakeChain:
    """The chain clock and the contract calls the role builds (never sent: `act` answers for the chain)."""

    def __init__(self, now_s: int) -> None:
        self.now_s = now_s
        self.procurement = SimpleNamespace(functions=SimpleNamespace(
            award=lambda cfp, winner: ("award", cfp, winner), expire=lambda cfp: ("expire", cfp)))

    def now(self) -> int:
        return self.now_s


class Role:
    def __init__(self, tmp_path: Path, award_refused: str) -> None:
        self.acted: list[str] = []
        self.chain = FakeChain(AWARD_DEADLINE - 5)
        state = AgentState(f"sqlite:///{tmp_path / 'logistics.sqlite'}")

        def act(key: str, _call: Any, _description: str) -> Outcome:
            self.acted.append(key)
            if key.startswith("award:"):
                return Outcome(key, "rejected", None, None, award_refused)
            return Outcome(key, "mined", "0x" + "ab" * 32, 1, None)

        ctx = SimpleNamespace(state=state, config=logistics(), address="0x" + "11" * 20, risk=None, chain=self.chain,
                              act=act, conversation=lambda kind, number: f"{kind}:31337:{number}")
        self.role = LogisticsRole(ctx)  # type: ignore[arg-type]
        state.put_fact("order", ORDER, {"id": ORDER, "status": "active", "deadline": 10_000})
        state.put_fact("tender", ORDER, {"order": ORDER, "status": "open", "attempt": 1, "exclude": []})
        state.put_fact("cfp", CFP, {"id": CFP, "parent": ORDER, "status": "open", "reveal": AWARD_DEADLINE - 20,
                                    "award": AWARD_DEADLINE, "window_end": 10_000, "quantity": 10})
        state.put_fact("mydelivery", CFP, {"cfp": CFP, "order": ORDER, "status": "open"})
        state.put_fact("bid", f"{CFP}:0xcarrier", {"cfp": CFP, "bidder": "0x" + "22" * 20, "price": 500_000,
                                                    "eta": AWARD_DEADLINE + 3_600})

    def mine(self) -> dict[str, Any]:
        return self.role.state.fact("mydelivery", CFP) or {}


def test_an_award_refused_after_the_award_phase_leaves_the_cfp_to_expire(tmp_path: Path) -> None:
    role = Role(tmp_path, "the contract refused: ProcurementAwardClosed")
    role.chain.now_s = AWARD_DEADLINE + 1  # the chain moved on while the round decided at AWARD_DEADLINE - 5
    role.role._award_delivery(role.mine(), AWARD_DEADLINE - 5)
    assert role.acted == [f"award:{CFP}"] and role.mine()["status"] == "open"


def test_the_next_round_expires_the_cfp_and_tenders_the_order_again(tmp_path: Path) -> None:
    role = Role(tmp_path, "the contract refused: ProcurementAwardClosed")
    role.chain.now_s = AWARD_DEADLINE + 1
    role.role._award_delivery(role.mine(), AWARD_DEADLINE - 5)
    role.role.act(AWARD_DEADLINE + 1)
    assert role.acted == [f"award:{CFP}", f"expire:{CFP}"]
    assert role.mine()["status"] == "expired"
    tender = role.role.state.fact("tender", ORDER) or {}
    assert tender["status"] == "new" and tender["attempt"] == 2


def test_an_award_refused_inside_the_award_phase_is_a_failure(tmp_path: Path) -> None:
    role = Role(tmp_path, "the contract refused: something else")
    role.role._award_delivery(role.mine(), AWARD_DEADLINE - 5)
    assert role.mine()["status"] == "failed"
