# Warden: two commands do everything on a fresh Debian machine.
#   make run    installs what is missing, builds, and serves the worker API on SQLite (data in ./data)
#   make test   the same set-up (and Debian's PostgreSQL server, which the tests start on their own; python-gitlab,
#               zuul-client and schemathesis from PyPI into .venv-clients), then every test
SWIFT ?= swift
WARDEN := .build/debug/warden
# make install: where to (DESTDIR for a staging root), and which binary (make release's by default).
PREFIX ?= /usr/local
SYSCONFDIR ?= $(PREFIX)/etc
DESTDIR ?=
RELEASE := .build/release/warden
BINARY ?= $(RELEASE)

.PHONY: setup build run hooks test bench release install openapi format lint clean

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
	@scripts/setup.sh postgresql openssl curl systemd
	@scripts/python-clients.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: setup
	@scripts/setup.sh wrk nodejs postgresql
	$(SWIFT) build -c release --product warden
	.build/release/warden bench

# An optimised binary, stamped with its version and commit (warden --version).
release: setup
	$(SWIFT) build -c release --product warden
	$(RELEASE) --version

# The binary, a systemd unit (contrib/warden.service) and a sample configuration under PREFIX (docs/operations.md).
install:
	@if [ "$(BINARY)" = "$(RELEASE)" ]; then $(MAKE) --no-print-directory release; fi
	@scripts/install.sh "$(BINARY)" "$(PREFIX)" "$(SYSCONFDIR)" "$(DESTDIR)"

# docs/openapi.json, from the routes' document in Sources/WardenHTTP/OpenAPI (a test keeps the two equal).
openapi: build
	$(WARDEN) openapi > docs/openapi.json

format:
	$(SWIFT) format --in-place --recursive --parallel Package.swift Plugins Sources Tests

# Formatting is checked by make test (and so by CI); make format fixes it.
lint:
	$(SWIFT) format lint --strict --recursive --parallel Package.swift Plugins Sources Tests

clean:
	rm -rf .build
