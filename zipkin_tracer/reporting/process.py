"""Fork and exit: a forked child starts clean, the process flushes at exit.

Python's fork hooks hold every reporter's queue lock across ``fork`` (so no
thread forks mid-append) and re-initialise the child's reporters. Servers
that fork without running them (uWSGI, say) are caught by a ``MADV_WIPEONFORK``
page (one byte read per report, no ``getpid()`` syscall) or, where the
kernel lacks it, by comparing PIDs. At exit every reporter gets a bounded
``close``.
"""

from __future__ import annotations

import atexit
import mmap
import os
import platform
import sys
import weakref
from typing import List, Optional

from zipkin_tracer.reporting.state import ReporterState

_getpid = os.getpid

#: Linux ``MADV_WIPEONFORK`` (asm-generic value; Python's mmap does not name it).
_MADV_WIPEONFORK = 18
_WIPEONFORK_MACHINES = frozenset({"x86_64", "amd64", "aarch64", "arm64", "i686", "i386"})


def fork_sentinel() -> Optional[mmap.mmap]:
    """One private page the kernel zeroes in any forked child, or None.

    ``MADV_WIPEONFORK`` (Linux 4.14+) makes reading one byte a complete fork
    check, hooks or not, without the ``getpid()`` syscall on every report
    (the way OpenSSL detects forks). Elsewhere the reporter compares PIDs.
    """
    if not sys.platform.startswith("linux") or platform.machine() not in _WIPEONFORK_MACHINES:
        return None
    try:
        page = mmap.mmap(-1, mmap.PAGESIZE, flags=mmap.MAP_PRIVATE)
        page.madvise(_MADV_WIPEONFORK)
        page[0] = 1
    except (OSError, ValueError, AttributeError):  # an older kernel: EINVAL
        return None
    return page


class ForkMixin(ReporterState):
    """The per-reporter side of fork handling."""

    def _check_pid(self) -> None:
        page = self._fork_page
        if (page is not None and not page[0]) or self._pid != _getpid():
            self._after_fork_without_hooks()

    def _after_fork_without_hooks(self) -> None:
        """Fork hooks did not run (e.g. uWSGI): re-initialise like the child hook."""
        if self._pid != os.getpid():
            self._after_fork_in_child()

    def _after_fork_in_child(self) -> None:
        """Start clean: the parent's queued spans are the parent's to send."""
        self._init_process_state()
        try:
            self._sender.after_fork_in_child()
        except Exception:
            pass


# -- process-wide hooks -------------------------------------------------------------------
_REPORTERS: weakref.WeakSet[ForkMixin] = weakref.WeakSet()
_held_at_fork: List[ForkMixin] = []
#: Test switch: simulate servers whose fork does not run Python's hooks.
fork_hooks_enabled = True


def register(reporter: ForkMixin) -> None:
    """Include ``reporter`` in the fork hooks and the exit flush (held weakly)."""
    _REPORTERS.add(reporter)


def _before_fork() -> None:
    """Hold every reporter's queue lock so no thread forks mid-append (brief: no I/O under it)."""
    if not fork_hooks_enabled:
        return
    reporters: List[ForkMixin] = []
    for _ in range(3):  # another thread may be adding a reporter right now
        try:
            reporters = list(_REPORTERS)
            break
        except RuntimeError:
            continue
    for reporter in reporters:
        reporter._lock.acquire()
        _held_at_fork.append(reporter)


def _after_fork_in_parent() -> None:
    while _held_at_fork:
        _held_at_fork.pop()._lock.release()


def _after_fork_in_child() -> None:
    held = list(_held_at_fork)
    _held_at_fork.clear()
    for reporter in held:
        reporter._after_fork_in_child()


def _close_all_at_exit() -> None:
    """Bounded exit flush: each reporter gets at most its ``close_timeout``."""
    for reporter in list(_REPORTERS):
        if not reporter._close_at_exit:
            continue
        try:
            reporter.close()
        except BaseException:  # never change the exit status
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
atexit.register(_close_all_at_exit)
