"""Audit: verify one shipment (or all) from the chain's events alone, with a readable PASS/FAIL report."""

from __future__ import annotations

import streamlit as st

from frontend import context
from frontend.errors import explain
from offchain.audit.audit import run_audit
from offchain.audit.findings import Status
from offchain.audit.settings import AuditSettings

current = context.chain()
st.title("Audit")
st.write(
    "Rebuilds every shipment from on-chain events and checks custody continuity, verdict signatures, evidence, "
    "penalties, escrow accounting and the deployed code (offchain/audit)."
)
orders = sorted(current.history().orders)
choice = st.selectbox("Shipment (order)", ["all", *orders], key="audit_order")
if st.button("Verify", key="verify"):
    with st.spinner("Reading events and checking …"):
        try:
            settings = AuditSettings(rpc_url=current.url, api_url=context.settings().api_url)
            report = run_audit(current.manifest, settings, shipment=None if choice == "all" else int(str(choice)))
        except Exception as exc:
            st.error(f"The audit could not run: {explain(exc)}")
            st.stop()
    verdict = "PASS" if report.passed else "FAIL"
    (st.success if report.passed else st.error)(
        f"{verdict}: {current.manifest.network} (chain {report.chain_id}) at block {report.block}, "
        + ("every order" if report.shipment is None else f"order {report.shipment}")
    )
    for check in report.checks:
        passed = check.status is Status.PASS
        # Material icons ship with Streamlit: emoji need a font the partner's machine may not have
        with st.expander(
            f"{check.status.value} {check.title} ({check.checked} checked)",
            expanded=not passed,
            icon=":material/check_circle:" if passed else ":material/error:",
        ):
            for finding in check.findings:
                line = f"**{finding.status.value}** {finding.what} — `{finding.where}`"
                st.markdown(line)
