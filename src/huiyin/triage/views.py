"""Triage pages: the JSON suggestion endpoint the intake forms' script calls, the keystroke
that accepts a suggestion, the administrator's page of model versions, and the hot issues page (F52)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huiyin.cases.selectors import case_get_for_actor
from huiyin.cases.views import on_case_page
from huiyin.core.errors import ApplicationError, NotFound, PermissionDeniedError, http_status
from huiyin.core.http import AuthedHttpRequest
from huiyin.core.validators import normalize_phone, whole_number
from huiyin.orgs.models import Organization

from . import hot
from .forms import HotFilterForm
from .links import case_link, case_unlink, intake_link_mark
from .models import TriageModel
from .permissions import may_get_suggestions, may_manage_models
from .records import acceptance_rate, suggestion_accept, suggestion_record
from .repeats import candidates
from .suggest import availability, suggest

TEXT_LIMIT = 50_000  # what the endpoint reads of a posted text


@login_required
@require_POST
def suggest_view(request: AuthedHttpRequest) -> JsonResponse:
    """Suggestions for the text being typed (POST: a complaint's text never travels in a URL)."""
    if not may_get_suggestions(request.user):
        raise PermissionDenied
    post = request.POST
    names = [post.get("party_name", "")[:100]]
    result = suggest(
        post.get("title", "")[:400],
        post.get("text", "")[:TEXT_LIMIT],
        post.get("location", "")[:400],
        post.get("channel", "")[:20],
        organization=request.user.org_id,
        names=[n for n in names if n],
    )
    suggestion_record(actor=request.user, intake_token=post.get("intake_token", ""), result=result)
    return JsonResponse(result.as_dict(), json_dumps_params={"ensure_ascii": False})


@login_required
@require_POST
def repeats_view(request: AuthedHttpRequest) -> JsonResponse:
    """Open and recent cases the matter being typed may repeat (POST: phone and ID numbers
    never travel in a URL); phone and ID matches only for those who may see caller history."""
    if not may_get_suggestions(request.user):
        raise PermissionDenied
    post = request.POST
    found = candidates(
        actor=request.user,
        phone=normalize_phone(post.get("party_phone", "")[:40]),
        id_number=post.get("party_id_number", "")[:40].strip(),
        location=post.get("location", "")[:400],
        title=post.get("title", "")[:400],
        text=post.get("text", "")[:TEXT_LIMIT],
    )
    # The case's page, and where this call is added to it as a contact: nowhere for an
    # archived case (read-only), so the panel offers no button that can only fail.
    return JsonResponse(
        {
            "candidates": [
                {
                    **asdict(c),
                    "url": reverse("cases:detail", args=[c.id]),
                    "add_url": reverse("cases:add_contact", args=[c.id]) if c.takes_contacts else None,
                }
                for c in found
            ]
        },
        json_dumps_params={"ensure_ascii": False},
    )


@login_required
@require_POST
def accept_view(request: AuthedHttpRequest) -> JsonResponse:
    """The clerk took a suggested category (the keystroke on the intake form)."""
    if not may_get_suggestions(request.user):
        raise PermissionDenied
    category_id = whole_number(request.POST.get("category", ""))
    if category_id is None:
        return JsonResponse({"code": "invalid", "message": _("请选择建议中的分类。")}, status=400)
    try:
        suggestion_accept(
            actor=request.user, intake_token=request.POST.get("intake_token", ""), category_id=category_id
        )
    except ApplicationError as exc:
        return JsonResponse(exc.as_dict(), status=http_status(exc))
    return JsonResponse({"accepted": category_id})


@login_required
def models_page(request: AuthedHttpRequest) -> HttpResponse:
    if not may_manage_models(request.user):
        raise PermissionDenied
    org_id = request.user.org_id
    status, notice, current = availability(org_id)
    return render(
        request,
        "triage/models.html",
        {
            "models": TriageModel.objects.filter(organization_id=org_id).order_by("-version")[:50],
            "status": status,
            "notice": notice,
            "current": current,
            "acceptance": acceptance_rate(org_id),
        },
    )


@login_required
@require_POST
def retrain(request: AuthedHttpRequest) -> HttpResponse:
    if not may_manage_models(request.user):
        raise PermissionDenied
    from .tasks import retrain_task  # scikit-learn (heavy) is loaded only when a model is trained

    org_id = request.user.org_id
    transaction.on_commit(lambda: retrain_task.enqueue(organization_id=org_id))
    messages.success(request, _("已安排重新训练：用本单位已办结的案件训练，完成后在此显示结果。"))
    return redirect("triage:models")


@login_required
@require_POST
def rollback_view(request: AuthedHttpRequest) -> HttpResponse:
    if not may_manage_models(request.user):
        raise PermissionDenied
    from .services import rollback  # scikit-learn (heavy) is loaded only when models are handled

    version = whole_number(request.POST.get("version", ""))
    try:
        row = rollback(Organization.objects.get(pk=request.user.org_id), to_version=version)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("triage:models")
    messages.success(request, _("已回退到模型 v%(version)s。") % {"version": row.version})
    return redirect("triage:models")


@login_required
def hot_page(request: AuthedHttpRequest) -> HttpResponse:
    """Hot issues: the clusters of similar cases in a window and an area, hottest first."""
    hot.scope_for(request.user)  # 403 before anything else
    form = HotFilterForm(request.GET)
    board = None
    if form.is_valid():
        board = hot.hot_issues(
            actor=request.user, window=form.cleaned_data["window"], area=form.cleaned_data["area"].strip()
        )
    return render(
        request,
        "triage/hot.html",
        {"form": form, "board": board, "windows": hot.WINDOWS, "weights": hot.WEIGHTS},
        status=200 if board is not None else 400,
    )


# --- related cases (关联) on the case page ------------------------------------------------------------


def _back_to_case(request: AuthedHttpRequest, case_id: int, call: Callable[[], object], done: str) -> HttpResponse:
    """Run the service; done: back to the case page. A refusal of this actor is a 403; any other
    refusal: the case page again with the reason under the field it names, nothing stored."""
    return on_case_page(request, case_get_for_actor(actor=request.user, case_id=case_id), call, done)


@login_required
@require_POST
def link_view(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    post = request.POST
    return _back_to_case(
        request,
        case_id,
        lambda: case_link(
            actor=request.user,
            case_id=case_id,
            other_number=post.get("other_number", ""),
            reason=post.get("reason", ""),
        ),
        _("已关联。"),
    )


@login_required
@require_POST
def unlink_view(request: AuthedHttpRequest, case_id: int, link_id: int) -> HttpResponse:
    return _back_to_case(
        request,
        case_id,
        lambda: case_unlink(
            actor=request.user, case_id=case_id, link_id=link_id, reason=request.POST.get("reason", "")
        ),
        _("已取消关联。"),
    )


@login_required
@require_POST
def intake_link_view(request: AuthedHttpRequest) -> JsonResponse:
    """关联 on a repeat candidate of an intake form: the case about to be registered is linked
    to it once registered (the intake form's script posts this)."""
    if not may_get_suggestions(request.user):
        raise PermissionDenied
    try:
        case_id = whole_number(request.POST.get("case_id", ""))
        if case_id is None:
            raise NotFound()
        intake_link_mark(actor=request.user, intake_token=request.POST.get("intake_token", ""), case_id=case_id)
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return JsonResponse(exc.as_dict(), status=http_status(exc), json_dumps_params={"ensure_ascii": False})
    return JsonResponse({"ok": True})
