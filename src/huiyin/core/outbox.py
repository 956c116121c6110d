"""Queueing a background task for work that must be committed first.

With the database task backend (the default), the task's row is written in the current
transaction, as a transactional outbox: it commits with the work it is about, vanishes if
that work is rolled back, and a worker can only see it once both are committed. It costs
no transaction of its own (a registration queued two tasks after its commit: two more
commits, each a WAL flush with ``fsync`` on). With any other backend (Redis, or the
immediate backend that runs the task at once), the task is enqueued once the transaction
commits, as before.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django_tasks_db import DatabaseBackend


def enqueue_on_commit(task: Any, **kwargs: Any) -> None:
    """Enqueue ``task(**kwargs)`` so that it runs only if the current transaction commits."""
    if isinstance(task.get_backend(), DatabaseBackend):
        task.enqueue(**kwargs)
    else:
        transaction.on_commit(partial(task.enqueue, **kwargs))
