# Thin entry points; the work is done by scripts/ and the `sharpened` command.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
SQL_SOURCES := supabase/migrations sql supabase/seed.sql supabase/tests/helpers.sql

.PHONY: help setup dev demo test lint format clean bench simulate openapi

help:
	@echo "make dev    install what is missing, start the local stack, serve until Ctrl-C"
	@echo "make test   every check: ruff, mypy, sqlfluff, pytest (+ pgTAP, advisors, plpgsql lint)"
	@echo "make demo   the demo journey against the running local stack"
	@echo "make lint   the static checks only"
	@echo "make bench  the benchmarks (own throwaway cluster); report in benchmarks/results/latest.md"
	@echo "make bench-scale  the same queries at 1x and FACTOR x the benchmark data (FACTOR=10)"
	@echo "make load   load test: REQUESTS (3000) from LOAD_USERS (16) virtual users; exit 1 on errors"
	@echo "make simulate  the reassessment controller against 30 synthetic users, 12 periods"
	@echo "make openapi  regenerate docs/openapi.yaml from the functions' pydantic models"
	@echo "make setup  install only (Debian packages, npm ci, .venv)"

setup: system-deps node_modules/.package-lock.json $(VENV)/.installed

.PHONY: system-deps
system-deps:
	@scripts/install-system-deps

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

dev: setup
	$(BIN)/sharpened local up

demo: setup
	$(BIN)/sharpened demo

lint: setup
	$(BIN)/ruff check --no-cache .
	$(BIN)/ruff format --no-cache --check .
	$(BIN)/mypy
	$(BIN)/sqlfluff lint $(SQL_SOURCES)

test: lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python -m benchmarks.run

FACTOR ?= 10
.PHONY: bench-scale
bench-scale: setup
	$(BIN)/python -m benchmarks.scale --factor $(FACTOR) --output benchmarks/results/scale.md

REQUESTS ?= 3000
LOAD_USERS ?= 16
.PHONY: load
load: setup
	$(BIN)/python -m benchmarks.load --requests $(REQUESTS) --users $(LOAD_USERS)

simulate: setup
	$(BIN)/python -m sharpened.reassessment.simulation

openapi: setup
	$(BIN)/sharpened openapi

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
