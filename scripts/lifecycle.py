"""One shipment through its whole life on a deployed suite: the scripted story behind `make demo`, the gas
benchmark and the end-to-end contract test.

The story (Cambridge meat, as in the seed paper): a wholesaler calls for 100 cases of chilled beef; three
suppliers send sealed bids; the best one wins and the wholesaler's money goes into escrow; the supplier buys
two delivery legs (farm → cross-dock, cross-dock → wholesaler) from carriers the same way; custody passes
supplier → carrier 1 → carrier 2 → wholesaler; during leg 1 a 3-of-5 oracle quorum signs a temperature
excursion verdict that charges carrier 1 a penalty; delivery settles the order; everybody withdraws.

Every transaction is kept under a step name, so the benchmark can price each step against its floor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from brownie import web3
from eth_account.signers.local import LocalAccount

from offchain.storage.canonical import encode_evidence
from offchain.storage.canonical import evidence_hash as sha256_of_evidence
from offchain.storage.store import EvidenceStore
from oracles.verdicts import Action, Kind, in_member_order, make_verdict, pack_signatures, sign_verdict

log = logging.getLogger("asc.lifecycle")

# Registry role bits (ParticipantRoles.sol).
SUPPLIER, WHOLESALER, RETAILER, LOGISTICS, CARRIER = 1, 2, 4, 8, 16
GOODS, DELIVERY = 0, 1
HOUR = 3600
UNIT = 10**6  # TestStablecoin has 6 decimals

PRODUCT = b"beef-chilled".ljust(32, b"\0")
REGION = b"uk-cambridge".ljust(32, b"\0")
FARM = b"gcrf-farm-ely".ljust(32, b"\0")  # place ids (geohash-prefixed labels)
CROSS_DOCK = b"u120-xdock-cambourne".ljust(32, b"\0")
WHOLESALE = b"u12j-wholesale-cambridge".ljust(32, b"\0")
# Chilled meat: 0-5 degC, 60-95 % RH, 5 g shock limit, 15 min grace.
SLA = (0, 500, 6000, 9500, 5000, 900)


@dataclass
class Actors:
    """The brownie accounts playing each organisation."""

    wholesaler: Any
    suppliers: list[Any]
    carriers: list[Any]


@dataclass
class LifecycleResult:
    order_id: int
    twin_id: int
    verdict_id: bytes
    steps: dict[str, list[Any]] = field(default_factory=dict)  # step name -> transactions

    def add(self, step: str, tx: Any) -> Any:
        self.steps.setdefault(step, []).append(tx)
        return tx


def _rpc(method: str, *params: Any) -> Any:
    """A raw JSON-RPC call. It bypasses web3 middlewares on purpose: brownie caches block queries on chains
    whose blocks are far apart (as after a time jump), which would hand back a stale "latest" block."""
    response = web3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    if "error" in response:
        raise RuntimeError(f"{method} failed: {response['error']}")
    return response["result"]


def now() -> int:
    """The chain's clock, read by mining an empty block (the next transaction sees at least this time)."""
    _rpc("evm_mine")
    return int(_rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)


def advance_to(timestamp: int) -> None:
    """Move the chain clock forward to at least `timestamp` (anvil/hardhat RPC)."""
    delta = timestamp - now()
    if delta > 0:
        _rpc("evm_increaseTime", delta)
        _rpc("evm_mine")


def advance_time(seconds: int) -> None:
    advance_to(now() + seconds)


def register_participants(suite: Any, actors: Actors) -> None:
    """Everybody announces itself in the registry (agents discover each other from these events)."""
    service = lambda capacity, uri: (PRODUCT, REGION, capacity, uri)  # noqa: E731
    suite.registry.register(WHOLESALER, service(5_000, "ipfs://wholesaler"), {"from": actors.wholesaler})
    for i, supplier in enumerate(actors.suppliers):
        suite.registry.register(SUPPLIER, service(1_000, f"ipfs://supplier-{i}"), {"from": supplier})
    for i, carrier in enumerate(actors.carriers):
        suite.registry.register(CARRIER, service(30, f"ipfs://carrier-{i}"), {"from": carrier})


