"""Settlement: escrow balances, penalties with the verdict and evidence behind each, withdraw."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from frontend import context, ledger, names
from frontend import wallet as wallet_mod
from frontend.errors import explain
from offchain.storage.cid import bytes32_to_cid, cid_to_text
from offchain.storage.store import open_store


@st.cache_resource
def evidence_store():  # type: ignore[no-untyped-def]
    """The evidence store of ASC_STORAGE_* (embedded directory or IPFS node), opened once per process."""
    return open_store()


current = context.chain()
st.title("Settlement")
history = current.history()
directory = names.directory(history)
escrow = current.contract("Escrow")
orders = ledger.escrow_orders(history)

c1, c2, c3 = st.columns(3)
c1.metric("Held by the escrow", context.money(int(current.token.functions.balanceOf(escrow.address).call())))
c2.metric("Owed to parties (orders + credits)", context.money(int(escrow.functions.outstanding().call())))
c3.metric("Orders", len(orders))

wallet = wallet_mod.current(st.session_state)
if wallet is not None:
    credit = int(escrow.functions.credit(wallet.address).call())
    balance = int(current.token.functions.balanceOf(wallet.address).call())
    st.write(f"Your credit in escrow: **{context.money(credit)}** · your token balance: {context.money(balance)}")
    if st.button(f"Withdraw {context.money(credit)}", key="withdraw"):
        context.send(current, "Withdrawing your credit", lambda: escrow.functions.withdraw())
        st.rerun()
else:
    st.info("Unlock your keystore to see your credit and withdraw it.")

st.subheader("Orders in escrow")
st.dataframe(
    pd.DataFrame(
        [
            {
                "order": o.order_id,
                "status": o.status,
                "buyer": names.name(directory, o.buyer),
                "seller": names.name(directory, o.seller),
                "amount": context.money(o.amount),
                "legs": len(o.legs),
                "penalties claimed": context.money(sum(c.amount for c in o.claims)),
                "seller payout": context.money(o.settled["sellerPayout"]) if o.settled else "",
                "carriers payout": context.money(o.settled["carriersPayout"]) if o.settled else "",
                "buyer refund": context.money(o.settled["buyerRefund"]) if o.settled else "",
            }
            for o in orders
        ],
        columns=[
            "order",
            "status",
            "buyer",
            "seller",
            "amount",
            "legs",
            "penalties claimed",
            "seller payout",
            "carriers payout",
            "buyer refund",
        ],
    ),
    hide_index=True,
    width="stretch",
)

st.subheader("Penalties and the verdicts behind them")
claims = [(o, c) for o in orders for c in o.claims]
if not claims:
    st.info("No penalty has been claimed on this deployment.")
for order, claim in claims:
    with st.container(border=True):
        charged = next((ch for party, _, ch in order.charges if party == claim.liable), None)
        st.markdown(
            f"**Order {order.order_id}**: {context.money(claim.amount)} claimed from "
            f"{names.name(directory, claim.liable)} ({claim.leg}) for a {claim.reason}"
            # the charge is per liable party (its claims summed, clamped to its share), not per claim
            + (
                f"; {context.money(charged)} charged at settlement for all its claims on this order."
                if charged is not None
                else "; not settled yet."
            )
        )
        verdict = claim.verdict
        if verdict is None:
            continue
        cid = cid_to_text(bytes32_to_cid(verdict.evidence_hash))
        st.caption(
            f"verdict {verdict.verdict_id} · {verdict.kind}, severity {verdict.severity}, action {verdict.action} · "
            f"window {context.when(verdict.window_start)} – {context.when(verdict.window_end)} UTC · "
            f"transaction {verdict.tx_hash}"
        )
        try:
            evidence = evidence_store().get(cid)
        except Exception as exc:
            st.warning(f"Evidence {cid} could not be fetched: {explain(exc)}")
        else:
            st.download_button(
                f"Evidence {cid}",
                evidence,
                file_name=f"{cid}.json",
                mime="application/json",
                key=f"evidence-{verdict.verdict_id}",
            )
context.show_outcomes()
