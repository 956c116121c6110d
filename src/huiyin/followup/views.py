"""The callback queue (回访工作台): one row per due callback, one key per outcome."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from huiyin.core.errors import ApplicationError, PermissionDeniedError, http_status
from huiyin.core.http import AuthedHttpRequest
from huiyin.core.validators import form_version
from huiyin.policy.services import current_policy

from . import selectors, services
from .models import Satisfaction
from .permissions import may_use_callback_desk

# The one-keystroke outcomes (Alt+key in Chromium): (key, outcome, satisfaction, label)
OUTCOMES = (
    ("1", "reached", "satisfied", gettext_lazy("满意")),
    ("2", "reached", "basically_satisfied", gettext_lazy("基本满意")),
    ("3", "reached", "dissatisfied", gettext_lazy("不满意（重办）")),
    ("4", "not_reached", "", gettext_lazy("未接通")),
    ("5", "wrong_number", "", gettext_lazy("号码错误")),
)


def _may_use(request: AuthedHttpRequest) -> None:
    if not may_use_callback_desk(request.user):
        raise PermissionDenied


@login_required
def queue(request: AuthedHttpRequest) -> HttpResponse:
    _may_use(request)
    return _queue_page(request)


def _refused(request: AuthedHttpRequest, exc: ApplicationError, *, callback_id: int | None = None) -> HttpResponse:
    """The queue again with the reason (400; 404 for a callback or task that is not there,
    403 for someone else's), nothing stored; a refused callback record shows each field's
    message beside that callback's fields."""
    if not may_use_callback_desk(request.user):  # a head deciding from the desk has no queue page
        return HttpResponse(exc.message, status=http_status(exc), content_type="text/plain; charset=utf-8")
    if callback_id is not None and exc.field:
        return _queue_page(request, status=http_status(exc), failed=callback_id, failed_errors=exc.field_errors())
    messages.error(request, exc.message)
    return _queue_page(request, status=http_status(exc))


def _queue_page(
    request: AuthedHttpRequest,
    status: int = 200,
    *,
    failed: int | None = None,
    failed_errors: dict[str, list[str]] | None = None,
) -> HttpResponse:

    policy = current_policy(request.user.org_id)
    rules = policy.preset().callback if policy is not None else None
    shares = [(s.role, s.min_share) for s in rules.shares] if rules else []
    now = timezone.localtime()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    callbacks = list(selectors.queue(request.user)[:100])
    if failed is not None and failed not in {c.pk for c in callbacks}:  # not on this page: said on top
        for texts in (failed_errors or {}).values():
            for text in texts:
                messages.error(request, text)
    return render(
        request,
        "followup/queue.html",
        {
            "callbacks": callbacks,
            "now": now,
            "outcomes": OUTCOMES,
            "quota": selectors.quota_progress(request.user.org_id, month_start, shares),
            "month_start": month_start,
            "tasks": list(selectors.open_tasks(request.user)[:50]),
            "decisions": list(selectors.awaiting_decision(request.user)[:50]),
            "failed": failed,
            "failed_errors": failed_errors or {},
            "posted": request.POST if failed is not None else {},
        },
        status=status,
    )


@login_required
@require_POST
def decide(request: AuthedHttpRequest, callback_id: int) -> HttpResponse:
    p = request.POST
    try:
        services.dissatisfaction_decide(
            actor=request.user,
            callback_id=callback_id,
            decision=p.get("decision", ""),
            note=p.get("note", ""),
            expected_version=form_version(p.get("version")),
        )
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return _refused(request, exc)
    messages.success(request, _("已记录部门负责人的决定。"))
    return redirect("followup:queue")


@login_required
@require_POST
def task_done(request: AuthedHttpRequest, task_id: int) -> HttpResponse:
    try:
        services.task_done(actor=request.user, task_id=task_id, note=request.POST.get("note", ""))
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return _refused(request, exc)
    messages.success(request, _("已登记整改情况。"))
    return redirect("followup:queue")


@login_required
@require_POST
def record(request: AuthedHttpRequest, callback_id: int) -> HttpResponse:
    _may_use(request)
    p = request.POST
    key = p.get("key", "")
    chosen = next((o for o in OUTCOMES if o[0] == key), None)
    try:
        if chosen is None:
            raise ApplicationError(_("请选择回访结果。"), field="outcome")
        services.callback_record(
            actor=request.user,
            callback_id=callback_id,
            outcome=chosen[1],
            satisfaction=chosen[2],
            findings=p.get("findings", ""),
            attitude=p.get("attitude", ""),
            charges_checked={"yes": True, "no": False}.get(p.get("charges_checked", "")),
            note=p.get("note", ""),
            problem=p.get("problem", ""),
            method=p.get("method") or "phone",
            signature_scan=request.FILES.get("signature_scan"),
            signature_drawn=p.get("signature_drawn", ""),
            expected_version=form_version(p.get("version")),
        )
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return _refused(request, exc, callback_id=callback_id)
    assert chosen is not None  # refused above otherwise
    messages.success(request, _("已记录回访：%(label)s") % {"label": chosen[3]})
    return redirect("followup:queue")


@login_required
@require_POST
def rating_link(request: AuthedHttpRequest, callback_id: int) -> HttpResponse:
    _may_use(request)
    try:
        _link, url = services.rating_link_issue(actor=request.user, callback_id=callback_id)
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return _refused(request, exc)
    messages.success(request, _("评价链接（7 天内有效，只能使用一次）：%(url)s") % {"url": url})
    return redirect("followup:queue")


def rate(request: HttpRequest, token: str) -> HttpResponse:
    """The complainant's page: no login, the token is the key."""
    error = done = None
    link = None
    try:
        link = services.rating_link_find(token)
    except ApplicationError as exc:
        error = exc.message
    if link is not None and request.method == "POST":
        try:
            services.rating_submit(
                token=token, satisfaction=request.POST.get("satisfaction", ""), comment=request.POST.get("comment", "")
            )
        except ApplicationError as exc:
            error = exc.message
        else:
            done = True
    return render(
        request,
        "followup/rate.html",
        {
            "link": link,
            "error": error,
            "done": done,
            "choices": Satisfaction.choices,
            "case": link.callback.case if link else None,
        },
        status=400 if error and not done else 200,
    )
