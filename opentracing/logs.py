"""Standard log field names (the OpenTracing semantic conventions)."""

#: Kind of the error, e.g. the exception type.
ERROR_KIND = "error.kind"

#: The error object itself, e.g. the exception instance.
ERROR_OBJECT = "error.object"

#: A short, stable name for what happened, e.g. ``"error"``.
EVENT = "event"

#: A human readable description of the event.
MESSAGE = "message"

#: A stack trace (in Python, a traceback object).
STACK = "stack"
