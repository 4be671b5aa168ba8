# The two first commands on a fresh clone: `make demo` and `make test`.
# Everything runs through .venv/bin/python, so nothing needs activating.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.bootstrapped

.PHONY: bootstrap test unit integration lint typecheck zipkin zipkin-kafka demo bench clean

bootstrap: $(STAMP)

# Re-run only when the packaging changes.
$(STAMP): setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m pip install --quiet --no-deps 'basictracer==3.2.0'
	touch $(STAMP)

# The whole suite: lint, types, unit and integration tests (the session
# fixture starts a real Zipkin server when none is reachable).
test: $(STAMP) lint typecheck
	$(PY) -m pytest -q tests

unit: $(STAMP)
	$(PY) -m pytest -q tests -m "not integration"

integration: $(STAMP)
	$(PY) -m pytest -q tests -m integration

lint: $(STAMP)
	$(PY) -m ruff check opentracing zipkin_tracer tests benchmarks scripts demo
	$(PY) -m ruff format --check opentracing zipkin_tracer tests benchmarks scripts demo

typecheck: $(STAMP)
	$(PY) -m mypy

# Three services (ours with JSON and Thrift, and py_zipkin) in one trace,
# read back from Zipkin. Uses $$ZIPKIN_URL, or starts a Zipkin server.
demo: $(STAMP)
	$(PY) demo/run.py

# Benchmarks against peer tracers (not timed in CI). BENCH_ARGS=--quick for a smoke run.
bench: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) -m pip install -q --no-deps 'jaeger-client==4.8.0'
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
