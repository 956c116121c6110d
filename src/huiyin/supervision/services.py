"""Writes of supervision (督办, F33) and the daily review (F34).

Each service runs in one transaction and locks the case row before the notice row (the
order every case write uses), writes its Event on the case in the same transaction
through ``cases.services.case_record_event``, and leaves desk entries for the people
who must act. A notice's due time is a clock of the deadline engine, started on issue and
stopped on answer or close; the one deadline sweeper takes its steps, which
``supervision.subject`` defines.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.models import Case, Event
from huiyin.cases.selectors import case_locked
from huiyin.cases.services import case_record_event
from huiyin.core import reminders
from huiyin.core.errors import NotFound, PermissionDeniedError, ValidationFailed
from huiyin.core.notify import desk_notify
from huiyin.core.validators import (
    ANSWER_MAX,
    NOTE_MAX,
    When,
    check_moment,
    checked_text,
    happened_at,
    moment_error,
)
from huiyin.deadlines.models import StopReason
from huiyin.deadlines.services.clocks import subject_clock_start, subject_clocks_stop
from huiyin.deadlines.subjects import SUPERVISION_NOTICE
from huiyin.orgs.models import Department, Staff
from huiyin.orgs.roles import Role

from .events import SupervisionEvent
from .models import NOTICE_STATES, DailyReview, NoticeKind, NoticeState, SupervisionNotice, SupervisionSequence
from .permissions import may_answer_for, may_daily_review, may_supervise
from .selectors import SUPERVISABLE_STATES, daily_review_queue

# The warning comes at this share of the time allowed (the presets' default warn_at).
WARN_FRACTION = 0.75
# Overdue notices go to the leader this long after the due time (0: at once).
ESCALATE_AFTER = timedelta(0)
# The stage of a notice's clock.
NOTICE_STAGE = "supervision"


# --- numbering -------------------------------------------------------------------------


def next_notice_number(*, organization_id: int, year: int) -> tuple[int, str]:
    """Gapless per organisation and year, like ``cases.services.next_case_number``: one
    upsert whose row lock (PostgreSQL) or write lock (SQLite, IMMEDIATE transactions) is
    held until commit, so a rolled-back notice also rolls back its number."""
    table = connection.ops.quote_name(SupervisionSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (organization_id, year, last) VALUES (%s, %s, 1) "
            f"ON CONFLICT (organization_id, year) DO UPDATE SET last = {table}.last + 1 "
            "RETURNING last",
            [organization_id, year],
        )
        (last,) = cursor.fetchone()
    return last, f"督〔{year}〕{last}号"


# --- the notice's clock (deadlines engine; the steps are ``supervision.subject``'s) ---------


def _escalation() -> list[dict[str, Any]]:
    minutes = int(ESCALATE_AFTER.total_seconds() // 60)
    return [{"role": Role.LEADER.value, "amount": minutes, "unit": "minutes", "label": ""}]


def _clock_start(notice: SupervisionNotice, case: Case) -> None:
    subject_clock_start(
        organization_id=notice.organization_id,
        subject_kind=SUPERVISION_NOTICE,
        subject_id=notice.pk,
        stage=NOTICE_STAGE,
        started_at=notice.created_at,
        due_at=notice.due_at,
        warn_at=notice.warn_at,
        escalation=_escalation(),
        case=case,
        label=notice.number,
    )


def _clock_stop(notice: SupervisionNotice, at: datetime, reason: str) -> None:
    subject_clocks_stop(subject_kind=SUPERVISION_NOTICE, subject_id=notice.pk, at=at, reason=reason)


# --- events and desks ----------------------------------------------------------------------


def _when(dt: datetime) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M")


def record_event(
    case: Case,
    *,
    step: str,
    actor: Staff | None,
    notice: SupervisionNotice,
    note: str,
    at: datetime | None = None,
    **extra: Any,
) -> Event:
    """An Event on the case for a supervision step (kind ``supervision_<step>``, one of
    ``SupervisionEvent``). The caller holds the case row lock."""
    kind = SupervisionEvent(f"supervision_{step}")
    data = {
        "supervision": {
            "action": step,
            "notice_id": notice.pk,
            "number": notice.number,
            "kind": notice.kind,
            "department_id": notice.department_id,
            "department_name": notice.department.name,
            "due_at": timezone.localtime(notice.due_at),
            **extra,
        },
        "note": note,
    }
    return case_record_event(case, kind=kind, actor=actor, data=data, at=at)


def department_heads(department_id: int) -> list[Staff]:
    return [
        s
        for s in Staff.objects.filter(department_id=department_id, is_active=True).order_by("pk")
        if Role.DEPT_HEAD in (s.roles or [])
    ]


def notice_title_values(notice: SupervisionNotice, case: Case) -> dict[str, object]:
    """A notice's title in a reminder: its number, kind (translated when shown), the case's
    number and title."""
    return {"notice": notice.number, "kind": NoticeKind(notice.kind).label, "number": case.number, "title": case.title}


# --- services ------------------------------------------------------------------------------


def supervision_issue(
    *,
    actor: Staff,
    case_id: int,
    kind: str,
    department_id: int | None,
    requirement: str,
    due_at: datetime | None,
    at: datetime | None = None,
) -> SupervisionNotice:
    """Issue a numbered supervision notice (督办单) about a case to a department. ``at``: when
    it was issued, where history is recreated (``validators.happened_at``); the due time is
    then checked against that moment, and the notice numbered in that moment's year."""
    if not may_supervise(actor):
        raise PermissionDeniedError()
    now = happened_at(at)
    errors: dict[str, list[str]] = {}
    if kind not in NoticeKind.values:
        errors["kind"] = [_("请选择督办类型。")]
    department = (
        Department.objects.filter(pk=department_id, organization_id=actor.org_id).first() if department_id else None
    )
    if department is None:
        errors["department"] = [_("请选择督办部门。")]
    if due_at is None:
        errors["due_at"] = [_("反馈期限必须晚于当前时间。")]
    elif message := moment_error(due_at, When.DUE, _("反馈期限"), now=now):
        errors["due_at"] = [message]
    if errors:
        raise ValidationFailed(errors)
    assert department is not None and due_at is not None  # each missing one is an error
    requirement = checked_text(
        requirement, "requirement", missing=_("请填写督办要求。"), limit=NOTE_MAX, label=_("督办要求")
    )
    with transaction.atomic():
        case = case_locked(actor=actor, case_id=case_id)
        if case is None:
            raise ValidationFailed({"case_number": [_("找不到该案件。")]})
        if case.state not in SUPERVISABLE_STATES:
            raise ValidationFailed({"case_number": [_("该案件已办结或未受理，不能督办。")]})
        year = timezone.localdate(now).year
        serial, number = next_notice_number(organization_id=actor.org_id, year=year)
        notice = SupervisionNotice(
            organization_id=actor.org_id,
            year=year,
            serial=serial,
            number=number,
            kind=kind,
            case=case,
            department=department,
            issued_by=actor,
            requirement=requirement,
            due_at=due_at,
            warn_at=now + (due_at - now) * WARN_FRACTION,
            created_at=now,
        )
        notice.save()
        _clock_start(notice, case)
        record_event(
            case,
            step="issued",
            actor=actor,
            notice=notice,
            note=f"{notice.number} {notice.get_kind_display()}：{requirement[:200]}",
            at=at,
            requirement=requirement[:500],
        )
        recipients = department_heads(department.pk)
        if case.handler is not None and case.handler.department_id == department.pk and case.handler not in recipients:
            recipients.append(case.handler)
        desk_notify(
            recipients=recipients,
            case=case,
            key=f"supervision:{notice.pk}:issued",
            text=reminders.SUPERVISION_ISSUED(**notice_title_values(notice, case), due=_when(due_at)),
            at=at,
        )
    return notice


