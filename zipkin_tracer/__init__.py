"""A Zipkin tracer for the OpenTracing API."""

import logging

__version__ = "0.1.0.dev0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
