# qgov — run, test, benchmark and lint from a fresh machine.
#
#   make run     install, migrate, load catalogs and demo data, serve on http://127.0.0.1:8000/
#   make test    the whole test suite (SQLite and eager Celery unless DATABASE_URL / CELERY_BROKER_URL are set)
#   make e2e     only the browser tests
#   make bench   the national-scale benchmark suite (benchmarks/README.md), results in benchmarks/RESULTS.md
#   make lint    ruff
#   make schema  regenerate the committed OpenAPI schema, docs/openapi.yaml (a test fails while it is out of date)

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
PYTEST := $(VENV)/bin/pytest
PYTEST_ARGS ?=
# Test processes (pytest-xdist). 0, the default, runs in this process: on the 2-core CI machines two
# workers measured slower (1283 s against 842 s), each migrating its own database beside the browser
# and the Celery worker. Machines with more cores can try PYTEST_WORKERS=4.
PYTEST_WORKERS ?= 0
HOST ?= 127.0.0.1
PORT ?= 8000

# xstatic-bootstrap is an sdist whose setup.py imports pkg_resources; the constraint reaches pip's
# isolated build environment through the environment and keeps setuptools below 81 there.
PIP_INSTALL := PIP_CONSTRAINT=build-constraints.txt PIP_DISABLE_PIP_VERSION_CHECK=1 $(VENV)/bin/pip install --quiet

# The stamps carry a hash of what they installed, so a changed requirements file reinstalls and
# an unchanged one does not.
RUN_HASH := $(shell cat requirements.txt build-constraints.txt | sha256sum | cut -c1-16)
DEV_HASH := $(shell cat requirements.txt requirements-dev.txt build-constraints.txt | sha256sum | cut -c1-16)
RUN_STAMP := $(VENV)/.installed-run-$(RUN_HASH)
DEV_STAMP := $(VENV)/.installed-dev-$(DEV_HASH)

# Debian packages the tests use: the browser for e2e tests, pdftoppm/pdftotext for report checks, xmlsec1
# (SAML 2.0 signatures, which qgov itself needs too).
SYSTEM_PACKAGES := chromium poppler-utils xmlsec1

.PHONY: help run test e2e bench bench-audit bench-packages lint static system-packages node-tools schema clean

help:
	@echo "make run | make test | make e2e | make bench | make lint | make schema"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements.txt build-constraints.txt | $(PY)
	$(PIP_INSTALL) -r requirements.txt
	rm -f $(VENV)/.installed-run-*
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt build-constraints.txt | $(PY)
	$(PIP_INSTALL) -r requirements-dev.txt
	rm -f $(VENV)/.installed-dev-* $(VENV)/.installed-run-*
	touch $@ $(RUN_STAMP)

# Development server. DEBUG is on here only (settings default to off); whitenoise serves /static.
run: export DJANGO_DEBUG ?= 1
run: $(RUN_STAMP)
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) load_catalogs
	$(MANAGE) report_signing_keys
	QGOV_SITE_URL=$${QGOV_SITE_URL:-http://$(HOST):$(PORT)/} $(MANAGE) load_demo
	@echo "Serving qgov on http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	$(MANAGE) runserver $(HOST):$(PORT)

system-packages:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	command -v xmlsec1 >/dev/null 2>&1 || missing="$$missing xmlsec1"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "make: not root, so not installing Debian packages:$$missing."; \
		echo "make: install them with: sudo apt-get install -y$$missing (browser tests skip without chromium, and fail in CI)."; \
		exit 0; \
	fi; \
	echo "make: installing Debian packages:$$missing"; \
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing

# Tests run with DEBUG off and QGOV_MANIFEST_STATIC=0 (plain static storage), which is what this
# collects for; whitenoise serves STATIC_ROOT.
static: $(RUN_STAMP)
	DJANGO_DEBUG=1 $(MANAGE) collectstatic --noinput --verbosity 0

# The npm packages the tests use: openapi-typescript and tsc, to check that TypeScript types generate
# from the committed schema (tests/api/test_generated_clients.py), and panva's oidc-provider, the real
# OpenID provider the sign-in tests start (tests/integration/test_oidc_sign_in.py). Each is installed
# from its lock file, again only when it changes; without npm those tests skip and say so (and fail in CI).
NODE_TOOLS := tools/openapi-typescript tools/oidc-provider

node-tools:
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "make: npm is missing, so not installing $(NODE_TOOLS); the tests that need them skip (apt-get install -y npm)."; \
		exit 0; \
	fi; \
	for tool in $(NODE_TOOLS); do \
		stamp="$$tool/node_modules/.installed-$$(sha256sum < $$tool/package-lock.json | cut -c1-16)"; \
		if [ -e "$$stamp" ]; then continue; fi; \
		echo "make: installing $$tool (npm ci)"; \
		npm ci --prefix $$tool --no-audit --no-fund --loglevel=error && touch "$$stamp" || exit 1; \
	done

# The committed OpenAPI schema that clients are generated from. The same on every machine, database and
# DEBUG setting; tests/api/test_generated_clients.py regenerates it and fails while the file differs.
schema: $(RUN_STAMP)
	DJANGO_DEBUG=1 $(MANAGE) spectacular --validate --fail-on-warn --file docs/openapi.yaml

test: $(DEV_STAMP) system-packages node-tools static
	$(PYTEST) -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

e2e: $(DEV_STAMP) system-packages static
	$(PYTEST) -m e2e tests/e2e $(PYTEST_ARGS)

# The national-scale suite (issue #7, benchmarks/README.md): PostgreSQL at BENCH_DATABASE_URL
# (default postgres://postgres@127.0.0.1:5432/qgov_national_bench, skipped if unreachable) and
# SQLite, gunicorn over loopback, wrk for throughput; writes benchmarks/RESULTS.md.
#   make bench                                        the "before" run (generates the data)
#   make bench BENCH_ARGS="--label after --reuse"     same data, migrated, measured again
bench: $(DEV_STAMP) bench-packages
	$(PY) -m benchmarks.national_run $(BENCH_ARGS)

# The audit-trail benchmark that `make bench` ran before the national suite.
bench-audit: $(DEV_STAMP)
	$(PY) -m benchmarks.run $(BENCH_ARGS)

# wrk measures throughput; without it the suite skips that measure and says so.
bench-packages:
	@if command -v wrk >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "make: not root, so not installing wrk; throughput is skipped. Install it with: sudo apt-get install -y wrk"; \
		exit 0; \
	fi; \
	echo "make: installing Debian package: wrk"; \
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf staticfiles .pytest_cache .ruff_cache artifacts test.sqlite3 benchmarks/bench.sqlite3 benchmarks/national-*.sqlite3
