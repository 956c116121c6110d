"""Deferred work of notifications and the e-mail channel; thin, idempotent, ids in."""

from __future__ import annotations

from django_tasks import task


@task()
def message_send_task(message_id: int) -> str:
    """Send one queued message (raises on failure: the queue retries it with backoff)."""
    from .services import message_send  # the services enqueue this task: imported here to avoid a cycle

    return message_send(message_id)


@task()
def mail_poll_task() -> int:
    """Take the new mail from the mailbox once (``huiyin mail poll`` does the same)."""
    from .intake import poll  # the intake module queues messages through the services: kept lazy like above

    return poll().taken
