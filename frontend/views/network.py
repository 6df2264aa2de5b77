"""Network: every registered organisation and agent, its role and services, last activity and health, and the
decisions waiting for a person's approval (approve or reject, signed with the unlocked keystore)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Literal

import pandas as pd
import streamlit as st

from frontend import context, ledger, names
from frontend import wallet as wallet_mod
from frontend.errors import explain

# An agent that published nothing for this long is shown as quiet (agents publish every act they take).
QUIET_AFTER_MS = 15 * 60 * 1000
PAST = {"approve": "approved", "reject": "rejected"}

current = context.chain()
api = context.api()
st.title("Network")
history = current.history()
directory = names.directory(history)
parties = ledger.participants(history)

last_message: dict[str, int] = {}
if api is not None:
    try:
        for m in api.messages():
            last_message[m.sender] = max(last_message.get(m.sender, 0), m.received_ms)
    except Exception as exc:
        st.warning(explain(exc))


def health(p: ledger.Participant) -> str:
    if p.status != "active":
        return p.status
    heard = last_message.get(p.account)
    if heard is None:
        return "registered; its agent has published nothing"
    quiet_ms = time.time_ns() // 1_000_000 - heard
    return "active" if quiet_ms < QUIET_AFTER_MS else f"quiet for {quiet_ms // 60_000} min"


st.subheader("Registered participants")
st.dataframe(
    pd.DataFrame(
        [
            {
                "name": names.name(directory, p.account),
                "account": p.account,
                "roles": ", ".join(p.roles),
                "product": p.product,
                "region": p.region,
                "capacity": p.capacity,
                "services": p.metadata_uri,
                "last on-chain activity (UTC)": context.when(current.block_time(p.last_block)) if p.last_block else "",
                "last agent message received (UTC)": dt.datetime.fromtimestamp(
                    last_message[p.account] / 1000, dt.UTC
                ).strftime("%Y-%m-%d %H:%M:%S")
                if p.account in last_message
                else "",
                "health": health(p),
            }
            for p in parties
        ],
        columns=[
            "name",
            "account",
            "roles",
            "product",
            "region",
            "capacity",
            "services",
            "last on-chain activity (UTC)",
            "last agent message received (UTC)",
            "health",
        ],
    ),
    hide_index=True,
    width="stretch",
)

st.subheader("Decisions waiting for a person")
if api is None:
    st.stop()
try:
    pending = api.approvals("pending")
except Exception as exc:
    st.error(explain(exc))
    st.stop()
if not pending:
    st.info("No agent is waiting for an approval.")
wallet = wallet_mod.current(st.session_state)
for request in pending:
    with st.container(border=True):
        st.markdown(f"**{request.summary}**")
        st.caption(
            f"{request.kind} · {request.subject} · asked by {names.name(directory, request.agent)} · "
            f"value {context.money(request.value)} · request {request.id}"
        )
        for reason in request.reasons:
            st.markdown(f"- {reason}")
        st.json(request.recommendation, expanded=False)
        if wallet is None:
            st.info("Unlock your keystore to decide.")
            continue
        if wallet.address not in request.approvers:
            st.info(f"Only {', '.join(request.approvers)} may decide this; you are {wallet.address}.")
            continue
        comment = st.text_input("Comment", key=f"comment-{request.id}")
        approve, reject = st.columns(2)
        choice: Literal["approve", "reject"] | None = None
        if approve.button("Approve", key=f"approve-{request.id}"):
            choice = "approve"
        if reject.button("Reject", key=f"reject-{request.id}"):
            choice = "reject"
        if choice is not None:
            try:
                decided = api.decide(request.id, choice, wallet, comment)
            except Exception as exc:
                st.session_state.setdefault(context.OUTCOMES_KEY, []).append(
                    ("error", f"Your decision was not recorded: {explain(exc)}")
                )
            else:
                st.session_state.setdefault(context.OUTCOMES_KEY, []).append(
                    (
                        "ok",
                        f"You {PAST[choice]} {decided.subject} (request {decided.id}); "
                        "the agent acts on your signed decision.",
                    )
                )
            st.rerun()
context.show_outcomes()
