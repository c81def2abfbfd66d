"""A bounded background lane for side effects that must never hold a request.

Publishing to the broker and waking the kill switch streams both talk to Redis, which may be
frozen rather than down: a request that did that inline could wait for seconds. Such work is
handed to one thread per process instead, through a bounded queue. When the queue is full the
work is dropped (and logged): everything put here has a database-side safety net (the outbox
sweeper, the streams' database poll), so dropping delays it, never loses it.
"""

import logging
import os
import queue
import threading
from collections.abc import Callable

from django.db import close_old_connections

logger = logging.getLogger(__name__)

QUEUE_SIZE = 1000


class BackgroundLane:
    """One daemon thread and a bounded queue, made lazily per process (forks get their own)."""

    def __init__(self, name: str, size: int = QUEUE_SIZE) -> None:
        self.name = name
        self.size = size
        self._lock = threading.Lock()
        self._queue: queue.Queue[Callable[[], object]] | None = None
        self._pid: int | None = None

    def _ensure(self) -> "queue.Queue[Callable[[], object]]":
        if self._queue is None or self._pid != os.getpid():
            with self._lock:
                if self._queue is None or self._pid != os.getpid():
                    self._queue = queue.Queue(self.size)
                    self._pid = os.getpid()
                    threading.Thread(
                        target=self._run, args=(self._queue,), name=self.name, daemon=True
                    ).start()
        return self._queue

    def submit(self, work: Callable[[], object]) -> bool:
        """Queue ``work``; never blocks. False when the lane is full (the work is dropped)."""
        try:
            self._ensure().put_nowait(work)
        except queue.Full:
            logger.warning("%s is full (%s waiting); work dropped", self.name, self.size)
            return False
        return True

    def idle(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far has run (tests, shutdown)."""
        lane = self._ensure()
        done = threading.Event()

        def mark() -> None:
            done.set()

        try:
            lane.put(mark, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def _run(self, lane: "queue.Queue[Callable[[], object]]") -> None:
        while True:
            work = lane.get()
            try:
                work()
            except Exception:
                logger.exception("%s: background work failed", self.name)
            finally:
                # This thread keeps its own database connection; drop it when it is stale.
                close_old_connections()


lane = BackgroundLane("background-publisher")
