# jobagent-mock: `make run` serves the mock, `make test` runs every test. Both install what they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
STAMP := $(VENV)/.installed

.PHONY: install system-packages run test test-fast wheel container-test check lint lint-contract typecheck fuzz fuzz-long docs publish bench profile clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/jobagent-mock serve --host $(HOST) --port $(PORT)

test: install system-packages
	$(BIN)/pytest -q

# unit and integration tests without the slow ones (live servers, workers, a browser): a minute
test-fast: install
	$(BIN)/pytest -q -m "not slow" tests/unit tests/integration

# The wheel in dist/, built from a copy of the sources: setuptools leaves build/ and *.egg-info
# where it builds (and a stale build/lib would go into the next wheel). Needs no .venv.
WHEEL_PIP := $(if $(wildcard $(BIN)/pip),$(BIN)/pip,$(PYTHON) -m pip)
wheel:
	rm -rf dist
	tmp=$$(mktemp -d) && \
	tar -c --exclude-vcs --exclude=./.venv --exclude=./.tools --exclude=./build \
	  --exclude='*.egg-info' --exclude=./site --exclude=./reports --exclude=./dist \
	  --exclude=./container/wheelhouse --exclude=__pycache__ . | tar -x -C "$$tmp" && \
	$(WHEEL_PIP) wheel --quiet --disable-pip-version-check --no-deps -w dist "$$tmp"; \
	status=$$?; rm -rf "$$tmp"; exit $$status

# The Containerfile built and run with podman (installed from Debian as root), on a base made
# from Debian's packages, as no registry of base images may be reachable: BASE=python:3.11-slim
# for the official one. Health check, non-root, token, smoke flow, fixtures by volume.
container-test: install
	bash container/test.sh

# Debian packages the tests drive: headless Chromium (docs) and a Redis server (shared store).
# Installed as root only; elsewhere those tests are skipped (and fail under CI=true).
SYSTEM_PACKAGES := chromium redis-server
system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do command -v $$p >/dev/null || echo $$p; done); \
	[ -z "$$missing" ] || [ "$$(id -u)" != 0 ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) || \
	  echo "could not install $$missing: the tests that need it will say so"

# schemathesis CLI, every check and phase, against a live mock; JUnit report in reports/
fuzz: install
	$(BIN)/python -m tests.contract.fuzz_live --max-examples 50

fuzz-long: install
	$(BIN)/python -m tests.contract.fuzz_live --max-examples 500 --max-time 900

# the offline documentation site, built from the contract and the fixtures
docs: install
	$(BIN)/jobagent-mock docs --out site

# publish openapi/jobagent.yaml as its info.version: kept in openapi/published/, dated in
# openapi/published/releases.yaml, openapi/CHANGELOG.md rewritten (README: "Publishing")
publish: install
	$(BIN)/jobagent-mock publish

# jobagent-mock against Prism, connexion's mock and the bare-ASGI ceiling, on each store and on
# two hosts (network namespaces when root), then memory and the profile, three rounds: about 25
# minutes (wrk and redis-server from Debian, Prism from npm); prints each target met or not and
# writes bench/results.md. A measurement, not a test: numbers vary with the machine and its load.
BENCH_PACKAGES := wrk redis-server
bench: install
	@missing=$$(for p in $(BENCH_PACKAGES); do command -v $$p >/dev/null || echo $$p; done); \
	[ -z "$$missing" ] || [ "$$(id -u)" != 0 ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null)
	$(BIN)/python -m bench.run

# where one worker's time goes on GetJobagent and on CreateJobagent
profile: install
	$(BIN)/python -m bench.profile GetJobagent
	$(BIN)/python -m bench.profile CreateJobagent

lint: install
	$(BIN)/ruff check jobagent_mock handlers tests bench
	$(BIN)/ruff format --check jobagent_mock handlers tests bench
	for f in openapi/*.yaml; do $(BIN)/openapi-spec-validator $$f || exit 1; done
	$(BIN)/lint-imports --no-cache

# Spectral (npm), an independent OpenAPI linter: no errors allowed, and no warnings on jobagent.yaml
SPECTRAL := .tools/node_modules/.bin/spectral
$(SPECTRAL):
	npm install --silent --prefix .tools @stoplight/spectral-cli@6.16.3

lint-contract: $(SPECTRAL)
	$(SPECTRAL) lint --fail-severity=warn openapi/jobagent.yaml
	$(SPECTRAL) lint --fail-severity=error openapi/admin.yaml openapi/token.yaml

typecheck: install
	$(BIN)/mypy jobagent_mock handlers

check: lint lint-contract typecheck test
	$(BIN)/jobagent-mock check

clean:
	rm -rf $(VENV) .tools reports site dist .pytest_cache .mypy_cache .ruff_cache *.egg-info container/wheelhouse
