# auditwatch developer targets. Needs GNU make, bash, python3 (>= 3.11),
# and, for `test`/`kafka-start`, a JDK 17+ and Maven (the local Kafka broker).

SHELL := bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_BIN := $(VENV)/bin
INSTALL_STAMP := $(VENV)/.install-stamp
KAFKA := scripts/kafka.sh
LINT_PATHS := pipeline detectors alerts sdk examples tests bench scripts

.PHONY: help install demo test lint bench kafka-start kafka-stop clean

help:
	@echo "make install      create $(VENV) and install auditwatch with dev extras"
	@echo "make demo         replay config/samples/demo.jsonl through the pipeline"
	@echo "make test         start local Kafka, run ruff, mypy, rule lint and pytest (browser tests in"
	@echo "                  Debian's headless chromium, installed by scripts/browser.sh; screenshots"
	@echo "                  in var/screenshots/, the CI artefacts), stop Kafka"
	@echo "make lint         ruff + mypy"
	@echo "make bench        run the benchmarks (python -m bench)"
	@echo "make kafka-start  start the local Kafka broker ($(KAFKA) start)"
	@echo "make kafka-stop   stop it and delete its data"
	@echo "make clean        stop Kafka, remove build output and caches (keeps $(VENV))"

install: $(INSTALL_STAMP)

# Re-installs only when pyproject.toml is newer than the stamp (or the venv is new).
$(INSTALL_STAMP): pyproject.toml
	@test -x $(VENV_BIN)/python || $(PYTHON) -m venv $(VENV)
	$(VENV_BIN)/python -m pip install --disable-pip-version-check -e '.[dev]'
	@touch $@

# The bundled sample (rules, a bad-input report), then three simulated days with
# twelve injected attacks, through the same rules and anomaly models.
demo: install
	$(VENV_BIN)/auditwatch replay config/samples/demo.jsonl
	$(VENV_BIN)/auditwatch simulate --seed 17 --days 3 --humans 15 --services 4 -o var/demo-simulated.jsonl
	$(VENV_BIN)/auditwatch replay var/demo-simulated.jsonl

# One shell for the whole recipe so the trap stops Kafka however the run ends.
# The recipe's exit status is that of the first failing step (pytest's included).
test: install
	@set -euo pipefail; \
	trap '$(KAFKA) stop || true' EXIT; \
	trap 'exit 130' INT; \
	trap 'exit 143' TERM; \
	$(KAFKA) start; \
	AUDITWATCH_KAFKA_BOOTSTRAP=$$($(KAFKA) bootstrap); \
	export AUDITWATCH_KAFKA_BOOTSTRAP; \
	echo "AUDITWATCH_KAFKA_BOOTSTRAP=$$AUDITWATCH_KAFKA_BOOTSTRAP"; \
	set -x; \
	$(VENV_BIN)/ruff check $(LINT_PATHS); \
	$(VENV_BIN)/mypy; \
	$(VENV_BIN)/auditwatch rules lint config/rules; \
	$(VENV_BIN)/auditwatch rules test config/rules --junit var/junit-rules.xml; \
	$(VENV_BIN)/auditwatch routes test --config config/router.yaml --cases config/router_cases.yaml; \
	AUDITWATCH_CHROMIUM=$$(scripts/browser.sh); \
	export AUDITWATCH_CHROMIUM; \
	mkdir -p var/screenshots; \
	$(VENV_BIN)/python -m pytest -q -ra

lint: install
	$(VENV_BIN)/ruff check $(LINT_PATHS)
	$(VENV_BIN)/mypy

bench: install
	$(VENV_BIN)/python -m bench

kafka-start:
	$(KAFKA) start

kafka-stop:
	$(KAFKA) stop

clean:
	$(KAFKA) stop
	rm -rf build dist var/kafka .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . \( -path ./$(VENV) -o -path ./.git \) -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -print0 \
		| xargs -0 -r rm -rf
