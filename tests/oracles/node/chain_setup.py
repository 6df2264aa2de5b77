"""Chain set-up for the oracle node tests, run as a subprocess (brownie as a library):

    python tests/oracles/node/chain_setup.py deploy RPC_URL MANIFEST WORK  # suite + 2-of-3 dev oracle set
    python tests/oracles/node/chain_setup.py order RPC_URL MANIFEST WORK [ORIGIN DESTINATION DEADLINE_AFTER_S]
    python tests/oracles/node/chain_setup.py deliver RPC_URL MANIFEST WORK TWIN_ID  # consignee takes the goods

`deploy` uses scripts/deploy.py's `deploy_suite` and `build_manifest` (the wiring that ships) and funds the
dev oracle keys so they can pay for their submissions. `order` plays scripts/lifecycle.py's steps up to the
pickup handoff (registry, GOODS CFP with sealed bids, award + escrow, one delivery leg, supplier -> carrier)
and prints `{"order_id": ..., "twin_id": ..., "carrier": ..., "picked_up_at": ...}`. ORIGIN and DESTINATION name
road graph places for the delivery leg (default: the lifecycle's labels, which the road graph does not know,
so no corridor); DEADLINE_AFTER_S sets the delivery deadline that many seconds after the start (default 48 h).
The network is declared in memory only, so nothing is written to the machine-wide brownie network list.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
NETWORK = "asc-oracle-node-test"
ORACLES = 4  # dev oracle keys 0-2 form the set; key 3 is the outsider of the wrong-key test
SET_SIZE, THRESHOLD = 3, 2


def _connect(rpc_url: str, work: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from brownie import network, project
    from brownie._config import CONFIG

    from offchain.scenario.deploy import project_copy

    proj = project.load(project_copy(work), name="AscProject")
    proj.load_config()
    proj._add_to_main_namespace()
    CONFIG.argv["silent"] = True
    CONFIG.networks[NETWORK] = {"id": NETWORK, "host": rpc_url, "chainid": "31337", "name": NETWORK}
    network.connect(NETWORK)


def deploy(manifest_path: str) -> None:
    from brownie import accounts, web3

    from offchain.devkeys import dev_oracle_accounts
    from offchain.manifest import write_manifest
    from scripts.deploy import build_manifest, deploy_suite

    oracles = dev_oracle_accounts(ORACLES, web3.eth.chain_id)
    suite = deploy_suite(accounts[0], oracles=[o.address for o in oracles[:SET_SIZE]], threshold=THRESHOLD)
    for oracle in oracles:
        accounts[0].transfer(oracle.address, 10**19)
    write_manifest(build_manifest(suite, accounts[0].address, NETWORK, web3.provider.endpoint_uri), manifest_path)
    print(json.dumps({"hub": suite.hub.address}))


def _suite(manifest_path: str) -> object:
    from brownie import Contract

    from offchain.manifest import load_manifest

    manifest = load_manifest(manifest_path)
    c = {name: Contract.from_abi(name, e.address, e.abi) for name, e in manifest.contracts.items()}
    return type(
        "Suite",
        (),
        {
            "token": c["TestStablecoin"],
            "registry": c["ParticipantRegistry"],
            "escrow": c["Escrow"],
            "custody": c["CustodyTwin"],
            "procurement": c["Procurement"],
            "hub": c["VerdictHub"],
        },
    )()


def order(manifest_path: str, origin: str = "", destination: str = "", deadline_after_s: str = "") -> None:
    from brownie import accounts, chain

    from oracles.node.routing import encode_place
    from scripts import lifecycle as lc

    suite: Any = _suite(manifest_path)
    wholesaler, supplier, carrier = accounts[1], accounts[2], accounts[5]
    actors = lc.Actors(wholesaler=wholesaler, suppliers=[supplier], carriers=[carrier])
    if not suite.registry.hasRoles(carrier, lc.CARRIER):  # the first order on this chain registers everybody
        lc.register_participants(suite, actors)
    result = lc.LifecycleResult(order_id=0, twin_id=0, verdict_id=b"")
    deadline = lc.now() + (int(deadline_after_s) if deadline_after_s else 48 * lc.HOUR)
    leg_from = encode_place(origin) if origin else lc.FARM
    leg_to = encode_place(destination) if destination else lc.WHOLESALE
    money = (deadline, 20 * lc.UNIT, 150 * lc.UNIT, 2_000 * lc.UNIT)
    quantity, max_price = 100, 60 * lc.UNIT
    suite.token.mint(wholesaler, quantity * max_price, {"from": accounts[0]})
    suite.token.approve(suite.escrow, quantity * max_price, {"from": wholesaler})
    order_id = lc._open_cfp(
        suite,
        wholesaler,
        result,
        "cfp",
        lc._cfp_params(lc.GOODS, 0, quantity, max_price, lc.FARM, lc.WHOLESALE, lc.SUPPLIER, money, deadline),
    )
    lc._sealed_round(suite, result, order_id, [(supplier, 50 * lc.UNIT, deadline - 6 * lc.HOUR)], "bid")
    award = suite.procurement.awardBest(order_id, {"from": wholesaler})
    twin_id = int(award.events["TwinMinted"]["twinId"])
    cfp_id = lc._open_cfp(
        suite,
        supplier,
        result,
        "tender_cfp",
        lc._cfp_params(
            lc.DELIVERY,
            order_id,
            quantity,
            6 * lc.UNIT,
            leg_from,
            leg_to,
            lc.CARRIER,
            (0, 0, 0, 0),
            deadline,
        ),
    )
    lc._sealed_round(suite, result, cfp_id, [(carrier, 4 * lc.UNIT, deadline - 2 * lc.HOUR)], "tender_bid")
    suite.procurement.award(cfp_id, carrier, {"from": supplier})
    lc.handoff(suite, result, twin_id, supplier, carrier, leg_from, "handoff_pickup")
    picked_up_at = chain[-1].timestamp
    out = {"order_id": order_id, "twin_id": twin_id, "carrier": carrier.address, "picked_up_at": picked_up_at}
    print(json.dumps(out))


def deliver(manifest_path: str, twin_id: str) -> None:
    """The carrier hands the goods to the consignee (the wholesaler): the twin is delivered."""
    from brownie import accounts

    from scripts import lifecycle as lc

    suite: Any = _suite(manifest_path)
    result = lc.LifecycleResult(order_id=0, twin_id=int(twin_id), verdict_id=b"")
    lc.handoff(suite, result, int(twin_id), accounts[5], accounts[1], lc.WHOLESALE, "handoff_delivery")
    print(json.dumps({"delivered": int(twin_id)}))


def main() -> None:
    command, rpc_url, manifest_path, work, *extra = sys.argv[1:]
    _connect(rpc_url, Path(work))
    {"deploy": deploy, "order": order, "deliver": deliver}[command](manifest_path, *extra)


if __name__ == "__main__":
    main()