def _locked(actor: Staff, notice_id: int) -> tuple[Case, SupervisionNotice]:
    """Lock the case, then the notice (the order every case write takes)."""
    case_id = (
        SupervisionNotice.objects.filter(pk=notice_id, organization_id=actor.org_id)
        .values_list("case_id", flat=True)
        .first()
    )
    if case_id is None:
        raise NotFound(_("找不到该督办单。"))
    case = Case.objects.select_for_update().get(pk=case_id)
    notice = SupervisionNotice.objects.select_for_update().select_related("department").get(pk=notice_id)
    return case, notice


def supervision_answer(*, actor: Staff, notice_id: int, answer: str) -> SupervisionNotice:
    """The target department reports back (反馈) on a notice."""
    answer = checked_text(answer, "answer", missing=_("请填写反馈内容。"), limit=ANSWER_MAX, label=_("反馈内容"))
    with transaction.atomic():
        case, notice = _locked(actor, notice_id)
        if not may_answer_for(actor, notice.department_id):
            raise PermissionDeniedError(_("只有被督办部门的负责人或承办人可以反馈。"))
        NOTICE_STATES.move(notice, NoticeState.ANSWERED, message=_("该督办单已反馈或已销号。"))
        now = timezone.now()
        notice.answer, notice.answered_at, notice.answered_by = answer, now, actor
        notice.save(update_fields=["state", "answer", "answered_at", "answered_by"])
        _clock_stop(notice, now, StopReason.DONE)
        record_event(
            case,
            step="answered",
            actor=actor,
            notice=notice,
            note=f"{notice.number} {_('督办反馈')}：{answer[:200]}",
            answer=answer[:500],
            late=notice.answered_late,
        )
        desk_notify(
            recipients=[notice.issued_by],
            case=case,
            key=f"supervision:{notice.pk}:answered",
            text=reminders.SUPERVISION_ANSWERED(**notice_title_values(notice, case)),
        )
    return notice


