"""What to check when the collector refuses spans: one sentence per failure cause.

The reporter's warnings and ``zipkin-tracer check`` end with the same advice,
so a person sees the same words in the application's log and in the CLI.
``cause`` is a :class:`zipkin_tracer.transport.base.SendError` label.
"""

from __future__ import annotations

RUN_CHECK = "or run `zipkin-tracer check`"

_HINTS = {
    "connection_error": (
        "is Zipkin running, and are the host and port of collector_url ($ZIPKIN_URL) right?"
    ),
    "timeout": "the collector is slow or the network drops packets; check collector_url "
    "($ZIPKIN_URL) and the timeout/connect_timeout options",
    "tls_error": "an https:// URL against a plain-HTTP collector, or a certificate the "
    "verify option ($ZIPKIN_VERIFY) does not trust",
    "http_401": "the collector wants credentials: set the headers option ($ZIPKIN_HEADERS)",
    "http_403": "the collector refuses these credentials: check the headers option "
    "($ZIPKIN_HEADERS)",
    "http_404": "collector_url ($ZIPKIN_URL) should be the server's base URL, such as "
    "http://zipkin:9411, not the UI's",
    "http_405": "collector_url ($ZIPKIN_URL) should be the server's base URL, such as "
    "http://zipkin:9411, not the UI's (…/zipkin/)",
    "http_415": "the collector does not accept this encoding: try encoding=json ($ZIPKIN_ENCODING)",
}


def what_to_check(cause: str) -> str:
    """Advice for a send failure such as ``connection_error`` or ``http_405``; "" for others."""
    hint = _HINTS.get(cause)
    if hint is not None:
        return hint
    if cause.startswith("http_5"):
        return "the collector failed on its side: look at the Zipkin server's log"
    if cause.startswith("http_"):
        return "is collector_url ($ZIPKIN_URL) a Zipkin collector?"
    return ""


def check_suffix(cause: str) -> str:
    """``"; check: <advice> (...)"`` to end a log line with, or "" when there is no advice."""
    hint = what_to_check(cause)
    return f"; check: {hint} ({RUN_CHECK})" if hint else ""
