"""The front office's pages (访客登记: the day's visitors, check-in and out, the feedback form,
the printable list) and guest reception's (公司接待: requests, approval, arrangements,
expenses, reimbursement, the cost report): parse the request, call one service or
selector, render. A refused form comes back with its messages next to its fields
(``core.refusals``) and a 4xx status; nothing is half-saved (the services)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huiyin.core import refusals
from huiyin.core.errors import ApplicationError, NotFound, PermissionDeniedError, ValidationFailed, http_status
from huiyin.core.http import AuthedHttpRequest
from huiyin.core.periods import period_dates
from huiyin.core.validators import ID_MAX, clean_text, form_fingerprint, form_version, parse_day, whole_number
from huiyin.orgs.models import Department

from . import permissions, selectors, services
from .export import workbook
from .models import BudgetItem, Decision, IdType, Rating, ReceptionStatus, Reimbursement, VisitStatus
from .rules import setup_fingerprint, setup_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _id(raw: str | None, field: str, label: str) -> int | None:
    """An optional id from a form (a select): None when blank; refused naming the field when no id."""
    value = clean_text(raw).strip()
    if not value:
        return None
    number = whole_number(value, maximum=ID_MAX)
    if number is None:
        raise ValidationFailed({field: [_("%(label)s的选择无效。") % {"label": label}]})
    return number


def _time(raw: str | None, field: str, label: str) -> time | None:
    value = clean_text(raw).strip()
    if not value:
        return None
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            {field: [_("%(label)s不是有效的时间（应为 时:分）：%(v)s") % {"label": label, "v": value[:10]}]}
        ) from None


def _day_param(request: AuthedHttpRequest) -> date:
    """The day a list shows (?day=): today when absent or not a date in 2000–2100."""
    try:
        day = parse_day(request.GET.get("day"), "day", _("日期"))
    except ValidationFailed:
        day = None
    if day is None or not (date(2000, 1, 1) <= day <= date(2100, 12, 31)):
        return timezone.localdate()
    return day


def _refused(request: AuthedHttpRequest, exc: ApplicationError, page: Callable[[int], HttpResponse]) -> HttpResponse:
    """The page again, with the refusal next to its field."""
    if isinstance(exc, PermissionDeniedError | NotFound):
        raise exc
    messages.error(request, str(exc.message))
    refusals.remember(request, exc)
    return page(http_status(exc))


# --- the visitor log ----------------------------------------------------------------------------------


def _visitors_page(request: AuthedHttpRequest, day: date, status: int = 200) -> HttpResponse:
    actor = request.user
    visitors = list(selectors.visitors_of_day(actor=actor, day=day))
    start, end = selectors.month_bounds(timezone.localdate())
    front_desk = permissions.is_front_desk(actor)
    return render(
        request,
        "frontoffice/visitors.html",
        {
            "day": day,
            "today": timezone.localdate(),
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "visitors": visitors,
            "counts": selectors.day_counts(visitors),
            "front_desk": front_desk,
            "announce_for_others": permissions.may_announce_for_others(actor),
            "hosts": selectors.hosts(actor.org_id) if front_desk else [],
            "id_types": IdType.choices,
            "id_required": selectors.id_check_required(actor.org_id),
            "rates": selectors.feedback_rates(actor.org_id, start, end) if front_desk else None,
            "may_request": permissions.may_use_guest_reception(actor),
        },
        status=status,
    )


@login_required
def visitors(request: AuthedHttpRequest) -> HttpResponse:
    """GET: the day's visitors; POST: announce an expected visitor (预约来访)."""
    actor = request.user
    if not permissions.may_use_visitor_log(actor):
        raise PermissionDenied
    if request.method != "POST":
        return _visitors_page(request, _day_param(request))
    post = request.POST
    try:
        expected_on = parse_day(post.get("expected_on"), "expected_on", _("来访日期"))
        visitor = services.visitor_expect(
            actor=actor,
            expected_on=expected_on,
            expected_time=_time(post.get("expected_time"), "expected_time", _("预计到达")),
            host_id=_id(post.get("host"), "host", _("被访人")),
            name=post.get("name", ""),
            affiliation=post.get("affiliation", ""),
            phone=post.get("phone", ""),
            purpose=post.get("purpose", ""),
        )
    except ApplicationError as exc:
        return _refused(request, exc, lambda status: _visitors_page(request, timezone.localdate(), status))
    messages.success(
        request, _("已登记 %(day)s 的预约访客 %(name)s。") % {"day": visitor.expected_on, "name": visitor.masked_name}
    )
    return redirect(f"{request.path}?day={visitor.expected_on.isoformat()}")


