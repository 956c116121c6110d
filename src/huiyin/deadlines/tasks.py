"""Deferred side effects of the deadline engine; thin, idempotent, ids in, work inside."""

from __future__ import annotations

from datetime import date

from django_tasks import task

from huiyin.deadlines.services.recompute import clocks_recompute


@task()
def deadline_notice_task(event_id: int) -> int:
    """Superseded: e-mail about a deadline step is the notifications app's subscriber of the
    step's event. Kept so a task queued by an earlier version finishes instead of failing."""
    return 0


@task()
def extension_notice_task(extension_id: int) -> bool:
    """Superseded: the complainant hears of an approved extension from the notifications app's
    subscriber of the ``extension_decided`` event. Kept so a task queued by an earlier version
    finishes instead of failing."""
    return False


@task()
def clocks_recompute_task(organization_id: int | None, since: str) -> int:
    """Recompute running clocks after a calendar override changed (ISO date ``since``)."""
    return clocks_recompute(organization_id=organization_id, since=date.fromisoformat(since))


def enqueue_clocks_recompute(organization_id: int | None, day: date) -> None:
    """The calendar listener (registered in DeadlinesConfig.ready): a calendar override
    changed after commit, so recompute the running clocks it may move."""
    clocks_recompute_task.enqueue(organization_id=organization_id, since=day.isoformat())
