"""Agents at scale on one local chain (`make bench-agents`).

    python bench/agents.py [--carriers 10,50,200] [--repeats 3] [--shipments 10] [--in-flight 10]

One anvil (port 9400-9499, 1-second blocks: `--block-time 1`, like a fast L2; nothing moves the clock by
hand) with the deployed suite. Measured:

1. CFP to award with N competing carriers (10, 50, 200): each carrier has its own key, is registered as a
   carrier and answers the delivery CFP with a sealed bid (commit, then reveal); the buyer ranks the revealed
   bids with `offchain.agents.risk.RiskModel.adjusted_cost` and awards. Time = wall clock from sending the
   CFP transaction to the award's receipt, with the chain-time windows as short as the chain allows: the
   commit and reveal windows start at 1 s and grow only when some bids could not be mined inside them
   (the smallest working window is reported). What bounds it: the block time (a deadline can only be
   checked against a block timestamp, so each phase costs at least one block) and, for many bidders, how
   fast the bids are signed and sent.
2. Shipments completed per minute: GOODS CFP -> supplier's sealed bid -> award (escrow funded, custody twin
   minted) -> DELIVERY CFP -> carriers' sealed bids -> award -> custody pickup (offer + accept) -> delivery
   to the buyer (offer + accept, which settles the escrow). Run one after the other ("in a row"), then
   with several shipments in flight at once (their transactions share blocks).

The carriers are driven by this harness, in this one process: the same contract calls as the agents'
bidding role (commitBid with keccak(abi.encode(cfpId, bidder, price, eta, salt)), revealBid, award), each
carrier signing its own transactions with eth-account, all of a phase's bids sent before waiting for their
receipts (as independent agents would). The agents' event scanner and strategies are not in the loop.

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

from offchain.agents.risk import RiskModel  # noqa: E402
from offchain.devkeys import dev_account  # noqa: E402
from offchain.manifest import DeploymentManifest, load_manifest  # noqa: E402

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


def _free_port() -> int:
    import socket

    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


@contextlib.contextmanager
def anvil(block_time_s: int) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [str(ANVIL), "--port", str(port), "--chain-id", str(CHAIN_ID), "--block-time", str(block_time_s),
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
    if not (work / "brownie-config.yaml").exists():
        work.mkdir(parents=True, exist_ok=True)
        shutil.copytree(ROOT / "contracts", work / "contracts")
        shutil.copytree(ROOT / "interfaces", work / "interfaces", ignore=shutil.ignore_patterns("*.json"))
        shutil.copy(ROOT / "brownie-config.yaml", work / "brownie-config.yaml")
        (work / "node_modules").symlink_to(ROOT / "node_modules")
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
    hashes = [chain.send(party, call, gas) for party, call, gas in calls]
    receipts = chain.wait(hashes)
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
    try:
        transact(chain, calls)
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
    """Delivery CFP -> award with N carriers; windows from 1 s up until every bid lands."""
    model = RiskModel(failure_cost=50 * UNIT)
    results: dict[str, Any] = {}
    window = 1
    for count in counts:
        carriers = cast.carriers[:count]
        runs: list[Timed] = []
        while len(runs) < repeats:
            order_id, _, _ = goods_round(chain, cast, 1, model)
            try:
                _, timed = delivery_round(chain, cast, order_id, carriers, window, model, len(runs))
            except WindowTooShortError as exc:
                log.info("N=%d: window %d s too short (%s); trying %d s", count, window, exc, window + 1)
                window += 1
                if window > MAX_WINDOW_S:
                    raise RuntimeError(f"bids of {count} carriers do not fit a {MAX_WINDOW_S} s window") from exc
                continue
            runs.append(timed)
            log.info("N=%d carriers: CFP->award %.2f s wall, %d s chain, %d blocks (window %d s)",
                     count, timed.wall_s, timed.chain_s, timed.blocks, window)
        results[str(count)] = {
            "window_s": window,
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


def _parallel_each(works: Sequence[Callable[[], Any]]) -> list[Any]:
    """Independent shipments' rounds at once: threads only wait on the node, the node does the work."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(works)) as pool:
        return list(pool.map(lambda work: work(), works))


# ---------------------------------------------------------------------------------------------- output


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    latency = result["cfp_to_award"]
    counts = [int(n) for n in latency]
    left.plot(counts, [latency[str(n)]["wall_s_median"] for n in counts], "o-", label="wall clock (median)")
    left.plot(counts, [latency[str(n)]["chain_s_median"] for n in counts], "s--", label="chain time")
    left.set(title="Delivery CFP to award", xlabel="competing carriers", ylabel="seconds", xscale="log")
    left.legend()
    runs = result["shipments"]
    right.bar([f"{r['in_flight']} in flight" for r in runs], [r["per_minute"] for r in runs])
    right.set(title="Shipments completed per minute (one anvil, 1 s blocks)", ylabel="shipments / minute")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--carriers", default="10,50,200")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shipments", type=int, default=10)
    parser.add_argument("--in-flight", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS / "agents.json")
    parser.add_argument("--deploy-only", nargs=3, metavar=("RPC", "MANIFEST", "WORK"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.deploy_only:
        _deploy_in_this_process(*args.deploy_only)
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    counts = [int(n) for n in args.carriers.split(",")]
    with tempfile.TemporaryDirectory(prefix="asc-bench-agents-") as tmp, anvil(BLOCK_TIME_S) as url:
        started = time.perf_counter()
        manifest_path = Path(tmp) / "manifest.json"
        deploy(url, manifest_path, Path(tmp) / "project")
        log.info("suite deployed in %.0f s", time.perf_counter() - started)
        chain = Chain(Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60})), load_manifest(manifest_path))
        cast = setup(chain, max(counts))
        log.info("%d carriers registered", len(cast.carriers))
        latency = cfp_to_award(chain, cast, counts, args.repeats)
        window = max(entry["window_s"] for entry in latency.values())
        rows = [run_shipments(chain, cast, args.shipments, 1, cast.carriers[:10], window)]
        log.info("in a row: %s", rows[-1])
        rows.append(run_shipments(chain, cast, args.shipments, args.in_flight, cast.carriers[:10], window))
        log.info("in flight: %s", rows[-1])
    result = {
        "chain": {"node": "anvil (node_modules)", "block_time_s": BLOCK_TIME_S, "automine": False,
                  "clock": "real: no evm_increaseTime"},
        "harness": "carriers driven in-process by bench/agents.py (same contract calls as the agents' bidding "
                   "role, each carrier signs its own transactions); not the agents' runtime",
        "award_choice": "offchain.agents.risk.RiskModel.adjusted_cost over the revealed bids",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "note": "2 cores shared with other engineers' jobs while measured"},
        "cfp_to_award": latency,
        "shipments": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out.with_suffix(".png"))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
