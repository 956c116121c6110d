"""Supervision board, notices and the daily review: parse, call one selector or
service, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from huiyin.cases.selectors import case_get_by_number, case_get_for_actor, page
from huiyin.core.errors import ApplicationError, PermissionDeniedError
from huiyin.core.export_views import export_response
from huiyin.core.forms import put_errors
from huiyin.core.http import AuthedHttpRequest
from huiyin.core.validators import whole_number

from . import selectors, services
from .forms import AnswerForm, BoardFilterForm, CloseForm, IssueForm, ReviewDoneForm
from .permissions import board_department, may_daily_review, may_see_board, may_supervise


def staff_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; a selector's or service's PermissionDeniedError is a 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDeniedError:
            raise PermissionDenied from None

    return login_required(wrapper)


@staff_view
def board(request: AuthedHttpRequest) -> HttpResponse:
    actor = request.user
    if not may_see_board(actor):
        raise PermissionDenied
    form = BoardFilterForm(request.GET or None, organization_id=actor.org_id)
    filters, page_number = selectors.BoardFilters(), 1
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        filters = selectors.BoardFilters(
            department_id=d["department"].pk if d["department"] else None, status=d["status"]
        )
        page_number = d["page"] or 1
    now = timezone.now()
    cases, has_next = page(selectors.board(actor=actor, filters=filters, now=now), page_number)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "supervision/board.html",
        {
            "form": form,
            "rows": selectors.board_rows(cases=cases, now=now),
            "page_number": page_number,
            "has_next": has_next,
            "query": query.urlencode(),
            "can_issue": may_supervise(actor),
            "own_department": board_department(actor) is not None,
        },
    )


@login_required
@require_GET
def board_export(request: AuthedHttpRequest, fmt: str) -> HttpResponseBase:
    """The board with its filters as a spreadsheet (``export.board_listing``): who sees the
    board may export it; it holds no personal data, so there is no full export."""
    return export_response(request, "board", fmt)


@staff_view
def issue(request: AuthedHttpRequest) -> HttpResponse:
    actor = request.user
    if not may_supervise(actor):
        raise PermissionDenied
    initial = {}
    case_id = whole_number(request.GET.get("case"))
    if case_id is not None:
        linked = case_get_for_actor(actor=actor, case_id=case_id)
        initial = {"case_number": linked.number, "department": linked.lead_department}
    form = IssueForm(request.POST or None, initial=initial, organization_id=actor.org_id)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        case = case_get_by_number(actor=actor, number=d["case_number"])
        if case is None:
            form.add_error("case_number", _("找不到该案件。"))
        else:
            try:
                notice = services.supervision_issue(
                    actor=actor,
                    case_id=case.pk,
                    kind=d["kind"],
                    department_id=d["department"].pk,
                    requirement=d["requirement"],
                    due_at=d["due_at"],
                )
            except PermissionDeniedError:
                raise
            except ApplicationError as exc:
                put_errors(form, exc)
            else:
                messages.success(request, _("已发出督办单 %(number)s。") % {"number": notice.number})
                return redirect("supervision:notice", notice_id=notice.pk)
    return render(request, "supervision/issue.html", {"form": form}, status=400 if form.errors else 200)


def _notice_page(request: AuthedHttpRequest, notice_id: int, status: int = 200, **forms) -> HttpResponse:
    notice = selectors.notice_get_for_actor(actor=request.user, notice_id=notice_id)
    return render(
        request,
        "supervision/notice.html",
        {
            "notice": notice,
            "actions": selectors.notice_actions(actor=request.user, notice=notice),
            "answer_form": forms.get("answer_form") or AnswerForm(),
            "close_form": forms.get("close_form") or CloseForm(),
        },
        status=status,
    )


@staff_view
def notice(request: AuthedHttpRequest, notice_id: int) -> HttpResponse:
    return _notice_page(request, notice_id)


@staff_view
@require_POST
def answer(request: AuthedHttpRequest, notice_id: int) -> HttpResponse:
    selectors.notice_get_for_actor(actor=request.user, notice_id=notice_id)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.supervision_answer(actor=request.user, notice_id=notice_id, answer=form.cleaned_data["answer"])
        except PermissionDeniedError:
            raise
        except ApplicationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("已反馈。"))
            return redirect("supervision:notice", notice_id=notice_id)
    return _notice_page(request, notice_id, status=400, answer_form=form)


@staff_view
@require_POST
def close(request: AuthedHttpRequest, notice_id: int) -> HttpResponse:
    selectors.notice_get_for_actor(actor=request.user, notice_id=notice_id)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            services.supervision_close(actor=request.user, notice_id=notice_id, note=form.cleaned_data["note"])
        except PermissionDeniedError:
            raise
        except ApplicationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("督办单已销号。"))
            return redirect("supervision:notice", notice_id=notice_id)
    return _notice_page(request, notice_id, status=400, close_form=form)


@staff_view
def daily_review(request: AuthedHttpRequest) -> HttpResponse:
    actor = request.user
    if not may_daily_review(actor):
        raise PermissionDenied
    now = timezone.now()
    queue = selectors.daily_review_queue(actor=actor, now=now)
    page_number = whole_number(request.GET.get("page", "1")) or 1
    cases, has_next = page(queue.cases, page_number)
    return render(
        request,
        "supervision/daily_review.html",
        {
            "queue": queue,
            "rows": selectors.review_rows(cases=cases, since=queue.since),
            "page_number": page_number,
            "has_next": has_next,
            "form": ReviewDoneForm(initial={"as_of": now.isoformat()}),
        },
    )


@staff_view
@require_POST
def daily_review_done(request: AuthedHttpRequest) -> HttpResponse:
    if not may_daily_review(request.user):
        raise PermissionDenied
    form = ReviewDoneForm(request.POST)
    if form.is_valid():
        try:
            services.daily_review_complete(
                actor=request.user,
                note=form.cleaned_data["note"],
                covered_until=form.cleaned_data["as_of"],
            )
        except PermissionDeniedError:
            raise
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已记录本次复查。"))
    else:
        messages.error(request, _("复查说明有误，请重试。"))
    return redirect("supervision:daily_review")
