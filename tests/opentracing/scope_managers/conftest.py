"""Each Tornado scope-manager test module runs on the Tornado it is written for.

Tornado 6+ (the main suite) tests the context-variable manager; Tornado 4.5 and 5.1
(the ``tornado45`` and ``tornado51`` tox envs) test the ``stack_context`` one.
"""

from __future__ import annotations

try:
    import tornado
except ImportError:  # the Tornado tests report the missing import themselves
    tornado = None

collect_ignore = []
if tornado is not None and tornado.version_info >= (6,):
    collect_ignore += ["test_tornado_stack_context.py", "test_opentracing_instrumentation.py"]
elif tornado is not None:
    collect_ignore += ["test_tornado.py"]
