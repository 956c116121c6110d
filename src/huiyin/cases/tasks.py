"""Deferred side effects of case events; thin, idempotent, ids in, service inside."""

from __future__ import annotations

from django_tasks import task


@task()
def dispatch_event_task(event_id: int) -> None:
    """One task per committed event: its after-commit subscribers (huiyin/subscribers.py)."""
    from .bus import dispatch_after_commit  # the task module is imported by the bus: kept lazy to avoid a cycle

    dispatch_after_commit(event_id)
