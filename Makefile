# The few verbs people type. `make test` is exactly what CI runs (.ci/run).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv
BIN := $(VENV)/bin
PY := python3
APT_PACKAGES := systemd-container debootstrap iproute2 nftables openssh-client rsync chromium chromium-driver
INVENTORY ?= inventories/sandbox
PLAN ?= locustfiles/website

.PHONY: help deps venv image lint unit integration integration-trixie molecule test demo sandbox-up sandbox-down \
        collection bench clean

help:
	@echo "make demo          install what is needed, boot the sandbox, provision it, run a short test"
	@echo "make test          lint, unit, integration (bookworm, then trixie) and Molecule tests (what CI runs; needs root)"
	@echo "make lint          ruff, yamllint, ansible-lint (production profile)"
	@echo "make sandbox-up    boot the sandbox; make sandbox-down removes it"
	@echo "make collection    build fleet-locust-<version>.tar.gz"
	@echo "make bench         capacity, scale and overhead figures into bench/RESULTS.md"

# apt packages the sandbox needs; apt-get runs only when one is missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

image: deps venv
	$(BIN)/locust-fleet sandbox image
	$(BIN)/locust-fleet sandbox image --release trixie

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint

unit: venv
	$(BIN)/pytest tests/unit

integration: image
	$(BIN)/pytest --durations=15 tests/integration

# The run path again on Debian 13 hosts (sandbox itx): site.yml twice, runs, detach/attach,
# a SIGKILLed controller, the run's state and record.
TRIXIE_TESTS := tests/integration/test_provision.py tests/integration/test_run_test.py \
                tests/integration/test_run_contract.py
integration-trixie: image
	LOCUST_FLEET_SANDBOX_RELEASE=trixie $(BIN)/pytest --durations=5 $(TRIXIE_TESTS)

# Every role scenario on fresh sandbox hosts (molecule/README.md).
# Three at a time, each on a sandbox of its own; fleet_trixie is the fleet scenario on Debian 13.
molecule: image
	PATH="$(CURDIR)/$(BIN):$$PATH" molecule/run_scenarios.sh

test: lint unit integration integration-trixie molecule

sandbox-up: image
	$(BIN)/locust-fleet sandbox up

sandbox-down: venv
	$(BIN)/locust-fleet sandbox down

demo: image
	$(BIN)/locust-fleet sandbox up
	$(BIN)/locust-fleet provision -i $(INVENTORY) --plan $(PLAN)
	$(BIN)/locust-fleet run -i $(INVENTORY) --plan $(PLAN) -u 50 -r 25 -t 20s \
	  --check 'fail_ratio<0.01' --check 'p95<2000'
	@echo "results: $$(ls -dt results/*/ | head -n1)  (sandbox still up: make sandbox-down)"

collection: venv
	$(BIN)/python -m locust_fleet.collection_build

bench: image
	$(BIN)/python -m locust_fleet.bench

clean:
	rm -rf build dist *.tar.gz .pytest_cache .ruff_cache