def _sealed_round(
    suite: Any,
    result: LifecycleResult,
    cfp_id: int,
    bids: list[tuple[Any, int, int]],
    step: str,
) -> None:
    """Commit then reveal each (bidder, unit price, eta) bid, passing the deadlines in between."""
    cfp = suite.procurement.cfp(cfp_id)
    salts = {}
    for index, (bidder, price, eta) in enumerate(bids):
        salt = web3.keccak(text=f"salt-{cfp_id}-{index}")
        salts[bidder.address] = salt
        commitment = suite.procurement.commitmentOf(cfp_id, bidder, price, eta, salt)
        result.add(f"{step}_commit", suite.procurement.commitBid(cfp_id, commitment, {"from": bidder}))
    advance_to(cfp["commitDeadline"] + 1)
    for bidder, price, eta in bids:
        tx = suite.procurement.revealBid(cfp_id, price, eta, salts[bidder.address], {"from": bidder})
        result.add(f"{step}_reveal", tx)
    advance_to(cfp["revealDeadline"] + 1)


def _open_cfp(suite: Any, buyer: Any, result: LifecycleResult, step: str, params: tuple[Any, ...]) -> int:
    tx = result.add(step, suite.procurement.openCfp(params, {"from": buyer}))
    return int(tx.events["CfpOpened"]["cfpId"])


def _cfp_params(
    kind: int,
    parent: int,
    quantity: int,
    max_price: int,
    origin: bytes,
    destination: bytes,
    roles: int,
    money: tuple[int, int, int, int],
    deadline: int,
) -> tuple[Any, ...]:
    t = now()
    return (
        kind,
        parent,
        PRODUCT,
        quantity,
        max_price,
        t,
        deadline,
        origin,
        destination,
        roles,
        t + HOUR,
        t + 2 * HOUR,
        t + 3 * HOUR,
        SLA,
        money,
    )


def handoff(
    suite: Any, result: LifecycleResult, twin_id: int, holder: Any, receiver: Any, place: bytes, step: str
) -> Any:
    condition = web3.keccak(text=f"{step}-condition")
    result.add(step, suite.custody.offerHandoff(twin_id, receiver, place, condition, {"from": holder}))
    return result.add(step, suite.custody.acceptHandoff(twin_id, place, condition, {"from": receiver}))


def submit_verdict(
    suite: Any,
    oracles: list[LocalAccount],
    order_id: int,
    twin_id: int,
    window: tuple[int, int],
    submitter: Any,
    evidence_hash: bytes,
) -> Any:
    """Build the verdict, have the first `threshold` oracles sign it (EIP-712, eth-account), submit it."""
    config = suite.hub.oracleConfig()
    verdict = make_verdict(
        order_id=order_id,
        twin_id=twin_id,
        kind=Kind.TEMPERATURE,
        severity=2,
        action=Action.PENALTY,
        window_start=window[0],
        window_end=window[1],
        evidence_hash=evidence_hash,
        epoch=int(config["epoch"]),
    )
    chain_id = web3.eth.chain_id
    signers = oracles[: config["threshold"]]
    by_signer = {o.address: sign_verdict(verdict, o.key, chain_id, suite.hub.address) for o in signers}
    ordered = in_member_order(by_signer, suite.hub.signers())  # the order the hub checks cheapest
    return suite.hub.submitVerdict(verdict.as_tuple(), pack_signatures(ordered), {"from": submitter})


def scripted_evidence(order_id: int, twin_id: int, window: tuple[int, int]) -> bytes:
    """The evidence object of the scripted excursion, as canonical JSON.

    It says what it is: this story has no sensor stream (the simulator and the oracle nodes produce real
    evidence from readings); the object still binds the verdict to a stored, re-hashable document.
    """
    return encode_evidence(
        {
            "schema": "asc-evidence/scripted/1",
            "source": "scripts/lifecycle.py: scripted excursion, no sensor readings",
            "order_id": order_id,
            "twin_id": twin_id,
            "kind": "temperature",
            "window_start_s": window[0],
            "window_end_s": window[1],
            "sla_temp_max_centi_c": SLA[1],
            "claimed_peak_temp_centi_c": SLA[1] + 350,
        }
    )


