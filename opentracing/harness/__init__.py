"""Conformance mixins that any tracer's test suite can run."""
