"""Event streams served by an ASGI worker: an open stream is a coroutine and a list of
pending chunks, not a thread and a database poll.

One hub per process reads new events from the database once (on a Redis wake-up at once, and
every KILL_SWITCH_STREAM_POLL_SECONDS in any case) and hands them to every open stream. A flip
costs the process one query, one JSON rendering and one encoding per event, and one joined
chunk per distinct stream scope (system, keys): each stream gets those bytes appended and its
waiting future resolved, nothing more (no per-stream filtering, encoding, timer or task).
Heartbeats come from the hub's one clock, not from a timeout per stream. With Redis down the
hub polls the database alone, so 1,000 streams cost one query a second, not 1,000. When the
database goes away the hub logs one line and ends every stream cleanly: clients reconnect with
Last-Event-ID and miss nothing.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import redis
import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from governance.runtime.models import KillSwitchEvent
from governance.runtime.selectors import kill_switch_events_after, kill_switch_snapshot
from governance.runtime.streaming import channel_name, sse_event

logger = logging.getLogger(__name__)

_END = object()  # put on a stream's pending list: the stream ends (database gone, deadline)
_BEAT = b": heartbeat\n\n"  # also how a dead client is noticed under any server


def _latest_id() -> int:
    close_old_connections()
    return KillSwitchEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _events_after(after_id: int) -> list[KillSwitchEvent]:
    close_old_connections()
    return list(KillSwitchEvent.objects.filter(id__gt=after_id).order_by("id")[:500])


def _pooled(fn: Any) -> Any:
    """Run database reads in the loop's small shared thread pool, not in the request's own
    thread: a thread (and its database connection) per open stream is what ASGI avoids here.
    The connections are those of the pool's few threads, reused."""
    return sync_to_async(fn, thread_sensitive=False)


class Stream:
    """One open stream as the hub sees it: its scope, what it has, what waits to be sent."""

    __slots__ = ("keys", "last_id", "pending", "scope", "system", "waiter")

    def __init__(self, system: str | None, keys: list[str] | None) -> None:
        self.system, self.keys = system, keys
        self.scope = (system, tuple(sorted(keys)) if keys else None)
        self.last_id = -1  # set once the snapshot (or the catch-up) is sent
        self.pending: list[Any] = []
        self.waiter: asyncio.Future | None = None

    def push(self, item: Any) -> None:
        self.pending.append(item)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def take(self) -> list[Any]:
        """What is pending, waiting for something if nothing is."""
        if not self.pending:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        items, self.pending = self.pending, []
        return items


