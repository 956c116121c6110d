"""Services that change a case's clocks directly: suspension (挂起) and resumption,
extensions (延期) with approval (the rectification milestones are in
``huiyin.handling.services``). Each locks the case row, checks permission, writes its Event in the
same transaction and defers side effects to commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.models import Case
from huiyin.cases.selectors import case_locked
from huiyin.cases.services import case_record_event
from huiyin.cases.workflow import OPEN_STATES
from huiyin.core import reminders
from huiyin.core.errors import ApplicationError, PermissionDeniedError, ValidationFailed
from huiyin.core.notify import desk_notify
from huiyin.core.validators import NOTE_MAX, checked_text
from huiyin.deadlines.errors import DeadlineError
from huiyin.deadlines.events import DeadlineEvent
from huiyin.policy.calendar import BusinessCalendar, Unit
from huiyin.policy.deadlines import Grant, schedule
from huiyin.policy.labels import STAGE_LABELS
from huiyin.policy.services.calendars import calendar_for

from ..models import EXTENSION_STATUSES, Clock, ClockState, Extension, ExtensionStatus, Suspension
from ..notify import Directory, stage_label, unit_label
from ..permissions import may_decide_extension, may_manage_deadlines
from .clocks import (
    ACTIVE,
    active_clocks,
    clock_pause,
    clock_resume,
    clock_rule,
    grants_of,
    reschedule,
    sync_promised_due,
)

if TYPE_CHECKING:
    from huiyin.orgs.models import Staff
    from huiyin.policy.presets import Extension as ExtensionRule


def _lock_case(actor: Staff, case_id: int) -> Case:
    case = case_locked(actor=actor, case_id=case_id)
    if case is None:
        raise PermissionDeniedError()
    return case


def _may_work_on(actor: Staff, case: Case) -> bool:
    return may_manage_deadlines(actor, case)


def _require_open(case: Case) -> None:
    if case.state not in OPEN_STATES:
        raise ApplicationError(_("案件当前状态不在办理中，不能进行此操作。"), code=DeadlineError.CASE_NOT_OPEN)


def _record(case: Case, kind: str, actor: Staff | None, data: dict) -> None:
    case_record_event(case, kind=kind, actor=actor, data=data)


def calendar_of(clock: Clock) -> BusinessCalendar:
    return calendar_for(organization_id=clock.organization_id, policy_version=clock.policy_version)


# --- suspension ---------------------------------------------------------------------------


def case_suspend(*, actor: Staff, case_id: int, reason: str) -> Suspension:
    """挂起: the case waits on the complainant (e.g. for materials); its clocks pause."""
    reason = checked_text(
        reason, "reason", missing=_("请填写挂起原因（如：等待反映人补充材料）。"), limit=NOTE_MAX, label=_("挂起原因")
    )
    with transaction.atomic():
        case = _lock_case(actor, case_id)
        if not _may_work_on(actor, case):
            raise PermissionDeniedError()
        _require_open(case)
        if Suspension.objects.filter(case=case, ended_at__isnull=True).exists():
            raise ApplicationError(_("该案件已挂起。"), code=DeadlineError.ALREADY_SUSPENDED)
        now = timezone.now()
        suspension = Suspension.objects.create(
            case=case, round=case.round, reason=reason, started_at=now, started_by=actor
        )
        paused = []
        for clock in active_clocks(case).filter(state=ClockState.RUNNING):
            clock_pause(clock, now)
            paused.append(clock.pk)
        _record(
            case,
            DeadlineEvent.SUSPENDED,
            actor,
            {"suspension_id": suspension.pk, "reason": reason, "clocks": paused},
        )
    return suspension


def _resume_all(case: Case, at: datetime) -> list[Clock]:
    resumed = []
    for clock in active_clocks(case).filter(state=ClockState.PAUSED).select_related("policy_version"):
        clock_resume(clock, at, calendar_of(clock))
        resumed.append(clock)
    return resumed


def case_resume(*, actor: Staff, case_id: int, note: str = "") -> Suspension:
    """End the suspension: every paused clock runs again, its due time moved by the paused
    time (in the rule's unit semantics, see policy.deadlines)."""
    note = checked_text(note, "note", limit=NOTE_MAX, label=_("恢复说明"))
    with transaction.atomic():
        case = _lock_case(actor, case_id)
        if not _may_work_on(actor, case):
            raise PermissionDeniedError()
        suspension = Suspension.objects.select_for_update().filter(case=case, ended_at__isnull=True).first()
        if suspension is None:
            raise ApplicationError(_("该案件未挂起。"), code=DeadlineError.NOT_SUSPENDED)
        now = timezone.now()
        resumed = _resume_all(case, now)
        suspension.ended_at, suspension.ended_by, suspension.end_note = now, actor, note
        suspension.save(update_fields=["ended_at", "ended_by", "end_note"])
        _record(
            case,
            DeadlineEvent.RESUMED,
            actor,
            {
                "suspension_id": suspension.pk,
                "note": suspension.end_note,
                "paused_seconds": int((now - suspension.started_at).total_seconds()),
                "clocks": [{"id": c.pk, "stage": c.stage, "due_at": c.due_at} for c in resumed],
            },
        )
        sync_promised_due(case)
    return suspension


def end_suspension(case: Case, at: datetime, *, because: str) -> Suspension | None:
    """The case left the open states while suspended (answered, closed, not accepted...):
    account the paused time and end the suspension. Called by the lifecycle hook."""
    suspension = Suspension.objects.filter(case=case, ended_at__isnull=True).first()
    if suspension is None:
        return None
    resumed = _resume_all(case, at)
    suspension.ended_at, suspension.end_note = at, because
    suspension.save(update_fields=["ended_at", "end_note"])
    _record(
        case,
        DeadlineEvent.RESUMED,
        None,
        {
            "suspension_id": suspension.pk,
            "note": because,
            "automatic": True,
            "paused_seconds": int((at - suspension.started_at).total_seconds()),
            "clocks": [{"id": c.pk, "stage": c.stage, "due_at": c.due_at} for c in resumed],
        },
    )
    return suspension


# --- extensions ---------------------------------------------------------------------------


def _extension_rule(clock: Clock) -> ExtensionRule:
    rule = clock.policy_version.preset().extension if clock.policy_version is not None else None
    if rule is None:
        raise ApplicationError(_("本单位的政策未规定延期办理。"), code=DeadlineError.EXTENSION_NOT_ALLOWED)
    return rule


def _refused(field: str, message: str, code: DeadlineError) -> ApplicationError:
    """A postponement the preset does not allow, naming the form field at fault (the
    deadline chosen, or the amount), with the engine's error code."""
    return ApplicationError(message, field=field, code=code)


def _stage_name(stage: str) -> str:
    return str(STAGE_LABELS.get(stage, stage))


def extension_blocker(rule: ExtensionRule, clock: Clock, case_extensions: Iterable[Extension]) -> str | None:
    """Why ``clock`` may not be postponed under ``rule`` (None: it may), given every
    extension of its case (any clock, any round): only the deadlines the rule lists, never
    its last-word deadline, and one postponement per case where the preset forbids a
    second ("不得出现同一件事情有两次推迟处理的情况")."""
    label = clock.label or _stage_name(clock.stage)
    if rule.latest and clock.stage == rule.latest:
        return _("延期的时限：“%(label)s”是本单位政策规定的最迟期限，不得延期。") % {"label": label}
    if rule.stages and clock.stage not in rule.stages:
        return _("延期的时限：本单位政策只允许延期“%(allowed)s”，“%(label)s”不得延期。") % {
            "allowed": "、".join(_stage_name(s) for s in rule.stages),
            "label": label,
        }
    if rule.second_extension_forbidden:
        for other in case_extensions:
            if other.status == ExtensionStatus.APPROVED:
                return _("延期的时限：同一事项已延期一次，不得再次延期（本件已于 %(day)s 延期“%(stage)s”）。") % {
                    "day": f"{timezone.localtime(other.decided_at or other.requested_at):%Y-%m-%d}",
                    "stage": other.clock.label or _stage_name(other.clock.stage),
                }
            if other.status == ExtensionStatus.PENDING and other.clock_id != clock.pk:
                return _("延期的时限：本件已有一项待审批的延期申请（“%(stage)s”），同一事项只能延期一次。") % {
                    "stage": other.clock.label or _stage_name(other.clock.stage)
                }
    return None


def _latest_clock(rule: ExtensionRule, clock: Clock) -> Clock | None:
    """The running last-word clock of the same case and round, when the rule names one."""
    if not rule.latest or clock.stage == rule.latest or clock.case is None:
        return None
    return active_clocks(clock.case, stages=[rule.latest]).filter(round=clock.round).exclude(pk=clock.pk).first()


def _due_after(clock: Clock, calendar: BusinessCalendar, amount: int, unit: str) -> datetime:
    """The due time ``clock`` would have with ``amount`` ``unit`` more."""
    extra = Grant(amount=amount, unit=cast(Unit, unit))  # a rule's unit, checked by the preset loader
    return schedule(
        clock_rule(clock),
        calendar,
        timezone.localtime(clock.started_at),
        paused_units=clock.paused_units,
        grants=[*grants_of(clock), extra],
    ).due_at


def _check_within_latest(rule: ExtensionRule, clock: Clock, amount: int, unit: str) -> None:
    """No postponement takes a deadline past the last-word one (the hospital's "最迟在两周内")."""
    latest = _latest_clock(rule, clock)
    if latest is None:
        return
    new_due = _due_after(clock, calendar_of(clock), amount, unit)
    if new_due > latest.due_at:
        raise _refused(
            "amount",
            _("延长：延期后将于 %(new)s 到期，超过“%(latest)s”的最迟期限 %(due)s；最多可延至 %(due)s。")
            % {
                "new": f"{timezone.localtime(new_due):%Y-%m-%d %H:%M}",
                "latest": latest.label or _stage_name(latest.stage),
                "due": f"{timezone.localtime(latest.due_at):%Y-%m-%d %H:%M}",
            },
            DeadlineError.BEYOND_LATEST,
        )


def _check_extendable(rule: ExtensionRule, clock: Clock, *, deciding: bool = False) -> None:
    """Refuse, naming the deadline field, a postponement ``extension_blocker`` forbids; when
    deciding, only the postponements already granted count against it."""
    assert clock.case_id is not None, "an extension is asked for on a case's clock"
    counted = [ExtensionStatus.APPROVED] if deciding else [ExtensionStatus.APPROVED, ExtensionStatus.PENDING]
    others = list(Extension.objects.filter(case_id=clock.case_id, status__in=counted).select_related("clock"))
    blocker = extension_blocker(rule, clock, others)
    if blocker:
        forbidden = rule.second_extension_forbidden and any(e.status == ExtensionStatus.APPROVED for e in others)
        raise _refused(
            "stage", blocker, DeadlineError.SECOND_EXTENSION_FORBIDDEN if forbidden else DeadlineError.NOT_EXTENDABLE
        )


def extension_request(
    *,
    actor: Staff,
    case_id: int,
    amount: int,
    reason: str,
    stage: str | None = None,
    clock_id: int | None = None,
    unit: str | None = None,
) -> Extension:
    """Ask to postpone one of the case's running deadlines (by clock id or stage)."""
    reason = checked_text(
        reason, "reason", missing=_("请填写延期理由（将告知反映人）。"), limit=NOTE_MAX, label=_("延期理由")
    )
    with transaction.atomic():
        case = _lock_case(actor, case_id)
        if not _may_work_on(actor, case):
            raise PermissionDeniedError()
        clocks = active_clocks(case).filter(round=case.round).select_related("policy_version")
        clock = clocks.filter(pk=clock_id).first() if clock_id else clocks.filter(stage=stage).first()
        if clock is None:
            raise ValidationFailed({"stage": [_("没有可以延期的在办时限。")]})
        rule = _extension_rule(clock)
        unit = unit or rule.max.unit
        if unit != rule.max.unit:
            raise ValidationFailed({"unit": [_("延期单位须为 %(unit)s。") % {"unit": rule.max.unit}]})
        if not 1 <= int(amount) <= rule.max.amount:
            raise ValidationFailed(
                {"amount": [_("延期最长 %(max)d %(unit)s。") % {"max": rule.max.amount, "unit": rule.max.unit}]}
            )
        now = timezone.now()
        if clock.overdue_at is not None or clock.due_at <= now:
            raise ApplicationError(_("已经逾期，不能再申请延期。"), code=DeadlineError.EXTENSION_TOO_LATE)
        if Extension.objects.filter(clock=clock, status=ExtensionStatus.PENDING).exists():
            raise ApplicationError(_("已有待审批的延期申请。"), code=DeadlineError.EXTENSION_PENDING)
        _check_extendable(rule, clock)
        _check_within_latest(rule, clock, int(amount), unit)
        extension = Extension.objects.create(
            clock=clock,
            case=case,
            amount=int(amount),
            unit=unit,
            reason=reason,
            requested_by=actor,
            requested_at=now,
            previous_due_at=clock.due_at,
        )
        _record(
            case,
            DeadlineEvent.EXTENSION_REQUESTED,
            actor,
            {
                "extension_id": extension.pk,
                "clock_id": clock.pk,
                "stage": clock.stage,
                "amount": extension.amount,
                "unit": unit,
                "reason": reason,
                "due_at": clock.due_at,
                "approver_role": rule.approver,
            },
        )
        approvers = [s for s in Directory().with_role(case.organization_id, rule.approver) if s.pk != actor.pk]
        desk_notify(
            recipients=approvers,
            case=case,
            key=f"extension:{extension.pk}:request",
            text=reminders.EXTENSION_REQUESTED(
                number=case.number,
                title=case.title,
                stage=stage_label(clock),
                amount=extension.amount,
                unit=unit_label(unit),
            ),
        )
    return extension


def extension_decide(*, actor: Staff, extension_id: int, approve: bool, note: str = "") -> Extension:
    """Approve or refuse an extension. Only staff holding the preset's approver role, never
    the requester; approval moves the due time (and warning) and is refused once the
    deadline has passed or when the matter was already extended and the preset forbids
    a second postponement."""
    note = checked_text(note, "note", limit=NOTE_MAX, label=_("审批意见"))
    with transaction.atomic():
        case_id = (
            Extension.objects.filter(pk=extension_id, case__organization_id=actor.org_id)
            .values_list("case_id", flat=True)
            .first()
        )
        if case_id is None:
            raise PermissionDeniedError()
        case = _lock_case(actor, case_id)
        extension = (
            Extension.objects.select_for_update(of=("self",))
            .select_related("clock", "clock__policy_version")
            .get(pk=extension_id)
        )
        clock = extension.clock
        rule = _extension_rule(clock)
        if rule.approver not in (actor.roles or []):
            raise PermissionDeniedError(_("延期须由本单位政策规定的审批人批准。"))
        if extension.requested_by_id == actor.pk:
            raise PermissionDeniedError(_("不能审批自己提出的延期申请。"))
        if not may_decide_extension(
            actor, case, approver_role=rule.approver, requested_by_id=extension.requested_by_id
        ):
            raise PermissionDeniedError(_("部门负责人只能审批本部门主办案件的延期。"))
        decided = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
        EXTENSION_STATUSES.check(
            extension, decided, message=_("该延期申请已经处理。"), code=DeadlineError.EXTENSION_DECIDED
        )
        now = timezone.now()
        if approve:
            if clock.state not in ACTIVE:
                raise ApplicationError(_("该时限已结束，无需延期。"), code=DeadlineError.CLOCK_STOPPED)
            if clock.overdue_at is not None or clock.due_at <= now:
                raise ApplicationError(_("期限已届满，不能再批准延期。"), code=DeadlineError.EXTENSION_TOO_LATE)
            _check_extendable(rule, clock, deciding=True)
            _check_within_latest(rule, clock, extension.amount, extension.unit)
        EXTENSION_STATUSES.move(extension, decided)
        extension.decided_by, extension.decided_at, extension.decision_note = (
            actor,
            now,
            note,
        )
        extension.previous_due_at = clock.due_at
        if approve:
            extension.save(
                update_fields=[
                    "status",
                    "decided_by",
                    "decided_at",
                    "decision_note",
                    "previous_due_at",
                ]
            )
            calendar = calendar_of(clock)  # reschedule reads the approval just saved
            clock.generation += 1
            clock.warned_at = None  # a fresh warning before the new due time
            reschedule(clock, calendar)
            if clock.state == ClockState.PAUSED:
                clock.next_action_at = None
            clock.version += 1
            clock.save(
                update_fields=[
                    "due_at",
                    "warn_at",
                    "next_action_at",
                    "generation",
                    "warned_at",
                    "version",
                ]
            )
            extension.new_due_at = clock.due_at
        extension.save(
            update_fields=[
                "status",
                "decided_by",
                "decided_at",
                "decision_note",
                "previous_due_at",
                "new_due_at",
            ]
        )
        _record(
            case,
            DeadlineEvent.EXTENSION_DECIDED,
            actor,
            {
                "extension_id": extension.pk,
                "clock_id": clock.pk,
                "stage": clock.stage,
                "approved": approve,
                "amount": extension.amount,
                "unit": extension.unit,
                "note": extension.decision_note,
                "previous_due_at": extension.previous_due_at,
                "new_due_at": extension.new_due_at,
                # The preset tells the complainant of an approved extension (a message by
                # ``huiyin.notifications``, the subscriber of this event).
                "notify_complainant": bool(approve and rule.notify_complainant),
            },
        )
        requester = [extension.requested_by]
        desk_notify(
            recipients=requester,
            case=case,
            key=f"extension:{extension.pk}:decision",
            text=(reminders.EXTENSION_APPROVED if approve else reminders.EXTENSION_REFUSED)(
                number=case.number,
                stage=stage_label(clock),
                due=timezone.localtime(clock.due_at).strftime("%Y-%m-%d %H:%M"),
            ),
        )
        if approve:
            sync_promised_due(case)
    return extension