def _check_in_data(request: AuthedHttpRequest) -> services.CheckIn:
    post = request.POST
    return services.CheckIn(
        id_type=post.get("id_type", ""),
        id_number=post.get("id_number", ""),
        badge=post.get("badge", ""),
        escort_id=_id(post.get("escort"), "escort", _("陪同人员")),
        security_notes=post.get("security_notes", ""),
    )


@login_required
@require_POST
def walk_in(request: AuthedHttpRequest) -> HttpResponse:
    actor = request.user
    if not permissions.is_front_desk(actor):
        raise PermissionDenied
    post = request.POST
    try:
        visitor = services.visitor_walk_in(
            actor=actor,
            host_id=_id(post.get("host"), "host", _("被访人")),
            name=post.get("name", ""),
            affiliation=post.get("affiliation", ""),
            phone=post.get("phone", ""),
            purpose=post.get("purpose", ""),
            data=_check_in_data(request),
        )
    except ApplicationError as exc:
        return _refused(request, exc, lambda status: _visitors_page(request, timezone.localdate(), status))
    messages.success(request, _("已办理临时来访登记：%(name)s。") % {"name": visitor.masked_name})
    return redirect("frontoffice:visitor", visitor_id=visitor.pk)


def _visitor_page(request: AuthedHttpRequest, visitor_id: int, status: int = 200) -> HttpResponse:
    actor = request.user
    visitor = selectors.visitor_get(actor=actor, visitor_id=visitor_id)
    desk = permissions.may_check_in(actor, visitor)
    feedback = selectors.visitor_feedback(visitor)
    return render(
        request,
        "frontoffice/visitor.html",
        {
            "visitor": visitor,
            "feedback": feedback,
            "records": selectors.visitor_records(visitor),
            "may_check_in": desk and visitor.status == VisitStatus.EXPECTED,
            "may_check_out": desk and visitor.status == VisitStatus.IN,
            "may_feedback": desk and visitor.status == VisitStatus.OUT and feedback is None,
            "may_cancel": permissions.may_cancel_visit(actor, visitor) and visitor.status == VisitStatus.EXPECTED,
            "may_reveal": permissions.may_reveal_visitor(actor, visitor),
            "is_today": visitor.expected_on == timezone.localdate(),
            "hosts": selectors.hosts(actor.org_id) if desk else [],
            "id_types": IdType.choices,
            "id_required": selectors.id_check_required(actor.org_id),
            "questions": selectors.questions(actor.org_id) if desk else [],
            "ratings": Rating.choices,
        },
        status=status,
    )


@login_required
def visitor(request: AuthedHttpRequest, visitor_id: int) -> HttpResponse:
    return _visitor_page(request, visitor_id)


def _visitor_step(request: AuthedHttpRequest, visitor_id: int, step: Callable[[], Any], done: str) -> HttpResponse:
    selectors.visitor_get(actor=request.user, visitor_id=visitor_id)  # 404 / 403 first
    try:
        step()
    except ApplicationError as exc:
        return _refused(request, exc, lambda status: _visitor_page(request, visitor_id, status))
    messages.success(request, done)
    return redirect("frontoffice:visitor", visitor_id=visitor_id)


@login_required
@require_POST
def check_in(request: AuthedHttpRequest, visitor_id: int) -> HttpResponse:
    def step():
        return services.visitor_check_in(
            actor=request.user,
            visitor_id=visitor_id,
            data=_check_in_data(request),
            expected_version=form_version(request.POST.get("version")),
        )

    return _visitor_step(request, visitor_id, step, _("已办理到访登记。"))


@login_required
@require_POST
def check_out(request: AuthedHttpRequest, visitor_id: int) -> HttpResponse:
    def step():
        return services.visitor_check_out(
            actor=request.user, visitor_id=visitor_id, expected_version=form_version(request.POST.get("version"))
        )

    return _visitor_step(request, visitor_id, step, _("已办理离开登记，请访客填写反馈表。"))


@login_required
@require_POST
def visitor_cancel(request: AuthedHttpRequest, visitor_id: int) -> HttpResponse:
    def step():
        return services.visitor_cancel(
            actor=request.user,
            visitor_id=visitor_id,
            reason=request.POST.get("reason", ""),
            expected_version=form_version(request.POST.get("version")),
        )

    return _visitor_step(request, visitor_id, step, _("已取消这次来访。"))


