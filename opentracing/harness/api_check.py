"""``APICompatibilityCheckMixin``: API conformance checks for any tracer.

Mix it into a ``unittest.TestCase`` (or a pytest test class) and override the hooks::

    class TestMyTracer(APICompatibilityCheckMixin, unittest.TestCase):
        def tracer(self):
            return MyTracer()

        def is_parent(self, parent, span):
            ...

The mixin's name does not start with ``Test``, so pytest never collects it on its
own. No-op tracers return False from :meth:`check_baggage_values` and
:meth:`check_scope_manager`, which skips the assertions they cannot satisfy.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Any, Callable, Dict, Optional, Type
from unittest import mock

import opentracing
from opentracing import Format, Span, Tracer, UnsupportedFormatException, child_of, follows_from

from ._checks import check, check_calls


class APICompatibilityCheckMixin:
    """Checks that a tracer honours the OpenTracing 2.x API contract."""

    # --- hooks ------------------------------------------------------------

    def tracer(self) -> Tracer:
        """Return a tracer with no active scope; called once per check."""
        raise NotImplementedError("Subclass must implement tracer()")

    def check_baggage_values(self) -> bool:
        """Whether baggage values are stored and returned (False for no-op tracers)."""
        return True

    def check_scope_manager(self) -> bool:
        """Whether parenting and the active scope are checked (False for no-op tracers)."""
        return True

    def is_parent(self, parent: Optional[Span], span: Span) -> bool:
        """Whether ``parent`` is the parent of ``span``; ``parent=None`` asks "is it a root?"."""
        return False

    # --- active span and start_active_span ----------------------------------

    def test_active_span(self) -> None:
        tracer = self.tracer()
        span = tracer.start_span(operation_name="Fry")
        if self.check_scope_manager():
            check(tracer.active_span is None, "a fresh tracer has no active span")
            check(tracer.scope_manager.active is None, "a fresh tracer has no active scope")
        with tracer.scope_manager.activate(span, True):
            if self.check_scope_manager():
                check(tracer.active_span is span, "active_span is the activated span")
                active = tracer.scope_manager.active
                check(active is not None and active.span is span, "active scope holds the span")

    def test_start_active_span(self) -> None:
        tracer = self.tracer()
        with tracer.start_active_span("Fry") as scope:
            check(scope.span is not None, "the scope has a span")
            if self.check_scope_manager():
                check(self.is_parent(None, scope.span), "a span without parent is a root")

    def test_start_active_span_parent(self) -> None:
        tracer = self.tracer()
        with tracer.start_active_span("Fry") as parent:
            with tracer.start_active_span("Farnsworth") as child:
                if self.check_scope_manager():
                    check(
                        self.is_parent(parent.span, child.span),
                        "the active span is the implicit parent",
                    )

    def test_start_active_span_ignore_active_span(self) -> None:
        tracer = self.tracer()
        with tracer.start_active_span("Fry") as parent:
            with tracer.start_active_span("Farnsworth", ignore_active_span=True) as child:
                if self.check_scope_manager():
                    check(
                        not self.is_parent(parent.span, child.span),
                        "ignore_active_span starts a root",
                    )

    def test_start_active_span_not_finish_on_close(self) -> None:
        tracer = self.tracer()
        scope = tracer.start_active_span("Fry", finish_on_close=False)
        with mock.patch.object(scope.span, "finish") as finish:
            scope.close()
        check_calls(finish, 0, "finish_on_close=False: span.finish")
        scope.span.finish()

    def test_start_active_span_finish_on_close(self) -> None:
        tracer = self.tracer()
        scope = tracer.start_active_span("Fry", finish_on_close=True)
        with mock.patch.object(scope.span, "finish") as finish:
            scope.close()
        if self.check_scope_manager():
            check_calls(finish, 1, "finish_on_close=True: span.finish")

    def test_start_active_span_default_finish_on_close(self) -> None:
        tracer = self.tracer()
        scope = tracer.start_active_span("Fry")
        with mock.patch.object(scope.span, "finish") as finish:
            scope.close()
        if self.check_scope_manager():
            check_calls(finish, 1, "finish_on_close defaults to True: span.finish")

    def test_start_active_span_child_of(self) -> None:
        tracer = self.tracer()
        other = tracer.start_span("Nibbler", ignore_active_span=True)
        with tracer.start_active_span("Fry"):
            with tracer.start_active_span("Leela", child_of=other) as scope:
                if self.check_scope_manager():
                    check(
                        self.is_parent(other, scope.span), "explicit child_of beats the active span"
                    )
        other.finish()

    def test_active_span_restored_after_close(self) -> None:
        tracer = self.tracer()
        with tracer.start_active_span("Fry") as outer:
            with tracer.start_active_span("Leela"):
                pass
            if self.check_scope_manager():
                check(tracer.active_span is outer.span, "closing a scope restores its predecessor")
        if self.check_scope_manager():
            check(tracer.active_span is None, "closing the last scope leaves nothing active")

    # --- start_span ----------------------------------------------------------

    def test_start_span(self) -> None:
        tracer = self.tracer()
        span = tracer.start_span(operation_name="Fry")
        span.finish()
        with tracer.start_span(operation_name="Bender", tags={"robot": True}) as span:
            span.log_event("bend", payload={"girder": "steel", "count": 3})

    def test_start_span_propagation(self) -> None:
        tracer = self.tracer()
        with tracer.start_active_span("Fry") as parent:
            with tracer.start_span(operation_name="Farnsworth") as span:
                if self.check_scope_manager():
                    check(
                        self.is_parent(parent.span, span), "start_span parents on the active span"
                    )

    def test_start_span_propagation_ignore_active_span(self) -> None:
        tracer = self.tracer()
        with tracer.start_active_span("Fry") as parent:
            with tracer.start_span(operation_name="Farnsworth", ignore_active_span=True) as span:
                if self.check_scope_manager():
                    check(not self.is_parent(parent.span, span), "ignore_active_span starts a root")

    def test_start_span_with_parent(self) -> None:
        tracer = self.tracer()
        parent_span = tracer.start_span(operation_name="parent")
        check(parent_span is not None, "start_span returns a span")
        span = tracer.start_span(operation_name="Leela", child_of=parent_span)
        span.finish()
        span = tracer.start_span(
            operation_name="Leela",
            references=[follows_from(parent_span.context)],
            tags={"ship": "Planet Express"},
        )
        span.finish()
        parent_span.finish()

    def test_start_span_child_of_span_context(self) -> None:
        tracer = self.tracer()
        parent = tracer.start_span("parent")
        span = tracer.start_span("child", child_of=parent.context)
        if self.check_scope_manager():
            check(self.is_parent(parent, span), "child_of accepts a SpanContext")
        span.finish()
        parent.finish()

    def test_start_span_child_of_reference(self) -> None:
        tracer = self.tracer()
        parent = tracer.start_span("parent")
        span = tracer.start_span("child", references=[child_of(parent.context)])
        if self.check_scope_manager():
            check(self.is_parent(parent, span), "a CHILD_OF reference sets the parent")
        span.finish()
        parent.finish()

    def test_start_span_none_reference_ignored(self) -> None:
        tracer = self.tracer()
        root = tracer.start_span("root", references=[child_of(None)], ignore_active_span=True)
        if self.check_scope_manager():
            check(self.is_parent(None, root), "a reference to None is ignored")
        root.finish()
        with tracer.start_active_span("Fry") as scope:
            span = tracer.start_span("child", references=[follows_from(None)])
            if self.check_scope_manager():
                check(
                    self.is_parent(scope.span, span),
                    "with only None references, the active span is the parent",
                )
            span.finish()

    def test_start_child_span(self) -> None:
        tracer = self.tracer()
        parent_span = tracer.start_span(operation_name="parent")
        child_span = opentracing.start_child_span(parent_span, operation_name="Leela")
        child_span.finish()
        parent_span.finish()

    def test_start_span_times(self) -> None:
        tracer = self.tracer()
        span = tracer.start_span("Fry", start_time=time.time() - 1.0)
        span.finish(finish_time=time.time())

    def test_set_operation_name(self) -> None:
        span = self.tracer().start_span().set_operation_name("Farnsworth")
        span.finish()

    def test_span_tracer(self) -> None:
        tracer = self.tracer()
        span = tracer.start_span("Fry")
        check(span.tracer is tracer, "span.tracer is the tracer that started it")
        span.finish()

    # --- span as a context manager --------------------------------------------

    def test_span_as_context_manager(self) -> None:
        tracer = self.tracer()
        with ExitStack() as stack:
            span = tracer.start_span(operation_name="antiquing")
            finish = stack.enter_context(mock.patch.object(span, "finish"))
            with span:
                pass
            check_calls(finish, 1, "leaving the block: span.finish")

        with ExitStack() as stack:
            span = tracer.start_span(operation_name="antiquing")
            finish = stack.enter_context(mock.patch.object(span, "finish"))
            raised = False
            try:
                with span:
                    raise ValueError("broken")
            except ValueError:
                raised = True
            check(raised, "the exception propagates out of the span's block")
            check_calls(finish, 1, "leaving the block with an error: span.finish")

    def test_span_error_on_exception(self) -> None:
        tracer = self.tracer()
        with ExitStack() as stack:
            span = tracer.start_span(operation_name="Bender")
            set_tag = stack.enter_context(mock.patch.object(span, "set_tag"))
            log_kv = stack.enter_context(mock.patch.object(span, "log_kv"))
            stack.enter_context(mock.patch.object(span, "finish"))
            with span:
                pass
            check_calls(set_tag, 0, "clean exit: span.set_tag")
            check_calls(log_kv, 0, "clean exit: span.log_kv")
            error = ValueError("bent")
            try:
                with span:
                    raise error
            except ValueError:
                pass
            _check_error_recorded(set_tag, log_kv, error)

    def test_scope_error_on_exception(self) -> None:
        tracer = self.tracer()
        scope = tracer.start_active_span("Bender")
        with ExitStack() as stack:
            set_tag = stack.enter_context(mock.patch.object(scope.span, "set_tag"))
            log_kv = stack.enter_context(mock.patch.object(scope.span, "log_kv"))
            error = KeyError("bent")
            try:
                with scope:
                    raise error
            except KeyError:
                pass
            _check_error_recorded(set_tag, log_kv, error)
        if self.check_scope_manager():
            check(tracer.scope_manager.active is None, "leaving the scope's block closes it")

    # --- tags and logs ---------------------------------------------------------

    def test_span_tag_value_types(self) -> None:
        with self.tracer().start_span(operation_name="ManyTypes") as span:
            span.set_tag("an_int", 9).set_tag("a_bool", True).set_tag("a_string", "aoeuidhtns")

    def test_span_tags_with_chaining(self) -> None:
        span = self.tracer().start_span(operation_name="Farnsworth")
        span.set_tag("birthday", "9 April, 2841").set_tag("loves", "different lengths of wires")
        span.set_tag("unicode_val", "non-ascii: \u200b").set_tag("unicode_key_\u200b", "ascii val")
        span.finish()

    def test_span_logs(self) -> None:
        span = self.tracer().start_span(operation_name="Fry")
        span.log_kv({"frozen.year": 1999, "frozen.place": "Cryogenics Labs"})
        span.log_kv({"defrosted.year": 2999, "defrosted.place": "Cryogenics Labs"}, time.time())
        span.log_event("frozen").log_event("defrosted", {"year": 2999})
        span.log_event("became his own grandfather", 1947)
        span.log(event="frozen").log(payload={"year": 1999})
        span.log(timestamp=time.time(), event="frozen", payload={"year": 1999})
        span.finish()

    # --- baggage -------------------------------------------------------------

    def test_span_baggage(self) -> None:
        span = self.tracer().start_span(operation_name="Fry")
        check(span.context.baggage == {}, "a new span has no baggage")
        span_ref = span.set_baggage_item("Kiff-loves", "Amy")
        check(span_ref is span, "set_baggage_item returns the span itself")
        value = span.get_baggage_item("Kiff-loves")
        if self.check_baggage_values():
            check(value == "Amy", "get_baggage_item returns the stored value")
        span.finish()

    def test_context_baggage(self) -> None:
        span = self.tracer().start_span(operation_name="Fry")
        check(span.context.baggage == {}, "a new span has no baggage")
        span.set_baggage_item("Kiff-loves", "Amy")
        if self.check_baggage_values():
            check(span.context.baggage == {"Kiff-loves": "Amy"}, "the context holds the baggage")
        span.finish()

    # --- propagation ------------------------------------------------------------

    def test_text_propagation(self) -> None:
        self._check_round_trip(Format.TEXT_MAP, {})

    def test_http_headers_propagation(self) -> None:
        self._check_round_trip(Format.HTTP_HEADERS, {})

    def test_binary_propagation(self) -> None:
        self._check_round_trip(Format.BINARY, bytearray())

    def test_extracted_context_as_parent(self) -> None:
        tracer = self.tracer()
        span = tracer.start_span("client")
        carrier: Dict[str, str] = {}
        tracer.inject(span.context, Format.HTTP_HEADERS, carrier)
        extracted = tracer.extract(Format.HTTP_HEADERS, carrier)
        child = tracer.start_span("server", child_of=extracted)
        if self.check_scope_manager():
            check(self.is_parent(span, child), "an extracted context works as child_of")
        child.finish()
        span.finish()

    def test_mandatory_formats(self) -> None:
        formats = [
            (Format.TEXT_MAP, {}),
            (Format.HTTP_HEADERS, {}),
            (Format.BINARY, bytearray()),
        ]
        with self.tracer().start_span(operation_name="Bender") as span:
            for fmt, carrier in formats:
                # No exceptions for the formats every tracer must support.
                span.tracer.inject(span.context, fmt, carrier)
                span.tracer.extract(fmt, carrier)

    def test_unknown_format(self) -> None:
        custom_format = "carrier pigeon, not a registered format"
        tracer = self.tracer()
        with tracer.start_span(operation_name="Bender") as span:
            _check_raises(
                UnsupportedFormatException,
                lambda: span.tracer.inject(span.context, custom_format, {}),
                "inject with an unknown format",
            )
            _check_raises(
                UnsupportedFormatException,
                lambda: span.tracer.extract(custom_format, {}),
                "extract with an unknown format",
            )

    # --- scopes of the tracer ------------------------------------------------------

    def test_tracer_start_active_span_scope(self) -> None:
        tracer = self.tracer()
        scope = tracer.start_active_span("Fry")
        try:
            if self.check_scope_manager():
                check(tracer.scope_manager.active == scope, "start_active_span activates")
        finally:
            scope.close()

    def test_tracer_start_span_scope(self) -> None:
        tracer = self.tracer()
        span = tracer.start_span(operation_name="Fry")
        try:
            if self.check_scope_manager():
                check(tracer.scope_manager.active is None, "start_span does not activate")
        finally:
            span.finish()

    # --- helpers -----------------------------------------------------------------

    def _check_round_trip(self, fmt: str, carrier: Any) -> None:
        tracer = self.tracer()
        span = tracer.start_span("Bender")
        tracer.inject(span_context=span.context, format=fmt, carrier=carrier)
        extracted = tracer.extract(format=fmt, carrier=carrier)
        check(extracted is not None, f"{fmt}: extract finds the injected context")
        assert extracted is not None  # for type checkers; check() above did the work
        check(extracted.baggage == {}, f"{fmt}: no baggage was set")
        span.finish()


def _check_error_recorded(set_tag: Any, log_kv: Any, error: BaseException) -> None:
    """The error tag and the standard error log fields, each recorded exactly once."""
    check_calls(set_tag, 1, "exception exit: span.set_tag")
    check(set_tag.call_args[0] == ("error", True), "the error tag is set to True")
    check_calls(log_kv, 1, "exception exit: span.log_kv")
    fields = log_kv.call_args[0][0]
    check(fields.get("event") == "error", "the log event is 'error'")
    check(fields.get("message") == str(error), "the log message is str(exception)")
    check(fields.get("error.object") is error, "the log carries the exception")
    check(fields.get("error.kind") is type(error), "the log carries the exception type")
    check(fields.get("stack") is not None, "the log carries the traceback")


def _check_raises(exc_type: Type[BaseException], fn: Callable[[], object], what: str) -> None:
    try:
        fn()
    except exc_type:
        return
    raise AssertionError(f"{what}: {exc_type.__name__} not raised")
