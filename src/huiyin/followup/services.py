"""Callback planning and records (F40, F41).

``plan_for`` runs inside the reply's transaction (``hooks.on_case_event``): one callback
per answered round, by the preset's rules. ``callback_record`` records one attempt;
a reached complainant's verdict closes the case (satisfied) or reopens it
(dissatisfied) through the case lifecycle; three failed attempts mark it unreachable
and tell the department head.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huiyin.cases import services as case_services
from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, CaseRound
from huiyin.cases.workflow import required_step
from huiyin.core import reminders
from huiyin.core.errors import (
    ApplicationError,
    NotFound,
    PermissionDeniedError,
    ValidationFailed,
)
from huiyin.core.notify import desk_notify, desk_settle_keys
from huiyin.core.tokens import new_token, token_hash
from huiyin.core.validators import (
    ANSWER_MAX,
    NOTE_MAX,
    When,
    checked_text,
    clean_text,
    happened_at,
    moment_error,
)
from huiyin.core.versions import bump, check_version
from huiyin.deadlines.models import Clock
from huiyin.deadlines.notify import Directory
from huiyin.deadlines.services.clocks import case_plan, clock_start_manual, clocks_stop, subject_clocks_stop
from huiyin.handling.records import preset_of, review_limit
from huiyin.handling.services import signature_upload
from huiyin.orgs.actors import Actor, ExternalActor, staff_of
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Role

from . import permissions, planning
from .errors import FollowupError
from .events import FollowupEvent
from .models import (
    ANSWER_STATUSES,
    CALLBACK_STATUSES,
    TASK_STATUSES,
    AnswerStatus,
    AttemptOutcome,
    Callback,
    CallbackAttempt,
    CallbackMethod,
    CallbackReason,
    CallbackStatus,
    HeadDecision,
    NoContactReason,
    PromisedAnswer,
    RatingLink,
    RectificationTask,
    Satisfaction,
    TaskStatus,
)

TASK_STAGE = "callback_task"  # the policy engine's clock of a callback rectification task
# The clock of an answer promised at a callback: its stage and its subject kind (the
# promise's id), registered with the case stages' handler (``apps.FollowupConfig.ready``).
ANSWER_STAGE = "callback_answer"
ANSWER_SUBJECT = "callback_answer"
MAX_ATTEMPTS = 3
CALLBACK = gettext_lazy("该回访")  # what a stale callback form was about (core.versions.stale)
ATTITUDES = ("", "good", "fair", "poor")  # 服务态度 as the callback desk offers it (blank: not asked)
RETRY_AFTER = timedelta(hours=2)


def _mandatory(case: Case, rules) -> list[str]:
    found = []
    if "group_visit" in rules.mandatory_for and case.group_size > 1:
        found.append("group_visit")
    if "forwarded_for_investigation" in rules.mandatory_for and (
        case.channel == "forwarded" or hasattr(case, "authority_request")
    ):
        found.append("forwarded_for_investigation")
    return found


def plan_for(case: Case, at) -> Callback | None:
    """Plan the callback of the case's current round (caller holds the case lock)."""
    if not (case.stage_switches or {}).get("callback", True):
        return None
    if Callback.objects.filter(case=case, round=case.round).exists():
        return None
    preset = preset_of(case)
    rules = preset.callback if preset is not None else None
    shares = [(s.role, s.min_share) for s in rules.shares] if rules else []
    mandatory = _mandatory(case, rules) if rules else []
    seed = case.policy_version or "default"
    draw = planning.draw_for(seed, case.number, case.round)
    decision = planning.decide(draw=draw, shares=shares, mandatory=mandatory)
    if decision.reason is None:
        return None
    clock = Clock.objects.filter(case=case, round=case.round, stage="callback").order_by("-id").first()
    row = Callback.objects.create(
        case=case,
        round=case.round,
        reason=decision.reason,
        role=decision.role,
        draw=decision.draw,
        seed=seed if decision.draw is not None else "",
        planned_at=at,
        due_at=clock.due_at if clock else at + timedelta(days=7),
    )
    why = no_contact_reason(case)
    if why:
        record_no_contact(case, row, why, at)
    return row


def no_contact_reason(case: Case) -> str:
    """Why nobody can call the complainant back ("" if someone can): no phone number — an
    anonymous matter, or one without a phone or an address to call on."""
    party = case.party
    if party is not None and party.phone:
        return ""
    if party is None or party.anonymous or not party.name:
        return NoContactReason.ANONYMOUS
    return "" if party.address else NoContactReason.NO_DETAILS