@login_required
@require_POST
def feedback(request: AuthedHttpRequest, visitor_id: int) -> HttpResponse:
    count = len(selectors.questions(request.user.org_id))

    def step():
        return services.visitor_feedback_record(
            actor=request.user,
            visitor_id=visitor_id,
            overall=request.POST.get("overall", ""),
            answers=[request.POST.get(f"q{i}", "") for i in range(1, count + 1)],
            comment=request.POST.get("comment", ""),
        )

    return _visitor_step(request, visitor_id, step, _("已录入访客反馈表。"))


@login_required
@require_POST
def visitor_reveal(request: AuthedHttpRequest, visitor_id: int) -> HttpResponse:
    selectors.visitor_get(actor=request.user, visitor_id=visitor_id)  # 404 / 403 before anything is logged
    try:
        revealed = services.visitor_reveal(actor=request.user, visitor_id=visitor_id)
    except PermissionDeniedError as exc:
        return HttpResponse(f'<span class="text-danger">{escape(exc.message)}</span>', status=403)
    return render(request, "frontoffice/_revealed.html", {"revealed": revealed})


@login_required
def visitors_print(request: AuthedHttpRequest) -> HttpResponse:
    """The day's visitor list to print (the front desk's and the guard's sheet)."""
    actor = request.user
    if not permissions.may_use_visitor_log(actor):
        raise PermissionDenied
    day = _day_param(request)
    return render(
        request,
        "frontoffice/visitors_print.html",
        {"day": day, "visitors": list(selectors.visitors_of_day(actor=actor, day=day)), "printed_at": timezone.now()},
    )


# --- guest reception ----------------------------------------------------------------------------------


@login_required
def receptions(request: AuthedHttpRequest) -> HttpResponse:
    actor = request.user
    if not permissions.may_use_guest_reception(actor):
        raise PermissionDenied
    status = clean_text(request.GET.get("status", "")).strip()
    possible, why_not = selectors.request_possible(actor.org_id)
    setup = setup_of(actor.org_id)
    return render(
        request,
        "frontoffice/receptions.html",
        {
            "receptions": selectors.receptions_for(actor=actor, status=status)[:200],
            "awaiting": selectors.awaiting_me(actor=actor),
            "status": status,
            "statuses": [*ReceptionStatus.choices, (Reimbursement.SUBMITTED, Reimbursement.SUBMITTED.label)],
            "may_request": permissions.may_request(actor) or permissions.is_front_desk(actor),
            "request_possible": possible,
            "why_not": why_not,
            "may_see_costs": permissions.may_see_costs(actor, setup),
            "may_set_up": permissions.may_set_up(actor),
        },
    )


