"""supervision 0002: notices open before the deadline engine timed them get a clock
carrying their progress, and the steps already taken are not taken again."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from huiyin.cases.models import Event
from huiyin.deadlines.models import Clock, ClockAction, ClockState
from huiyin.supervision.models import NoticeState, SupervisionAction, SupervisionNotice

from .conftest import at

pytestmark = pytest.mark.django_db
migration = importlib.import_module("huiyin.supervision.migrations.0002_notice_clocks")


def as_before_the_engine(notice, *, taken, next_action_at):
    """The notice as the former supervision sweeper left it: no clock, its own schedule
    column, a SupervisionAction per step taken."""
    done = list(ClockAction.objects.filter(clock__subject_kind="supervision_notice", clock__subject_id=notice.pk))
    assert [(a.action, a.level) for a in done] == taken
    for a in done:
        SupervisionAction.objects.create(
            notice=notice,
            action=a.action,
            level=a.level,
            scheduled_for=a.scheduled_for,
            at=a.at,
            worker_id="old",
            recipients=a.recipients,
            event=a.event,
        )
    Clock.objects.filter(subject_kind="supervision_notice", subject_id=notice.pk).delete()
    SupervisionNotice.objects.filter(pk=notice.pk).update(next_action_at=next_action_at)


def test_open_notices_get_clocks_that_keep_their_progress(drive, supervisor, departments, handler, head, leader):
    case = drive.dispatched(at(2026, 3, 2, 9), departments["city"], handler=handler)
    warned = drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(2026, 3, 2, 14))
    drive.sweep(at(2026, 3, 2, 13, 30))
    as_before_the_engine(warned, taken=[("warn", 0)], next_action_at=warned.due_at)

    migration.notice_clocks(apps, None)
    migration.notice_clocks(apps, None)  # again: nothing doubled

    clock = Clock.objects.get(subject_kind="supervision_notice", subject_id=warned.pk)
    assert (clock.state, clock.case, clock.stage) == (ClockState.RUNNING, case, "supervision")
    assert (clock.due_at, clock.warn_at, clock.next_action_at) == (warned.due_at, warned.warn_at, warned.due_at)
    assert clock.warned_at == at(2026, 3, 2, 13, 30) and clock.overdue_at is None
    assert list(clock.actions.values_list("action", "level", "worker_id")) == [("warn", 0, "old")]
    warned.refresh_from_db()
    assert warned.next_action_at is None

    drive.sweep(at(2026, 3, 2, 15))
    assert list(clock.actions.order_by("id").values_list("action", "level")) == [
        ("warn", 0),
        ("overdue", 0),
        ("escalate", 1),
    ]
    kinds = list(Event.objects.filter(case=case, kind__startswith="supervision_").values_list("kind", flat=True))
    assert kinds.count("supervision_warning") == 1 and kinds.count("supervision_escalated") == 1
    warned.refresh_from_db()
    assert (warned.state, warned.escalation_level) == (NoticeState.OVERDUE, 1)


def test_answered_notices_get_no_clock(drive, supervisor, departments, handler):
    from huiyin.supervision.services import supervision_answer

    case = drive.dispatched(at(2026, 3, 2, 9), departments["city"], handler=handler)
    notice = drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(2026, 3, 2, 14))
    drive.call(at(2026, 3, 2, 11), supervision_answer, actor=handler, notice_id=notice.pk, answer="已处理。")
    as_before_the_engine(notice, taken=[], next_action_at=None)
    migration.notice_clocks(apps, None)
    assert not Clock.objects.filter(subject_kind="supervision_notice", subject_id=notice.pk).exists()