def run_lifecycle(
    suite: Any,
    deployer: Any,
    actors: Actors,
    oracles: list[LocalAccount],
    progress: Callable[[str], None] = log.info,
    store: EvidenceStore | None = None,
) -> LifecycleResult:
    """Play the whole story; returns every transaction by step. Raises on any unexpected outcome.

    With `store`, the verdict's evidence object is stored there (the audit fetches and re-hashes it)."""
    wholesaler, suppliers, (carrier1, carrier2) = actors.wholesaler, actors.suppliers, actors.carriers[:2]
    deadline = now() + 48 * HOUR
    money = (deadline, 20 * UNIT, 150 * UNIT, 2_000 * UNIT)  # per hour late, per excursion, cap
    quantity, max_price = 100, 60 * UNIT
    escrow_before = suite.token.balanceOf(suite.escrow)
    suite.token.mint(wholesaler, quantity * max_price, {"from": deployer})

    progress("wholesaler calls for proposals: 100 cases of chilled beef, delivery within 48 h")
    result = LifecycleResult(order_id=0, twin_id=0, verdict_id=b"")
    result.add("approve", suite.token.approve(suite.escrow, quantity * max_price, {"from": wholesaler}))
    order_id = _open_cfp(
        suite,
        wholesaler,
        result,
        "cfp",
        _cfp_params(GOODS, 0, quantity, max_price, FARM, WHOLESALE, SUPPLIER, money, deadline),
    )
    prices = [52 * UNIT, 48 * UNIT, 55 * UNIT]
    _sealed_round(
        suite, result, order_id, [(s, p, deadline - 6 * HOUR) for s, p in zip(suppliers, prices, strict=True)], "bid"
    )
    progress("3 sealed bids committed and revealed; awarding the best (48.00 per case) and funding escrow")
    award = result.add("award_fund", suite.procurement.awardBest(order_id, {"from": wholesaler}))
    supplier = next(s for s, p in zip(suppliers, prices, strict=True) if p == min(prices))
    twin_id = int(award.events["TwinMinted"]["twinId"])
    result.order_id, result.twin_id = order_id, twin_id

    progress("supplier tenders two delivery legs to carriers (sealed bids again)")
    for leg, (carrier, origin, destination, freight) in enumerate(
        [(carrier1, FARM, CROSS_DOCK, 4 * UNIT), (carrier2, CROSS_DOCK, WHOLESALE, 5 * UNIT)], start=1
    ):
        cfp_id = _open_cfp(
            suite,
            supplier,
            result,
            "tender_cfp",
            _cfp_params(DELIVERY, order_id, quantity, 6 * UNIT, origin, destination, CARRIER, (0, 0, 0, 0), deadline),
        )
        _sealed_round(suite, result, cfp_id, [(carrier, freight, deadline - 2 * HOUR)], "tender_bid")
        result.add("tender_award", suite.procurement.award(cfp_id, carrier, {"from": supplier}))
        progress(f"leg {leg} awarded to carrier {carrier.address[:10]} for {freight * quantity / UNIT:.2f}")

    handoff(suite, result, twin_id, supplier, carrier1, FARM, "handoff_pickup")
    progress("custody: supplier -> carrier 1 at the farm (offer + accept on-chain)")
    advance_time(2 * HOUR)
    window_end = now()
    window = (window_end - 1800, window_end)
    evidence = scripted_evidence(order_id, twin_id, window)
    if store is not None:
        store.put(evidence)
    verdict_tx = submit_verdict(suite, oracles, order_id, twin_id, window, deployer, sha256_of_evidence(evidence))
    result.add("verdict_3_of_5", verdict_tx)
    result.verdict_id = bytes(verdict_tx.events["VerdictAccepted"]["verdictId"])
    penalty = verdict_tx.events["VerdictAccepted"]["penalty"]
    progress(f"oracles: 3-of-5 signed temperature verdict accepted; penalty {penalty / UNIT:.2f} on carrier 1")

    advance_time(3 * HOUR)
    handoff(suite, result, twin_id, carrier1, carrier2, CROSS_DOCK, "handoff_crossdock")
    progress("custody: carrier 1 -> carrier 2 at the cross-dock")
    advance_time(3 * HOUR)
    delivery = handoff(suite, result, twin_id, carrier2, wholesaler, WHOLESALE, "delivery_settlement")
    if "OrderSettled" not in delivery.events:
        raise RuntimeError(f"delivery did not settle order {order_id}: events {list(delivery.events.keys())}")
    settled = delivery.events["OrderSettled"]
    progress(
        f"custody: carrier 2 -> wholesaler; delivery accepted, escrow settled: supplier "
        f"{settled['sellerPayout'] / UNIT:.2f}, carriers {settled['carriersPayout'] / UNIT:.2f}, "
        f"wholesaler refund {settled['buyerRefund'] / UNIT:.2f}"
    )

    for party in (supplier, carrier1, carrier2, wholesaler):
        if suite.escrow.credit(party) > 0:
            result.add("withdraw", suite.escrow.withdraw({"from": party}))
    if suite.token.balanceOf(suite.escrow) != escrow_before:
        raise RuntimeError("escrow kept part of the order's money after every party withdrew")
    progress("supplier, carriers and wholesaler withdrew their credits; the order left nothing in escrow")
    return result
