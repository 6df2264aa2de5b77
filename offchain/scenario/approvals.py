"""The people of a scenario (`approvers:`) and the approvals they decide.

A person is played with their own development key, kept for the run in an encrypted keystore: they read the
API's approval requests, and `after_s` simulated seconds after a request of an organisation they approve for
appeared, they decide it with the agents' own CLI (`python -m offchain.agents approve ID --keystore FILE
[--reject]`: its `main`, with the same arguments and environment a person at a terminal gives it). The agent
then re-verifies that signature itself: the run has no other way into a decision. The CLI runs in this
process: a fresh interpreter per decision took ~15 s of a loaded shared CPU, 20 simulated minutes at 90x,
longer than an award phase.

`ApprovalBoard` follows every request and decision through the API (progress lines, the summary's
`approvals`), and `approval_outcomes` checks the scenario's `expect: approvals:` against them and the chain.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import asdict, dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from offchain.agents import cli
from offchain.devkeys import dev_account
from offchain.sim.story import ApprovalExpectation, ApproverSpec, OrganisationSpec

from .expect import Outcome
from .progress import Facts, money

logger = logging.getLogger(__name__)

# People's keys come from the development mnemonic past the organisations (1-9) and before the oracles (100+).
PERSON_KEY_OFFSET = 50
AUTO_APPROVER = "auto-approver"
# Dev keys protect nothing; a light scrypt keeps each CLI call's decryption cheap on a shared machine.
KEYSTORE_SCRYPT_N = 2**14


def people(specs: list[ApproverSpec], organisations: list[OrganisationSpec]) -> list[ApproverSpec]:
    """The scenario's approvers, plus the `auto-approver` for organisations that ask for approvals with
    `auto_approve` and whom nobody named decides for."""
    named = {name for spec in specs for name in spec.approves}
    unattended = [
        o.name for o in organisations if o.approvals is not None and o.approvals.auto_approve and o.name not in named
    ]
    if not unattended:
        return list(specs)
    return [*specs, ApproverSpec(name=AUTO_APPROVER, approves=unattended, decision="approve", after_s=0)]


def person_account(index: int, chain_id: int) -> LocalAccount:
    return dev_account(PERSON_KEY_OFFSET + index, chain_id)


def approvers_by_organisation(persons: list[ApproverSpec], chain_id: int) -> dict[str, list[str]]:
    """{organisation: the checksummed addresses allowed to decide its approvals} (for the agent configs)."""
    out: dict[str, list[str]] = {}
    for i, person in enumerate(persons):
        address = person_account(i, chain_id).address
        for org in person.approves:
            out.setdefault(org, []).append(address)
    return out


@dataclass
class ApprovalRecord:
    """One approval request as the run saw it; times in simulated ms unless named `_wall_s`."""

    id: str
    agent: str
    kind: str
    subject: str
    summary: str
    value: int | None
    severity: int | None
    award_to: str | None
    approvers: list[str]
    requested_ms: int  # the agent's `created_ms` (chain time, i.e. simulated)
    seen_ms: int
    seen_wall_s: float
    decision: str | None = None
    decided_by: str | None = None
    comment: str = ""
    decided_seen_ms: int | None = None
    played_decision_ms: int | None = None  # when a person the run plays decided it
    decided_wall_s: float | None = None

    @property
    def cfp(self) -> int | None:
        """The CFP an award request is about (subject `cfp:<chain>:<id>:<bidder>`)."""
        parts = self.subject.split(":")
        return int(parts[2]) if len(parts) >= 3 and parts[0] == "cfp" and parts[2].isdigit() else None

    def public(self) -> dict[str, Any]:
        latency = None if self.decided_seen_ms is None else round((self.decided_seen_ms - self.requested_ms) / 1000)
        wall = None if self.decided_wall_s is None else round(self.decided_wall_s - self.seen_wall_s, 1)
        raw = {k: v for k, v in asdict(self).items() if not k.endswith("_wall_s")}  # monotonic clock readings
        return raw | {"cfp": self.cfp, "latency_sim_s": latency, "latency_wall_s": wall}


@dataclass
class Person:
    spec: ApproverSpec
    account: LocalAccount
    keystore: Path
    organisations: set[str] = field(default_factory=set)  # checksummed addresses of the agents they decide for


class ApprovalBoard:
    """Reads the API's approvals on each `poll(sim_now_ms)`, lets the people decide the due ones and says
    what happened."""

    def __init__(
        self,
        api_url: str,
        persons: list[ApproverSpec],
        chain_id: int,
        names: Mapping[str, str],
        keystore_dir: Path,
        say: Callable[[str], None],
    ) -> None:
        self.api_url = api_url
        self._names = {to_checksum_address(a): n for a, n in names.items()}
        by_name = {n: a for a, n in self._names.items()}
        self._say = say
        self._password = secrets.token_urlsafe(18)  # per run, only in the environment while the CLI runs
        keystore_dir.mkdir(parents=True, exist_ok=True)
        self.people: list[Person] = []
        for i, spec in enumerate(persons):
            account = person_account(i, chain_id)
            self._names[account.address] = spec.name
            path = keystore_dir / f"{spec.name}.json"
            encrypted = Account.encrypt(account.key, self._password, kdf="scrypt", iterations=KEYSTORE_SCRYPT_N)
            path.write_text(json.dumps(encrypted), encoding="utf-8")
            path.chmod(0o600)
            orgs: set[str] = {by_name[o] for o in spec.approves if o in by_name}
            self.people.append(Person(spec, account, path, orgs))
        self.records: dict[str, ApprovalRecord] = {}
        self._decided_by_us: set[str] = set()
        self._after: int | None = None
        self._client = httpx.Client(base_url=api_url, timeout=10)

    def who(self, address: str) -> str:
        try:
            checksum = to_checksum_address(address)
        except ValueError:
            return address
        return self._names.get(checksum, checksum[:10])

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ each round
    def poll(self, sim_now_ms: int) -> None:
        try:
            items = self._new_requests() + self._undecided()
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            logger.warning("approvals unreadable from the API: %s", exc)
            items = []
        for item in items:
            self._observe(item, sim_now_ms)
        for record in self.records.values():
            if record.decision is None and record.id not in self._decided_by_us:
                self._maybe_decide(record, sim_now_ms)

    def _new_requests(self) -> list[dict[str, Any]]:
        """Requests that arrived since the last round (`seq` after the highest seen), page by page."""
        items: list[dict[str, Any]] = []
        while True:
            params: dict[str, Any] = {"limit": 100} | ({"after": self._after} if self._after is not None else {})
            response = self._client.get("/approvals", params=params)
            response.raise_for_status()
            page = response.json()
            items += page["items"]
            if page["items"]:
                self._after = max(int(i["seq"]) for i in page["items"])
            if page.get("next_after") is None:
                return items

    def _undecided(self) -> list[dict[str, Any]]:
        """The requests still waiting, read again (a decision may have come from anyone: the dapp, the CLI)."""
        fresh = []
        for record in list(self.records.values()):
            if record.decision is None:
                response = self._client.get(f"/approvals/{record.id}")
                response.raise_for_status()
                fresh.append(dict(response.json()))
        return fresh

    def _observe(self, item: dict[str, Any], sim_now_ms: int) -> None:
        record = self.records.get(item["id"])
        if record is None:
            award_to = item.get("recommendation", {}).get("award_to")
            record = ApprovalRecord(
                id=item["id"],
                agent=self.who(item["agent"]),
                kind=item["kind"],
                subject=item["subject"],
                summary=self._named(item["summary"]),
                value=item.get("value"),
                severity=item.get("severity"),
                award_to=self.who(award_to) if isinstance(award_to, str) else None,
                approvers=[self.who(a) for a in item["approvers"]],
                requested_ms=int(item["created_ms"]),
                seen_ms=sim_now_ms,
                seen_wall_s=time.monotonic(),
            )
            self.records[record.id] = record
            stake = f", {money(record.value)} at stake" if record.value is not None else ""
            self._say(
                f"approval asked by {record.agent} ({record.kind}{stake}): {record.summary}; "
                f"waits for {', '.join(record.approvers)}"
            )
        decision = item.get("decision")
        if decision and record.decision is None:
            record.decision = decision["decision"]
            record.decided_by = self.who(decision["approver"])
            record.comment = decision.get("comment", "")
            record.decided_seen_ms = max(sim_now_ms, record.requested_ms)
            record.decided_wall_s = time.monotonic()
            minutes = (record.decided_seen_ms - record.requested_ms) / 60_000
            self._say(
                f"{record.decided_by} {'approved' if record.decision == 'approve' else 'rejected'}: "
                f"{record.summary} (asked by {record.agent}, decided {minutes:.1f} simulated min later)"
            )

    # ------------------------------------------------------------------ the people
    def _maybe_decide(self, record: ApprovalRecord, sim_now_ms: int) -> None:
        for person in self.people:
            if person.spec.name not in record.approvers:
                continue
            if not any(self.who(o) == record.agent for o in person.organisations):
                continue
            if sim_now_ms - record.seen_ms < person.spec.after_s * 1000:
                return
            decision = person.spec.decision
            if record.kind == "award" and record.award_to in person.spec.reject_awards_to:
                decision = "reject"
            self._decide(person, record, decision)
            record.played_decision_ms = sim_now_ms
            return

    def _decide(self, person: Person, record: ApprovalRecord, decision: str) -> None:
        distrusted = decision == "reject" and record.award_to in person.spec.reject_awards_to
        comment = person.spec.comment or (
            f"{person.spec.name} does not award to {record.award_to} (scripted by the scenario)"
            if distrusted
            else f"{person.spec.name} decides {decision} (scripted by the scenario)"
        )
        argv = ["approve", record.id, "--keystore", str(person.keystore), "--comment", comment]
        argv += ["--reject"] if decision == "reject" else []
        out, err = StringIO(), StringIO()
        secrets_env = {"ASC_AGENT_API_URL": self.api_url, "ASC_AGENT_KEYSTORE_PASSWORD": self._password}
        with _environment(secrets_env), redirect_stdout(out), redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse refuses the arguments
                code = exc.code if isinstance(exc.code, int) else 2
        self._decided_by_us.add(record.id)
        if code != 0:
            # e.g. 409: somebody decided first (a person on the dapp); the board reads who on its next poll.
            problem = err.getvalue().strip()[-300:]
            self._say(f"{person.spec.name} could not decide {record.id[:10]} (CLI exit {code}): {problem}")
            return
        logger.info("%s: %s", person.spec.name, out.getvalue().strip())

    def _named(self, text: str) -> str:
        for address, name in self._names.items():
            text = text.replace(address, name)
        return text

    def summary(self) -> list[dict[str, Any]]:
        return [r.public() for r in sorted(self.records.values(), key=lambda r: (r.requested_ms, r.id))]


def approval_outcomes(wants: list[ApprovalExpectation], records: list[ApprovalRecord], facts: Facts) -> list[Outcome]:
    """Each expectation: enough matching decisions, every one of them followed on-chain (an approved award's
    CFP went to the recommended bidder; a rejected one's did not)."""
    outcomes: list[Outcome] = []
    for want in wants:
        found = [
            r
            for r in records
            if r.kind == want.kind
            and r.decision == want.decision
            and (want.by is None or r.decided_by == want.by)
            and (want.agent is None or r.agent == want.agent)
        ]
        unfollowed = [r for r in found if not _followed(r, facts)]
        label = (
            f"{want.kind} {want.decision}"
            + (f" by {want.by}" if want.by else "")
            + (f" for {want.agent}" if want.agent else "")
        )
        detail = f"{len(found)} {label} decision(s), {want.min} expected"
        if unfollowed:
            detail += "; not (yet) followed on-chain: " + ", ".join(
                f"CFP #{r.cfp} ({r.award_to}, winner {facts.cfps.get(r.cfp or -1, {}).get('winner')})"
                for r in unfollowed
            )
        outcomes.append(
            Outcome(f"approval:{want.kind}:{want.decision}", len(found) >= want.min and not unfollowed, detail)
        )
    return outcomes


def _followed(record: ApprovalRecord, facts: Facts) -> bool:
    if record.cfp is None or record.award_to is None:
        return True  # nothing on-chain names what was decided
    winner = facts.cfps.get(record.cfp, {}).get("winner")
    if record.decision == "approve":
        return bool(winner == record.award_to)
    return bool(winner != record.award_to)


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """`values` in os.environ for the block only (the CLI reads its settings and the keystore password there;
    children started later must not inherit the password)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
