"""Deprecated alias of :mod:`opentracing.tags`, kept so 1.x imports keep working.

The names are the very same objects as in ``opentracing.tags``, so identity checks
(``value is tags.ERROR``) hold whichever module the caller imported.
"""

from ..tags import *  # noqa: F403
