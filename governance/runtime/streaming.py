"""Kill switch flips to AI services: Redis pub/sub fan-out and the Server-Sent Events stream.

The database is the source of truth. A flip writes a KillSwitchEvent in its transaction (ids in
commit order, see services._flip) and, once committed, a background thread publishes a
wake-up on Redis (never the request: a frozen Redis must not hold a flip). Every stream, in
whatever web worker process, reads events from the database after the last id it sent: on a
wake-up at once, and every KILL_SWITCH_STREAM_POLL_SECONDS in any case. So a lost
publish (Redis down) delays a flip by at most one poll, and a client that reconnects with
Last-Event-ID gets every flip it missed.
"""

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction

from governance.core.background import BackgroundLane
from governance.runtime.models import KillSwitchEvent
from governance.runtime.selectors import kill_switch_events_after, kill_switch_snapshot

logger = logging.getLogger(__name__)

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()
_active = 0  # streams open in this process (tests wait for them to end)


def active_streams() -> int:
    return _active


def _count(delta: int) -> None:
    global _active
    with _clients_lock:
        _active += delta


def channel_name() -> str:
    """One channel per database, so test runs and benchmarks never hear each other's flips."""
    return f"governance:killswitches:{settings.DATABASES['default']['NAME']}"


def _client() -> redis.Redis | None:
    url = settings.KILL_SWITCH_PUBSUB_URL
    if not url:
        return None
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=settings.KILL_SWITCH_REDIS_TIMEOUT_SECONDS,
                socket_timeout=settings.KILL_SWITCH_REDIS_TIMEOUT_SECONDS,
                health_check_interval=30,
            )
            _clients[url] = client
        return client


def publish_flip(*, event_id: int, system_slug: str) -> bool:
    """Wake the streams (runs on commit). Failure is logged, never raised: the flip is already
    committed and the streams' database poll delivers it."""
    client = _client()
    if client is None:
        return False
    try:
        client.publish(channel_name(), json.dumps({"id": event_id, "system": system_slug}))
    except (redis.RedisError, OSError) as exc:
        logger.warning(
            "kill switch event %s not published (%s); streams get it from the database",
            event_id,
            exc,
        )
        return False
    return True


# Wake-ups leave the request at once: a frozen Redis holds this thread, never a flip.
_wakeups = BackgroundLane("kill-switch-wakeups", size=200)


def publish_flip_later(*, event_id: int, system_slug: str) -> bool:
    """Publish the wake-up off the request path (on commit). A wake-up dropped because the
    lane is full costs at most one database poll of the streams."""
    return _wakeups.submit(lambda: publish_flip(event_id=event_id, system_slug=system_slug))


def publish_flip_on_commit(event: Any) -> None:
    """After the flip commits, wake the streams off the request path."""
    event_id, system_slug = event.pk, event.system_slug
    transaction.on_commit(lambda: publish_flip_later(event_id=event_id, system_slug=system_slug))


def wakeups_idle(timeout: float = 10.0) -> bool:
    return _wakeups.idle(timeout)


def _subscribe() -> Any:
    client = _client()
    if client is None:
        return None
    try:
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(channel_name())
        return pubsub
    except (redis.RedisError, OSError) as exc:
        logger.info("kill switch stream polls the database only: %s", exc)
        return None


def _close(pubsub: Any) -> None:
    if pubsub is not None:
        with contextlib.suppress(redis.RedisError, OSError):
            pubsub.close()


def sse_event(event: KillSwitchEvent) -> str:
    """``flip`` for a kill switch, ``control`` for a runtime control's new value."""
    kind = "flip" if event.switch_id is not None else "control"
    return f"id: {event.pk}\nevent: {kind}\ndata: {json.dumps(event.payload)}\n\n"


def kill_switch_stream(
    *,
    principal: Any,
    last_event_id: int | None,
    system: str | None = None,
    keys: list[str] | None = None,
) -> Iterator[str]:
    """The SSE body. Without Last-Event-ID it opens with a ``snapshot`` of the current states;
    then one ``flip`` event per change; a comment line as heartbeat; it ends after
    KILL_SWITCH_STREAM_MAX_SECONDS and the client reconnects (``retry:``) with Last-Event-ID."""
    poll = settings.KILL_SWITCH_STREAM_POLL_SECONDS
    heartbeat = settings.KILL_SWITCH_STREAM_HEARTBEAT_SECONDS
    started = time.monotonic()
    deadline = started + settings.KILL_SWITCH_STREAM_MAX_SECONDS
    pubsub = _subscribe()
    next_subscribe = started + 10
    _count(+1)
    try:
        yield f"retry: {settings.KILL_SWITCH_STREAM_RETRY_MS}\n\n"
        if last_event_id is None:
            last_event_id, switches = kill_switch_snapshot(
                principal=principal, system=system, keys=keys
            )
            yield f"id: {last_event_id}\nevent: snapshot\ndata: {json.dumps(switches)}\n\n"
        last_beat = time.monotonic()
        while True:
            for event in kill_switch_events_after(
                principal=principal, after_id=last_event_id, system=system, keys=keys
            ):
                last_event_id = event.pk
                yield sse_event(event)
            now = time.monotonic()
            if now >= deadline:
                return
            if now - last_beat >= heartbeat:
                last_beat = now
                yield ": heartbeat\n\n"
            if pubsub is None and now >= next_subscribe:
                pubsub, next_subscribe = _subscribe(), now + 10
            # Wake for the next poll, heartbeat or the end, whichever comes first: a heartbeat
            # is also how a stream notices its client has gone.
            wait = max(0.01, min(poll, last_beat + heartbeat - now, deadline - now))
            if pubsub is not None:
                try:
                    message = pubsub.get_message(timeout=wait)
                    while message is not None:  # drain a burst: one database read for all
                        message = pubsub.get_message(timeout=0)
                except (redis.RedisError, OSError) as exc:
                    logger.info("kill switch stream lost Redis (%s); polling the database", exc)
                    _close(pubsub)
                    pubsub, next_subscribe = None, time.monotonic() + 10
            else:
                time.sleep(wait)
    finally:
        _count(-1)
        _close(pubsub)
        connection.close_if_unusable_or_obsolete()