def record_no_contact(case: Case, row: Callback, why: str, at: datetime) -> None:
    """无法回访: the callback is recorded as impossible with its reason instead of waiting on
    the queue, and the case's history says so (the caller holds the case lock)."""
    CALLBACK_STATUSES.move(row, CallbackStatus.NO_CONTACT)
    row.no_contact_reason, row.done_at, row.next_try_at = why, at, None
    row.save(update_fields=["status", "no_contact_reason", "done_at", "next_try_at"])
    case_services.case_record_event(
        case,
        kind=FollowupEvent.NO_CONTACT,
        actor=None,
        data={"callback_id": row.pk, "no_contact_reason": why},
        at=at,
    )


def cancel_open(case: Case) -> None:
    Callback.objects.filter(case=case, status__in=CALLBACK_STATUSES.sources(CallbackStatus.CANCELLED)).update(
        status=CallbackStatus.CANCELLED
    )


def done_by_closing(case: Case, event) -> None:
    """A case closed from its page with the callback result: the planned callback is done."""
    data = event.data or {}
    # A callback recorded as impossible stays so, unless the closer recorded a satisfaction.
    due = [CallbackStatus.DUE] + ([CallbackStatus.NO_CONTACT] if data.get("satisfaction") else [])
    Callback.objects.filter(case=case, round=case.round, status__in=due).update(
        status=CallbackStatus.DONE,
        satisfaction=data.get("satisfaction", ""),
        done_by=event.actor,
        done_at=event.at,
        findings=data.get("callback_note", "")[:2000],
    )


def _locked(actor: Staff, callback_id: int) -> tuple[Case, Callback]:
    """The callback and its case, locked in that order (the case first, as every case
    service does), or PermissionDenied outside the actor's organisation."""
    row = Callback.objects.filter(pk=callback_id, case__organization_id=actor.org_id).first()
    if row is None:
        raise NotFound(_("找不到该回访。"))
    case = Case.objects.select_for_update().get(pk=row.case_id)
    locked = Callback.objects.select_for_update().get(pk=row.pk)
    locked.case = case  # the row's messages name it without another query
    return case, locked


def _require_due(row: Callback) -> None:
    CALLBACK_STATUSES.check(
        row,
        CallbackStatus.DONE,
        message=_("案件 %(number)s 的回访已记录（%(status)s），未重复计入。")
        % {"number": row.case.number, "status": row.get_status_display()},
    )


def _signature_checked(scan, drawn: str):
    """The callback's signature (请被回访人签名) as an upload, checked before anything is saved."""
    if scan is not None:
        errors = case_services.validation.attachment_errors(scan)
        if errors:
            raise ValidationFailed({"signature": [m for messages in errors.values() for m in messages]})
        return scan
    return signature_upload(drawn) if drawn else None


ON_SITE_MISSING = {
    "signature": gettext_lazy("被回访人签名：本单位政策规定上门回访须请被回访人签名（上传签字扫描件或当场签名）。"),
    "charges_checked": gettext_lazy("收费核实：本单位政策规定上门回访须核对收费情况，请选择核对结果。"),
    "attitude": gettext_lazy("服务态度：本单位政策规定上门回访须向业主了解维修人员服务情况，请选择。"),
}


def check_on_site_record(case: Case, *, signed: bool, charges_checked: bool | None, attitude: str) -> None:
    """An on-site callback records what the case's policy lists (``required_steps.on_site_callback``:
    the resident's signature, the charges checked, the repairer's service) before it closes
    or reopens the case; every missing item is named at its field."""
    items = required_step(case.stage_switches, "on_site_callback") or []
    given = {"signature": signed, "charges_checked": charges_checked is not None, "attitude": bool(attitude)}
    missing = {item: [str(ON_SITE_MISSING[item])] for item in items if item in given and not given[item]}
    if missing:
        raise ValidationFailed(missing)


