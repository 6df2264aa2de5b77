"""Autonomous supply-chain agents: one process per organisation (supplier, wholesaler, retailer, logistics
provider, carrier), each reacting to contract events and acting through its own transactions."""
