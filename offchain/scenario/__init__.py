"""The scenario orchestrator: one command starts the chain, deploys, starts the API, the oracle nodes, the world
service and one process per agent, follows the run from chain events, checks the scenario's `expect:` and
writes a JSON summary (`python -m offchain.scenario run SCENARIO.yaml`)."""