def callback_record(
    *,
    actor: Staff,
    callback_id: int,
    outcome: str,
    satisfaction: str = "",
    findings: str = "",
    attitude: str = "",
    charges_checked: bool | None = None,
    note: str = "",
    expected_version: int | None = None,
    problem: str = "",
    method: str = CallbackMethod.PHONE,
    signature_scan=None,
    signature_drawn: str = "",
    pending_question: str = "",
    answer_by: datetime | None = None,
    at: datetime | None = None,
) -> Callback:
    """Record one attempt. ``problem``: something found that must be put right (a
    rectification task with the preset's notice limit, whatever the satisfaction);
    ``pending_question`` / ``answer_by``: a question or opinion the person raised that could
    not be answered at once, and the time they were told to expect the answer (回访中不能当即
    答复的，应告知预约时间答复) — the one needs the other;
    ``signature_*``: the person called on signs (a scan or drawn on screen); ``at``: when
    the call was made, where history is recreated (``validators.happened_at``)."""
    now = happened_at(at)
    stamp = at  # the events' time: None (written now) unless history is recreated
    if outcome not in AttemptOutcome.values:
        raise ValidationFailed({"outcome": [_("请选择回访结果：已接通、未接通或号码错误。")]})
    if outcome == AttemptOutcome.REACHED and satisfaction not in Satisfaction.values:
        raise ValidationFailed({"satisfaction": [_("已接通：请选择满意度（满意、基本满意、不满意）。")]})
    if method not in (CallbackMethod.PHONE, CallbackMethod.ON_SITE):
        raise ValidationFailed({"method": [_("请选择回访方式：电话回访或上门回访。")]})
    if attitude not in ATTITUDES:
        raise ValidationFailed({"attitude": [_("服务态度只能是好、一般或差。")]})
    findings = checked_text(findings, "findings", limit=ANSWER_MAX, label=_("回访情况"))
    note = checked_text(note, "note", limit=NOTE_MAX, label=_("备注"))
    problem = checked_text(problem, "problem", limit=NOTE_MAX, label=_("发现的问题"))
    pending_question = checked_text(pending_question, "pending_question", limit=NOTE_MAX, label=_("未能当即答复的询问"))
    _pending_checked(pending_question, answer_by, reached=outcome == AttemptOutcome.REACHED, now=now)
    signature = _signature_checked(signature_scan, signature_drawn)
    if signature is not None and outcome != AttemptOutcome.REACHED:
        raise ValidationFailed({"signature": [_("未接通时不能登记被回访人签名。")]})
    with transaction.atomic():
        case, row = _locked(actor, callback_id)
        if not permissions.may_call_back(actor, row):
            raise PermissionDeniedError(_("您没有这件回访的任务。"))
        _require_due(row)
        check_version(row, expected_version, what=CALLBACK)
        if outcome == AttemptOutcome.REACHED and method == CallbackMethod.ON_SITE:
            check_on_site_record(case, signed=signature is not None, charges_checked=charges_checked, attitude=attitude)
        CallbackAttempt.objects.create(callback=row, at=now, by=actor, outcome=outcome, note=note)
        row.attempts += 1
        row.version += 1
        row.method = method
        if outcome != AttemptOutcome.REACHED:
            _not_reached(case, row, actor, outcome, now, stamp=stamp)
        else:
            if problem:
                _task_raise(case, row, actor, now, problem, stamp=stamp)
            if pending_question and answer_by is not None:
                _answer_promised(case, row, actor, now, pending_question, answer_by, stamp=stamp)
            _reached(
                case,
                row,
                actor,
                now,
                satisfaction=satisfaction,
                findings=findings,
                attitude=attitude,
                charges_checked=charges_checked,
                note=note,
                stamp=stamp,
            )
        if signature is not None:  # stored last: a refusal above leaves no file behind
            row.signature = case_services.attachment_add(actor=actor, case_id=case.pk, upload=signature, at=stamp)
        row.save()
    return row


def _pending_checked(question: str, answer_by: datetime | None, *, reached: bool, now: datetime) -> None:
    """A question left unanswered at the callback comes with the time the person was told to
    expect the answer (and that time with a question), later than now, on a reached call."""
    if not (question or answer_by):
        return
    if not reached:
        raise ValidationFailed({"pending_question": [_("未接通时不能登记待答复的询问。")]})
    if not question:
        raise ValidationFailed({"pending_question": [_("请填写未能当即答复的询问或意见。")]})
    if answer_by is None:
        raise ValidationFailed(
            {"answer_by": [_("回访中不能当即答复的询问、意见，应告知反映人预约答复的时间：请填写预约答复时间。")]}
        )
    if answer_by <= now:
        raise ValidationFailed({"answer_by": [_("预约答复时间应晚于现在。")]})
    # and within the horizon of any due time (2099 typed for 2026 would never go overdue)
    too_late = moment_error(answer_by, When.DUE, _("预约答复时间"), now=now)
    if too_late:
        raise ValidationFailed({"answer_by": [too_late]})


def _answer_promised(
    case: Case,
    callback: Callback,
    actor: Staff,
    now: datetime,
    question: str,
    answer_by: datetime,
    *,
    stamp: datetime | None,
) -> PromisedAnswer:
    """The question and the promised time: a ``PromisedAnswer`` timed by the deadline engine
    (warned before the promised time, overdue after it, escalated along the preset's chain),
    on the desks of whoever must answer it (the lead department's heads, or the leaders) and
    in the case's history."""
    promise = PromisedAnswer.objects.create(
        callback=callback,
        case=case,
        question=question,
        answer_by=answer_by,
        department_id=case.lead_department_id,
        created_by=actor,
        created_at=now,
    )
    # From the minute of the call: the clock counts whole minutes, so a promised time on the
    # minute (as the form gives it) is the clock's due time to the second.
    _timed(
        case,
        stage=ANSWER_STAGE,
        started_at=now.replace(second=0, microsecond=0),
        due_at=answer_by,
        label=_("回访预约答复"),
        subject=(ANSWER_SUBJECT, ANSWER_SUBJECT, promise.pk),
    )
    due = f"{timezone.localtime(answer_by):%m-%d %H:%M}"
    desk_notify(
        recipients=_heads_or_leaders(case),
        case=case,
        key=f"callback-question:{promise.pk}",
        text=reminders.CALLBACK_QUESTION(number=case.number, due=due, q=question[:100]),
        at=now,
        kind="callback-question",
    )
    case_services.case_record_event(
        case,
        kind=EventKind.NOTE,
        actor=actor,
        data={
            "promised_answer_id": promise.pk,
            "text": _("回访中未能当即答复的询问：%(q)s（已告知反映人于 %(due)s 前答复）")
            % {"q": question[:200], "due": due},
            "answer_by": answer_by,
        },
        at=stamp,
    )
    return promise


