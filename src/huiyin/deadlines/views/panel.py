"""The deadline panel on the case page and on "my desk" (time left, paused time, who is
waiting on whom), and the case page's deadline actions: suspend (挂起) / resume, request
an extension (延期) and, for the approver the preset names, decide it.

Views stay thin: parse a form, call one ``deadlines.services`` verb, redirect to the case
page; a refused form comes back on the case page with its input and the service's
field-named errors (status 400).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huiyin.cases import selectors as case_selectors
from huiyin.cases.models import Case, Urgency
from huiyin.cases.views import case_page_context
from huiyin.core.errors import ApplicationError, PermissionDeniedError
from huiyin.core.forms import put_errors
from huiyin.core.http import AuthedHttpRequest
from huiyin.core.validators import When, moment_error
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Role
from huiyin.policy.services import calendar_for, current_policy

from .. import selectors
from ..basis import calendar_note, rule_basis
from ..forms import (
    UNIT_LABELS,
    ExtensionDecideForm,
    ExtensionRequestForm,
    ResumeForm,
    SuspendForm,
)
from ..models import (
    STAGE_LABELS,
    Clock,
    ClockState,
    Extension,
    ExtensionStatus,
    StopReason,
    Suspension,
)
from ..permissions import may_decide_extension, may_work_on
from ..services import (
    case_resume,
    case_suspend,
    extension_decide,
    extension_request,
    policy_version_for_case,
)
from ..services.handling import extension_blocker
from ..subjects import case_kinds
from .common import (
    TONES,
    countdown_formats,
    humanize,
    role_label,
    time_left_text,
    waiting_text,
)

# --- the deadline panel of a case ---------------------------------------------------------


@dataclass
class ClockRow:
    view: selectors.ClockView
    stage_label: str
    rule_label: str  # the preset's own wording, when it says more than the stage name
    tone: str  # ok | warned | overdue | paused | stopped
    left_text: str
    paused_text: str
    waiting: str
    extensions: list[Extension]
    granted: int
    basis: str = ""  # how the limit is counted and where the rule comes from
    calendar_note: str = ""  # counted Monday to Friday in a year the holiday calendar lacks

    @property
    def colour(self) -> str:
        return TONES[self.tone]

    @property
    def state_label(self) -> str:
        return str(ClockState(self.view.state).label)

    @property
    def due_ms(self) -> int:
        return int(self.view.due_at.timestamp() * 1000)

    @property
    def warn_ms(self) -> int | None:
        return int(self.view.warn_at.timestamp() * 1000) if self.view.warn_at else None


@dataclass
class DeadlinePanel:
    case: Case
    has_policy: bool
    # registered before the organisation's policy: say why there are no deadlines
    before_policy: bool = False
    policy_code: str = ""
    rows: list[ClockRow] = field(default_factory=list)
    now: datetime | None = None
    suspension: Suspension | None = None
    # A fresh form, or the refused one carried back in ``bound`` (typed as any Form there).
    suspend_form: django_forms.Form | None = None
    resume_form: django_forms.Form | None = None
    extension_rule: Any = None  # presets.Extension
    extension_form: django_forms.Form | None = None
    extension_note: str = ""  # why no form: nothing left to extend
    decisions: list[tuple[Extension, django_forms.Form]] = field(default_factory=list)
    pending: list[Extension] = field(default_factory=list)
    failed: str = ""  # the form that was refused, opened on the page

    @property
    def now_ms(self) -> int:
        return int((self.now or timezone.now()).timestamp() * 1000)

    @property
    def raised_urgency(self) -> dict[str, str] | None:
        """The preset's urgency keyword that made the clocks time the case as more urgent
        than the clerk's choice (F13), as recorded in the clocks' rule snapshot (the case
        itself now carries the raised urgency with its keyword, unless staff lowered it)."""
        for row in self.rows:
            context = row.view.clock.rule.get("context") or {}
            if context.get("urgency_keyword") and not self.case.urgency_overridden:
                level = context["urgency"]
                return {
                    "keyword": context["urgency_keyword"],
                    "level": str(Urgency(level).label) if level in Urgency.values else level,
                }
        return None

    @property
    def formats(self) -> dict[str, str]:
        return countdown_formats()

    @property
    def running(self) -> bool:
        return any(r.view.state == ClockState.RUNNING for r in self.rows)

    @property
    def extension_limit(self) -> str:
        rule = self.extension_rule
        if rule is None:
            return ""
        text = _("最长延长 %(amount)d %(unit)s，由%(role)s审批") % {
            "amount": rule.max.amount,
            "unit": UNIT_LABELS.get(rule.max.unit, rule.max.unit),
            "role": role_label(rule.approver),
        }
        if rule.second_extension_forbidden:
            text += _("；同一事项不得再次延期")
        if rule.stages:
            text += _("；可延期的时限：%(stages)s") % {
                "stages": "、".join(str(STAGE_LABELS.get(s, s)) for s in rule.stages)
            }
        if rule.latest:
            text += _("；“%(stage)s”为最迟期限，不得延期或超过") % {"stage": STAGE_LABELS.get(rule.latest, rule.latest)}
        return text


def _stop_text(view: selectors.ClockView) -> tuple[str, str]:
    clock = view.clock
    if clock.stop_reason == StopReason.DONE and clock.stopped_at is not None:
        if clock.met:
            return "stopped", _("按时完成")
        return "overdue", _("超时 %(time)s 完成") % {"time": humanize(clock.stopped_at - clock.due_at)}
    reason = StopReason(clock.stop_reason).label if clock.stop_reason else ""
    return "stopped", str(reason or ClockState.STOPPED.label)


def _row(case: Case, view: selectors.ClockView, now: datetime, extensions: list[Extension]) -> ClockRow:
    if view.state == ClockState.STOPPED:
        tone, left = _stop_text(view)
        waiting = ""
    else:
        left = time_left_text(view.time_left)
        if view.state == ClockState.PAUSED:
            tone = "overdue" if view.time_left.total_seconds() < 0 else "paused"
        elif view.overdue or view.time_left.total_seconds() < 0:
            tone = "overdue"
        elif view.warned or (view.warn_at is not None and view.warn_at <= now):
            tone = "warned"
        else:
            tone = "ok"
        waiting = waiting_text(case, view.stage, view.waiting_on)
    stage_label = str(STAGE_LABELS.get(view.stage, view.stage))
    rule_label = view.label if view.label != stage_label else ""
    return ClockRow(
        view=view,
        stage_label=stage_label,
        rule_label=rule_label,
        tone=tone,
        left_text=left,
        paused_text=humanize(view.paused_for) if view.paused_for.total_seconds() >= 1 else "",
        waiting=waiting,
        extensions=extensions,
        granted=view.clock.generation,
        basis=rule_basis(view.clock.rule),
        calendar_note=calendar_note(case, view),
    )


def _extendable(views: list[selectors.ClockView], rule: Any, case_extensions: list[Extension]):
    """Running or paused clocks one may still ask to extend: none pending, and none the
    preset forbids (``extension_blocker``: not listed, the last-word deadline, or the case
    already postponed once where a second postponement of the same matter is forbidden)."""
    counted = [e for e in case_extensions if e.status in (ExtensionStatus.APPROVED, ExtensionStatus.PENDING)]
    choices = []
    for view in views:
        if view.state == ClockState.STOPPED or view.pending_extension:
            continue
        if extension_blocker(rule, view.clock, counted):
            continue
        due = timezone.localtime(view.due_at).strftime("%Y-%m-%d %H:%M")
        choices.append((view.clock.pk, _("%(stage)s（%(due)s 到期）") % {"stage": view.label, "due": due}))
    return choices


def deadline_panel(
    request: AuthedHttpRequest,
    case: Case,
    *,
    bound: dict[str, django_forms.Form] | None = None,
    failed: str = "",
) -> DeadlinePanel:
    """Everything the case page's deadline panel shows; ``bound`` carries a refused form
    back with its input and errors."""
    actor = request.user
    bound = bound or {}
    now = timezone.now()
    version = policy_version_for_case(case)
    views = selectors.case_clocks(case=case, now=now)
    if version is None and not views:
        running = current_policy(case.organization_id)
        return DeadlinePanel(case=case, has_policy=False, before_policy=running is not None)
    extensions = list(
        Extension.objects.filter(case=case, clock__round=case.round)
        .select_related("clock", "requested_by", "decided_by")
        .order_by("requested_at", "pk")
    )
    by_clock: dict[int, list[Extension]] = {}
    for extension in extensions:
        extension.unit_label = UNIT_LABELS.get(extension.unit, extension.unit)  # type: ignore[attr-defined]
        by_clock.setdefault(extension.clock_id, []).append(extension)
    panel = DeadlinePanel(
        case=case,
        has_policy=True,
        policy_code=version.code if version else "",
        rows=[_row(case, v, now, by_clock.get(v.clock.pk, [])) for v in views],
        now=now,
        suspension=selectors.case_suspension(case=case),
        failed=failed,
    )
    pending = [e for e in extensions if e.status == ExtensionStatus.PENDING]
    panel.pending = pending
    if may_work_on(actor, case) and version is not None:
        if panel.suspension is None:
            panel.suspend_form = bound.get("suspend") or SuspendForm()
        else:
            panel.resume_form = bound.get("resume") or ResumeForm()
    rule = version.preset().extension if version is not None else None
    panel.extension_rule = rule
    if rule is not None and may_work_on(actor, case):
        every_round = list(
            Extension.objects.filter(
                case=case, status__in=(ExtensionStatus.APPROVED, ExtensionStatus.PENDING)
            ).select_related("clock")
        )
        choices = _extendable(views, rule, every_round)
        if choices or "extension" in bound:
            panel.extension_form = bound.get("extension") or ExtensionRequestForm(clocks=choices, unit=rule.max.unit)
        else:
            panel.extension_note = _("当前没有可以申请延期的时限。")
    if rule is not None:
        panel.decisions = [
            (e, bound.get(f"decide-{e.pk}") or ExtensionDecideForm(prefix=f"x{e.pk}"))
            for e in pending
            if may_decide_extension(actor, case, approver_role=rule.approver, requested_by_id=e.requested_by_id)
        ]
    return panel


# --- case page actions ----------------------------------------------------------------------


def _case_for(request: AuthedHttpRequest, case_id: int) -> Case:
    try:
        return case_selectors.case_get_for_actor(actor=request.user, case_id=case_id)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc


def _refused(request: AuthedHttpRequest, case: Case, key: str, form: django_forms.Form) -> HttpResponse:
    """The case page again, the refused form open with the input and the errors on it."""
    case.refresh_from_db()
    panel = deadline_panel(request, case, bound={key: form}, failed=key)
    shown = [panel.suspend_form, panel.resume_form, panel.extension_form]
    if not any(f is form for f in shown + [f for _e, f in panel.decisions]):
        # The case moved on (closed, resumed elsewhere...): the form is no longer offered.
        for field_name, texts in form.errors.items():
            label = form.fields[field_name].label if field_name in form.fields else ""
            for text in texts:
                messages.error(request, f"{label}：{text}" if label else str(text))
        return _to_case(case)
    context = case_page_context(request, case, panel_overrides={"deadlines": {"deadlines": panel}})
    return render(request, "cases/detail.html", context, status=400)


def _to_case(case: Case) -> HttpResponse:
    return redirect("cases:detail", case_id=case.pk)


def _act_on_case(
    request: AuthedHttpRequest,
    case: Case,
    form: django_forms.Form,
    key: str,
    call: Callable[[dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """Run one policy service for a case-page form: success → back to the case; refused →
    the case page again with the form open and its fields marked."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except ApplicationError as exc:
            put_errors(form, exc, {})
        else:
            messages.success(request, done)
            return _to_case(case)
    return _refused(request, case, key, form)


