# The two first commands on a fresh clone: `make demo` and `make test`.
# Everything runs through .venv/bin/python, so nothing needs activating.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# tox envs that need an interpreter the machine lacks fail (no silent skip).
TOX := $(VENV)/bin/tox --skip-missing-interpreters false
STAMP := $(VENV)/.bootstrapped

.PHONY: bootstrap test unit integration lint typecheck docs upstream-api tornado-legacy ecosystem zipkin zipkin-kafka demo bench clean

bootstrap: $(STAMP)

# Re-run only when the packaging changes. Both distributions, editable: the API
# (opentracing/, named `opentracing`) and the tracer, which depends on it.
$(STAMP): setup.py pyproject.toml opentracing/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ./opentracing -e '.[test]'
	touch $(STAMP)

# The whole suite: lint, types, the docs, unit and integration tests (the
# session fixture starts a real Zipkin server when none is reachable).
test: $(STAMP) lint typecheck docs
	$(PY) -m pytest -q tests
	$(MAKE) upstream-api tornado-legacy ecosystem

# The zipkin_tracer tests with PyPI's opentracing 2.4.0 installed instead of ours.
upstream-api: $(STAMP)
	$(TOX) -e upstream-api

# Our Tornado scope manager on Tornado 4.5 and 5.1 (stack_context), which need
# Python 3.9: the first python3.9 that runs, on PATH or under pyenv.
PYTHON39 ?= $(shell for p in python3.9 $(HOME)/.pyenv/versions/3.9*/bin/python3.9; do \
	"$$p" -c '' 2>/dev/null && { command -v "$$p"; break; }; done)
tornado-legacy: $(STAMP)
	PYTHON39="$(PYTHON39)" $(TOX) -e tornado45,tornado51

# Flask, Django, gRPC and requests contrib instrumentation in one trace, read back
# from a real Zipkin, plus the OpenTelemetry shim beside our API.
ecosystem: $(STAMP)
	$(TOX) -e ecosystem

unit: $(STAMP)
	$(PY) -m pytest -q tests -m "not integration"

integration: $(STAMP)
	$(PY) -m pytest -q tests -m integration

lint: $(STAMP)
	$(PY) -m ruff check opentracing zipkin_tracer tests benchmarks scripts demo
	$(PY) -m ruff format --check opentracing zipkin_tracer tests benchmarks scripts demo

typecheck: $(STAMP)
	$(PY) -m mypy

# The docs site (guide, configuration, API reference from docstrings) into
# docs/_build/html; any warning fails the build.
docs: $(STAMP)
	$(PY) -m sphinx -E -W --keep-going -q -b html docs docs/_build/html

# Three services (ours with JSON and Thrift, and py_zipkin) in one trace,
# read back from Zipkin. Uses $$ZIPKIN_URL, or starts a Zipkin server.
demo: $(STAMP)
	$(PY) demo/run.py

# Benchmarks against peer tracers (not timed in CI). BENCH_ARGS=--quick for a smoke run.
bench: $(STAMP)
	$(PY) -m pip install -q -e ./opentracing -e '.[bench]'
	$(PY) benchmarks/run.py $(BENCH_ARGS)

# A Zipkin server in the foreground, for a person (Ctrl-C stops it).
zipkin:
	$(PYTHON) scripts/zipkin_server.py run

# Kafka + OpenSearch + a Zipkin collector reading the `zipkin` topic, in the
# foreground (Ctrl-C stops it all). ZIPKIN_COLLECTORS=2 runs two in one group.
zipkin-kafka:
	$(PYTHON) scripts/zipkin_kafka.py run

clean:
	rm -rf $(VENV) build dist *.egg-info .tox .mypy_cache .ruff_cache .pytest_cache
	rm -rf opentracing/build opentracing/*.egg-info docs/_build docs/_generated
