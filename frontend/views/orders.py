"""Orders: open a call for proposals, watch sealed bids arrive and be revealed, award, fund the escrow."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from frontend import context, ledger
from frontend import wallet as wallet_mod

UNIT = 10**6
ROLE_BITS = {name: bit for bit, name in ledger.ROLES.items()}


def _bytes32(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) > 32:
        raise ValueError(f"{text!r} is longer than 32 bytes")
    return data.ljust(32, b"\0")


chain = context.chain()
st.title("Orders")
wallet = wallet_mod.current(st.session_state)

with st.expander("Open a call for proposals", expanded=False), st.form("open_cfp"):
    col1, col2, col3 = st.columns(3)
    kind = col1.selectbox("Kind", ["goods", "delivery"], key="cfp_kind")
    parent = col1.number_input("Parent order (delivery only)", min_value=0, value=0, step=1, key="cfp_parent")
    product = col1.text_input("Product type", value="beef-chilled")
    quantity = col2.number_input("Quantity", min_value=1, value=100, step=1)
    max_price = col2.number_input("Max unit price (tokens)", min_value=0.01, value=60.0, step=1.0)
    roles = col2.multiselect("Eligible roles", list(ROLE_BITS), default=["supplier"], key="cfp_roles")
    origin = col3.text_input("Origin place", value="gcrf-farm-ely")
    destination = col3.text_input("Destination place", value="u12j-wholesale-cambridge")
    commit_h = col3.number_input("Commit phase (hours)", min_value=0.1, value=1.0)
    st.caption("SLA terms (checked by the oracles) and money terms (charged by the escrow)")
    s1, s2, s3, s4 = st.columns(4)
    temp_min = s1.number_input("Min °C", value=0.0)
    temp_max = s1.number_input("Max °C", value=5.0)
    hum_min = s2.number_input("Min RH %", value=60.0)
    hum_max = s2.number_input("Max RH %", value=95.0)
    shock = s3.number_input("Shock limit (g)", value=5.0)
    grace = s3.number_input("Grace (minutes)", min_value=0, value=15)
    delivery_h = s4.number_input("Delivery within (hours)", min_value=1, value=48)
    per_hour = s4.number_input("Penalty per hour late", min_value=0.0, value=20.0)
    per_excursion = s4.number_input("Penalty per excursion", min_value=0.0, value=150.0)
    cap = s4.number_input("Penalty cap", min_value=0.0, value=2000.0)
    if st.form_submit_button("Open the call on chain", key="open_cfp_submit"):
        try:
            now = chain.now() + 60  # the next block's time; leaves room for the transaction to be mined
            commit = now + int(commit_h * 3600)
            deadline = now + int(delivery_h) * 3600
            params = (
                0 if kind == "goods" else 1,
                int(parent) if kind == "delivery" else 0,
                _bytes32(product),
                int(quantity),
                round(max_price * UNIT),
                now,
                deadline,
                _bytes32(origin),
                _bytes32(destination),
                sum(ROLE_BITS[r] for r in roles),
                commit,
                commit + 3600,
                commit + 2 * 3600,
                (
                    round(temp_min * 100),
                    round(temp_max * 100),
                    round(hum_min * 100),
                    round(hum_max * 100),
                    round(shock * 1000),
                    int(grace) * 60,
                ),
                (deadline, round(per_hour * UNIT), round(per_excursion * UNIT), round(cap * UNIT))
                if kind == "goods"
                else (0, 0, 0, 0),
            )
        except ValueError as exc:
            st.error(f"The call cannot be opened: {exc}.")
        else:
            context.send(
                chain, "Opening the call for proposals", lambda: chain.contract("Procurement").functions.openCfp(params)
            )


@st.fragment(run_every=context.settings().refresh_s)
@context.guarded
def calls() -> None:
    """The calls and the chosen call's bids, re-read every refresh_s: sealed bids appear, then their reveals."""
    rows = ledger.cfps(chain.history())
    if not rows:
        st.info("No call for proposals on this deployment yet.")
        context.show_outcomes()
        return

    table = pd.DataFrame(
        [
            {
                "call": r.cfp_id,
                "order": r.order_id,
                "kind": r.kind,
                "buyer": context.short(r.buyer),
                "status": r.status,
                "quantity": r.quantity,
                "max unit price": context.money(r.max_unit_price),
                "route": f"{r.origin} → {r.destination}",
                "sealed bids": len(r.bids),
                "revealed": sum(b.revealed for b in r.bids),
                "winner": context.short(r.winner or ""),
                "total": context.money(r.award_total),
            }
            for r in rows
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")

    chosen = st.selectbox("Call", [r.cfp_id for r in rows], index=len(rows) - 1, key="call")
    row = next(r for r in rows if r.cfp_id == chosen)
    now = chain.now()
    if now <= row.commit_deadline:
        phase = f"collecting sealed bids until {context.when(row.commit_deadline)}"
    elif now <= row.reveal_deadline:
        phase = f"bids are being revealed until {context.when(row.reveal_deadline)}"
    elif now <= row.award_deadline and row.status == "open":
        phase = f"ready to award until {context.when(row.award_deadline)}"
    else:
        phase = row.status
    st.subheader(f"Call {row.cfp_id}: {phase}")
    st.caption(f"chain time {context.when(now)} UTC")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "bidder": b.bidder,
                    "committed in block": b.committed_block,
                    "revealed": b.revealed,
                    "unit price": context.money(b.unit_price),
                    "eta": context.when(b.eta),
                    "best": b.best,
                }
                for b in row.bids
            ],
            columns=["bidder", "committed in block", "revealed", "unit price", "eta", "best"],
        ),
        hide_index=True,
        width="stretch",
    )

    best = next((b for b in row.bids if b.best), None)
    awardable = row.status == "open" and row.reveal_deadline < now <= row.award_deadline and best is not None
    if awardable and best is not None and best.unit_price is not None:
        needed = best.unit_price * row.quantity
        st.write(
            f"Best revealed bid: {best.bidder} at {context.money(best.unit_price)} a unit, "
            f"{context.money(needed)} in all."
        )
        if wallet is None or wallet.address != row.buyer:
            st.info(f"Only the buyer {row.buyer} can award this call: unlock the buyer's keystore.")
        else:
            escrow = chain.contract("Escrow").address
            if row.kind == "goods":
                allowance = int(chain.token.functions.allowance(wallet.address, escrow).call())
                st.write(f"The escrow may take {context.money(allowance)} of your tokens.")
                if allowance < needed and st.button(f"Approve the escrow for {context.money(needed)}", key="approve"):
                    context.send(chain, "Approving the escrow", lambda: chain.token.functions.approve(escrow, needed))
            if st.button("Award the best bid and fund the escrow", key="award"):
                context.send(
                    chain,
                    f"Awarding call {row.cfp_id}",
                    lambda: chain.contract("Procurement").functions.awardBest(row.cfp_id),
                )
    context.show_outcomes()


calls()