_Row = TypeVar("_Row", PromisedAnswer, RectificationTask)


def _locked_with_case(model: type[_Row], pk: int, actor: Staff, missing: str) -> tuple[Case, _Row]:
    """A follow-up record of the actor's organisation and its case, both locked, case first
    (the order every case write takes); NotFound naming ``missing`` otherwise."""
    found = model.objects.filter(pk=pk, case__organization_id=actor.org_id).first()
    if found is None:
        raise NotFound(missing)
    case = Case.objects.select_for_update().get(pk=found.case_id)
    return case, model.objects.select_for_update().get(pk=found.pk)


def promised_answer_give(
    *,
    actor: Staff,
    promise_id: int,
    answer: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> PromisedAnswer:
    """The answer promised at a callback was given to the person: recorded with what they were
    told, the promise's clock stopped (met, or late when after the promised time), its desk
    entries settled, and the answer in the case's history. ``at``: where history is recreated."""
    answer = case_services.required_text(
        answer, "answer", _("请填写答复内容：向反映人答复了什么。"), limit=ANSWER_MAX, label=_("答复内容")
    )
    now = happened_at(at)
    with transaction.atomic():
        case, promise = _locked_with_case(PromisedAnswer, promise_id, actor, _("找不到该预约答复。"))
        if not permissions.may_give_promised_answer(actor, promise):
            raise PermissionDeniedError(_("只有责任部门可以登记预约答复。"))
        ANSWER_STATUSES.move(promise, AnswerStatus.ANSWERED, message=_("该询问已经答复过，未重复登记。"))
        check_version(promise, expected_version, what=_("该预约答复"))
        promise.answer, promise.answered_by, promise.answered_at = answer, actor, now
        bump(promise, ["status", "answer", "answered_by", "answered_at"])
        subject_clocks_stop(subject_kind=ANSWER_SUBJECT, subject_id=promise.pk, at=now, reason="done")
        desk_settle_keys(case_id=case.pk, key_prefix=f"callback-question:{promise.pk}", at=now)
        late = _("（晚于预约时间）") if promise.late else ""
        case_services.case_record_event(
            case,
            kind=EventKind.NOTE,
            actor=actor,
            data={
                "promised_answer_id": promise.pk,
                "text": _("已答复回访中的询问%(late)s：%(a)s") % {"late": late, "a": answer[:200]},
            },
            at=at,
        )
    return promise


def callback_number_reveal(*, actor: Staff, callback_id: int) -> dict[str, dict[str, str]]:
    """The complainant's full name and number, to dial from the callback card: for whoever
    has this callback to make, through the case page's own reveal (``party_reveal``: the
    personal-data right, and the same ``pii_viewed`` event on the case)."""
    row = Callback.objects.select_related("case").filter(pk=callback_id, case__organization_id=actor.org_id).first()
    if row is None:
        raise NotFound(_("找不到该回访。"))
    if not permissions.may_call_back(actor, row):
        raise PermissionDeniedError(_("您没有这件回访的任务。"))
    return case_services.party_reveal(actor=actor, case_id=row.case_id)


def _notice_due(case: Case, now) -> datetime:
    """When the written notice is due: the preset's ``rectification_notice_within`` from
    now, counted by the case's business calendar (24 hours without one)."""
    plan = case_plan(case)
    within = plan.preset.callback.rectification_notice_within if plan and plan.preset.callback else None
    if plan is None or within is None:
        return now + timedelta(hours=24)
    # Duration.unit is a str the preset loader checks against the units; it becomes
    # calendar.Unit with the deadlines split, and then this ignore is reported unused.
    return plan.calendar.add(timezone.localtime(now), within.amount, within.unit)  # type: ignore[arg-type]


def _timed(
    case: Case, *, stage: str, started_at: datetime, due_at: datetime, label: str, subject: tuple[str, str, int]
) -> None:
    """A follow-up record timed by the policy engine like any deadline of its case (warned,
    overdue and escalated by the sweeper along the preset's chain); ``subject``: the clock's
    ``clock_from``, the record's subject kind and id. Nothing where the case has no policy."""
    plan = case_plan(case)
    if plan is not None:
        clock_from, kind, pk = subject
        clock_start_manual(
            case=case,
            plan=plan,
            stage=stage,
            started_at=started_at,
            due_at=due_at,
            label=label,
            clock_from=clock_from,
            subject_kind=kind,
            subject_id=pk,
        )


def _heads_or_leaders(case: Case) -> list[Staff]:
    """The lead department's heads, or the leaders where the department has none."""
    directory = Directory()
    return directory.dept_heads(case.organization_id, case.lead_department_id) or directory.with_role(
        case.organization_id, Role.LEADER
    )


def _task_raise(
    case: Case, row: Callback, actor: Staff, now, problem: str, *, stamp: datetime | None = None
) -> RectificationTask:
    task = RectificationTask.objects.create(
        callback=row,
        case=case,
        problem=problem,
        department_id=case.lead_department_id,
        created_by=actor,
        created_at=now,
        due_at=_notice_due(case, now),
    )
    _task_clock_start(case, task)
    desk_notify(
        recipients=_heads_or_leaders(case),
        case=case,
        key=f"callback-task:{task.pk}",
        text=reminders.CALLBACK_TASK(
            number=case.number, due=f"{timezone.localtime(task.due_at):%m-%d %H:%M}", problem=problem[:100]
        ),
        at=now,
    )
    case_services.case_record_event(
        case,
        kind=EventKind.NOTE,
        actor=actor,
        data={
            "callback_task_id": task.pk,
            "text": _("回访发现问题：%(p)s") % {"p": problem[:200]},
            "due_at": task.due_at,
        },
        at=stamp,
    )
    return task


def _task_clock_start(case: Case, task: RectificationTask) -> None:
    """The written notice is timed by the policy engine like any deadline: warned, overdue
    and escalated by the sweeper along the preset's chain. The clock outlives the case's
    closing (the problem still has to be put right) and stops when the task is done."""
    _timed(
        case,
        stage=TASK_STAGE,
        started_at=task.created_at,
        due_at=task.due_at,
        label=_("回访发现问题书面通知整改"),
        subject=("callback_task", "rectification_task", task.pk),
    )


def task_done(*, actor: Staff, task_id: int, note: str) -> RectificationTask:
    """The problem was put right (the rectification record, 回访处理率)."""
    note = case_services.required_text(note, "note", _("请填写整改情况。"), limit=NOTE_MAX, label=_("整改情况"))
    with transaction.atomic():
        case, task = _locked_with_case(RectificationTask, task_id, actor, _("找不到该整改任务。"))
        if not permissions.may_record_rectification(actor, task):
            raise PermissionDeniedError(_("只有责任部门可以登记整改情况。"))
        TASK_STATUSES.move(task, TaskStatus.DONE, message=_("该整改任务已完成。"))
        task.done_by, task.done_at, task.done_note = actor, timezone.now(), note
        task.save(update_fields=["status", "done_by", "done_at", "done_note"])

        if not RectificationTask.objects.filter(case=case, status=TaskStatus.OPEN).exists():
            clocks_stop(case=case, at=task.done_at, reason="done", stages=(TASK_STAGE,))
        case_services.case_record_event(
            case,
            kind=EventKind.NOTE,
            actor=actor,
            data={"callback_task_id": task.pk, "text": _("回访问题已整改：%(n)s") % {"n": note[:200]}},
        )
    return task


def _not_reached(case: Case, row: Callback, actor: Staff, outcome: str, now, *, stamp: datetime | None = None) -> None:
    if outcome == AttemptOutcome.WRONG_NUMBER or row.attempts >= MAX_ATTEMPTS:
        CALLBACK_STATUSES.move(row, CallbackStatus.UNREACHABLE)
        row.next_try_at, row.done_by, row.done_at = None, actor, now
        desk_notify(
            recipients=Directory().dept_heads(case.organization_id, case.lead_department_id),
            case=case,
            key=f"callback:{row.pk}:unreachable",
            text=reminders.CALLBACK_UNREACHABLE(number=case.number, n=row.attempts),
            at=now,
        )
    else:
        row.next_try_at = now + RETRY_AFTER
    case_services.case_record_event(
        case,
        kind=EventKind.NOTE,
        actor=actor,
        data={"callback_id": row.pk, "callback_outcome": outcome, "attempts": row.attempts, "status": row.status},
        at=stamp,
    )


def _reached(
    case: Case,
    row: Callback,
    actor: Actor,
    now,
    *,
    satisfaction: str,
    findings: str,
    attitude: str,
    charges_checked: bool | None,
    note: str,
    stamp: datetime | None = None,
) -> None:
    CALLBACK_STATUSES.move(row, CallbackStatus.DONE)
    row.satisfaction, row.findings = satisfaction, findings
    row.attitude, row.charges_checked, row.done_by, row.done_at = attitude, charges_checked, staff_of(actor), now
    row.next_try_at = None
    summary = note or findings or str(Satisfaction(satisfaction).label)
    if satisfaction == Satisfaction.DISSATISFIED:
        if case.round >= 2:  # dissatisfied again after a reopened round: the leader hears of it
            desk_notify(
                recipients=Directory().with_role(case.organization_id, Role.LEADER),
                case=case,
                key=f"callback:{row.pk}:again",
                text=reminders.CALLBACK_AGAIN(number=case.number),
                at=now,
            )
        if _on_dissatisfied(case) == "dept_head_decides" and case.state == "replied":
            row.head_decision = HeadDecision.PENDING
            desk_notify(
                recipients=_heads_or_leaders(case),
                case=case,
                key=f"callback:{row.pk}:decide",
                text=reminders.CALLBACK_DECIDE(number=case.number),
                at=now,
            )
            case_services.case_record_event(
                case,
                kind=EventKind.NOTE,
                actor=actor,
                data={"callback_id": row.pk, "text": _("回访不满意，待部门负责人决定：%(s)s") % {"s": summary}},
                at=stamp,
            )
            row.save()

            clocks_stop(case=case, at=now, reason="done", stages=("callback",))  # the callback is made
            return
        row.save()
        case_services.case_reopen(
            actor=actor, case_id=case.pk, reason=_("回访不满意：%(s)s") % {"s": summary}, at=stamp
        )
    elif case.state == "replied":
        row.save()
        case_services.case_close(
            actor=actor,
            case_id=case.pk,
            satisfaction=satisfaction,
            callback_note=summary,
            confirmed=True,
            confirmation_note=_("回访时反映人确认：%(s)s") % {"s": summary},
            at=stamp,
        )


def _on_dissatisfied(case: Case) -> str:
    preset = preset_of(case)
    return preset.callback.on_dissatisfied if preset is not None and preset.callback else "reopen"


def refuse_while_head_decides(case: Case) -> None:
    """Closing or reopening a case whose dissatisfied callback awaits the head's decision
    is the head's to do (through ``dissatisfaction_decide``), not anybody's."""
    if Callback.objects.filter(case=case, round=case.round, head_decision=HeadDecision.PENDING).exists():
        raise ApplicationError(
            _("反映人回访不满意，正待部门负责人决定重办或维持原处理：请由部门负责人在回访工作台作出决定。"),
            code=FollowupError.HEAD_DECISION_PENDING,
        )


def dissatisfaction_decide(
    *,
    actor: Staff,
    callback_id: int,
    decision: str,
    note: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Callback:
    """The department head's decision on a dissatisfied callback (on_dissatisfied:
    dept_head_decides): 重办 opens a new round; 维持 closes the case with the complainant's
    dissatisfaction and the head's reasons on record."""
    if decision not in (HeadDecision.REOPEN, HeadDecision.CLOSE):
        raise ValidationFailed({"decision": [_("请选择“重办”或“维持原处理，办结”。")]})
    note = case_services.required_text(note, "head_note", _("请填写决定理由。"), limit=NOTE_MAX, label=_("决定理由"))
    with transaction.atomic():
        case, row = _locked(actor, callback_id)
        if not permissions.may_decide_dissatisfaction(actor, case):
            raise PermissionDeniedError(_("只有责任部门负责人或领导可以决定。"))
        if row.head_decision != HeadDecision.PENDING:
            raise ApplicationError(
                _("该回访已有决定（%(d)s），未重复执行。") % {"d": row.get_head_decision_display() or _("无须决定")},
                code=FollowupError.DECIDED,
            )
        check_version(row, expected_version, what=CALLBACK)
        if case.state != "replied":
            raise ApplicationError(
                _("案件当前状态为“%(state)s”，已不能据此回访决定。") % {"state": case.get_state_display()},
                code=FollowupError.WRONG_STATE,
            )
        if decision == HeadDecision.CLOSE and (case.stage_switches or {}).get("confirmation_to_close"):
            raise ValidationFailed({"decision": [_("本单位要求反映人确认后办结：反映人不满意时只能重办。")]})
        row.head_decision, row.head_decided_by, row.head_decided_at, row.head_note = (
            decision,
            actor,
            happened_at(at),
            note,
        )
        row.version += 1
        row.save()
        if decision == HeadDecision.REOPEN:
            case_services.case_reopen(
                actor=actor, case_id=case.pk, reason=_("回访不满意，部门负责人决定重办：%(n)s") % {"n": note}, at=at
            )
        else:
            case_services.case_close(
                actor=actor,
                case_id=case.pk,
                satisfaction=Satisfaction.DISSATISFIED,
                callback_note=_("回访不满意，部门负责人决定维持原处理：%(n)s") % {"n": note},
                upheld_by_head=True,
                at=at,
            )
    return row


# --- the complainant's own rating (F41) -----------------------------------------------------

RATING_LINK_DAYS = 7


def rating_link_issue(*, actor: Staff, callback_id: int, days: int = RATING_LINK_DAYS) -> tuple[RatingLink, str]:
    """A one-use link (returned once; only its hash is kept). Its ``rating_link_issued`` event
    carries the link on the case object to the subscribers of its transaction (the
    complainant's message: ``huiyin.notifications``, by SMS and e-mail where the organisation
    sends them), never into the database."""
    with transaction.atomic():
        row = (
            Callback.objects.select_related("case__party", "case__organization")
            .filter(pk=callback_id, case__organization_id=actor.org_id)
            .first()
        )
        if row is None or not permissions.may_call_back(actor, row):
            raise PermissionDeniedError(_("您没有这件回访的任务。"))
        _require_due(row)
        case = Case.objects.select_for_update(of=("self",)).select_related("organization", "party").get(pk=row.case_id)
        token = new_token(24)
        now = timezone.now()
        link = RatingLink.objects.create(
            callback=row,
            token_hash=token_hash(token),
            issued_by=actor,
            issued_at=now,
            expires_at=now + timedelta(days=days),
        )
        url = f"{settings.HUIYIN_PUBLIC_URL.rstrip('/')}/rate/{token}/"
        case.issued_rating_link = url
        case_services.case_record_event(
            case,
            kind=FollowupEvent.RATING_LINK_ISSUED,
            actor=actor,
            data={"callback_id": row.pk, "link_id": link.pk, "expires_at": timezone.localtime(link.expires_at)},
        )
        case.issued_rating_link = ""
    return link, url


def rating_link_find(token: str) -> RatingLink:
    """The link for a token, or a clear refusal (unknown, used, expired)."""
    link = RatingLink.objects.select_related("callback__case").filter(token_hash=token_hash(token)).first()
    if link is None:
        raise ApplicationError(_("评价链接无效。"), code=FollowupError.LINK_UNKNOWN)
    if link.used_at is not None:
        raise ApplicationError(_("该评价链接已经使用过，每个链接只能评价一次。"), code=FollowupError.LINK_USED)
    if timezone.now() > link.expires_at:
        raise ApplicationError(_("该评价链接已过期，请拨打热线评价。"), code=FollowupError.LINK_EXPIRED)
    return link


def rating_submit(*, token: str, satisfaction: str, comment: str = "") -> RatingLink:
    """The complainant's rating lands on the case like a reached callback."""
    if satisfaction not in Satisfaction.values:
        raise ValidationFailed({"satisfaction": [_("请选择满意、基本满意或不满意。")]})
    comment = clean_text(comment).strip()
    if len(comment) > 500:
        raise ValidationFailed({"comment": [_("意见最多 500 字，当前 %(n)d 字。") % {"n": len(comment)}]})
    with transaction.atomic():
        link = rating_link_find(token)
        case = Case.objects.select_for_update().get(pk=link.callback.case_id)
        link = RatingLink.objects.select_for_update().get(pk=link.pk)
        rating_link_find(token)  # checked again under the lock: a double submit counts once
        row = Callback.objects.select_for_update().get(pk=link.callback_id)
        CALLBACK_STATUSES.check(row, CallbackStatus.DONE, message=_("该件已完成回访，感谢您的评价。"))
        now = timezone.now()
        link.used_at, link.satisfaction, link.comment = now, satisfaction, comment
        link.save(update_fields=["used_at", "satisfaction", "comment"])
        row.attempts += 1
        row.version += 1
        row.method = CallbackMethod.ONLINE
        _reached(
            case,
            row,
            link.issued_by,
            now,
            satisfaction=satisfaction,
            findings=comment,
            attitude="",
            charges_checked=None,
            note=_("反映人网上评价：%(s)s") % {"s": comment or Satisfaction(satisfaction).label},
        )
        row.save()
    return link


# --- the complainant's rating on the portal (F41) ---------------------------------------------

PORTAL_RATING_DAYS = RATING_LINK_DAYS  # the answer may be rated online this many days after it


def portal_rating_due(case: Case) -> datetime | None:
    """Until when the complainant may rate the current round's answer on the portal (None:
    the round has no answer yet)."""
    replied = CaseRound.objects.filter(case=case, number=case.round).values_list("replied_at", flat=True).first()
    return replied + timedelta(days=PORTAL_RATING_DAYS) if replied else None


def portal_rating_open(case: Case) -> bool:
    """The portal offers the rating: the answer waits for the complainant's verdict, within the
    limit, and this round was neither rated nor called back yet."""
    due = portal_rating_due(case)
    return (
        case.state == "replied"
        and due is not None
        and timezone.now() <= due
        and not Callback.objects.filter(case=case, round=case.round)
        .exclude(status__in=(CallbackStatus.DUE, CallbackStatus.NO_CONTACT))
        .exists()
    )


def _review_still_open(case: Case) -> bool:
    """The preset has review (复查) and the complainant may still ask for it: a dissatisfied
    complainant's way on is the review, not a reopened round."""
    preset = preset_of(case)
    if preset is None or preset.review is None or case.reviews.filter(level=1).exists():
        return False
    _answered, due = review_limit(case, 1)
    return due is None or timezone.now() <= due


def portal_rating_submit(*, actor: ExternalActor, case_id: int, satisfaction: str, comment: str = "") -> Callback:
    """The complainant rates the answer on the portal (满意 / 基本满意 / 不满意): it lands on
    the case as a reached callback (method 网上评价), once per answered round, within
    ``PORTAL_RATING_DAYS`` of the answer. Satisfied closes the case; dissatisfied reopens it
    or goes to the department head, as the preset says for callbacks — except where the
    preset has review (复查) and it may still be requested: then the rating is recorded and
    the case waits for the complainant's request (the portal offers it next). Where closing
    is refused (a report still to be sent), the rating stays recorded and the department
    head is told to close the case."""
    if satisfaction not in Satisfaction.values:
        raise ValidationFailed({"satisfaction": [_("请选择满意、基本满意或不满意。")]})
    comment = checked_text(comment, "comment", limit=500, label=_("意见"))
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id, organization_id=actor.org_id).first()
        if case is None or not permissions.may_rate_online(actor, case):
            raise PermissionDeniedError()
        due = portal_rating_due(case)
        if case.state != "replied" or due is None:
            raise ApplicationError(
                _("该件目前没有待您评价的答复。"), field="satisfaction", code=FollowupError.NOTHING_TO_RATE
            )
        now = timezone.now()
        if now > due:
            raise ApplicationError(
                _("评价期限已过：答复后 %(days)d 日内可以网上评价，截至 %(due)s。如有意见，请拨打热线反映。")
                % {"days": PORTAL_RATING_DAYS, "due": f"{timezone.localtime(due):%Y-%m-%d %H:%M}"},
                field="satisfaction",
                code=FollowupError.RATING_CLOSED,
            )
        row = Callback.objects.select_for_update().filter(case=case, round=case.round).first()
        if row is None:  # the round was not drawn for a callback: the rating is its record
            row = Callback.objects.create(
                case=case, round=case.round, reason=CallbackReason.ONLINE, planned_at=now, due_at=due
            )
        if row.status not in (CallbackStatus.DUE, CallbackStatus.NO_CONTACT):  # no phone: the rating is the callback
            raise ApplicationError(
                _("本次答复已经评价或回访过，感谢您的反馈。"), field="satisfaction", code=FollowupError.RATED
            )
        row.attempts += 1
        row.version += 1
        row.method = CallbackMethod.ONLINE
        label = str(Satisfaction(satisfaction).label)
        case_services.case_record_event(
            case,
            kind=EventKind.NOTE,
            actor=actor,
            data={
                "callback_id": row.pk,
                "satisfaction": satisfaction,
                "text": _("反映人网上评价：%(s)s") % {"s": label} + (f"（{comment}）" if comment else ""),
            },
        )
        note = _("反映人网上评价：%(s)s") % {"s": comment or label}
        if satisfaction == Satisfaction.DISSATISFIED and _review_still_open(case):
            _record_only(case, row, now, satisfaction=satisfaction, findings=comment)
            desk_notify(
                recipients=_heads_or_leaders(case),
                case=case,
                key=f"callback:{row.pk}:online-dissatisfied",
                text=reminders.ONLINE_DISSATISFIED(number=case.number),
            )
            return row
        try:
            with transaction.atomic():
                _reached(
                    case,
                    row,
                    actor,
                    now,
                    satisfaction=satisfaction,
                    findings=comment,
                    attitude="",
                    charges_checked=None,
                    note=note,
                )
        except ApplicationError as refused:
            # Closing or reopening is refused (a guard): the rating stays, the head is told.
            row.refresh_from_db()
            row.attempts += 1
            row.version += 1
            row.method = CallbackMethod.ONLINE
            _record_only(case, row, now, satisfaction=satisfaction, findings=comment)
            desk_notify(
                recipients=_heads_or_leaders(case),
                case=case,
                key=f"callback:{row.pk}:online-pending",
                text=reminders.ONLINE_PENDING(
                    number=case.number, s=Satisfaction(satisfaction).label, why=refused.message
                ),
            )
    return row


def _record_only(case: Case, row: Callback, now, *, satisfaction: str, findings: str) -> None:
    """The rating as the callback's result, the case left as it is."""
    CALLBACK_STATUSES.move(row, CallbackStatus.DONE)
    row.satisfaction, row.findings, row.done_at, row.next_try_at = satisfaction, findings, now, None
    row.save()
