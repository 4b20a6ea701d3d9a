# Warden: two commands do everything on a fresh Debian machine.
#   make run    installs what is missing, builds, and serves the worker API on SQLite (data in ./data)
#   make test   the same set-up (and Debian's PostgreSQL server, which the tests start on their own; python-gitlab
#               and zuul-client from PyPI into .venv-clients), then every test
SWIFT ?= swift
WARDEN := .build/debug/warden

.PHONY: setup build run hooks test bench format lint clean

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build --product warden

run: build
	$(WARDEN) serve --data ./data

# The ready-made workers of hooks/, each run locally on its sample payload.
hooks: build
	@examples/run-hooks.sh $(WARDEN)

# Build once (tests included), then run without rebuilding: a clean test build is the slow part.
test: setup lint
	@scripts/setup.sh postgresql openssl curl
	@scripts/python-clients.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: setup
	@scripts/setup.sh wrk nodejs postgresql
	$(SWIFT) build -c release --product warden
	.build/release/warden bench

format:
	$(SWIFT) format --in-place --recursive --parallel Package.swift Sources Tests

# Formatting is checked by make test (and so by CI); make format fixes it.
lint:
	$(SWIFT) format lint --strict --recursive --parallel Package.swift Sources Tests

clean:
	rm -rf .build
