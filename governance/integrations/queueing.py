"""The one place integration tasks are queued: after the transaction that made them needed
commits, so a worker never looks for rows that are not there yet."""

from typing import Any

from django.db import transaction


def queue_after_commit(task: Any, *args: Any) -> None:
    transaction.on_commit(lambda: task.delay(*args))
