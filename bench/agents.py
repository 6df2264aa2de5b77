"""Agents at scale on one local chain (`make bench-agents`).

    python bench/agents.py [--series runtime,harness] [--carriers 10,50,200] [--shipments 10]
                           [--runtime-in-flight 1,5,10] [--max-window 256] [--repeats 3] [--in-flight 1,10,30]

One anvil per series (ports 9400-9499) with the deployed suite (contracts compiled once into
.state/bench-cache/). Two series:

runtime — the agents themselves. `offchain.agents.runtime.Agent` instances built from the same parts as the
CLI (own key, YAML-equivalent config, SQLite state, reorg-safe event scanner, tx journal, strategies, learned
risk model; each registers itself in the ParticipantRegistry): N carriers (one truck each in a
`offchain.agents.world.LocalWorld` over the road-graph Simulator, parked at ten places around Cambridge), one
supplier, one logistics provider, and wholesalers below their reorder point (one per shipment: its first round
opens the goods CFP). They live in this one process and one thread steps them round-robin (a round = every
agent scans, acts and flushes once, with no sleep: the round is the poll interval). Scanners use 0
confirmations (an anvil does not reorg) and share one `offchain.agents.scanner.SharedReader`: the head, block
hashes and logs are read from the node once per round, not once per agent (a runtime feature for processes
hosting many agents). The carriers share the one in-process LocalWorld, which is why they are not spread
over worker processes.

1. CFP to award with N = 10, 50, 200 carriers, real clock, a block every second (interval mining): a
   wholesaler's goods CFP is won by the supplier, who names the logistics agent, whose delivery CFP the
   carriers answer with sealed bids (commit, reveal); the logistics agent awards on price, ETA and risk.
   Measured on the chain: blocks and seconds from the block of the delivery CFP to the block of its award.
   The delivery CFP's phases (commit = reveal) start from a guess and double after each failure: a CFP
   awarded with fewer revealed bids than carriers with a free truck, one whose reveal phase ended with no
   revealed bid (it expires and the logistics agent tenders the order again, with the doubled phases), one
   whose award came after its award phase. The figure is the first phase length that worked; the failed
   ones are listed. The first guess is 1.5 x an idle round + 2 s for the smallest market and, for the next,
   1.5 x the previous market's busiest round scaled by the number of carriers. What bounds it: two phases
   plus a block; a phase must hold the round in which every carrier sees the CFP and sends its commit (each
   carrier signs, journals and sends in turn: that round grows with N) plus a block.
2. Shipments completed per minute, with the smallest market: goods CFP -> award + escrow -> delivery CFP ->
   carrier award -> truck dispatched -> pickup handoff -> delivery handoff -> settlement, all done by the
   agents; one after the other, then several wholesalers at once. A truck needs hours on the road, so here
   the chain and the world are warped 300 s per round (as the agents' tests do, CFP phases 600 s): the figure
   is how fast the agents work through a shipment's steps, bounded by rounds per shipment x round time.

harness — the previous measurement kept as a second series: carriers driven by this file in one process with
the same contract calls as the agents' bidding role (each carrier signs its own transactions, all of a
phase's bids sent before waiting for receipts), real clock, 1 s blocks, no scanner and no strategies. The
difference between the series is the runtime's overhead (scanner polls, journal, state, strategies).

Writes bench/results/agents.json and agents.png.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eth_abi.abi import encode as abi_encode  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402
from eth_utils.crypto import keccak  # noqa: E402
from web3 import Web3  # noqa: E402
from web3.logs import DISCARD  # noqa: E402

from offchain.agents.risk import RiskModel, outcomes_from_chain  # noqa: E402
from offchain.devkeys import dev_account  # noqa: E402
from offchain.manifest import DeploymentManifest, load_manifest  # noqa: E402
from offchain.scenario.deploy import project_copy  # noqa: E402
from offchain.scenario.processes import PortPool  # noqa: E402

RESULTS = ROOT / "bench" / "results"
ANVIL = ROOT / "node_modules" / ".bin" / "anvil"
PORTS = range(9400, 9500)
CHAIN_ID = 31337
BLOCK_TIME_S = 1
UNIT = 10**6
SUPPLIER, WHOLESALER, CARRIER = 1, 2, 16
GOODS, DELIVERY = 0, 1
PRODUCT = b"beef-chilled".ljust(32, b"\0")
REGION = b"uk-cambridge".ljust(32, b"\0")
FARM = b"gcrf-farm-ely".ljust(32, b"\0")
WHOLESALE = b"u12j-wholesale-cambridge".ljust(32, b"\0")
SLA = (0, 500, 6000, 9500, 5000, 900)
QUANTITY = 10
GAS = {"cfp": 600_000, "commit": 120_000, "reveal": 150_000, "award": 700_000, "handoff": 400_000,
       "register": 300_000, "approve": 100_000, "mint": 100_000}
MAX_WINDOW_S = 8

log = logging.getLogger("bench.agents")


# ---------------------------------------------------------------------------------------------- chain


_PORT_POOL = PortPool(PORTS.start, PORTS.stop - 1)


def _free_port() -> int:
    return _PORT_POOL.take()


@contextlib.contextmanager
def anvil(block_time_s: int | None) -> Iterator[str]:
    """An anvil on a free port of ours; `block_time_s` None = automine (the caller may switch modes)."""
    port = _free_port()
    mining = [] if block_time_s is None else ["--block-time", str(block_time_s)]
    process = subprocess.Popen(
        [str(ANVIL), "--port", str(port), "--chain-id", str(CHAIN_ID), *mining,
         "--gas-limit", "60000000", "--silent"],
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    w3 = Web3(Web3.HTTPProvider(url))
    try:
        deadline = time.monotonic() + 30
        while not w3.is_connected():
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"anvil did not start on port {port}")
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def deploy(rpc_url: str, manifest_path: Path, work: Path) -> None:
    """Deploys the suite with scripts/deploy.py in a subprocess (brownie as a library, like the agents'
    tests), compiling a copy of the contracts so that no brownie run beside shares build/."""
    project_copy(work)
    # brownie caches live deployments per chain id and fails on connect when a cached address has no code
    # (every run starts a new chain with the same id); the manifest is the record, not that cache.
    shutil.rmtree(work / "build" / "deployments", ignore_errors=True)
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}:{Path(sys.executable).parent}:{os.environ['PATH']}",
           "SOLCX_BINARY_PATH": str(ROOT / "scripts" / "bin"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, __file__, "--deploy-only", rpc_url, str(manifest_path), str(work)],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"deployment failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def _deploy_in_this_process(rpc_url: str, manifest_path: str, work: str) -> None:
    from brownie import network, project
    from brownie._config import CONFIG

    proj = project.load(work, name="AscBenchAgents")
    proj.load_config()
    proj._add_to_main_namespace()
    CONFIG.argv["silent"] = True
    name = "asc-bench-agents"
    CONFIG.networks[name] = {"id": name, "host": rpc_url, "chainid": str(CHAIN_ID), "name": name}
    network.connect(name)
    from brownie import accounts, web3

    from offchain.devkeys import dev_oracle_accounts
    from offchain.manifest import write_manifest
    from scripts.deploy import DEV_ORACLES, DEV_THRESHOLD, build_manifest, deploy_suite

    oracles = dev_oracle_accounts(DEV_ORACLES, web3.eth.chain_id)
    with contextlib.redirect_stdout(io.StringIO()):
        suite = deploy_suite(accounts[0], oracles=[o.address for o in oracles], threshold=DEV_THRESHOLD)
    write_manifest(build_manifest(suite, accounts[0].address, name, rpc_url), manifest_path)


@dataclass
class Party:
    account: LocalAccount
    nonce: int = 0

    @property
    def address(self) -> str:
        return str(self.account.address)


@dataclass
class Chain:
    w3: Web3
    manifest: DeploymentManifest
    gas_price: int = 0
    contracts: dict[str, Any] = field(default_factory=dict)
    # Shipments in flight run in threads and share parties: a nonce is taken and used under this lock.
    _send_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for name, entry in self.manifest.contracts.items():
            self.contracts[name] = self.w3.eth.contract(address=Web3.to_checksum_address(entry.address), abi=entry.abi)
        self.gas_price = 2 * int(self.w3.eth.gas_price)

    def __getitem__(self, name: str) -> Any:
        return self.contracts[name]

    def send(self, party: Party, call: Any, gas: int) -> str:
        """Signs locally with the party's key (as an agent does) and sends without waiting."""
        with self._send_lock:
            tx = call.build_transaction(
                {"from": party.address, "nonce": party.nonce, "gas": gas, "gasPrice": self.gas_price,
                 "chainId": CHAIN_ID}
            )
            party.nonce += 1
            raw = party.account.sign_transaction(tx).raw_transaction
            return "0x" + bytes(self.w3.eth.send_raw_transaction(raw)).hex()

    def wait(self, hashes: Sequence[str], timeout_s: float = 120) -> list[Any]:
        """Receipts of every hash (polled together); raises if any reverted."""
        receipts: dict[str, Any] = {}
        deadline = time.monotonic() + timeout_s
        while len(receipts) < len(hashes):
            for tx_hash in hashes:
                if tx_hash in receipts:
                    continue
                with contextlib.suppress(Exception):  # not mined yet
                    receipts[tx_hash] = self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            if len(receipts) < len(hashes):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{len(hashes) - len(receipts)} transactions not mined in {timeout_s} s")
                time.sleep(0.05)
        return [receipts[h] for h in hashes]

    def block_time(self, receipt: Any) -> int:
        return int(self.w3.eth.get_block(receipt["blockNumber"])["timestamp"])

    def latest_time(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def wait_until(self, timestamp: int) -> None:
        """Until the latest block has reached `timestamp`: a transaction sent now lands in a later block."""
        while self.latest_time() < timestamp:
            time.sleep(0.02)


def transact(chain: Chain, calls: Sequence[tuple[Party, Any, int]]) -> list[Any]:
    return _check(chain.wait([chain.send(party, call, gas) for party, call, gas in calls]))


def _check(receipts: list[Any]) -> list[Any]:
    failed = [r for r in receipts if r["status"] != 1]
    if failed:
        example = failed[0]["transactionHash"].hex()
        raise RuntimeError(f"{len(failed)} of {len(receipts)} transactions reverted, e.g. {example}")
    return receipts


# ---------------------------------------------------------------------------------------------- shipment


class WindowTooShortError(RuntimeError):
    """Some bids could not be mined inside the commit or reveal window."""


@dataclass
class Bidder:
    party: Party
    unit_price: int
    eta_offset_s: int


def cfp_params(kind: int, parent: int, max_price: int, roles: int, now_s: int, window_s: int, horizon_s: int,
               money: tuple[int, int, int, int]) -> tuple[Any, ...]:
    commit = now_s + window_s
    reveal = commit + window_s
    award = reveal + max(window_s, 30)  # the award itself is not a window anyone waits for
    end = now_s + horizon_s
    origin, destination = FARM, WHOLESALE
    return (kind, parent, PRODUCT, QUANTITY, max_price, now_s, end, origin, destination, roles, commit, reveal,
            award, SLA, money)


@dataclass
class Timed:
    wall_s: float
    chain_s: int
    blocks: int
    commit_send_s: float  # signing and sending every commit: what must fit in the commit window


def sealed_round(
    chain: Chain,
    buyer: Party,
    params: Callable[[int], tuple[Any, ...]],
    bidders: Sequence[Bidder],
    choose: Callable[[list[tuple[str, int, int]]], str],
) -> tuple[Any, Timed, int]:
    """CFP -> commits -> reveals -> award. Returns (award receipt, timing, cfp id).

    Raises WindowTooShortError when a bid misses its window (the caller retries with a longer one)."""
    procurement = chain["Procurement"]
    started = time.perf_counter()
    # The CFP lands in the next block (one second on): the commit window counts from there.
    now_s = chain.latest_time() + BLOCK_TIME_S
    try:
        (cfp_receipt,) = transact(chain, [(buyer, procurement.functions.openCfp(params(now_s)), GAS["cfp"])])
    except RuntimeError as exc:
        raise WindowTooShortError(f"the CFP itself was mined after its commit deadline: {exc}") from exc
    opened = procurement.events.CfpOpened().process_receipt(errors=DISCARD, txn_receipt=cfp_receipt)[0]["args"]
    cfp_id, p = int(opened["cfpId"]), opened["params"]
    commit_deadline, reveal_deadline = int(p["commitDeadline"]), int(p["revealDeadline"])
    bids = []
    calls = []
    for index, bidder in enumerate(bidders):
        salt = keccak(text=f"bench-{cfp_id}-{index}")
        eta = commit_deadline + bidder.eta_offset_s
        commitment = keccak(abi_encode(["uint256", "address", "uint96", "uint64", "bytes32"],
                                       [cfp_id, bidder.party.address, bidder.unit_price, eta, salt]))
        bids.append((bidder, eta, salt))
        calls.append((bidder.party, procurement.functions.commitBid(cfp_id, commitment), GAS["commit"]))
    commits_started = time.perf_counter()
    try:
        hashes = [chain.send(party, call, gas) for party, call, gas in calls]
        commit_send_s = time.perf_counter() - commits_started
        _check(chain.wait(hashes))
    except RuntimeError as exc:
        raise WindowTooShortError(f"commit: {exc}") from exc
    chain.wait_until(commit_deadline)
    calls = [(b.party, procurement.functions.revealBid(cfp_id, b.unit_price, eta, salt), GAS["reveal"])
             for b, eta, salt in bids]
    try:
        reveals = transact(chain, calls)
    except RuntimeError as exc:
        raise WindowTooShortError(f"reveal: {exc}") from exc
    revealed = [
        (str(e["args"]["bidder"]), int(e["args"]["unitPrice"]), int(e["args"]["etaTimestamp"]))
        for r in reveals for e in procurement.events.BidRevealed().process_receipt(errors=DISCARD, txn_receipt=r)
    ]
    winner = choose(revealed)
    chain.wait_until(reveal_deadline)
    try:
        (award,) = transact(chain, [(buyer, procurement.functions.award(cfp_id, winner), GAS["award"])])
    except RuntimeError as exc:
        raise WindowTooShortError(f"award: {exc}") from exc
    timed = Timed(
        wall_s=time.perf_counter() - started,
        chain_s=chain.block_time(award) - chain.block_time(cfp_receipt),
        blocks=int(award["blockNumber"]) - int(cfp_receipt["blockNumber"]),
        commit_send_s=commit_send_s,
    )
    return award, timed, cfp_id


def risk_choice(model: RiskModel, now_s: Callable[[], int]) -> Callable[[list[tuple[str, int, int]]], str]:
    def choose(revealed: list[tuple[str, int, int]]) -> str:
        current = now_s()

        def cost(bid: tuple[str, int, int]) -> int:
            bidder, unit_price, eta = bid
            return model.adjusted_cost(unit_price * QUANTITY, max(0, eta - current), bidder)

        return min(revealed, key=cost)[0]

    return choose


# ---------------------------------------------------------------------------------------------- setup


@dataclass
class Cast:
    wholesaler: Party
    supplier: Party
    carriers: list[Party]


def setup(chain: Chain, carriers: int) -> Cast:
    w3 = chain.w3
    deployer = Party(dev_account(0, CHAIN_ID))
    deployer.nonce = w3.eth.get_transaction_count(deployer.address)
    wholesaler = Party(dev_account(1, CHAIN_ID))
    supplier = Party(dev_account(2, CHAIN_ID))
    # Bench-only keys, derived from a label: separate accounts for every carrier.
    carrier_parties = [Party(Account.from_key(keccak(text=f"asc-bench-carrier-{i}"))) for i in range(carriers)]
    for party in [wholesaler, supplier, *carrier_parties]:
        w3.provider.make_request("anvil_setBalance", [party.address, hex(10**20)])  # type: ignore[arg-type]
        party.nonce = w3.eth.get_transaction_count(party.address)
    registry, token = chain["ParticipantRegistry"], chain["TestStablecoin"]
    service = lambda capacity, uri: (PRODUCT, REGION, capacity, uri)  # noqa: E731
    calls = [
        (wholesaler, registry.functions.register(WHOLESALER, service(5_000, "bench:wholesaler")), GAS["register"]),
        (supplier, registry.functions.register(SUPPLIER, service(5_000, "bench:supplier")), GAS["register"]),
        (deployer, token.functions.mint(wholesaler.address, 10**15), GAS["mint"]),
        (wholesaler, token.functions.approve(chain["Escrow"].address, 2**96 - 1), GAS["approve"]),
    ]
    calls += [(c, registry.functions.register(CARRIER, service(30, f"bench:carrier-{i}")), GAS["register"])
              for i, c in enumerate(carrier_parties)]
    for start in range(0, len(calls), 100):
        transact(chain, calls[start : start + 100])
    return Cast(wholesaler, supplier, carrier_parties)


# ---------------------------------------------------------------------------------------------- measurements


def carrier_bids(carriers: Sequence[Party], round_index: int) -> list[Bidder]:
    # Prices spread like a market of different tariffs; deterministic per carrier and round.
    def price(carrier: Party) -> int:
        return UNIT + int.from_bytes(keccak(text=f"{carrier.address}-{round_index}")[:2], "big") % 400 * 1_000

    return [Bidder(c, unit_price=price(c), eta_offset_s=3_600 + (i % 7) * 600) for i, c in enumerate(carriers)]


@dataclass
class Shipment:
    order_id: int = 0
    twin_id: int = 0
    carrier: str = ""
    timings: dict[str, float] = field(default_factory=dict)


def goods_round(chain: Chain, cast: Cast, window_s: int, model: RiskModel) -> tuple[int, int, Timed]:
    params = lambda now_s: cfp_params(GOODS, 0, 60 * UNIT, SUPPLIER, now_s, window_s, 7 * 86_400,  # noqa: E731
                                      (now_s + 7 * 86_400, 20 * UNIT, 150 * UNIT, 2_000 * UNIT))
    award, timed, cfp_id = sealed_round(chain, cast.wholesaler, params, [Bidder(cast.supplier, 48 * UNIT, 86_400)],
                                        risk_choice(model, chain.latest_time))
    minted = chain["CustodyTwin"].events.TwinMinted().process_receipt(errors=DISCARD, txn_receipt=award)[0]["args"]
    return cfp_id, int(minted["twinId"]), timed


def delivery_round(chain: Chain, cast: Cast, order_id: int, carriers: Sequence[Party], window_s: int,
                   model: RiskModel, round_index: int) -> tuple[str, Timed]:
    params = lambda now_s: cfp_params(DELIVERY, order_id, 2 * UNIT, CARRIER, now_s, window_s, 6 * 86_400,  # noqa: E731
                                      (0, 0, 0, 0))
    award, timed, _ = sealed_round(chain, cast.supplier, params, carrier_bids(carriers, round_index),
                                   risk_choice(model, chain.latest_time))
    awarded = chain["Procurement"].events.CfpAwarded().process_receipt(errors=DISCARD, txn_receipt=award)
    return str(awarded[0]["args"]["winner"]), timed


def cfp_to_award(chain: Chain, cast: Cast, counts: Sequence[int], repeats: int) -> dict[str, Any]:
    """Delivery CFP -> award with N carriers; windows from 1 s up until every bid of every repeat lands
    (a window that fails once is abandoned with its runs: the reported window worked `repeats` times)."""
    model = RiskModel(failure_cost=50 * UNIT)
    results: dict[str, Any] = {}
    window = 1
    for count in counts:
        carriers = cast.carriers[:count]
        runs: list[Timed] = []
        too_short: dict[int, str] = {}
        while len(runs) < repeats:
            order_id, _, _ = goods_round(chain, cast, 1, model)
            try:
                _, timed = delivery_round(chain, cast, order_id, carriers, window, model, len(runs))
            except WindowTooShortError as exc:
                log.info("N=%d: window %d s too short (%s); trying %d s", count, window, exc, window + 1)
                too_short[window] = str(exc)[:200]
                runs.clear()
                window += 1
                if window > MAX_WINDOW_S:
                    raise RuntimeError(f"bids of {count} carriers do not fit a {MAX_WINDOW_S} s window") from exc
                continue
            runs.append(timed)
            log.info("N=%d carriers: CFP->award %.2f s wall, %d s chain, %d blocks (window %d s)",
                     count, timed.wall_s, timed.chain_s, timed.blocks, window)
        results[str(count)] = {
            "window_s": window,
            "shorter_windows_failed": too_short,
            "commit_send_s_median": round(statistics.median(r.commit_send_s for r in runs), 3),
            "wall_s": [round(r.wall_s, 3) for r in runs],
            "wall_s_median": round(statistics.median(r.wall_s for r in runs), 3),
            "chain_s_median": statistics.median(r.chain_s for r in runs),
            "blocks_median": statistics.median(r.blocks for r in runs),
        }
    return results


def run_shipments(chain: Chain, cast: Cast, shipments: int, in_flight: int, carriers: Sequence[Party],
                  window_s: int) -> dict[str, Any]:
    """`shipments` full shipments, `in_flight` at a time (their phases interleaved in shared blocks)."""
    model = RiskModel(failure_cost=50 * UNIT)
    custody = chain["CustodyTwin"]
    by_address = {c.address: c for c in carriers}
    started = time.perf_counter()
    completed = 0
    condition = keccak(text="bench-condition")
    while completed < shipments:
        batch = min(in_flight, shipments - completed)
        # A batch's shipments are independent orders: each phase runs for all of them at once (threads that
        # only wait on the node), so their transactions share blocks.
        orders = _parallel_each([lambda: goods_round(chain, cast, window_s, model)] * batch)
        winners = _parallel_each(
            [partial(delivery_round, chain, cast, order_id, carriers, window_s, model, completed)
             for order_id, _, _ in orders]
        )
        twins = [twin_id for _, twin_id, _ in orders]
        carried = [by_address[winner] for winner, _ in winners]
        offer, accept = custody.functions.offerHandoff, custody.functions.acceptHandoff
        transact(chain, [(cast.supplier, offer(t, c.address, FARM, condition), GAS["handoff"])
                         for t, c in zip(twins, carried, strict=True)])
        transact(chain, [(c, accept(t, FARM, condition), GAS["handoff"]) for t, c in zip(twins, carried, strict=True)])
        transact(chain, [(c, offer(t, cast.wholesaler.address, WHOLESALE, condition), GAS["handoff"])
                         for t, c in zip(twins, carried, strict=True)])
        deliveries = transact(chain, [(cast.wholesaler, accept(t, WHOLESALE, condition), GAS["handoff"])
                                      for t in twins])
        settled_event = chain["Escrow"].events.OrderSettled()
        settled = sum(len(settled_event.process_receipt(errors=DISCARD, txn_receipt=r)) for r in deliveries)
        if settled != batch:
            raise RuntimeError(f"{batch - settled} deliveries did not settle their order")
        completed += batch
    elapsed = time.perf_counter() - started
    return {
        "shipments": shipments,
        "in_flight": in_flight,
        "carriers_bidding": len(carriers),
        "window_s": window_s,
        "elapsed_s": round(elapsed, 2),
        "per_minute": round(shipments / elapsed * 60, 2),
    }


def shipments_with_shortest_window(chain: Chain, cast: Cast, shipments: int, in_flight: int,
                                   carriers: Sequence[Party], window_s: int) -> dict[str, Any]:
    """`run_shipments` from `window_s` up: shipments in flight share the senders, so their bids may need
    longer windows than one shipment's; a run whose window proved too short is started again."""
    too_short: dict[int, str] = {}
    while True:
        try:
            row = run_shipments(chain, cast, shipments, in_flight, carriers, window_s)
        except WindowTooShortError as exc:
            log.info("%d in flight: window %d s too short (%s)", in_flight, window_s, exc)
            too_short[window_s] = str(exc)[:200]
            window_s += 1
            if window_s > MAX_WINDOW_S:
                raise RuntimeError(f"{in_flight} shipments in flight do not fit a {MAX_WINDOW_S} s window") from exc
            continue
        return row | {"shorter_windows_failed": too_short}


def _parallel_each(works: Sequence[Callable[[], Any]]) -> list[Any]:
    """Independent shipments' rounds at once: threads only wait on the node, the node does the work."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(works)) as pool:
        return list(pool.map(lambda work: work(), works))


def risk_from_chain(chain: Chain, carriers: Sequence[Party]) -> dict[str, Any]:
    """The risk model learned back from this run's events (the path a buyer agent uses): how long reading
    the whole deployment's history takes, and what it found."""
    started = time.perf_counter()
    outcomes = outcomes_from_chain(chain.w3, chain.manifest)
    read_s = time.perf_counter() - started
    model = RiskModel.from_outcomes(outcomes, failure_cost=50 * UNIT)
    busiest = max(carriers, key=lambda c: sum(o.party == c.address for o in outcomes))
    return {
        "events_read_s": round(read_s, 3),
        "blocks": int(chain.w3.eth.block_number),
        "settled_jobs": len(outcomes),
        "carrier_jobs": sum(o.role == "carrier" for o in outcomes),
        "busiest_carrier_assessment": list(model.assess(busiest.address).reasons),
    }


# ---------------------------------------------------------------------------------------------- the agents' runtime


RUNTIME_PLACES = ("crossdock_bar_hill", "crossdock_cambourne", "supplier_newmarket", "histon_j32", "girton_j31",
                  "milton_j33", "bar_hill_j29", "cambourne_a428", "quy_j35", "waterbeach_a10")
WARP_S = 300  # chain (and world) seconds per round in the shipments run: the agents' tests use the same step
BEEF = "beef-chilled"


def _rpc(w3: Web3, method: str, *params: Any) -> Any:
    response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    if "error" in response:
        raise RuntimeError(f"{method}: {response['error']}")
    return response["result"]


def build_cache() -> Path:
    """The compiled copy of the contracts, kept between runs and named by a hash of the sources."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted([*(ROOT / "contracts").rglob("*.sol"), *(ROOT / "interfaces").rglob("*.sol"),
                        ROOT / "brownie-config.yaml"]):
        digest.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    return ROOT / ".state" / "bench-cache" / f"agents-{digest.hexdigest()[:16]}"


def _buying(window_s: int) -> dict[str, int]:
    # The award phase only has to hold one round of the buyer; an expired CFP (no bid) costs this long.
    return {"commit_s": window_s, "reveal_s": window_s, "award_s": max(20, 2 * window_s),
            "delivery_within_s": 48 * 3600, "ship_grace_s": 3 * 3600}


def runtime_configs(window_s: int, goods_s: int | None = None) -> dict[str, Any]:
    """The organisations of tests/offchain/agents/configs.py (Cambridge chilled beef): delivery CFP phases
    `window_s`, goods CFP phases `goods_s` (default the same)."""
    goods_s = window_s if goods_s is None else goods_s
    from offchain.agents.config import AgentConfig

    def build(data: dict[str, Any]) -> Any:
        return AgentConfig.model_validate(data)

    return {
        "supplier": lambda: build({
            "kind": "supplier", "name": "supplier-ely", "region": "supplier_ely", "capacity": 1_000_000,
            "products": [{"product": BEEF, "initial_stock": 1_000_000, "unit_cost": 40 * UNIT, "margin_bp": 1500,
                          "lead_time_s": 12 * 3600}],
            "buying": _buying(goods_s)}),
        "wholesaler": lambda name: build({
            "kind": "wholesaler", "name": name, "region": "wholesaler_cambridge",
            "products": [{"product": BEEF, "initial_stock": 20, "unit_cost": 50 * UNIT, "margin_bp": 2000,
                          "max_unit_price": 60 * UNIT, "reorder_point": 50, "order_quantity": 100,
                          "lead_time_s": 6 * 3600}],
            "buying": {**_buying(goods_s), "forecast": False}}),
        "logistics": lambda: build({"kind": "logistics", "name": "logistics", "region": "wholesaler_cambridge",
                                    "buying": _buying(window_s)}),
        "carrier": lambda name, truck: build({
            "kind": "carrier", "name": name, "region": "crossdock_bar_hill",
            "fleet": {"carrier_name": name, "vehicles": [{"id": truck}], "price_per_unit_km": 30_000,
                      "min_unit_price": 500_000, "eta_slack_s": 3600},
            "handover_places": ["crossdock_bar_hill", "crossdock_cambourne"], "buying": _buying(window_s)}),
    }


class AgentsWorld:
    """Real agents (`offchain.agents.runtime.Agent` built from the same parts as the CLI: key, config, SQLite
    state, scanner, tx journal, strategy) in this one process, stepped round-robin by one thread, with a
    `LocalWorld` over the road-graph `Simulator` that follows the chain clock."""

    def __init__(self, url: str, manifest: DeploymentManifest, data_dir: Path, window_s: int) -> None:
        import requests

        from offchain.agents.chain import Chain as AgentChain
        from offchain.agents.scanner import SharedReader
        from offchain.agents.world import LocalWorld
        from offchain.sim.roads import RoadGraph
        from offchain.sim.world import Simulator

        # requests reads the proxy variables of the environment on every call (~1 ms each here, measured with
        # cProfile); a local node needs none.
        session = requests.Session()
        session.trust_env = False
        self.w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60}, session=session))
        self.manifest = manifest
        self.chain = AgentChain(self.w3, manifest)
        # The agents share one read of the chain per round (head, block hashes, logs): a runtime feature for
        # processes hosting many agents; without it every agent reads the same blocks and logs again.
        self.reader = SharedReader(self.chain)
        self.data_dir = data_dir
        self.configs = runtime_configs(window_s)
        self.sim = Simulator(RoadGraph.load(), seed=7, start_ms=self.now_s() * 1000)
        self.world = LocalWorld(self.sim)
        self.agents: dict[str, Any] = {}
        self.carriers: list[str] = []
        self.wholesalers: list[str] = []
        self.scan_errors = 0

    def now_s(self) -> int:
        return int(_rpc(self.w3, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)

    def automine(self) -> None:
        """Setup (registrations, funding) mined at once."""
        _rpc(self.w3, "evm_setIntervalMining", 0)
        _rpc(self.w3, "evm_setAutomine", True)

    def interval_mining(self) -> None:
        """Blocks every BLOCK_TIME_S seconds of the real clock, like a fast L2."""
        _rpc(self.w3, "evm_setAutomine", False)
        _rpc(self.w3, "evm_setIntervalMining", BLOCK_TIME_S)

    def add(self, config: Any, account: LocalAccount) -> Any:
        from offchain.agents.approvals import ApprovalDesk
        from offchain.agents.models import default_models
        from offchain.agents.roles import make_role
        from offchain.agents.runtime import Agent, AgentContext
        from offchain.agents.state import AgentState
        from offchain.agents.transcript import Transcript
        from offchain.agents.txs import TxJournal

        _rpc(self.w3, "anvil_setBalance", account.address, hex(10**20))
        state = AgentState(f"sqlite:///{self.data_dir / (config.name + '.sqlite')}")
        ctx = AgentContext(
            config=config, chain=self.chain, account=account, state=state,
            txs=TxJournal(self.w3, account, state),
            transcript=Transcript(state, account.address, bytes(account.key), None),
            approvals=ApprovalDesk(state, account.address, bytes(account.key), config.approvals.approvers, None),
            world=self.world,
        )
        ctx.risk, ctx.planner = default_models(config, self.w3, self.manifest)
        # Confirmations 0: an anvil does not reorg; the poll interval is the round itself (no sleep).
        agent = Agent(ctx, make_role(ctx), confirmations=0, poll_interval_s=0, reader=self.reader)
        agent.start()
        self.agents[config.name] = agent
        return agent

    def add_carriers(self, total: int) -> None:
        for index in range(len(self.carriers), total):
            name, truck = f"carrier-{index:03d}", f"truck-{index:03d}"
            self.sim.add_vehicle(truck, carrier=name, at=RUNTIME_PLACES[index % len(RUNTIME_PLACES)],
                                 precooled_c=2.0)
            self.add(self.configs["carrier"](name, truck), _bench_key(f"carrier-{index}"))
            self.carriers.append(name)

    def add_wholesaler(self) -> Any:
        """A wholesaler below its reorder point: its first round opens a goods CFP (one shipment)."""
        name = f"wholesaler-{len(self.wholesalers):03d}"
        account = _bench_key(name)
        self.mint(account.address, 1_000 * 60 * UNIT)
        agent = self.add(self.configs["wholesaler"](name), account)
        self.wholesalers.append(name)
        return agent

    def mint(self, to: str, amount: int) -> None:
        deployer = dev_account(0, CHAIN_ID)
        token = self.chain.contracts["TestStablecoin"]
        tx = token.functions.mint(to, amount).build_transaction(
            {"from": deployer.address, "nonce": self.w3.eth.get_transaction_count(deployer.address, "pending")}
        )
        receipt = self.w3.eth.wait_for_transaction_receipt(
            self.w3.eth.send_raw_transaction(deployer.sign_transaction(tx).raw_transaction)
        )
        if receipt["status"] != 1:
            raise RuntimeError(f"minting tokens for {to} reverted")

    def set_window(self, window_s: int, goods_s: int | None = None) -> None:
        """New CFP phases for the buyers: `window_s` for delivery CFPs (the logistics agent's), `goods_s` for
        goods CFPs (default the same). Agent configs are frozen: the buyer gets a copy with the new phases (what
        a restart with an edited YAML would give it, without losing its state)."""
        goods_s = window_s if goods_s is None else goods_s
        self.configs = runtime_configs(window_s, goods_s)
        for agent in self.agents.values():
            cfg = agent.ctx.config
            phases = {"logistics": window_s, "wholesaler": goods_s, "supplier": goods_s}.get(cfg.kind.value)
            if phases is not None:
                buying = cfg.buying.model_copy(update=_buying(phases))
                agent.ctx.config = agent.role.cfg = cfg.model_copy(update={"buying": buying})

    def round(self, warp_s: int = 0) -> float:
        """Every agent steps once (scan, act, flush); then, when warping, the chain moves `warp_s` on. The world
        follows the chain clock. Returns the seconds the agents' steps took."""
        from offchain.agents.scanner import ScanError

        started = time.perf_counter()
        self.reader.next_round()
        for agent in self.agents.values():
            try:
                agent.step()
            except ScanError as exc:  # as Agent.run: the same work is retried next round
                self.scan_errors += 1
                log.warning("%s: %s", agent.ctx.config.name, exc)
        took = time.perf_counter() - started
        if warp_s:
            _rpc(self.w3, "evm_increaseTime", warp_s)
            _rpc(self.w3, "evm_mine")
        self.sim.advance_to(max(self.sim.now_ms, self.now_s() * 1000))
        return took

    def idle_trucks(self) -> int:
        return sum(1 for name in self.carriers for v in self.world.fleet(name) if v.status == "idle")

    def order_of(self, wholesaler: str) -> dict[str, Any] | None:
        """The wholesaler's own order (every agent's state holds the facts of every order on the chain)."""
        agent = self.agents[wholesaler]
        mine = [o for o in agent.ctx.state.facts("order").values() if o.get("buyer") == agent.ctx.address]
        return mine[0] if mine else None

    def delivery_award(self, order_id: int) -> int | None:
        """The delivery CFP of `order_id` the logistics agent awarded, if any."""
        for cfp_id, mine in self.agents["logistics"].ctx.state.facts("mydelivery").items():
            if int(mine["order"]) == order_id and mine["status"] == "awarded":
                return int(cfp_id)
        return None

    def close(self) -> None:
        for agent in self.agents.values():
            agent.ctx.state.close()


def _bench_key(label: str) -> LocalAccount:
    # Bench-only keys derived from a label: anvil's mnemonic keys past 9 are slow to derive and 100+ are oracles.
    return Account.from_key(keccak(text=f"asc-bench-agents-{label}"))


def _cfp_events(world: AgentsWorld, cfp_id: int) -> dict[str, Any]:
    procurement = world.chain.procurement
    first = world.chain.first_block

    def logs(event: Any) -> list[Any]:
        return list(event.get_logs(from_block=first, argument_filters={"cfpId": cfp_id}))

    opened, awarded = logs(procurement.events.CfpOpened), logs(procurement.events.CfpAwarded)
    committed, revealed = logs(procurement.events.BidCommitted), logs(procurement.events.BidRevealed)
    if not opened or not awarded:
        raise RuntimeError(f"CFP {cfp_id}: opened or award event missing")
    open_block, award_block = int(opened[0]["blockNumber"]), int(awarded[0]["blockNumber"])
    stamp = lambda n: int(world.w3.eth.get_block(n)["timestamp"])  # noqa: E731
    return {"cfp": cfp_id, "blocks": award_block - open_block, "chain_s": stamp(award_block) - stamp(open_block),
            "bids_committed": len(committed), "bids_revealed": len(revealed)}


class NoPhaseFittedError(RuntimeError):
    """Every phase length up to the longest allowed failed for a market size."""


@dataclass
class Attempt:
    """One try of a phase length: the delivery CFP it produced and how it ended."""

    window_s: int
    cfp: int | None = None
    failure: str | None = None
    step_s: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    goods_failed: bool = False


def _delivery_cfps(world: AgentsWorld, order_id: int) -> dict[int, dict[str, Any]]:
    """The logistics agent's delivery CFPs of `order_id` (its own state), with their phases."""
    logistics = world.agents["logistics"].ctx.state
    found = {}
    for key, mine in logistics.facts("mydelivery").items():
        if int(mine["order"]) == order_id:
            found[int(key)] = {**(logistics.fact("cfp", key) or {}), "mine": mine["status"]}
    return found


def _logs(world: AgentsWorld, event: str, cfp_id: int) -> list[Any]:
    return list(getattr(world.chain.procurement.events, event).get_logs(
        from_block=world.chain.first_block, argument_filters={"cfpId": cfp_id}))


def _goods_failures(world: AgentsWorld, wholesaler: str) -> list[str]:
    """The wholesaler's goods CFPs that closed without an award (the supplier's bid missed a phase)."""
    state = world.agents[wholesaler].ctx.state
    return [f"goods CFP {i.get('cfp')}: {i.get('error')}" for i in state.facts("intent").values()
            if i["status"] == "failed"]


def _attempt(world: AgentsWorld, attempt: Attempt, wholesaler: str, free: int, seen: set[int],
             timeout_s: float) -> bool:
    """Rounds until the attempt's delivery CFP (the wholesaler's order's first not in `seen`) is awarded, or is
    known to have failed. Returns True when the wholesaler's shipment is still to be awarded and will be tried
    again by the agents themselves, with the phases configured by then: its goods CFP closed without an award
    (the wholesaler reorders), or its delivery CFP got no revealed bid (it expires; the logistics agent tenders
    the order again). A new wholesaler (a new shipment) would compete with it for the trucks."""
    started = time.perf_counter()
    goods_failed = len(_goods_failures(world, wholesaler))
    while time.perf_counter() - started < timeout_s:
        attempt.step_s.append(world.round())
        failures = _goods_failures(world, wholesaler)
        if len(failures) > goods_failed:  # the wholesaler's next reorder is a new goods CFP with the new phases
            attempt.failure = failures[-1]
            attempt.goods_failed = True
            return True
        order = world.order_of(wholesaler)
        if not order:
            continue
        fresh = {k: v for k, v in _delivery_cfps(world, int(order["id"])).items() if k not in seen}
        if not fresh:
            continue
        cfp_id = max(fresh)
        cfp = fresh[cfp_id]
        attempt.cfp = cfp_id
        if cfp["mine"] == "failed":  # the award was refused (before the fix of roles/delivery.py: a late one)
            seen.add(cfp_id)
            attempt.failure = f"the award of CFP {cfp_id} was refused"
            return False
        if cfp["mine"] == "expired":  # bids revealed, but the award came after the award phase (a slow round)
            seen.add(cfp_id)
            attempt.failure = (f"CFP {cfp_id} expired unawarded: the logistics agent's round came after its award "
                               "phase; it tenders the order again")
            return True
        if cfp["mine"] == "awarded":
            seen.add(cfp_id)
            attempt.wall_s = time.perf_counter() - started
            measured = _cfp_events(world, cfp_id)
            if measured["bids_revealed"] < free:
                attempt.failure = f"{measured['bids_revealed']} of {free} bids revealed (CFP {cfp_id} awarded)"
            return False
        # The chain, not the logistics agent's knowledge (a round behind), says whether any bid was revealed;
        # once a block past the reveal deadline exists no reveal can land any more.
        if cfp.get("reveal") and world.now_s() > int(cfp["reveal"]) and not _logs(world, "BidRevealed", cfp_id):
            seen.add(cfp_id)
            committed = len(_logs(world, "BidCommitted", cfp_id))
            attempt.failure = (f"0 of {free} bids revealed ({committed} committed); CFP {cfp_id} expires and the "
                               "logistics agent tenders the order again")
            return True
    attempt.failure = f"no delivery award within {timeout_s:.0f} s"
    return False


def runtime_cfp_to_award(world: AgentsWorld, carriers: int, max_window_s: int, first_guess_s: int = 0
                         ) -> dict[str, Any]:
    """CFP to award with `carriers` carrier agents: a wholesaler's goods CFP, the supplier's bid and the award,
    the logistics agent's delivery CFP, the carriers' sealed bids, its award (the measured part).

    The delivery CFP phases (commit = reveal) start from a guess (1.5 x an idle round of every agent + 2 s, or
    `first_guess_s` when longer) and double after every failure: a delivery CFP awarded with fewer revealed
    bids than carriers with a free truck, one whose reveal phase ended with no revealed bid (it expires; the
    logistics agent tenders the same order again, with the doubled phases), or one whose award came after its
    award phase. The figure is the first phase length at which the CFP was awarded with every free carrier's
    bid revealed; the failed ones are listed. The goods CFP before it (one bidder, the supplier) has its own
    phases, twice the idle guess, doubled when it closes without an award (listed too)."""
    world.automine()
    world.add_carriers(carriers)
    idle = [world.round() for _ in range(3)]
    guess = max(2, int(statistics.median(idle) * 1.5) + 2)
    window, goods = max(guess, first_guess_s), 2 * guess
    tried: dict[str, str] = {}
    seen: set[int] = set()
    same_shipment = False
    wholesaler = ""
    load = os.getloadavg()[0]
    while window <= max_window_s:
        world.set_window(window, goods)
        world.automine()
        if not same_shipment:
            wholesaler = world.add_wholesaler().ctx.config.name
        free = world.idle_trucks()  # a carrier whose truck is on a job declines: it is not in the market
        world.interval_mining()
        attempt = Attempt(window)
        reads = world.reader.node_reads
        # goods CFP + delivery CFP (two phases each, an award phase of 2 phases) and the rounds between
        same_shipment = _attempt(world, attempt, wholesaler, free, seen, timeout_s=12 * window + 120)
        if attempt.failure is None and attempt.cfp is not None:
            rounds = len(attempt.step_s)
            return {**_cfp_events(world, attempt.cfp), "window_s": window, "carriers": carriers,
                    "carriers_with_free_truck": free, "rounds": rounds,
                    "round_s_median": round(statistics.median(attempt.step_s), 3),
                    "round_s_max": round(max(attempt.step_s), 3),
                    "idle_round_s_median": round(statistics.median(idle), 3),
                    "node_reads_per_round": round((world.reader.node_reads - reads) / rounds, 1),
                    "shipment_to_award_wall_s": round(attempt.wall_s, 1), "goods_window_s": goods,
                    "load_avg_1min": [round(load, 1), round(os.getloadavg()[0], 1)],
                    "shorter_windows_failed": tried}
        if attempt.goods_failed:
            tried[f"goods {goods}"] = f"{attempt.failure}; rounds took up to {max(attempt.step_s):.1f} s"
            log.info("%d carriers, goods CFP %d s phases: %s; doubling them", carriers, goods, tried[f"goods {goods}"])
            goods *= 2
            if goods > max_window_s:
                break
            continue
        tried[str(window)] = f"{attempt.failure}; rounds took up to {max(attempt.step_s):.1f} s"
        log.info("%d carriers, %d s phases: %s; doubling them", carriers, window, tried[str(window)])
        window *= 2
    raise NoPhaseFittedError(f"{carriers} carriers: no phase length up to {max_window_s} s fitted: {tried}")


def runtime_shipments(world: AgentsWorld, shipments: int, in_flight: int, max_rounds: int) -> dict[str, Any]:
    """`shipments` shipments end to end by the agents (goods CFP -> award + escrow -> delivery CFP -> carrier
    award -> dispatch -> pickup handoff -> delivery handoff -> settlement), `in_flight` wholesalers at once, the
    chain and the world warped WARP_S per round (a truck's hours on the road pass in rounds, not in hours).
    After `max_rounds` the run stops and reports what settled and what did not (with the orders' states)."""
    world.set_window(600)
    load = os.getloadavg()[0]
    done: list[str] = []
    step_s: list[float] = []
    rounds = 0
    started = time.perf_counter()
    active: list[str] = []
    while len(done) < shipments and rounds < max_rounds:
        world.automine()
        while len(active) < in_flight and len(done) + len(active) < shipments:
            active.append(world.add_wholesaler().ctx.config.name)
        step_s.append(world.round(WARP_S))
        rounds += 1
        for name in list(active):
            order = world.order_of(name)
            if order and order.get("status") == "settled":
                active.remove(name)
                done.append(name)
    wall = time.perf_counter() - started
    row = {"shipments": shipments, "settled": len(done), "in_flight": in_flight,
           "carriers_bidding": len(world.carriers), "agents": len(world.agents), "rounds": rounds,
           "warp_s_per_round": WARP_S, "round_s_median": round(statistics.median(step_s), 3), "wall_s": round(wall, 1),
           "per_minute": round(len(done) / wall * 60, 1),
           "load_avg_1min": [round(load, 1), round(os.getloadavg()[0], 1)]}
    if len(done) < shipments:
        row["not_settled_after_max_rounds"] = {
            name: {k: (world.order_of(name) or {}).get(k) for k in ("id", "status", "picked_up", "legs")}
            for name in active
        }
        log.error("%d of %d shipments settled in %d rounds; the others: %s", len(done), shipments, rounds,
                  row["not_settled_after_max_rounds"])
    return row


def run_runtime(url: str, manifest: DeploymentManifest, data_dir: Path, counts: Sequence[int], shipments: int,
                in_flights: Sequence[int], max_window_s: int,
                save: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Every measurement is saved as soon as it is taken (`save`), so a run cut short keeps what it measured."""
    world = AgentsWorld(url, manifest, data_dir, window_s=2)
    try:
        world.automine()
        world.add(world.configs["supplier"](), _bench_key("supplier"))
        world.add(world.configs["logistics"](), _bench_key("logistics"))
        latency: dict[str, Any] = {}
        rows: list[dict[str, Any]] = []
        previous: dict[str, Any] | None = None
        for index, count in enumerate(sorted(counts)):
            # A phase must hold the round in which every carrier bids: the last market's busiest round, scaled
            # by the number of carriers, is the first guess (shorter phases would fail and cost a CFP each).
            hint = 0 if previous is None else int(1.5 * previous["round_s_max"] * count / previous["carriers"])
            try:
                latency[str(count)] = previous = runtime_cfp_to_award(world, count, max_window_s, hint)
                log.info("agents' runtime, %d carriers: %s", count, latency[str(count)])
            except NoPhaseFittedError as exc:  # recorded; the other market sizes are still worth measuring
                latency[str(count)] = {"not_measured": str(exc)}
                log.error("agents' runtime, %d carriers: not measured: %s", count, exc)
            save({"cfp_to_award": latency, "shipments": rows})
            if index == 0:  # shipments with the smallest market, before more carriers join
                for in_flight in in_flights:
                    total = max(shipments, in_flight)
                    # one after the other took 24 rounds a shipment: 40 leaves room, a stuck order stops the run
                    rows.append(runtime_shipments(world, total, in_flight, max_rounds=40 * total))
                    log.info("agents' runtime, %d in flight: %s", in_flight, rows[-1])
                    save({"cfp_to_award": latency, "shipments": rows})
        return {"agents": len(world.agents), "scan_errors": world.scan_errors, "cfp_to_award": latency,
                "shipments": rows}
    finally:
        world.automine()
        world.close()



# ---------------------------------------------------------------------------------------------- output


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    series = [(name, result[name]) for name in ("runtime", "harness") if result.get(name)]
    for name, data in series:
        latency = {n: row for n, row in data["cfp_to_award"].items() if "not_measured" not in row}
        counts = sorted(int(n) for n in latency)
        left.plot(counts, [latency[str(n)]["chain_s" if name == "runtime" else "chain_s_median"] for n in counts],
                  "o-" if name == "runtime" else "s--", label=f"{LABELS[name]}: chain seconds")
    left.set(title="Delivery CFP tx to award tx", xlabel="competing carriers", ylabel="seconds", xscale="log",
             ylim=(0, None))
    left.legend(fontsize=8)
    clock = {"runtime": f"warp {WARP_S} s/round", "harness": "real clock"}
    bars = [(f"{LABELS[name]}\n{r['in_flight']} in flight\n{clock[name]}", r["per_minute"]) for name, data in series
            for r in data["shipments"]]
    right.bar([b[0] for b in bars], [b[1] for b in bars])
    right.set(title="Shipments completed per minute (one anvil)", ylabel="shipments / minute")
    right.tick_params(axis="x", labelsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


LABELS = {"runtime": "agents' runtime", "harness": "harness"}


def run_harness(url: str, manifest_path: Path, counts: Sequence[int], repeats: int, shipments: int,
                in_flights: Sequence[int]) -> dict[str, Any]:
    chain = Chain(Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60})), load_manifest(manifest_path))
    cast = setup(chain, max(counts))
    log.info("harness: %d carriers registered", len(cast.carriers))
    latency = cfp_to_award(chain, cast, counts, repeats)
    # Shipments use the smallest market measured, with the window that worked for it.
    bidding = cast.carriers[: min(counts)]
    window = latency[str(min(counts))]["window_s"]
    rows = []
    for in_flight in in_flights:
        rows.append(shipments_with_shortest_window(chain, cast, max(shipments, in_flight), in_flight, bidding, window))
        log.info("harness, %d in flight: %s", in_flight, rows[-1])
    return {
        "what": "carriers driven in-process by bench/agents.py (same contract calls as the agents' bidding role, "
                "each carrier signs its own transactions); not the agents' runtime",
        "award_choice": "offchain.agents.risk.RiskModel.adjusted_cost over the revealed bids",
        "cfp_to_award": latency, "shipments": rows, "risk_model_from_chain": risk_from_chain(chain, bidding),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", default="runtime,harness", help="runtime (the agents), harness, or both")
    parser.add_argument("--carriers", default="10,50,200")
    parser.add_argument("--repeats", type=int, default=3, help="harness: CFP rounds per market size")
    parser.add_argument("--shipments", type=int, default=10)
    parser.add_argument("--in-flight", default="1,10,30", help="harness: shipments at once; 1 = one after the other")
    parser.add_argument("--runtime-in-flight", default="1,5,10", help="agents' runtime: shipments at once")
    parser.add_argument("--max-window", type=int, default=256,
                        help="agents' runtime: longest CFP phase (s) tried before giving up on a market size")
    parser.add_argument("--out", type=Path, default=RESULTS / "agents.json")
    parser.add_argument("--deploy-only", nargs=3, metavar=("RPC", "MANIFEST", "WORK"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.deploy_only:
        _deploy_in_this_process(*args.deploy_only)
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("asc.agents", "offchain.audit", "httpx"):  # one line per agent action would bury the progress lines
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # SIGTERM unwinds like Ctrl-C, so the anvil this run started is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    series = [s for s in args.series.split(",") if s]
    unknown = set(series) - set(LABELS)
    if unknown:
        parser.error(f"unknown series {sorted(unknown)}; choose from {sorted(LABELS)}")
    counts = [int(n) for n in args.carriers.split(",")]
    result: dict[str, Any] = {
        "chain": {"node": "anvil (node_modules)", "block_time_s": BLOCK_TIME_S,
                  "clock": "CFP to award: real clock, interval mining every 1 s; runtime shipments: chain and "
                           f"world warped {WARP_S} s per round; harness shipments: real clock"},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "note": "2 cores shared with other engineers' jobs while measured; load_avg_1min = the "
                            "1-minute load average at the start and at the end of a measurement",
                    "load_avg_1min_at_start": round(os.getloadavg()[0], 1)},
    }
    previous = _previous_harness(args.out) if "harness" not in series else None
    if previous:
        result["harness"] = previous

    def save(partial: dict[str, Any]) -> None:
        result["runtime"] = {"what": RUNTIME_WHAT, **partial}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")

    for name in series:
        # One fresh chain per series: the harness' carriers would otherwise bid on the agents' CFPs.
        mining = None if name == "runtime" else BLOCK_TIME_S
        with tempfile.TemporaryDirectory(prefix="asc-bench-agents-") as tmp, anvil(mining) as url:
            started = time.perf_counter()
            manifest_path = Path(tmp) / "manifest.json"
            deploy(url, manifest_path, build_cache())
            log.info("%s: suite deployed in %.0f s", name, time.perf_counter() - started)
            if name == "runtime":
                data = run_runtime(url, load_manifest(manifest_path), Path(tmp), counts, args.shipments,
                                   [int(n) for n in args.runtime_in_flight.split(",") if n], args.max_window,
                                   save)
                result["runtime"] = {"what": RUNTIME_WHAT, **data}
            else:
                result["harness"] = run_harness(url, manifest_path, counts, args.repeats, args.shipments,
                                                [int(n) for n in args.in_flight.split(",")])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out.with_suffix(".png"))
    print(json.dumps(result, indent=2))
    return 0


def _previous_harness(path: Path) -> dict[str, Any] | None:
    """The harness series of an earlier run at `path`, marked as such, when this run does not measure it."""
    if not path.exists():
        return None
    old = json.loads(path.read_text())
    if isinstance(old.get("harness"), dict):
        return dict(old["harness"])
    if "cfp_to_award" not in old:  # the first format: the harness was the whole file
        return None
    return {"what": old["harness"], "award_choice": old.get("award_choice"), "chain": old.get("chain"),
            "cfp_to_award": old["cfp_to_award"], "shipments": old["shipments"],
            "risk_model_from_chain": old.get("risk_model_from_chain"),
            "note": f"not re-measured by this run: carried over from the earlier {path.name} (same machine)"}


RUNTIME_WHAT = (
    "the agents' runtime: offchain.agents.runtime.Agent instances (carrier, supplier, logistics and wholesaler "
    "roles; each its own key, config, SQLite state, event scanner with 0 confirmations, tx journal, strategy; "
    "registered in the ParticipantRegistry) in one process, stepped round-robin by one thread (each step: "
    "scan, act, flush), with offchain.agents.world.LocalWorld (one truck per carrier at road-graph places); "
    "the wholesalers (below their reorder point) issue the goods CFP, the logistics agent the delivery CFP and "
    "its award"
)


if __name__ == "__main__":
    raise SystemExit(main())
