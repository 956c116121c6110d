"""Clocks for any subject: one sweeper, one exactly-once mechanism (ClockAction unique
per clock and step), whatever the subject."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from huiyin.deadlines import subjects
from huiyin.deadlines.models import Clock, ClockAction
from huiyin.deadlines.sweeper import sweep, sweep_until_idle

pytestmark = pytest.mark.django_db

KIND = "report_due"
DUE = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class ReportDue:
    """A subject without a case: records what it was asked to do."""

    follows_case = False

    def __init__(self, people):
        self.people = people
        self.recorded: list[tuple[int, str, int, bool]] = []

    def recipients(self, due):
        return list(self.people), False

    def record(self, due, recipients, fell_back):
        assert due.case is None
        self.recorded.append((due.clock.subject_id, due.step.action, due.step.level, fell_back))
        return None

    def desk(self, due):
        return f"report:{due.clock.subject_id}:{due.step.action}:{due.step.level}", "报告即将到期"


@pytest.fixture
def handler(leader):
    h = ReportDue([leader])
    subjects.register(KIND, h)
    yield h
    subjects.unregister(KIND)


def report_clock(org, subject_id: int = 7) -> Clock:
    started = DUE - timedelta(hours=4)
    return Clock.objects.create(
        organization=org,
        subject_kind=KIND,
        subject_id=subject_id,
        case=None,
        stage="report",
        rule={
            "stage": "report",
            "amount": 240,
            "unit": "minutes",
            "source": "manual",
            "escalation": [
                {"role": "handler", "amount": 0, "unit": "hours", "label": ""},
                {"role": "leader", "amount": 1, "unit": "hours", "label": ""},
                {"role": "admin", "amount": 2, "unit": "hours", "label": ""},
            ],
        },
        unit="minutes",
        started_at=started,
        due_at=DUE,
        warn_at=DUE - timedelta(hours=1),
        next_action_at=DUE - timedelta(hours=1),
    )


def steps(clock: Clock) -> list[tuple[str, int]]:
    return list(ClockAction.objects.filter(clock=clock).order_by("pk").values_list("action", "level"))


def test_a_non_case_clock_is_warned_overdue_and_escalated_once_by_the_one_sweeper(org, handler):
    clock = report_clock(org)
    assert not subjects.handler_for(KIND).follows_case and KIND not in subjects.case_kinds()

    sweep(now=DUE - timedelta(minutes=30), worker_id="a")
    sweep(now=DUE - timedelta(minutes=30), worker_id="b")  # the same moment again: nothing new
    assert steps(clock) == [("warn", 0)]

    total = sweep_until_idle(now=DUE + timedelta(hours=3), worker_id="a")
    again = sweep_until_idle(now=DUE + timedelta(hours=3), worker_id="b")
    assert dict(total.actions) == {"overdue": 1, "escalate": 2}
    assert again.total_actions == 0 and again.picked == 0
    assert steps(clock) == [("warn", 0), ("overdue", 0), ("escalate", 2), ("escalate", 3)]
    assert handler.recorded == [
        (7, "warn", 0, False),
        (7, "overdue", 0, False),
        (7, "escalate", 2, False),
        (7, "escalate", 3, False),
    ]
    clock.refresh_from_db()
    assert clock.warned_at and clock.overdue_at and clock.escalation_level == 3 and clock.next_action_at is None


def test_a_step_already_taken_is_not_taken_again(org, handler):
    clock = report_clock(org)
    sweep(now=DUE - timedelta(minutes=30), worker_id="a")
    # Another worker's view of the clock, from before the warning: it tries the same step.
    Clock.objects.filter(pk=clock.pk).update(warned_at=None, next_action_at=clock.warn_at)
    result = sweep(now=DUE - timedelta(minutes=20), worker_id="b")
    assert result.duplicates == 1 and result.total_actions == 0
    assert handler.recorded == [(7, "warn", 0, False)]
    assert steps(clock) == [("warn", 0)]


def test_an_unregistered_subject_is_retried_not_lost(org):
    clock = report_clock(org, subject_id=8)
    result = sweep(now=DUE - timedelta(minutes=30), worker_id="a")
    assert result.failed == 1 and steps(clock) == []
    clock.refresh_from_db()
    assert clock.next_action_at is not None and clock.warned_at is None


def test_subject_clock_start_and_stop(org, handler):
    from huiyin.deadlines.models import ClockState
    from huiyin.deadlines.services.clocks import subject_clock_start, subject_clocks_stop

    clock = subject_clock_start(
        organization_id=org.pk,
        subject_kind=KIND,
        subject_id=9,
        stage="report",
        started_at=DUE - timedelta(hours=4),
        due_at=DUE,
        warn_at=DUE - timedelta(hours=1),
        escalation=[{"role": "leader", "amount": 0, "unit": "minutes", "label": ""}],
    )
    assert clock.next_action_at == DUE - timedelta(hours=1) and clock.case is None
    sweep_until_idle(now=DUE + timedelta(minutes=1), worker_id="a")
    assert steps(clock) == [("overdue", 0), ("escalate", 1)]  # a late sweeper skips the warning
    [stopped] = subject_clocks_stop(subject_kind=KIND, subject_id=9, at=DUE + timedelta(hours=1), reason="done")
    assert stopped.state == ClockState.STOPPED and stopped.next_action_at is None
