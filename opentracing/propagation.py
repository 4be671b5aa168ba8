"""Carrier formats and the errors raised by ``Tracer.inject`` / ``Tracer.extract``."""

from __future__ import annotations


class UnsupportedFormatException(Exception):
    """The tracer does not know the requested carrier format."""


class InvalidCarrierException(Exception):
    """The carrier has the wrong type or shape for the requested format."""


class SpanContextCorruptedException(Exception):
    """The carrier holds a span context that cannot be decoded."""


class Format:
    """Names of the carrier formats every tracer must support.

    Formats are compared with ``==``; tracers may accept further formats of any type.
    """

    #: The carrier is a ``bytearray``; ``inject`` appends to it, ``extract`` reads it.
    BINARY = "binary"

    #: The carrier is a ``dict`` of ``str`` to ``str``, possibly holding unrelated
    #: entries, so tracers should prefix their keys.
    TEXT_MAP = "text_map"

    #: Like TEXT_MAP, but keys and values must survive as HTTP headers: the key case
    #: may be lost in transit and values should be URL-escaped.
    HTTP_HEADERS = "http_headers"
