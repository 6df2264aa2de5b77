"""The audit: rebuild every shipment's history from on-chain events alone, then verify it.

`python -m offchain.audit --manifest PATH` or `brownie run scripts/audit.py`; see `audit.run_audit`.
"""
