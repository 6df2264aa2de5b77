"""Oracle network: detectors, evidence, EIP-712 verdict signing and the oracle node daemons."""
