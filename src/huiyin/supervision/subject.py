"""A supervision notice as a subject of the deadline engine (``deadlines.subjects``).

``supervision_issue`` starts one clock per notice (kind ``supervision_notice``, stage
``supervision``, the notice's due and warning times, an escalation chain of one step
to the leader); answering or closing the notice stops it. The one deadline sweeper
takes the steps, exactly once (``ClockAction``); this handler says what they mean:

* warn (at ``warn_at``, 75 % of the allowance): the target department's heads;
* overdue (at ``due_at``): the notice becomes overdue; the department's heads and the
  issuer hear of it;
* escalate (level 1, ``ESCALATE_AFTER`` later): the organisation's leaders.

Every step is a ``supervision_<step>`` Event on the case and a desk entry for each
recipient; e-mail goes through the deadline engine's notice task on commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from huiyin.core import reminders
from huiyin.core.reminders import ReminderText
from huiyin.deadlines.subjects import SUPERVISION_NOTICE, DueStep
from huiyin.orgs.roles import Role

from .models import NOTICE_STATES, NoticeState, SupervisionNotice
from .services import notice_title_values, record_event

if TYPE_CHECKING:
    from huiyin.cases.models import Case, Event
    from huiyin.deadlines.notify import Directory
    from huiyin.deadlines.services.clocks import Step
    from huiyin.orgs.models import Staff

KIND = SUPERVISION_NOTICE
_EVENT_STEP = {"warn": "warning", "overdue": "overdue", "escalate": "escalated"}


def _recipients(step: Step, notice: SupervisionNotice, directory: Directory) -> tuple[list[Staff], bool]:
    org = notice.organization_id
    heads = directory.dept_heads(org, notice.department_id)
    issuer = directory.get(org, notice.issued_by_id)
    if step.action == "warn":
        people = heads
    elif step.action == "overdue":
        people = [*heads, *([issuer] if issuer else [])]
    else:
        people = directory.with_role(org, Role.LEADER)
    fell_back = not people
    if fell_back:  # nobody left unaware: the leaders, the administrators, the issuer
        people = directory.with_role(org, Role.LEADER) or directory.with_role(org, Role.ADMIN)
        people = people or ([issuer] if issuer else [])
    return list({p.pk: p for p in people}.values()), fell_back


def _desk_text(step: Step, notice: SupervisionNotice, case: Case) -> ReminderText:
    due = timezone.localtime(notice.due_at).strftime("%Y-%m-%d %H:%M")
    if step.action == "warn":
        wording = reminders.SUPERVISION_WARN
    elif step.action == "overdue":
        wording = reminders.SUPERVISION_OVERDUE
    else:
        wording = reminders.SUPERVISION_ESCALATE
    return wording(**notice_title_values(notice, case), due=due)


def _mark(notice: SupervisionNotice, step: Step, at: datetime) -> list[str]:
    if step.action == "warn":
        notice.warned_at = at
        return ["warned_at"]
    if step.action == "overdue":
        notice.overdue_at = at
        if NOTICE_STATES.allows(notice.state, NoticeState.OVERDUE):
            NOTICE_STATES.move(notice, NoticeState.OVERDUE)
        return ["overdue_at", "state"]
    notice.escalation_level = max(notice.escalation_level, step.level)
    return ["escalation_level"]


def _notice(due: DueStep) -> SupervisionNotice:
    # The sweeper holds the case row; services lock the case before the notice too.
    assert due.clock.subject_id is not None  # a notice's clock names its notice
    return SupervisionNotice.objects.select_related("department").get(pk=due.clock.subject_id)


class SupervisionNoticeSubject:
    """The steps of a notice's clock: whom they reach, the supervision events on the
    notice's case, the notice's own warned / overdue / escalation marks."""

    follows_case = False  # the notice lives by its own services, not by the case lifecycle

    def recipients(self, due: DueStep) -> tuple[list[Staff], bool]:
        return _recipients(due.step, _notice(due), due.directory)

    def record(self, due: DueStep, recipients: list[Staff], fell_back: bool) -> Event:
        notice, case = _notice(due), due.case
        assert case is not None  # a notice's clock always has the notice's case
        notice.save(update_fields=_mark(notice, due.step, due.now))
        return record_event(
            case,
            step=_EVENT_STEP[due.step.action],
            actor=None,
            notice=notice,
            note=_desk_text(due.step, notice, case).source(),
            level=due.step.level,
            scheduled_for=timezone.localtime(due.step.at),
            recipients=[r.pk for r in recipients],
        )

    def desk(self, due: DueStep) -> tuple[str, ReminderText | None]:
        notice, case = _notice(due), due.case
        assert case is not None
        step = due.step
        return f"supervision:{notice.pk}:{step.action}:{step.level}", _desk_text(step, notice, case)
