"""The transactional outbox: queued work is a database row; the broker is only a wake-up."""

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from celery import shared_task
from django.db import transaction
from django.utils import timezone

from governance.core import outbox
from governance.core.background import BackgroundLane
from governance.core.models import OutboxMessage
from governance.core.outbox import (
    MAX_CLAIMS,
    OutboxTask,
    outbox_backlog,
    outbox_claim,
    outbox_due,
    outbox_enqueue,
    outbox_finish,
    outbox_sweep,
)

RAN: list[tuple[int, str]] = []
TASK = "tests.core.test_outbox.record_task"


@shared_task(name=TASK, base=OutboxTask)
def record_task(value: int, label: str = "") -> int:
    if label == "explode":
        raise RuntimeError("boom")
    RAN.append((value, label))
    return value


@pytest.fixture(autouse=True)
def _clean() -> None:
    RAN.clear()


class FakeBroker:
    """Stands in for ``send_task``: records what was published, or refuses like a dead Redis."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list, str]] = []
        self.down = False

    def send_task(self, name: str, *, args: list, kwargs: dict, task_id: str) -> None:
        if self.down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.sent.append((name, args, task_id))


@pytest.fixture
def broker(monkeypatch) -> Iterator[FakeBroker]:
    fake = FakeBroker()
    conf = outbox.current_app.conf
    before = conf.task_always_eager
    conf.task_always_eager = False
    monkeypatch.setattr(outbox.current_app, "send_task", fake.send_task)
    yield fake
    assert outbox.lane.idle(10)  # the lane's work is over before the database is flushed
    conf.task_always_eager = before


@pytest.mark.django_db(transaction=True)
def test_a_message_commits_with_its_change_and_is_published_after_commit(broker):
    with transaction.atomic():
        message = outbox_enqueue(task=TASK, args=[1])
        assert broker.sent == []  # nothing leaves before the commit
    assert outbox.lane.idle(10)
    assert broker.sent == [(TASK, [1], f"outbox-{message.pk}-1")]
    message.refresh_from_db()
    assert message.published_at is not None and message.publish_count == 1


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_leaves_no_message(broker):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_enqueue(task=TASK, args=[1])
        raise RuntimeError("the change failed")
    assert outbox.lane.idle(10)
    assert OutboxMessage.objects.count() == 0 and broker.sent == []


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_message_waits_and_the_sweeper_publishes_it(broker, settings):
    broker.down = True
    with transaction.atomic():
        message = outbox_enqueue(task=TASK, args=[2])
    assert outbox.lane.idle(10)
    message.refresh_from_db()
    assert message.published_at is None and "Connection refused" in message.last_error
    assert outbox_sweep() == 0  # still down: nothing published, nothing lost
    broker.down = False
    assert outbox_sweep() == 1
    assert [task_id for *_, task_id in broker.sent] == [f"outbox-{message.pk}-1"]
    assert outbox_sweep() == 0  # published recently: not again yet
    # Published, never claimed (the broker lost it with a restart): published again later.
    OutboxMessage.objects.filter(pk=message.pk).update(
        published_at=timezone.now() - timedelta(seconds=settings.OUTBOX_REPUBLISH_SECONDS + 1)
    )
    assert outbox_sweep() == 1
    assert broker.sent[-1][2] == f"outbox-{message.pk}-2"


@pytest.mark.django_db(transaction=True)
def test_a_message_published_twice_runs_once(broker):
    with transaction.atomic():
        message = outbox_enqueue(task=TASK, args=[3])
    assert outbox.lane.idle(10)
    # Two copies delivered (a republish raced a slow worker): the claim lets one through.
    record_task.apply(args=[3], task_id=f"outbox-{message.pk}-1")
    record_task.apply(args=[3], task_id=f"outbox-{message.pk}-2")
    assert RAN == [(3, "")]
    message.refresh_from_db()
    assert message.done_at is not None and message.claim_count == 1
    assert message not in outbox_due()


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_once_get_one_claim():
    message = outbox_enqueue(task=TASK, args=[4], countdown=60)
    results: list[bool] = []
    barrier = threading.Barrier(2)

    def claim() -> None:
        barrier.wait()
        results.append(outbox_claim(message_id=message.pk))

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, True]


@pytest.mark.django_db(transaction=True)
def test_a_failing_task_is_released_for_another_try_then_given_up(broker):
    message = outbox_enqueue(task=TASK, args=[5, "explode"], countdown=0.01)
    for attempt in range(1, MAX_CLAIMS + 1):
        result = record_task.apply(
            args=[5, "explode"], task_id=f"outbox-{message.pk}-{attempt}", throw=False
        )
        assert isinstance(result.result, RuntimeError)
        message.refresh_from_db()
        if attempt < MAX_CLAIMS:
            assert message.claimed_at is None and message.done_at is None
            assert "boom" in message.last_error
    assert message.done_at is not None and message.last_error.startswith("gave up")


@pytest.mark.django_db(transaction=True)
def test_a_claim_held_past_the_task_time_limit_is_taken_over(settings):
    message = outbox_enqueue(task=TASK, args=[6], countdown=60)
    assert outbox_claim(message_id=message.pk)
    assert not outbox_claim(message_id=message.pk)  # a live worker holds it
    long_ago = timezone.now() - timedelta(seconds=settings.TASK_TIME_LIMIT_SECONDS + 61)
    OutboxMessage.objects.filter(pk=message.pk).update(
        claimed_at=long_ago, published_at=long_ago, available_at=long_ago
    )
    assert message in outbox_due()  # its worker died: published again
    assert outbox_claim(message_id=message.pk)
    outbox_finish(message_id=message.pk)
    assert not outbox_claim(message_id=message.pk)


@pytest.mark.django_db(transaction=True)
def test_delayed_messages_wait_for_the_sweeper(broker):
    with transaction.atomic():
        message = outbox_enqueue(task=TASK, args=[7], countdown=30)
    assert outbox.lane.idle(10)
    assert broker.sent == [] and message not in outbox_due()
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    assert outbox_sweep() == 1


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_the_task_runs_in_process_after_commit():
    conf = outbox.current_app.conf
    before, conf.task_always_eager = conf.task_always_eager, True
    try:
        _enqueue_and_run_eagerly()
    finally:
        conf.task_always_eager = before


def _enqueue_and_run_eagerly() -> None:
    with transaction.atomic():
        message = outbox_enqueue(task=TASK, args=[8], kwargs={"label": "eager"})
        assert RAN == []
    assert RAN == [(8, "eager")]
    message.refresh_from_db()
    assert message.done_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_backlog_counts_what_is_overdue(settings):
    outbox_enqueue(task=TASK, args=[9], countdown=0.0001)
    old = outbox_enqueue(task=TASK, args=[10], countdown=0.0001)
    OutboxMessage.objects.filter(pk=old.pk).update(
        available_at=timezone.now() - timedelta(seconds=settings.OUTBOX_OVERDUE_SECONDS + 5)
    )
    backlog = outbox_backlog()
    assert backlog["pending"] == 2 and backlog["overdue"] == 1
    assert backlog["oldest_seconds"] >= settings.OUTBOX_OVERDUE_SECONDS


def test_the_background_lane_never_blocks_and_drops_when_full():
    lane = BackgroundLane("test-lane", size=2)
    release = threading.Event()
    assert lane.submit(release.wait)  # the thread holds this one
    time.sleep(0.1)
    assert lane.submit(lambda: None) and lane.submit(lambda: None)
    started = time.monotonic()
    assert lane.submit(lambda: None) is False  # full: dropped at once, not waited for
    assert time.monotonic() - started < 0.05
    release.set()
    assert lane.idle(5)
