"""A task queued for committed work: with the database backend its row is written in the
work's own transaction (and rolled back with it); with any other backend it is enqueued
only at commit."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from huiyin.cases.tasks import dispatch_event_task
from huiyin.core.outbox import enqueue_on_commit

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_with_the_database_backend_the_row_commits_or_rolls_back_with_the_work(settings):
    settings.TASKS = DATABASE
    with transaction.atomic():
        enqueue_on_commit(dispatch_event_task, event_id=1)
        assert DBTaskResult.objects.count() == 1  # written now, inside the transaction: no commit of its own
    assert DBTaskResult.objects.get().args_kwargs == {"args": [], "kwargs": {"event_id": 1}}

    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(dispatch_event_task, event_id=2)
        raise RuntimeError("the work fails")
    assert list(DBTaskResult.objects.values_list("args_kwargs__kwargs__event_id", flat=True)) == [1]


def test_with_another_backend_the_task_is_enqueued_only_at_commit(settings, monkeypatch):
    settings.TASKS = IMMEDIATE
    ran: list[int] = []
    monkeypatch.setattr("huiyin.cases.bus.dispatch_after_commit", ran.append)
    with transaction.atomic():
        enqueue_on_commit(dispatch_event_task, event_id=3)
        assert ran == []  # the immediate backend would run it now, before the work is committed
    assert ran == [3]
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(dispatch_event_task, event_id=4)
        raise RuntimeError("the work fails")
    assert ran == [3]
