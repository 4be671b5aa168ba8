"""The reporter's shared state, declared once for the type checker.

``AsyncReporter`` is assembled from parts with one job each (packing,
delivery, flush watermarks, fork handling), all working on one object's
state: the queue lock guards the counters they update together, and the hot
``report`` reads attributes directly instead of calling into helper objects.
Each part derives from this class, so the attributes and the methods one part
calls on another are declared (and type-checked) in one place; the values
are set in ``AsyncReporter._init_process_state``.
"""

from __future__ import annotations

import mmap
import threading
from typing import TYPE_CHECKING, Any, Deque, List, Optional, Tuple

from zipkin_tracer.encoding.base import Encoder
from zipkin_tracer.reporting.log_limiter import LogLimiter
from zipkin_tracer.reporting.metrics import ReporterMetrics
from zipkin_tracer.reporting.signal_safe import Flag
from zipkin_tracer.transport.base import Sender

if TYPE_CHECKING:
    from zipkin_tracer.reporting.delivery import Backoff
    from zipkin_tracer.reporting.message import Message
    from zipkin_tracer.reporting.watermark import Waiter

Item = Tuple[int, Any]  # (sequence number, span)


class ReporterState:
    """Attributes and cross-part methods of ``AsyncReporter`` (see the module docstring)."""

    # -- configuration --------------------------------------------------------------
    _encoder: Encoder
    _sender: Sender
    _max_bytes: int
    _retry_timeout: float
    _close_at_exit: bool
    _backoff: Backoff
    # -- per process (see AsyncReporter._init_process_state) -------------------------
    _pid: int
    _fork_page: Optional[mmap.mmap]
    _lock: threading.Lock
    _metrics: ReporterMetrics
    _log: LogLimiter
    _queue: Deque[Any]
    _queue_seqs: Deque[int]
    _wake_at: int
    _closing: Flag
    _halt: Flag
    _close_deadline: float
    _worker: Optional[threading.Thread]  # runs or will run _run; None once it left
    _worker_began: Optional[threading.Thread]
    # -- worker side -----------------------------------------------------------------
    _message: Message
    _chunk: List[Item]
    _pos: int
    _encoded_bytes: int
    _max_span_bytes: int
    _failed_attempts: int  # since the last success
    _delivering: Optional[object]
    _claimers: List[Waiter]
    # -- flush watermarks (guarded by _lock) -----------------------------------------
    _waiters: List[Waiter]
    _inflight_floor: Optional[int]
    _last_flush_target: int
    _max_failed_seq: int
    # -- sender stage ----------------------------------------------------------------
    _wire: Optional[Tuple[List[int], List[bytes]]]
    _wire_floor: Optional[int]
    _wire_cond: threading.Condition
    _wire_stop: bool
    _sender_thread: Optional[threading.Thread]

    if TYPE_CHECKING:  # defined by the parts; listed here so each may call the others

        def _init_process_state(self) -> None: ...
        def _cycle(self) -> bool: ...
        def _publish_locked(self) -> None: ...
        def _drop_span(self, seq: int, reason: str) -> None: ...
        def _warn_queue_full(self) -> None: ...
        def _failed_locked(self, seq: int) -> None: ...
        def _notify_locked(self) -> None: ...
        def _send_message(self) -> None: ...
        def close(self, timeout: Optional[float] = None) -> bool: ...