def _request_page(request: AuthedHttpRequest, status: int = 200) -> HttpResponse:
    actor = request.user
    possible, why_not = selectors.request_possible(actor.org_id)
    front_desk = permissions.is_front_desk(actor)
    chain, from_preset = selectors.chain_labels(actor.org_id)
    return render(
        request,
        "frontoffice/reception_new.html",
        {
            "items": BudgetItem.choices,
            "possible": possible,
            "why_not": why_not,
            "chain": chain,
            "chain_from_preset": from_preset,
            "departments": Department.objects.filter(organization_id=actor.org_id) if front_desk else [],
            "own_department": actor.department,
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
def reception_new(request: AuthedHttpRequest) -> HttpResponse:
    actor = request.user
    if not (permissions.may_request(actor) or permissions.is_front_desk(actor)):
        raise PermissionDenied
    if request.method != "POST":
        return _request_page(request)
    post = request.POST
    try:
        reception = services.reception_request(
            actor=actor,
            purpose=post.get("purpose", ""),
            guests=post.get("guests", ""),
            starts_on=parse_day(post.get("starts_on"), "starts_on", _("开始日期")),
            ends_on=parse_day(post.get("ends_on"), "ends_on", _("结束日期")),
            expected_outcome=post.get("expected_outcome", ""),
            budget={item: post.get(f"budget_{item}", "") for item in BudgetItem.values},
            hosting_department_id=_id(post.get("hosting_department"), "hosting_department", _("接待部门")),
        )
    except ApplicationError as exc:
        return _refused(request, exc, lambda status: _request_page(request, status))
    messages.success(request, _("接待申请已提交，等待审批。"))
    return redirect("frontoffice:reception", reception_id=reception.pk)


def _reception_page(request: AuthedHttpRequest, reception_id: int, status: int = 200) -> HttpResponse:
    page = selectors.reception_page(actor=request.user, reception_id=reception_id)
    return render(
        request,
        "frontoffice/reception.html",
        {
            "page": page,
            "r": page.reception,
            "items": BudgetItem.choices,
            "ratings": Rating.choices,
            "decisions": Decision.choices,
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
def reception(request: AuthedHttpRequest, reception_id: int) -> HttpResponse:
    return _reception_page(request, reception_id)


def _reception_step(request: AuthedHttpRequest, reception_id: int, step: Callable[[], Any], done: str) -> HttpResponse:
    selectors.reception_get(actor=request.user, reception_id=reception_id)  # 404 / 403 first
    try:
        step()
    except ApplicationError as exc:
        return _refused(request, exc, lambda status: _reception_page(request, reception_id, status))
    messages.success(request, done)
    return redirect("frontoffice:reception", reception_id=reception_id)


def _version(request: AuthedHttpRequest) -> int:
    return form_version(request.POST.get("version"))


@login_required
@require_POST
def decide(request: AuthedHttpRequest, reception_id: int) -> HttpResponse:
    decision = request.POST.get("decision", "")

    def step():
        return services.reception_decide(
            actor=request.user,
            reception_id=reception_id,
            decision=decision,
            opinion=request.POST.get("opinion", ""),
            expected_version=_version(request),
        )

    done = _("已审批：同意。") if decision == Decision.APPROVED else _("已审批：不同意。")
    return _reception_step(request, reception_id, step, done)


@login_required
@require_POST
def reception_cancel(request: AuthedHttpRequest, reception_id: int) -> HttpResponse:
    def step():
        return services.reception_cancel(
            actor=request.user,
            reception_id=reception_id,
            reason=request.POST.get("reason", ""),
            expected_version=_version(request),
        )

    return _reception_step(request, reception_id, step, _("已取消这次接待。"))


@login_required
@require_POST
def arrangement_add(request: AuthedHttpRequest, reception_id: int) -> HttpResponse:
    def step():
        return services.arrangement_add(
            actor=request.user, reception_id=reception_id, label=request.POST.get("label", "")
        )

    return _reception_step(request, reception_id, step, _("已增加安排事项。"))


@login_required
@require_POST
def arrangement_done(request: AuthedHttpRequest, arrangement_id: int) -> HttpResponse:
    reception_id = selectors.arrangement_reception(actor=request.user, arrangement_id=arrangement_id)

    def step():
        return services.arrangement_done(
            actor=request.user, arrangement_id=arrangement_id, note=request.POST.get("note", "")
        )

    return _reception_step(request, reception_id, step, _("安排事项已完成。"))


@login_required
@require_POST
def expense_add(request: AuthedHttpRequest, reception_id: int) -> HttpResponse:
    def step():
        return services.expense_record(
            actor=request.user,
            reception_id=reception_id,
            item=request.POST.get("item", ""),
            amount=request.POST.get("amount", ""),
            spent_on=parse_day(request.POST.get("spent_on"), "spent_on", _("支出日期")),
            description=request.POST.get("description", ""),
            receipt=request.FILES.get("receipt"),
        )

    return _reception_step(request, reception_id, step, _("已登记费用。"))


@login_required
def receipt(request: AuthedHttpRequest, expense_id: int) -> HttpResponseBase:
    expense = selectors.expense_for_download(actor=request.user, expense_id=expense_id)
    return FileResponse(expense.receipt.open("rb"), as_attachment=True, filename=expense.receipt_name or "receipt")


@login_required
@require_POST
def overrun_add(request: AuthedHttpRequest, reception_id: int) -> HttpResponse:
    def step():
        return services.overrun_request(
            actor=request.user,
            reception_id=reception_id,
            item=request.POST.get("item", ""),
            amount=request.POST.get("amount", ""),
            reason=request.POST.get("reason", ""),
        )

    return _reception_step(request, reception_id, step, _("已提交超预算报批。"))


@login_required
@require_POST
def overrun_decide(request: AuthedHttpRequest, overrun_id: int) -> HttpResponse:
    reception_id = selectors.overrun_reception(actor=request.user, overrun_id=overrun_id)

    def step():
        return services.overrun_decide(
            actor=request.user,
            overrun_id=overrun_id,
            decision=request.POST.get("decision", ""),
            opinion=request.POST.get("opinion", ""),
        )

    return _reception_step(request, reception_id, step, _("已审批超预算报批。"))


@login_required
@require_POST
def reception_close(request: AuthedHttpRequest, reception_id: int) -> HttpResponse:
    def step():
        return services.reception_close(
            actor=request.user,
            reception_id=reception_id,
            summary=request.POST.get("summary", ""),
            feedback=request.POST.get("feedback", ""),
            feedback_comment=request.POST.get("feedback_comment", ""),
            expected_version=_version(request),
        )

    return _reception_step(request, reception_id, step, _("已保存接待总结。"))


@login_required
@require_POST
def reimbursement_submit(request: AuthedHttpRequest, reception_id: int) -> HttpResponse:
    def step():
        return services.reimbursement_submit(
            actor=request.user, reception_id=reception_id, expected_version=_version(request)
        )

    return _reception_step(request, reception_id, step, _("已提交报销，等待财务部门办理。"))


@login_required
@require_POST
def reimburse(request: AuthedHttpRequest, reception_id: int) -> HttpResponse:
    decision = request.POST.get("decision", "")

    def step():
        return services.reimbursement_decide(
            actor=request.user,
            reception_id=reception_id,
            decision=decision,
            note=request.POST.get("note", ""),
            expected_version=_version(request),
        )

    done = _("已报销。") if decision == Reimbursement.REIMBURSED else _("已退回补正。")
    return _reception_step(request, reception_id, step, done)


# --- the cost report -----------------------------------------------------------------------------------


def _period(request: AuthedHttpRequest) -> tuple[date, date, dict[str, list[str]]]:
    """From / to (both included) from ?start=&end= (this year by default)."""
    first, last = period_dates("year", timezone.localdate())
    errors: dict[str, list[str]] = {}
    try:
        start = parse_day(request.GET.get("start"), "start", _("开始日期")) or first
    except ValidationFailed as exc:
        errors.update(exc.errors)
        start = first
    try:
        end = parse_day(request.GET.get("end"), "end", _("结束日期")) or last
    except ValidationFailed as exc:
        errors.update(exc.errors)
        end = last
    for field, day in (("start", start), ("end", end)):
        if not date(2000, 1, 1) <= day <= date(2100, 12, 31):
            errors[field] = [_("日期应在 %(a)s 至 %(b)s 之间。") % {"a": "2000-01-01", "b": "2100-12-31"}]
    if not errors and end < start:
        errors["end"] = [_("结束日期不能早于开始日期。")]
    if errors:
        return first, last, errors
    return start, end, errors


def _cost_department(request: AuthedHttpRequest) -> int | None:
    try:
        return _id(request.GET.get("department"), "department", _("部门"))
    except ValidationFailed:
        raise NotFound(_("所选部门不存在或不属于本单位。")) from None


@login_required
def costs(request: AuthedHttpRequest) -> HttpResponse:
    actor = request.user
    start, end, errors = _period(request)
    report = selectors.cost_report_for(actor=actor, start=start, end=end, department_id=_cost_department(request))
    return render(
        request,
        "frontoffice/costs.html",
        {
            "report": report,
            "errors": errors,
            "items": BudgetItem.choices,
            "departments": selectors.cost_departments(actor=actor),
            "query": request.GET.urlencode(),
        },
        status=400 if errors else 200,
    )


@login_required
def costs_export(request: AuthedHttpRequest) -> HttpResponse:
    start, end, errors = _period(request)
    report = selectors.cost_report_for(
        actor=request.user, start=start, end=end, department_id=_cost_department(request)
    )
    if errors:
        messages.error(request, _("请检查报表期间。"))
        return redirect("frontoffice:costs")
    response = HttpResponse(workbook(report), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="reception-costs-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"'
    return response


# --- the setup -----------------------------------------------------------------------------------------


def _setup_page(request: AuthedHttpRequest, status: int = 200) -> HttpResponse:
    actor = request.user
    setup = setup_of(actor.org_id)
    return render(
        request,
        "frontoffice/setup.html",
        {
            "setup": setup,
            "version": setup_fingerprint(setup),
            "departments": Department.objects.filter(organization_id=actor.org_id).order_by("sort_order", "name"),
        },
        status=status,
    )


@login_required
def setup(request: AuthedHttpRequest) -> HttpResponse:
    actor = request.user
    if not permissions.may_set_up(actor):
        raise PermissionDenied
    if request.method != "POST":
        return _setup_page(request)
    try:
        services.setup_save(
            actor=actor,
            office_department_id=_id(request.POST.get("office_department"), "office_department", _("行政部门")),
            finance_department_id=_id(request.POST.get("finance_department"), "finance_department", _("财务部门")),
            expected_version=form_fingerprint(request.POST.get("version")),
        )
    except ApplicationError as exc:
        return _refused(request, exc, lambda status: _setup_page(request, status))
    messages.success(request, _("接待设置已保存。"))
    return redirect("frontoffice:setup")
