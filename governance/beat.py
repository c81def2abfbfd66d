"""Celery beat that skips nothing, and the sweeper that runs beside it.

``CatchUpScheduler``: stock beat logs a task it could not send (broker down) and waits a whole
interval, and backs off up to 30 s between reconnection attempts. This one keeps what the
broker refused and sends it again every few seconds until the broker takes it, and tries to
reconnect every few seconds at most.

The sweeper is a thread in the beat process (started on ``beat_init``). It needs only the
database and, to publish, the broker: never a worker. Each round it publishes queued work
that is due and unclaimed (the outbox) and marks failed the reports whose renderer went silent.
"""

import logging
import threading
import time
from typing import Any

from celery import signals
from celery.beat import PersistentScheduler, ScheduleEntry
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)

RESEND_SECONDS = 5.0


class CatchUpScheduler(PersistentScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._refused: dict[str, ScheduleEntry] = {}
        self._resend_at = 0.0
        super().__init__(*args, **kwargs)

    def _ensure_connected(self) -> Any:
        # Stock beat backs off up to 30 s between connection attempts: it would notice a
        # broker that came back only that late. Try again every RESEND_SECONDS at most.
        def errback(exc: Exception, interval: float) -> None:
            logger.warning("beat: broker unreachable (%s); trying again in %s s", exc, interval)

        return self.connection.ensure_connection(
            errback,
            self.app.conf.broker_connection_max_retries,
            interval_start=0,
            interval_step=1,
            interval_max=RESEND_SECONDS,
        )

    def apply_entry(self, entry: ScheduleEntry, producer: Any = None) -> None:
        try:
            self.apply_async(entry, producer=producer, advance=False)
        except Exception as exc:
            logger.warning("beat: %s not sent (%s); sending it again shortly", entry.name, exc)
            self._refused[entry.name] = entry
        else:
            self._refused.pop(entry.name, None)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        delay = super().tick(*args, **kwargs)
        if not self._refused:
            return delay
        now = time.monotonic()
        if now >= self._resend_at:
            self._resend_at = now + RESEND_SECONDS
            for name, entry in list(self._refused.items()):
                try:
                    self.apply_async(entry, producer=self.producer, advance=False)
                except Exception:
                    break  # still down: the others wait for the next round
                del self._refused[name]
                logger.info("beat: %s sent after the broker came back", name)
        return min(delay, RESEND_SECONDS)


def sweep_once() -> dict[str, int]:
    """One round of the sweeper (also what tests and `make faults` call)."""
    from governance.core.outbox import outbox_sweep
    from governance.reports.services import report_stale_fail

    return {"published": outbox_sweep(), "stale_reports": report_stale_fail()}


def _sweep_forever(stop: threading.Event) -> None:
    while not stop.wait(settings.OUTBOX_SWEEP_SECONDS):
        try:
            done = sweep_once()
            if any(done.values()):
                logger.info("sweeper: %s", done)
        except Exception as exc:
            # The database is down: one line, and the next round tries again.
            logger.warning("sweeper round failed: %s: %s", type(exc).__name__, exc)
        finally:
            close_old_connections()


_stop = threading.Event()


@signals.beat_init.connect
def _start_sweeper(**_: Any) -> None:
    threading.Thread(target=_sweep_forever, args=(_stop,), name="sweeper", daemon=True).start()
    logger.info("sweeper: every %s s", settings.OUTBOX_SWEEP_SECONDS)
