"""Deferred work of notifications; thin, idempotent, ids in. (The mailbox is polled by
``huiyin mail poll --every``, a supervised process, not by a task.)"""

from __future__ import annotations

from django_tasks import task


@task()
def message_send_task(message_id: int) -> str:
    """Send one queued message (raises on failure: the queue retries it with backoff)."""
    from .services import message_send  # the services enqueue this task: imported here to avoid a cycle

    return message_send(message_id)
