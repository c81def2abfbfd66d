"""Beat sends again what the broker refused, instead of waiting a whole interval."""

import pytest

from governance import beat
from governance.beat import CatchUpScheduler
from governance.celery import app


@pytest.fixture
def scheduler(tmp_path):
    before, app.conf.beat_schedule = app.conf.beat_schedule, {}  # only the entry under test
    made = CatchUpScheduler(app=app, schedule_filename=str(tmp_path / "schedule"), lazy=True)
    made.setup_schedule()
    yield made
    made.close()
    app.conf.beat_schedule = before


def test_a_refused_task_is_sent_again_once_the_broker_takes_it(scheduler, monkeypatch):
    sent, broker = [], {"up": False}

    def apply_async(entry, producer=None, advance=True, **kwargs):
        if not broker["up"]:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:56379. Connection refused.")
        sent.append(entry.name)

    monkeypatch.setattr(scheduler, "apply_async", apply_async)
    monkeypatch.setattr(CatchUpScheduler, "producer", None)
    entry = scheduler.Entry(
        name="verify-audit-chain",
        task="governance.audit.tasks.audit_chain_verify_task",
        schedule=3600,
        app=app,
    )
    scheduler.apply_entry(entry)
    assert sent == [] and "verify-audit-chain" in scheduler._refused
    monkeypatch.setattr(beat, "RESEND_SECONDS", 0.0)
    scheduler._resend_at = 0
    assert scheduler.tick() <= beat.RESEND_SECONDS + 3600
    assert sent == []  # still down: kept for the next round
    broker["up"] = True
    scheduler._resend_at = 0
    scheduler.tick()
    assert sent == ["verify-audit-chain"] and not scheduler._refused
