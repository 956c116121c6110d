"""Deferred side effects of case events; thin, idempotent, ids in, service inside."""

from __future__ import annotations

from django_tasks import task


@task()
def notify_case_event_task(event_id: int) -> None:
    from huiyin.core.notify import notify_for_event

    notify_for_event(event_id)
