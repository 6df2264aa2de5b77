# ASC dapp — one entry point for set-up, tests, the demo and the benchmarks.
# Every target installs what it needs, idempotently (stamps compare the lock files' hashes).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
SLITHER_VENV := .venv-slither
STATE_DIR ?= .state
ASC_CHAIN_PORT ?= 8645
ASC_CHAIN_ID ?= 31337

export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/scripts/bin
export ASC_CHAIN_PORT ASC_CHAIN_ID
# Brownie and py-solc-x must never try to download anything.
export BROWNIE_NO_UPDATE := 1

PY_STAMP := $(VENV)/.lock-$(shell sha256sum requirements.lock | cut -c1-16)
NPM_STAMP := node_modules/.lock-$(shell sha256sum package-lock.json | cut -c1-16)
SLITHER_STAMP := $(SLITHER_VENV)/.lock-$(shell sha256sum .ci/slither-requirements.txt | cut -c1-16)

.PHONY: help setup test test-python test-contracts test-oracle-node lint slither chain chain-stop deploy demo \
        demo-scripted audit api openapi bench-gas bench-detect bench-nab-heldout bench-api bench-oracle bench-agents \
        bench-agents-ai evaluate ipfs-node clean test-agents scenario test-scenarios scenario-long

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 18

# ---------------------------------------------------------------------------------------------- set-up
$(PY_STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (set PYTHON=...)")'
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the pinned Python lock into $(VENV) ..."
	@$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock 2>&1 \
	  | { grep -v "^WARNING: Location 'file:///opt/" || true; }
	@rm -f $(VENV)/.lock-* && touch $@

$(NPM_STAMP): package-lock.json
	@echo "installing the pinned npm packages (solc-js, OpenZeppelin, anvil) ..."
	@npm ci --no-audit --no-fund --loglevel=error
	@rm -f node_modules/.lock-* && touch $@

$(SLITHER_STAMP): .ci/slither-requirements.txt
	@test -x $(SLITHER_VENV)/bin/python || $(PYTHON) -m venv $(SLITHER_VENV)
	@echo "installing slither into $(SLITHER_VENV) (its pins clash with brownie's) ..."
	@$(SLITHER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r .ci/slither-requirements.txt 2>&1 \
	  | { grep -v "^WARNING: Location 'file:///opt/" || true; }
	@rm -f $(SLITHER_VENV)/.lock-* && touch $@

setup: $(PY_STAMP) $(NPM_STAMP)  ## install the pinned toolchain and declare brownie's networks
	@scripts/bin/setup-networks
	@# --all: brownie does not notice when only an imported interface changed
	@brownie compile --all >/dev/null && echo "contracts compiled (solc-js 0.8.37 via scripts/bin/solc-v0.8.37)"

# ---------------------------------------------------------------------------------------------- tests
test: setup lint test-python test-contracts slither  ## run every test (lint, Python, contracts, slither)

ipfs-node:  ## install the js-ipfs node used by the storage tests (offchain/storage/ipfs-node, ~290 MB, idempotent)
	@offchain/storage/ipfs-node/install.sh

test-python: setup ipfs-node  ## Python unit and integration tests (no brownie plugin, two xdist workers: tests/conftest.py), real IPFS node required
	python -m offchain.api.export_openapi --check
	ASC_TEST_REQUIRE_IPFS=1 ASC_TEST_REQUIRE_POSTGRES=$${ASC_TEST_REQUIRE_POSTGRES:-0} \
	  pytest -p no:pytest-brownie -n 2 --dist loadgroup -q tests --ignore=tests/contracts

test-contracts: setup  ## contract tests on a throwaway anvil started by brownie
	brownie test tests/contracts

test-dapp-e2e: setup  ## the dapp end to end: the default scenario kept running, the dapp in headless Chromium (~2.5 min)
	ASC_TEST_REQUIRE_CHROMIUM=1 pytest -p no:pytest-brownie -q tests/frontend/test_e2e.py

test-agents: setup  ## agent tests: strategies, scanner, tx journal, API relay, every process on anvil + LocalWorld
	pytest -p no:pytest-brownie -q tests/offchain/agents

test-oracle-node: setup  ## oracle node tests alone: real anvil, API and 3-node runs on ports 9100-9199 (~12 min)
	pytest -p no:pytest-brownie -q tests/oracles/node

lint: setup  ## ruff over the Python tree
	ruff check oracles offchain frontend scripts bench tests

slither: setup $(SLITHER_STAMP)  ## static analysis; fails on any high/medium finding not explained in .ci/slither-triage.json
	$(SLITHER_VENV)/bin/python .ci/slither_check.py

# ---------------------------------------------------------------------------------------------- local chain
chain: setup  ## start the persistent local chain (anvil, state kept in .state/anvil) if it is not running
	@scripts/bin/chain start

chain-stop:  ## stop the local chain (its state stays on disk)
	@scripts/bin/chain stop

# brownie caches live-network deployments in build/deployments and crashes on connect once a cached address
# has no code (a reset chain). The deployment manifest is our record, so that cache is dropped before each run.
deploy: chain  ## deploy the suite to the local chain and write the deployment manifest
	rm -rf build/deployments
	brownie run scripts/deploy.py --network asc-local --silent

# The default scenario on the persistent chain: agents, oracle nodes, the world and the API as child processes
# (logs in .state/scenario/<run>/logs), then the dapp kept running until Ctrl-C (DEMO_DETACH=1: return at the end).
SCENARIO ?= offchain/sim/scenarios/default.yaml
SPEED ?= 60
# Each demo deploys a fresh suite on the persistent chain (its manifest replaces .state/deployments/asc-local.json):
# the agents start with fresh state and read the chain from their suite's deployment, so a chain that already
# ran the demo does not feed them the previous run's orders. The chain's history and state stay on disk.
demo: chain  ## the main job: the default scenario played by the agents on the local chain, with the dapp
	rm -rf build/deployments
	python -m offchain.scenario run $(SCENARIO) --speed $(SPEED) --chain http://127.0.0.1:$(ASC_CHAIN_PORT) \
	  --deploy-to $(STATE_DIR)/deployments/asc-local.json --json $(STATE_DIR)/scenario/demo-summary.json \
	  --dapp $(if $(DEMO_DETACH),,--keep-running)

demo-scripted: deploy  ## the previous demo: one scripted shipment (scripts/demo.py) on the local chain, then its audit
	rm -rf build/deployments
	brownie run scripts/demo.py --network asc-local --silent
	python -m offchain.audit --manifest $(STATE_DIR)/deployments/asc-local.json --report $(STATE_DIR)/audit/report.md

scenario: setup  ## run SCENARIO=file.yaml headless on its own chain (SPEED=60); exit 1 if an expectation fails
	python -m offchain.scenario run $(SCENARIO) --speed $(SPEED) --json $(STATE_DIR)/scenario/summary.json

test-scenarios: setup  ## every shipped scenario headless and sped up, and the agent crash-and-restart run (minutes)
	pytest -p no:pytest-brownie -q tests/offchain/scenario

scenario-long: setup  ## the long scenarios (offchain/sim/scenarios/long, not in CI) headless at 120x, one by one
	for f in offchain/sim/scenarios/long/*.yaml; do \
	  python -m offchain.scenario run $$f --speed 120 --json $(STATE_DIR)/scenario/$$(basename $$f .yaml)-summary.json \
	  || exit 1; done

audit: setup  ## verify the local chain's history from events alone -> .state/audit/report.md (+ .html, plots)
	python -m offchain.audit --manifest $(STATE_DIR)/deployments/asc-local.json --report $(STATE_DIR)/audit/report.md

# ---------------------------------------------------------------------------------------------- benchmarks
bench-gas: setup  ## gas of each lifecycle step vs the EVM-schedule floor -> bench/results/gas.json
	python bench/gas.py

bench-detect: setup  ## detector speed (readings/s per core) and NAB/SKAB scores -> bench/results/detect.json
	python bench/oracle_detect.py

bench-nab-heldout: setup  ## NAB leave-one-file-out of window novelty + unseen checks -> bench/results/nab_heldout.json
	nice -n 10 python bench/nab_heldout.py

bench-oracle: setup  ## scoring speed (detectors, node), HTTP ingestion, detection-to-mined latency -> bench/results/oracle.json
	python bench/oracle.py

bench-api: setup  ## HTTP ingestion throughput (batch sizes 1/100/1000) -> bench/results/api_ingest.json
	python bench/api_ingest.py

bench-agents-ai: setup  ## demand forecast and risk-scored awards vs naive baselines (synthetic, seeded) -> bench/results/agents_ai.json
	python bench/agents_ai.py

# ~20 min on 2 shared cores, half of it the agents' runtime at 200 carriers (a round of 200 agents takes up to
# 2 min when 200 bids land at once); `--carriers 10,50` for a shorter run.
bench-agents: setup  ## CFP-to-award time (10/50/200 carriers) and shipments per minute on one anvil -> bench/results/agents.json
	python bench/agents.py --series harness --carriers 10,50,200
	python bench/agents.py --series runtime --carriers 10,50,200 --shipments 5 --runtime-in-flight 1,5

evaluate: setup  ## NAB-style evaluation of the detector on ../shared/data/anomaly (nab/ and skab/)
	python -m oracles.evaluate ../shared/data/anomaly/nab
	python -m oracles.evaluate ../shared/data/anomaly/skab

# ---------------------------------------------------------------------------------------------- services
api: setup  ## the device-ingestion API (needs ASC_API_ADMIN_TOKEN and ASC_API_ORACLE_TOKEN)
	python -m offchain.api

# The dapp reads the manifest's rpc_hint unless ASC_DAPP_RPC_URL says otherwise; the API and the keystore are
# optional settings (ASC_DAPP_API_URL, ASC_DAPP_KEYSTORE): frontend/settings.py.
.PHONY: dapp
dapp: setup  ## the Streamlit dapp on 127.0.0.1:8501 (ASC_DAPP_PORT) against the local chain's manifest
	ASC_DAPP_MANIFESTS=$${ASC_DAPP_MANIFESTS:-$(STATE_DIR)/deployments/asc-local.json} \
	  streamlit run frontend/app.py --server.headless true --server.address 127.0.0.1 \
	  --server.port $${ASC_DAPP_PORT:-8501} --browser.gatherUsageStats false --client.toolbarMode viewer

openapi: setup  ## regenerate interfaces/openapi/_openapi.json from the API
	python -m offchain.api.export_openapi

clean:  ## remove build artefacts (keeps the chain state in .state/)
	rm -rf build reports .pytest_cache .hypothesis
