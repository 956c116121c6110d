"""A notice's clock in the one deadline sweeper: warns the target department, marks
overdue and escalates to the leader, each step once (time-machine, several passes, a
racing worker)."""

from __future__ import annotations

import io

import pytest

from huiyin.cases.models import Event
from huiyin.core.models import Notification
from huiyin.deadlines.models import Clock, ClockAction, ClockState
from huiyin.deadlines.sweeper import sweep
from huiyin.supervision.models import NoticeState, SupervisionAction
from huiyin.supervision.services import supervision_answer

from .conftest import at

pytestmark = pytest.mark.django_db


def desk(person):
    return list(
        Notification.objects.filter(recipient=person, key__startswith="supervision:")
        .order_by("id")
        .values_list("key", flat=True)
    )


def clock_of(notice):
    return Clock.objects.get(subject_kind="supervision_notice", subject_id=notice.pk)


def actions_of(notice):
    return ClockAction.objects.filter(clock__subject_kind="supervision_notice", clock__subject_id=notice.pk)


def steps(notice):
    return list(actions_of(notice).order_by("id").values_list("action", "level"))


def sweep_events(case):
    return [
        e.data["supervision"]["action"]
        for e in Event.objects.filter(case=case).order_by("id")
        if e.data.get("supervision", {}).get("action") in ("warning", "overdue", "escalated")
    ]


@pytest.fixture
def notice_case(drive, supervisor, departments, head, handler):
    case = drive.dispatched(at(2026, 3, 2, 9), departments["city"], handler=handler)
    notice = drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(2026, 3, 2, 14))
    return notice, case


def test_warns_head_then_overdue_then_leader_each_once(drive, notice_case, supervisor, head, leader):
    notice, case = notice_case
    key = f"supervision:{notice.pk}"
    drive.sweep(at(2026, 3, 2, 12, 59, 59))
    assert steps(notice) == []
    drive.sweep(at(2026, 3, 2, 13, 0, 1))
    assert steps(notice) == [("warn", 0)]
    drive.sweep(at(2026, 3, 2, 13, 30))
    assert steps(notice) == [("warn", 0)]
    assert desk(head) == [f"{key}:issued", f"{key}:warn:0"]
    notice.refresh_from_db()
    assert notice.warned_at == at(2026, 3, 2, 13, 0, 1) and notice.state == NoticeState.OPEN

    drive.sweep(at(2026, 3, 2, 14, 0, 1))
    assert steps(notice) == [("warn", 0), ("overdue", 0), ("escalate", 1)]
    notice.refresh_from_db()
    assert (notice.state, notice.overdue_at, notice.escalation_level) == (
        NoticeState.OVERDUE,
        at(2026, 3, 2, 14, 0, 1),
        1,
    )
    assert clock_of(notice).next_action_at is None
    assert desk(head) == [f"{key}:issued", f"{key}:warn:0", f"{key}:overdue:0"]
    assert desk(supervisor) == [f"{key}:overdue:0"]
    assert desk(leader) == [f"{key}:escalate:1"]

    for when in (at(2026, 3, 2, 14, 0, 2), at(2026, 3, 3), at(2026, 4, 1)):
        drive.sweep(when)
    assert steps(notice) == [("warn", 0), ("overdue", 0), ("escalate", 1)]
    assert sweep_events(case) == ["warning", "overdue", "escalated"]
    # issued (head, handler), warn (head), overdue (head, issuer), escalate (leader)
    assert Notification.objects.filter(key__startswith=f"{key}:").count() == 6
    # The steps are the clock's; the former sweeper's table is no longer written.
    assert not SupervisionAction.objects.exists()


def test_answered_notice_is_left_alone(drive, notice_case, handler, head, leader):
    notice, case = notice_case
    drive.call(
        at(2026, 3, 2, 11),
        supervision_answer,
        actor=handler,
        notice_id=notice.pk,
        answer="已处理完毕。",
    )
    drive.sweep(at(2026, 3, 2, 15))
    assert steps(notice) == [] and desk(leader) == []
    notice.refresh_from_db()
    assert notice.state == NoticeState.ANSWERED
    assert (clock_of(notice).state, clock_of(notice).next_action_at) == (ClockState.STOPPED, None)


def test_late_answer_after_escalation_is_marked_late(drive, notice_case, handler):
    notice, case = notice_case
    drive.sweep(at(2026, 3, 2, 15))
    drive.call(
        at(2026, 3, 2, 16),
        supervision_answer,
        actor=handler,
        notice_id=notice.pk,
        answer="已处理。",
    )
    notice.refresh_from_db()
    assert notice.state == NoticeState.ANSWERED and notice.answered_late


