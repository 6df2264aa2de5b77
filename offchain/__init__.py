"""Off-chain services: device API, evidence storage, agents, simulator and audit."""