@login_required
@require_POST
def suspend(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    case = _case_for(request, case_id)
    return _act_on_case(
        request,
        case,
        SuspendForm(request.POST),
        "suspend",
        lambda d: case_suspend(actor=request.user, case_id=case.pk, reason=d["reason"]),
        _("案件已挂起，时限暂停计时。"),
    )


@login_required
@require_POST
def resume(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    case = _case_for(request, case_id)
    return _act_on_case(
        request,
        case,
        ResumeForm(request.POST),
        "resume",
        lambda d: case_resume(actor=request.user, case_id=case.pk, note=d["note"]),
        _("案件已恢复办理，挂起时间不计入时限。"),
    )


def _amount_for(clock: Clock, unit: str, new_due: datetime) -> int:
    """How much of ``unit`` moves the clock's due time to ``new_due`` (at least that far)."""
    due = timezone.localtime(clock.due_at)
    new_due = timezone.localtime(new_due)
    if unit == "days":
        return (new_due.date() - due.date()).days
    if unit == "workdays":
        calendar = calendar_for(organization_id=clock.organization_id, policy_version=clock.policy_version)
        return calendar.workdays_between(due.date(), new_due.date())
    if unit == "working_hours":
        calendar = calendar_for(organization_id=clock.organization_id, policy_version=clock.policy_version)
        seconds = calendar.working_time_between(due, new_due).total_seconds()
        return math.ceil(seconds / 3600)
    step = 60 if unit == "minutes" else 3600
    return math.ceil((new_due - due).total_seconds() / step)


@login_required
@require_POST
def extension_new(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    case = _case_for(request, case_id)
    version = policy_version_for_case(case)
    rule = version.preset().extension if version is not None else None
    # The case's own stage clocks: a supervision notice's clock is the supervisor's, not postponable here.
    clocks = Clock.objects.filter(case=case, round=case.round, subject_kind__in=case_kinds()).exclude(
        state=ClockState.STOPPED
    )
    form = ExtensionRequestForm(
        request.POST,
        clocks=[(c.pk, c.label) for c in clocks],
        unit=rule.max.unit if rule is not None else request.POST.get("unit", "days"),
    )
    if form.is_valid():
        data = form.cleaned_data
        clock = clocks.filter(pk=data["clock"]).first()
        amount = data["amount"]
        if amount is None and clock is not None:
            too_far = moment_error(data["new_due"], When.DUE, _("新的到期时间"))
            if too_far:  # counted in the unit first: a date years away is a typo, not a request
                form.add_error("new_due", too_far)
            else:
                amount = _amount_for(clock, data["unit"], data["new_due"])
                if amount < 1:
                    form.add_error("new_due", _("新的到期时间须晚于现在的到期时间。"))
        if not form.errors:
            try:
                extension_request(
                    actor=request.user,
                    case_id=case.pk,
                    clock_id=data["clock"],
                    amount=amount,
                    unit=data["unit"],
                    reason=data["reason"],
                )
            except PermissionDeniedError as exc:
                raise PermissionDenied(exc.message) from exc
            except ApplicationError as exc:
                put_errors(form, exc, {"stage": "clock"})
            else:
                messages.success(request, _("延期申请已提交，等待审批。"))
                return _to_case(case)
    return _refused(request, case, "extension", form)


@login_required
@require_POST
def extension_decision(request: AuthedHttpRequest, extension_id: int) -> HttpResponse:
    extension = (
        Extension.objects.filter(pk=extension_id, case__organization_id=request.user.org_id)
        .select_related("case")
        .first()
    )
    if extension is None:
        raise Http404
    case = _case_for(request, extension.case_id)
    form = ExtensionDecideForm(request.POST, prefix=f"x{extension.pk}")
    approve = request.POST.get("decision") == "approve"
    if form.is_valid():
        try:
            extension_decide(
                actor=request.user,
                extension_id=extension.pk,
                approve=approve,
                note=form.cleaned_data["note"],
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except ApplicationError as exc:
            put_errors(form, exc, {})
        else:
            messages.success(request, _("已批准延期。") if approve else _("已驳回延期申请。"))
            return _to_case(case)
    return _refused(request, case, f"decide-{extension.pk}", form)


# --- my desk --------------------------------------------------------------------------------

DESK_LIMIT = 50


@dataclass
class DeskAlert:
    clock: Clock
    stage_label: str
    tone: str
    left_text: str
    waiting: str

    @property
    def colour(self) -> str:
        return TONES[self.tone]


def desk_deadlines(actor: Staff, *, now: datetime | None = None) -> dict[str, Any]:
    """ "时限提醒" on my desk: clocks of my cases (handled by me, or first received by me;
    for department heads, their department's) that are warned or overdue."""
    now = now or timezone.now()
    mine = Q(case__handler=actor) | Q(case__first_contact=actor)
    if actor.is_dept_head and actor.department_id:
        mine |= Q(case__lead_department_id=actor.department_id) | Q(
            case__lead_department__isnull=True,
            case__first_contact__department_id=actor.department_id,
        )
    if Role.CALLBACK_OFFICER in (actor.roles or []):
        mine |= Q(stage="callback")
    attention = Q(overdue_at__isnull=False) | Q(
        Q(due_at__lt=now) | Q(warned_at__isnull=False) | Q(warn_at__lte=now),
        state=ClockState.RUNNING,
    )
    qs = (
        selectors.open_clocks_for(actor=actor)
        .filter(mine)
        .filter(attention)
        .filter(case__round=F("round"))
        .select_related("case__first_contact")
    )
    clocks = list(qs[:DESK_LIMIT])
    rows = []
    for clock in clocks:
        view = selectors.clock_view(clock, now)
        assert clock.case is not None  # filtered on the clock's case (handler, first contact, department)
        overdue = view.overdue or view.time_left.total_seconds() < 0
        rows.append(
            DeskAlert(
                clock=clock,
                stage_label=view.label,
                tone="overdue" if overdue else "warned",
                left_text=time_left_text(view.time_left),
                waiting=waiting_text(clock.case, clock.stage, view.waiting_on),
            )
        )
    count = len(rows) if len(rows) < DESK_LIMIT else qs.count()
    return {
        "deadline_alerts": rows,
        "deadline_alert_count": count,
        "deadline_overdue_count": sum(1 for r in rows if r.tone == "overdue"),
        "deadline_policy_on": bool(rows) or current_policy(actor.org_id) is not None,
    }