def supervision_close(*, actor: Staff, notice_id: int, note: str = "") -> SupervisionNotice:
    """销号: the supervisor closes the notice (usually after the department's answer)."""
    if not may_supervise(actor):
        raise PermissionDeniedError()
    note = checked_text(note, "note", limit=500, label=_("销号说明"))
    with transaction.atomic():
        case, notice = _locked(actor, notice_id)
        answered = notice.state == NoticeState.ANSWERED
        NOTICE_STATES.move(notice, NoticeState.CLOSED, message=_("该督办单已销号。"))
        now = timezone.now()
        notice.closed_at, notice.closed_by, notice.close_note = now, actor, note
        notice.save(update_fields=["state", "closed_at", "closed_by", "close_note"])
        _clock_stop(notice, now, StopReason.DONE if answered else StopReason.CANCELLED)
        record_event(
            case,
            step="closed",
            actor=actor,
            notice=notice,
            note=f"{notice.number} {_('督办销号')}" + (f"：{note[:200]}" if note else ""),
            answered=answered,
            close_note=note[:500],
        )
    return notice


def daily_review_complete(*, actor: Staff, note: str = "", covered_until: datetime | None = None) -> DailyReview:
    """复查完成: record that the clerk reviewed the queue as it was at ``covered_until``
    (when the page was shown; now if not given). The next queue marks what changed after."""
    if not may_daily_review(actor):
        raise PermissionDeniedError()
    note = checked_text(note, "note", limit=NOTE_MAX, label=_("复查说明"))
    check_moment(covered_until, "as_of", _("复查截至时间"), When.CALENDAR)  # a later one is taken as now
    now = timezone.now()
    covered = min(covered_until, now) if covered_until else now
    queue = daily_review_queue(actor=actor, now=now)
    return DailyReview.objects.create(
        organization_id=actor.org_id,
        reviewer=actor,
        reviewed_at=now,
        covered_until=covered,
        lookback_days=queue.lookback_days,
        counts=queue.counts,
        note=note,
    )