def test_a_late_sweeper_skips_the_warning(drive, notice_case, head, leader):
    notice, case = notice_case
    drive.sweep(at(2026, 3, 2, 18))
    assert steps(notice) == [("overdue", 0), ("escalate", 1)]
    assert f"supervision:{notice.pk}:warn:0" not in desk(head)


def test_a_step_another_worker_took_is_not_repeated(drive, notice_case, head):
    notice, case = notice_case
    drive.sweep(at(2026, 3, 2, 13, 30))
    # A second worker that read the row before the first one committed would try again:
    # put the clock back as it was and sweep.
    clock = clock_of(notice)
    Clock.objects.filter(pk=clock.pk).update(warned_at=None, next_action_at=clock.warn_at)
    with drive.at(at(2026, 3, 2, 13, 31)):
        result = sweep(now=at(2026, 3, 2, 13, 31), worker_id="second")
    assert result.duplicates == 1 and result.actions["warn"] == 0
    assert steps(notice) == [("warn", 0)]
    assert desk(head).count(f"supervision:{notice.pk}:warn:0") == 1
    assert sweep_events(case) == ["warning"]
    notice.refresh_from_db()
    assert notice.warned_at == at(2026, 3, 2, 13, 30)  # the first worker's time
    assert clock_of(notice).warned_at == at(2026, 3, 2, 13, 30)


def test_no_leader_falls_back_to_issuer(drive, supervisor, departments, handler):
    case = drive.dispatched(at(2026, 3, 2, 9), departments["city"], handler=handler)
    notice = drive.issue(at(2026, 3, 2, 10), supervisor, case, departments["city"], at(2026, 3, 2, 14))
    drive.sweep(at(2026, 3, 2, 15))
    escalate = actions_of(notice).get(action="escalate")
    assert escalate.recipients == [supervisor.pk]
    # No head in the department either: the warning does not vanish.
    warn_less = drive.issue(at(2026, 3, 3, 10), supervisor, case, departments["housing"], at(2026, 3, 3, 14))
    drive.sweep(at(2026, 3, 3, 13, 30))
    assert actions_of(warn_less).get(action="warn").recipients == [supervisor.pk]


def test_a_notice_that_fails_is_retried_a_minute_later_and_nothing_half_done(drive, notice_case, head, monkeypatch):
    from datetime import timedelta

    from huiyin.deadlines import sweeper

    notice, case = notice_case
    real = sweeper.perform_step

    def broken(**kwargs):
        real(**kwargs)  # the step's rows are written, then the step fails
        if kwargs["clock"].subject_kind == "supervision_notice":
            raise RuntimeError("mail server on fire")

    monkeypatch.setattr(sweeper, "perform_step", broken)
    now = at(2026, 3, 2, 13, 0, 1)
    with drive.at(now):
        sweep(now=now)
    assert clock_of(notice).next_action_at == now + sweeper.RETRY_AFTER
    notice.refresh_from_db()
    assert notice.warned_at is None and clock_of(notice).warned_at is None
    assert steps(notice) == [] and desk(head) == [f"supervision:{notice.pk}:issued"]  # rolled back
    monkeypatch.setattr(sweeper, "perform_step", real)
    drive.sweep(now + timedelta(seconds=30))
    assert steps(notice) == []  # not before its retry time
    drive.sweep(now + sweeper.RETRY_AFTER)
    assert steps(notice) == [("warn", 0)]


def test_the_one_deadline_sweeper_command_takes_a_notices_steps_once(drive, notice_case, head, leader):
    from django.core.management import call_command

    notice, case = notice_case
    key = f"supervision:{notice.pk}"
    for when in (at(2026, 3, 2, 13, 30), at(2026, 3, 2, 13, 30), at(2026, 3, 2, 15), at(2026, 3, 2, 15)):
        with drive.at(when):
            call_command("huiyin_sweeper", "--once", "--worker-id", "cmd", stdout=io.StringIO())
    assert steps(notice) == [("warn", 0), ("overdue", 0), ("escalate", 1)]
    assert set(actions_of(notice).values_list("worker_id", flat=True)) == {"cmd"}
    assert sweep_events(case) == ["warning", "overdue", "escalated"]
    assert desk(head) == [f"{key}:issued", f"{key}:warn:0", f"{key}:overdue:0"]
    assert desk(leader) == [f"{key}:escalate:1"]
    notice.refresh_from_db()
    assert (notice.state, notice.escalation_level) == (NoticeState.OVERDUE, 1)
    assert not SupervisionAction.objects.exists()
