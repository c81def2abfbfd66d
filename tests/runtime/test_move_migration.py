"""Kill switches moved from incidents to runtime without touching a row: migrating a database
that has switches and flips from before the move keeps every one of them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from governance.runtime.models import KillSwitch, KillSwitchEvent

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("incidents", "0003_timeline_deployment_refused")]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def test_switches_and_events_written_before_the_move_are_read_after_it(make_switch):
    switch = make_switch("copilot-before-move", description="made before the move")
    KillSwitch.objects.filter(pk=switch.pk).update(state="engaged", version=7)
    KillSwitchEvent.objects.create(
        switch=switch,
        key=switch.key,
        system_slug=switch.system.slug,
        state="engaged",
        version=7,
        payload={"key": switch.key, "state": "engaged"},
        occurred_at=switch.created_at,
    )
    executor = _migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    assert old.get_model("incidents", "KillSwitch").objects.get().key == "copilot-before-move"
    with pytest.raises(LookupError):
        old.get_model("runtime", "KillSwitch")

    executor = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    moved = KillSwitch.objects.get()
    assert (moved.key, moved.state, moved.version) == ("copilot-before-move", "engaged", 7)
    assert moved.description == "made before the move"
    assert list(KillSwitchEvent.objects.values_list("switch__key", "version")) == [
        ("copilot-before-move", 7)
    ]
    assert KillSwitch._meta.db_table == "incidents_killswitch"
