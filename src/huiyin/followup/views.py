"""The callback desk (回访工作台): one callback at a time on a card, the filtered queue beside it."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from huiyin.cases.export import FULL_EXPORT_MAX
from huiyin.cases.permissions import may_reveal_pii
from huiyin.cases.selectors import case_get_for_actor
from huiyin.cases.views import on_case_page
from huiyin.core.errors import ApplicationError, NotFound, PermissionDeniedError, ValidationFailed, http_status
from huiyin.core.export_views import list_export
from huiyin.core.http import AuthedHttpRequest
from huiyin.core.validators import ID_MAX, form_version, parse_moment, whole_number
from huiyin.policy.services import current_policy

from . import selectors, services
from .forms import FILTER_KEYS, QueueFilterForm
from .models import Satisfaction
from .permissions import may_use_callback_desk

# The queue beside the card: this many callbacks, from a few before the current one.
QUEUE_SHOWN = 40
QUEUE_BEFORE = 5

# The one-keystroke outcomes (Alt+key, callbacks.js): (key, outcome, satisfaction, label)
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


@login_required
def queue_export(request: AuthedHttpRequest, fmt: str) -> HttpResponseBase:
    """The filtered queue as a spreadsheet (``export.queue_listing``): masked as on the card
    (GET), or in full for those with the personal-data right (POST), each case logged."""
    return list_export(request, "callbacks", fmt)


def _refused(request: AuthedHttpRequest, exc: ApplicationError, callback_id: int | None = None) -> HttpResponse:
    """The queue again with the reason (400; 404 for a callback or task that is not there,
    403 for someone else's), nothing stored; a refused callback stays on the card with
    each field's message next to it."""
    messages.error(request, exc.message)
    if not may_use_callback_desk(request.user):  # a head deciding from the desk has no queue page
        return HttpResponse(exc.message, status=http_status(exc), content_type="text/plain; charset=utf-8")
    return _queue_page(request, status=http_status(exc), current=callback_id, errors=exc.field_errors())


def _filter_query(form: QueueFilterForm) -> str:
    """The chosen filters as a query string (without the current callback)."""
    data = form.data if form.is_bound else {}
    return urlencode({key: data[key] for key in FILTER_KEYS if data.get(key)})


def _back_to_queue(request: AuthedHttpRequest, current: int | None) -> HttpResponse:
    """The queue with the same filters, showing ``current`` (when it is still due)."""
    form = QueueFilterForm(request.GET or None, organization_id=request.user.org_id)
    query = _filter_query(form)
    if current:
        query = f"{query}&c={current}" if query else f"c={current}"
    return redirect(reverse("followup:queue") + (f"?{query}" if query else ""))


def _queue_page(
    request: AuthedHttpRequest, status: int = 200, current: int | None = None, errors: dict | None = None
) -> HttpResponse:
    """One callback at a time (the card) with the filtered queue beside it."""
    form = QueueFilterForm(request.GET or None, organization_id=request.user.org_id)
    filters = form.filters()
    position = selectors.queue_position(request.user, filters, current or form.current())
    card = round_ = None
    if position.current is not None:
        card, round_ = selectors.callback_card(request.user, position.current)
    if current is not None and position.current != current:
        # The refused callback has left the queue (recorded meanwhile in another tab, or the
        # case closed): its messages and what was typed for it do not belong on this card.
        errors = None
    index = position.index or 0
    start = max(0, index - QUEUE_BEFORE)
    window = position.ids[start : start + QUEUE_SHOWN]
    listed = {c.pk: c for c in selectors.queue(request.user, filters).filter(pk__in=window)}
    policy = current_policy(request.user.org_id)
    rules = policy.preset().callback if policy is not None else None
    shares = [(s.role, s.min_share) for s in rules.shares] if rules else []
    now = timezone.localtime()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    query = _filter_query(form)
    return render(
        request,
        "followup/queue.html",
        {
            "form": form,
            "query": query,
            "card": card,
            "answered": round_,
            "position": position,
            "place": index + 1,
            "listed": [listed[i] for i in window if i in listed],
            "errors": errors or {},
            "posted": request.POST if errors else {},  # a refused record keeps what was entered
            "may_reveal": card is not None and may_reveal_pii(request.user),
            "full_export": may_reveal_pii(request.user),
            "full_export_max": f"{FULL_EXPORT_MAX:,}",
            "now": now,
            "outcomes": OUTCOMES,
            "quota": selectors.quota_progress(request.user.org_id, month_start, shares),
            "month_start": month_start,
            "tasks": list(selectors.open_tasks(request.user)[:50]),
            "decisions": list(selectors.awaiting_decision(request.user)[:50]),
        },
        status=400 if form.errors and status == 200 else status,
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
def promised_answer(request: AuthedHttpRequest, promise_id: int) -> HttpResponse:
    """The answer promised at a callback, recorded from the case page."""
    promise = selectors.promise_get(actor=request.user, promise_id=promise_id)
    case = case_get_for_actor(actor=request.user, case_id=promise.case_id)
    p = request.POST
    return on_case_page(
        request,
        case,
        lambda: services.promised_answer_give(
            actor=request.user,
            promise_id=promise.pk,
            answer=p.get("answer", ""),
            expected_version=form_version(p.get("version")),
        ),
        _("已登记答复。"),
    )


@login_required
@require_POST
def record(request: AuthedHttpRequest, callback_id: int) -> HttpResponse:
    """One attempt recorded; then the next callback of the same filtered queue (posted as
    ``next`` by the card) is on the card."""
    _may_use(request)
    p = request.POST
    key = p.get("key", "")
    chosen = next((o for o in OUTCOMES if o[0] == key), None)
    try:
        if chosen is None:
            raise ValidationFailed({"outcome": [_("请选择回访结果。")]})
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
            pending_question=p.get("pending_question", ""),
            answer_by=parse_moment(p.get("answer_by"), "answer_by", _("预约答复时间")),
            expected_version=form_version(p.get("version")),
        )
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return _refused(request, exc, callback_id)
    assert chosen is not None  # refused above otherwise
    messages.success(request, _("已记录回访：%(label)s") % {"label": chosen[3]})
    return _back_to_queue(request, whole_number(p.get("next", ""), maximum=ID_MAX))


@login_required
@require_POST
def reveal(request: AuthedHttpRequest, callback_id: int) -> HttpResponse:
    """The complainant's number on the callback card (htmx), logged as the case page's full view."""
    _may_use(request)
    try:
        revealed = services.callback_number_reveal(actor=request.user, callback_id=callback_id)
    except NotFound:
        raise
    except ApplicationError as exc:
        return HttpResponse(
            f'<span class="text-danger" role="alert">{escape(exc.message)}</span>', status=http_status(exc)
        )
    return render(request, "followup/_dial.html", {"parties": list(revealed.values())})


@login_required
@require_POST
def rating_link(request: AuthedHttpRequest, callback_id: int) -> HttpResponse:
    _may_use(request)
    try:
        _link, url = services.rating_link_issue(actor=request.user, callback_id=callback_id)
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return _refused(request, exc, callback_id)
    messages.success(request, _("评价链接（7 天内有效，只能使用一次）：%(url)s") % {"url": url})
    return _back_to_queue(request, callback_id)


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
