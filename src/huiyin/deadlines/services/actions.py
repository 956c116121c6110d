"""The deadline steps the sweeper takes (warn, overdue, escalate) and the immediate
escalation of major matters (F13): each one an Event on the case naming its recipients
and desk entries for them (e-mail to them is a subscriber of the event: huiyin.notifications)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from huiyin.cases.models import Case, Event
from huiyin.cases.services import case_record_event
from huiyin.core.notify import desk_notify
from huiyin.deadlines.events import DeadlineEvent, EscalationReason
from huiyin.orgs.roles import Role

from ..models import STAGE_LABELS, Clock, ClockAction, ClockActionKind
from ..notify import Directory, desk_text, resolve
from ..subjects import DueStep, handler_for

if TYPE_CHECKING:
    from huiyin.core.reminders import ReminderText
    from huiyin.orgs.models import Staff

    from .clocks import Step

EVENT_KIND = {
    ClockActionKind.WARN: "deadline_warning",
    ClockActionKind.OVERDUE: "deadline_overdue",
    ClockActionKind.ESCALATE: "escalated",
}


def role_label(role: str) -> str:
    try:
        return str(Role(role).label)
    except ValueError:
        return role


def _mark(clock: Clock, action: str, level: int, at: datetime) -> list[str]:
    """Record on the clock that a step was taken; the fields to save."""
    if action == ClockActionKind.WARN:
        clock.warned_at = at
        return ["warned_at"]
    if action == ClockActionKind.OVERDUE:
        clock.overdue_at = at
        return ["overdue_at"]
    clock.escalation_level = max(clock.escalation_level, level)
    return ["escalation_level"]


class CaseStageSubject:
    """The subject handler of case clocks (and of rectification tasks, which are timed
    and reported like a stage of their case): the preset's roles resolved on the case,
    a ``deadline_warning`` / ``deadline_overdue`` / ``escalated`` event on the case."""

    follows_case = True

    def recipients(self, due: DueStep) -> tuple[list[Staff], bool]:
        assert due.case is not None
        return resolve(due.step.role or Role.HANDLER, due.case, due.clock.stage, due.directory)

    def record(self, due: DueStep, recipients: list[Staff], fell_back: bool) -> Event:
        clock, step = due.clock, due.step
        assert due.case is not None
        data: dict[str, Any] = {
            "clock_id": clock.pk,
            "stage": clock.stage,
            "stage_label": clock.written_label,
            "stage_name": str(STAGE_LABELS.get(clock.stage, clock.stage)),
            "clock_round": clock.round,
            "due_at": timezone.localtime(clock.due_at),
            "scheduled_for": timezone.localtime(step.at),
            "level": step.level,
            "role": step.role,
            "role_label": role_label(step.role),
            "recipients": [r.pk for r in recipients],
        }
        if fell_back:
            data["fallback"] = True
        if step.action == ClockActionKind.ESCALATE:
            data["reason"] = EscalationReason.OVERDUE.value
        return case_record_event(
            due.case, kind=EVENT_KIND[ClockActionKind(step.action)], actor=None, data=data, at=due.stamp
        )

    def desk(self, due: DueStep) -> tuple[str, ReminderText | None]:
        clock, step = due.clock, due.step
        assert due.case is not None
        key = f"clock:{clock.pk}:{step.action}:{step.level}"
        return key, desk_text(step.action, due.case, clock, role=step.role)


def perform_step(
    *,
    clock: Clock,
    case: Case | None,
    step: Step,
    now: datetime,
    worker_id: str,
    directory: Directory,
    stamp: datetime | None = None,
) -> tuple[ClockAction | None, list[str]]:
    """Take one step on a clock whose row (and case row, if it has a case) the caller has
    locked; what the step means for the clock's subject is its handler's (``subjects``).

    Returns the ClockAction (None when it had been taken before: the unique constraint
    said so, and nothing was sent again) and the clock fields changed.
    """
    handler = handler_for(clock.subject_kind)
    due = DueStep(clock=clock, case=case, step=step, now=now, directory=directory, stamp=stamp)
    recipients, fell_back = handler.recipients(due)
    try:
        with transaction.atomic():
            action = ClockAction.objects.create(
                clock=clock,
                action=step.action,
                level=step.level,
                role=step.role,
                scheduled_for=step.at,
                at=now,
                worker_id=worker_id[:120],
                recipients=[r.pk for r in recipients],
            )
    except IntegrityError:
        done = ClockAction.objects.filter(clock=clock, action=step.action, level=step.level).first()
        return None, _mark(clock, step.action, step.level, done.at if done else now)
    event = handler.record(due, recipients, fell_back)
    if event is not None:
        action.event = event
        action.save(update_fields=["event"])
    key, text = handler.desk(due)
    if text is not None:
        desk_notify(recipients=recipients, case=case, key=key, text=text, at=stamp)
    return action, _mark(clock, step.action, step.level, now)


def escalate_major(
    *, case: Case, urgency: str, keyword: str = "", directory: Directory | None = None, at: datetime | None = None
) -> Event | None:
    """Major matters go to the leader at once (F13); once per case. ``at``: the moment of the
    event that made it major (its registration, the edit)."""
    if Event.objects.filter(
        case=case, kind=DeadlineEvent.ESCALATED, data__reason=EscalationReason.MAJOR.value
    ).exists():
        return None
    leaders, fell_back = resolve(Role.LEADER, case, "overall", directory or Directory())
    data: dict[str, Any] = {
        "reason": EscalationReason.MAJOR.value,
        "role": Role.LEADER,
        "role_label": role_label(Role.LEADER),
        "urgency": urgency,
        "keyword": keyword,
        "recipients": [r.pk for r in leaders],
        "at": at or timezone.now(),
    }
    if fell_back:
        data["fallback"] = True
    event = case_record_event(case, kind=DeadlineEvent.ESCALATED, actor=None, data=data, at=at)
    desk_notify(recipients=leaders, case=case, key=f"major:{case.pk}", text=desk_text("major", case, None), at=event.at)
    return event