class Hub:
    """The process's single reader of new events, and the set of open streams it feeds."""

    def __init__(self) -> None:
        self.streams: set[Stream] = set()
        self.task: asyncio.Task | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.last_id: int | None = None
        self.wake = asyncio.Event()

    def subscribe(self, system: str | None = None, keys: list[str] | None = None) -> Stream:
        loop = asyncio.get_running_loop()
        if self.loop is not loop or self.task is None or self.task.done():
            # A hub that starts again reads from now on (streams lower it with floor()), not
            # from wherever it stopped: an idle night must not be replayed.
            self.loop, self.wake, self.last_id = loop, asyncio.Event(), None
            self.task = loop.create_task(self._run())
        stream = Stream(system, keys)
        self.streams.add(stream)
        return stream

    def floor(self, event_id: int) -> None:
        """A stream has everything up to ``event_id``: the hub must hand over what follows."""
        if self.last_id is None or event_id < self.last_id:
            self.last_id = event_id
            self.wake.set()

    def unsubscribe(self, stream: Stream) -> None:
        self.streams.discard(stream)

    def deliver(self, events: list[KillSwitchEvent]) -> None:
        """Hand ``events`` (in id order) to every stream: rendered and encoded once each, joined
        once per scope; a stream that has some of them already (it caught up past the hub's
        floor) gets only the rest."""
        rendered = [(event, sse_event(event).encode()) for event in events]
        first = events[0].pk
        shared: dict[tuple, bytes] = {}
        for stream in list(self.streams):
            if stream.last_id < 0:
                continue  # still sending its snapshot; floor() brings these back
            if stream.last_id < first:
                chunk = shared.get(stream.scope)
                if chunk is None:
                    chunk = shared[stream.scope] = _chunk(rendered, stream, -1)
            else:
                chunk = _chunk(rendered, stream, stream.last_id)
            stream.last_id = max(stream.last_id, events[-1].pk)
            if chunk:
                stream.push(chunk)

    def beat(self) -> None:
        for stream in list(self.streams):
            if stream.last_id >= 0 and not stream.pending:
                stream.push(_BEAT)

    def end_all(self) -> None:
        for stream in list(self.streams):
            stream.push(_END)
        self.streams.clear()

    async def _run(self) -> None:
        listener = asyncio.create_task(self._listen())
        db_down = False
        loop = asyncio.get_running_loop()
        heartbeat = settings.KILL_SWITCH_STREAM_HEARTBEAT_SECONDS
        next_beat = loop.time() + heartbeat
        try:
            while True:
                try:
                    if self.last_id is None:
                        latest = await _pooled(_latest_id)()
                        if self.last_id is None:  # a stream's floor() set meanwhile wins
                            self.last_id = latest
                    after = self.last_id
                    events = await _pooled(_events_after)(after)
                    if self.last_id < after:
                        # A stream lowered the floor during the read: what lies between is
                        # read again at once (floor() woke the loop); delivering these now
                        # would move that stream past it.
                        events = []
                    if db_down:
                        logger.warning("kill switch streams: the database is back")
                        db_down = False
                except DatabaseError as exc:
                    if not db_down:  # one line per outage, not one traceback per stream
                        logger.warning(
                            "kill switch streams: database unavailable (%s); ending %d "
                            "stream(s), clients reconnect with Last-Event-ID",
                            str(exc).strip().splitlines()[0] if str(exc).strip() else exc,
                            len(self.streams),
                        )
                        db_down = True
                    self.end_all()
                    events = []
                if events:
                    self.last_id = events[-1].pk
                    self.deliver(events)
                if not self.streams and not db_down:
                    return  # nobody listens: stop; the next stream starts the hub again
                if loop.time() >= next_beat:
                    self.beat()
                    next_beat = loop.time() + heartbeat
                poll = settings.KILL_SWITCH_STREAM_POLL_SECONDS
                timeout = max(0.0, min(poll, next_beat - loop.time()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=timeout)
                self.wake.clear()
        finally:
            listener.cancel()
            self.task = None

    async def _listen(self) -> None:
        """Redis wake-ups; without Redis (or while it is down) the poll above carries on."""
        url = settings.KILL_SWITCH_PUBSUB_URL
        if not url:
            return
        while True:
            client = aioredis.Redis.from_url(
                url,
                socket_connect_timeout=settings.KILL_SWITCH_REDIS_TIMEOUT_SECONDS,
                health_check_interval=30,
            )
            try:
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(channel_name())
                async for _message in pubsub.listen():
                    self.wake.set()
            except (redis.RedisError, OSError) as exc:
                logger.info("kill switch streams poll the database only: %s", exc)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(10)


hub = Hub()


def _in_scope(event: KillSwitchEvent, system: str | None, keys: list[str] | None) -> bool:
    return (not system or event.system_slug == system) and (not keys or event.key in keys)


def _chunk(rendered: list[tuple[KillSwitchEvent, bytes]], stream: Stream, after: int) -> bytes:
    return b"".join(
        text
        for event, text in rendered
        if event.pk > after and _in_scope(event, stream.system, stream.keys)
    )


async def kill_switch_stream_async(
    *,
    principal: Any,
    last_event_id: int | None,
    system: str | None = None,
    keys: list[str] | None = None,
    on_close: Any = None,
) -> AsyncIterator[bytes]:
    """The same SSE body as streaming.kill_switch_stream, as a coroutine: the snapshot (or the
    events after Last-Event-ID), then what the hub hands over, heartbeats, and the end after
    KILL_SWITCH_STREAM_MAX_SECONDS. A client that goes away cancels it (ASGI disconnect)."""
    loop = asyncio.get_running_loop()
    stream = hub.subscribe(system, keys)  # before reading: nothing committed meanwhile is missed
    ending = loop.call_later(settings.KILL_SWITCH_STREAM_MAX_SECONDS, stream.push, _END)
    try:
        yield f"retry: {settings.KILL_SWITCH_STREAM_RETRY_MS}\n\n".encode()
        try:
            if last_event_id is None:
                last_event_id, items = await _pooled(kill_switch_snapshot)(
                    principal=principal, system=system, keys=keys
                )
                snapshot = f"id: {last_event_id}\nevent: snapshot\ndata: {json.dumps(items)}\n\n"
                yield snapshot.encode()
            else:
                while True:
                    missed = await _pooled(kill_switch_events_after)(
                        principal=principal, after_id=last_event_id, system=system, keys=keys
                    )
                    for event in missed:
                        last_event_id = event.pk
                        yield sse_event(event).encode()
                    if len(missed) < 500:
                        break
        except DatabaseError:
            return  # the hub logs the outage once; the client reconnects
        # What the hub handed over while the snapshot was read is replayed from the floor.
        stream.pending = [item for item in stream.pending if item is _END]
        stream.last_id = last_event_id
        hub.floor(last_event_id)
        while True:
            for item in await stream.take():
                if item is _END:
                    return
                yield item
    finally:
        ending.cancel()
        hub.unsubscribe(stream)
        if on_close is not None:
            on_close()
