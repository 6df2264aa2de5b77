"""`python -m offchain.agents run CONFIG.yaml | pending | approve ID --keystore FILE [--reject]`.

Exit codes: 0 done, 2 bad input (config, settings, keystore, manifest), 1 the chain or the API failed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
import time
from pathlib import Path

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import ValidationError
from web3 import Web3

from offchain.devkeys import dev_account
from offchain.manifest import ManifestError, load_manifest

from .approvals import ApprovalDesk, HttpApprovalsApi, sign_decision
from .chain import Chain
from .config import AgentConfig, AgentKind, ConfigError, load_config
from .models import default_models
from .runtime import Agent, AgentContext
from .settings import AgentSettings
from .state import AgentState
from .transcript import ApiMessageSink, Transcript
from .txs import TxJournal
from .world import WorldPort

log = logging.getLogger("asc.agents")


class UsageError(ValueError):
    pass


def _out(text: str) -> None:
    """The CLI's own output (not logging)."""
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def load_account(settings: AgentSettings, chain_id: int) -> LocalAccount:
    if settings.keystore is not None:
        return _keystore_account(settings.keystore, settings.keystore_password.get_secret_value()
                                 if settings.keystore_password else None)
    if settings.dev_key_index is not None:
        return dev_account(settings.dev_key_index, chain_id)
    raise UsageError("no key: set ASC_AGENT_KEYSTORE (+ ASC_AGENT_KEYSTORE_PASSWORD) or, on a local chain, "
                     "ASC_AGENT_DEV_KEY_INDEX")


def _keystore_account(path: Path, password: str | None) -> LocalAccount:
    try:
        encrypted = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read keystore {path}: {exc}") from exc
    if password is None:
        password = getpass.getpass(f"password of {path}: ")
    try:
        account: LocalAccount = Account.from_key(Account.decrypt(encrypted, password))
        return account
    except ValueError as exc:
        raise UsageError(f"cannot decrypt keystore {path}: {exc}") from exc


def _world(settings: AgentSettings, config: AgentConfig) -> WorldPort | None:
    if config.kind is not AgentKind.CARRIER:
        return None
    if settings.world_url is None:
        raise UsageError("a carrier needs the world service: set ASC_AGENT_WORLD_URL")
    try:
        from offchain.sim.client import WorldClient  # the world engineer's HTTP client of this port
    except ImportError as exc:
        raise UsageError(f"ASC_AGENT_WORLD_URL is set but offchain.sim.client is not available: {exc}") from exc
    return WorldClient(settings.world_url)  # type: ignore[no-any-return]


def build_agent(settings: AgentSettings, config: AgentConfig) -> Agent:
    manifest = load_manifest(settings.manifest)
    rpc = settings.rpc_url or manifest.rpc_hint
    if rpc is None:
        raise UsageError("no RPC endpoint: set ASC_AGENT_RPC_URL (the manifest has no rpc_hint)")
    w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": 30}))
    chain = Chain(w3, manifest)
    account = load_account(settings, chain.chain_id)
    state = AgentState(settings.database_url(config.name))
    client = httpx.Client(base_url=settings.api_url, timeout=10) if settings.api_url else None
    if config.approvals.approvers and client is None:
        raise UsageError("approvals are configured but ASC_AGENT_API_URL is not set (decisions come through it)")
    ctx = AgentContext(
        config=config,
        chain=chain,
        account=account,
        state=state,
        txs=TxJournal(w3, account, state, timeout_s=settings.tx_timeout_s),
        transcript=Transcript(state, account.address, bytes(account.key), ApiMessageSink(client) if client else None),
        approvals=ApprovalDesk(state, account.address, bytes(account.key), config.approvals.approvers,
                               HttpApprovalsApi(client) if client else None),
        world=_world(settings, config),
    )
    ctx.risk, ctx.planner = default_models(config, w3, manifest)
    from .roles import make_role

    return Agent(ctx, make_role(ctx), confirmations=settings.confirmations, poll_interval_s=settings.poll_interval_s,
                 chunk_blocks=settings.log_chunk_blocks, reorg_depth=settings.reorg_depth)


def _run(args: argparse.Namespace, settings: AgentSettings) -> int:
    config = load_config(args.config)
    agent = build_agent(settings, config)
    log.info("%s (%s) starting as %s in %s", config.name, agent.ctx.address, config.kind, config.region)
    agent.run()
    return 0


def _api(settings: AgentSettings) -> httpx.Client:
    if settings.api_url is None:
        raise UsageError("set ASC_AGENT_API_URL")
    return httpx.Client(base_url=settings.api_url, timeout=10)


def _pending(args: argparse.Namespace, settings: AgentSettings) -> int:
    params = {"status": "pending"} | ({"agent": args.agent} if args.agent else {})
    response = _api(settings).get("/approvals", params=params)
    response.raise_for_status()
    body = response.json()
    items = body.get("items", []) if isinstance(body, dict) else body
    for item in items:
        _out(f"{item['id']}  {item['kind']:<14} {item['subject']:<24} value={item.get('value')} "
             f"severity={item.get('severity')}\n    {item['summary']}")
        for reason in item.get("reasons", []):
            _out(f"    - {reason}")
    if not items:
        _out("no pending approvals")
    return 0


def _approve(args: argparse.Namespace, settings: AgentSettings) -> int:
    password = os.environ.get("ASC_AGENT_KEYSTORE_PASSWORD")
    account = _keystore_account(Path(args.keystore), password)
    decision = sign_decision(args.approval_id, "reject" if args.reject else "approve", bytes(account.key),
                             account.address, args.comment, int(time.time() * 1000))
    response = _api(settings).post(f"/approvals/{args.approval_id}/decision", json=decision)
    if response.status_code not in (200, 201):
        _err(f"the API refused the decision: {response.status_code} {response.text[:500]}")
        return 1
    _out(f"{decision['decision']} {args.approval_id} as {account.address}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offchain.agents", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one agent until SIGTERM/SIGINT")
    run.add_argument("config", type=Path)
    pending = sub.add_parser("pending", help="list approvals waiting for a decision")
    pending.add_argument("--agent", default=None)
    approve = sub.add_parser("approve", help="sign and send a decision on an approval request")
    approve.add_argument("approval_id")
    approve.add_argument("--keystore", required=True, help="the approver's encrypted keystore")
    approve.add_argument("--reject", action="store_true")
    approve.add_argument("--comment", default="")
    args = parser.parse_args(argv)
    try:
        settings = AgentSettings()
    except ValidationError as exc:
        _err(f"invalid ASC_AGENT_ settings: {exc}")
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers = {"run": _run, "pending": _pending, "approve": _approve}
    try:
        return handlers[args.command](args, settings)
    except (ConfigError, ManifestError, UsageError) as exc:
        _err(str(exc))
        return 2
    except httpx.HTTPError as exc:
        _err(f"the API failed: {exc}")
        return 1
