"""Handling panels on the case page: each form posts to one view that calls one service
and returns to the case page, with the service's message (naming the field) on failure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huiyin.cases import selectors as case_selectors
from huiyin.cases.views import case_page_context
from huiyin.core import refusals
from huiyin.core.errors import ApplicationError, PermissionDeniedError, StaleObject, http_status
from huiyin.core.http import AuthedHttpRequest
from huiyin.core.validators import ID_MAX, form_fingerprint, form_version, parse_moment, whole_number

from . import documents, permissions, services
from .document_texts import DEFAULT_TEMPLATES, DocumentKind, sample_context
from .models import Document, DocumentTemplate


def _when(request: HttpRequest, field: str, label: str) -> datetime | None:
    """A date and time from the form (2026-13-01 or 30 February is refused naming the field)."""
    return parse_moment(request.POST.get(field, ""), field, label)


def _id(request: HttpRequest, field: str) -> int:
    """A record id from the form; anything but a whole number is no record (0)."""
    return whole_number(request.POST.get(field), maximum=ID_MAX) or 0


def _ids(request: HttpRequest, name: str) -> list[int]:
    return [n for n in (whole_number(v, maximum=ID_MAX) for v in request.POST.getlist(name)) if n is not None]


def _run(request: AuthedHttpRequest, case_id: int, call: Callable[[], object], done: str) -> HttpResponse:
    """Run the service; done: back to the case page. A refusal of this actor is a 403; any other
    refusal: the case page again with the reason (status 400, or 404 for a record that is not
    there), nothing stored."""
    try:
        call()
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return _refused(request, case_id, exc)
    messages.success(request, done)
    return redirect("cases:detail", case_id=case_id)


def _refused(request: AuthedHttpRequest, case_id: int, exc: ApplicationError) -> HttpResponse:
    """The case page again: the message on top, and (core/refusals.py) under the field it
    names in the form that was posted, with what was typed given back."""
    messages.error(request, exc.message)
    refusals.remember(request, exc)
    case = _case(request, case_id)
    return render(request, "cases/detail.html", case_page_context(request, case), status=http_status(exc))


Steps = dict[str, tuple[Callable[[], object], str]]


def _run_step(request: AuthedHttpRequest, case_id: int, steps: Steps, step: str) -> HttpResponse:
    """One of a record's steps (notify, plan, check…), chosen by the URL."""
    if step not in steps:
        raise PermissionDenied
    call, done = steps[step]
    return _run(request, case_id, call, done)


def _case(request: AuthedHttpRequest, case_id: int):
    return case_selectors.case_get_for_actor(actor=request.user, case_id=case_id)


@login_required
@require_POST
def assign(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    return _run(
        request,
        case.pk,
        lambda: services.handler_assign(
            actor=request.user,
            case_id=case.pk,
            handler_id=_id(request, "handler"),
            assisting_ids=_ids(request, "assisting_handlers"),
            # the page's version: a stale page never puts back an older choice over a newer one
            expected_version=form_version(request.POST.get("version")),
        ),
        _("已指定承办人。"),
    )


@login_required
@require_POST
def investigation_add(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    p, f = request.POST, request.FILES
    return _run(
        request,
        case.pk,
        lambda: services.investigation_add(
            actor=request.user,
            case_id=case.pk,
            kind=p.get("kind", ""),
            text=p.get("text", ""),
            occurred_at=_when(request, "occurred_at", _("时间")),
            place=p.get("place", ""),
            interviewee=p.get("interviewee", ""),
            uploads=f.getlist("files"),
            signature_scan=f.get("signature_scan"),
            signature_drawn=p.get("signature_drawn", ""),
        ),
        _("调查记录已保存。"),
    )


@login_required
@require_POST
def investigation_confirm(request: AuthedHttpRequest, case_id: int, investigation_id: int) -> HttpResponse:
    case = _case(request, case_id)
    return _run(
        request,
        case.pk,
        lambda: services.investigation_confirm(
            actor=request.user,
            investigation_id=investigation_id,
            signature_scan=request.FILES.get("signature_scan"),
            signature_drawn=request.POST.get("signature_drawn", ""),
        ),
        _("已记录签字确认。"),
    )


@login_required
@require_POST
def rectification(request: AuthedHttpRequest, case_id: int, step: str) -> HttpResponse:
    case = _case(request, case_id)
    p, actor = request.POST, request.user
    rid = _id(request, "rectification_id")
    steps: Steps = {
        "notify": (
            lambda: services.rectification_notify(
                actor=actor,
                case_id=case.pk,
                unit=p.get("unit", ""),
                method=p.get("method", ""),
                requirements=p.get("requirements", ""),
            ),
            _("已通知责任单位整改。"),
        ),
        "plan": (
            lambda: services.rectification_plan_receive(
                actor=actor, rectification_id=rid, plan_text=p.get("plan_text", "")
            ),
            _("已登记整改方案。"),
        ),
        "check": (
            lambda: services.rectification_plan_check(
                actor=actor, rectification_id=rid, verdict=p.get("verdict", ""), note=p.get("note", "")
            ),
            _("已审核整改方案。"),
        ),
        "inform": (
            lambda: services.rectification_inform_complainant(
                actor=actor, rectification_id=rid, method=p.get("method", ""), note=p.get("note", "")
            ),
            _("已记录告知反映人。"),
        ),
    }
    return _run_step(request, case.pk, steps, step)


@login_required
@require_POST
def joint(request: AuthedHttpRequest, case_id: int, step: str) -> HttpResponse:
    case = _case(request, case_id)
    p, actor = request.POST, request.user
    jid = _id(request, "joint_id")
    steps: Steps = {
        "convene": (
            lambda: services.joint_convene(
                actor=actor,
                case_id=case.pk,
                topic=p.get("topic", ""),
                department_ids=_ids(request, "departments"),
                meeting_at=_when(request, "meeting_at", _("会商时间")),
                place=p.get("place", ""),
            ),
            _("已发起联合办理。"),
        ),
        "part": (
            lambda: services.joint_record_part(
                actor=actor, joint_id=jid, department_id=_id(request, "department"), text=p.get("text", "")
            ),
            _("已记录部门意见。"),
        ),
        "conclude": (
            lambda: services.joint_conclude(actor=actor, joint_id=jid, outcome=p.get("outcome", "")),
            _("已记录协调结果。"),
        ),
    }
    return _run_step(request, case.pk, steps, step)


@login_required
@require_POST
def authority(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    p = request.POST
    return _run(
        request,
        case.pk,
        lambda: services.authority_request_set(
            actor=request.user,
            case_id=case.pk,
            authority=p.get("authority", ""),
            reference=p.get("reference", ""),
            due_at=_when(request, "due_at", _("报送时限")),
        ),
        _("已登记上级交办查处要求。"),
    )


@login_required
@require_POST
def document_issue(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    try:
        doc = services.document_issue(actor=request.user, case_id=case.pk, kind=request.POST.get("kind", ""))
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return _refused(request, case.pk, exc)
    messages.success(request, _("已出具：%(title)s（%(number)s）") % {"title": doc.title, "number": doc.number})
    return redirect("handling:document", case_id=case.pk, document_id=doc.pk)


@login_required
@require_POST
def document_step(request: AuthedHttpRequest, case_id: int, document_id: int, step: str) -> HttpResponse:
    case = _case(request, case_id)
    calls = {"approve": (services.document_approve, _("已审批。")), "send": (services.document_send, _("已报送。"))}
    if step not in calls:
        raise PermissionDenied
    fn, done = calls[step]
    return _run(request, case.pk, lambda: fn(actor=request.user, document_id=document_id), done)


def _document(request: AuthedHttpRequest, case_id: int, document_id: int) -> Document:
    case = _case(request, case_id)
    return get_object_or_404(
        Document.objects.select_related("case__organization", "to_party"), pk=document_id, case=case
    )


@login_required
def document_view(request: AuthedHttpRequest, case_id: int, document_id: int) -> HttpResponse:
    doc = _document(request, case_id, document_id)
    return render(
        request,
        "handling/document.html",
        {
            "doc": doc,
            "case": doc.case,
            "salutation": documents.salutation(doc, full=False),
            "paragraphs": [p for p in doc.body.split("\n\n") if p.strip()],
            "issued_on": documents._date(doc.approved_at or doc.created_at),
        },
    )


@login_required
def document_pdf(request: AuthedHttpRequest, case_id: int, document_id: int) -> HttpResponse:
    """The printed letter names the complainant in full for staff allowed to see personal
    data; that full view is logged like any other."""
    _document(request, case_id, document_id)  # the case is visible and the document is on it
    try:
        doc, full = services.document_print(actor=request.user, document_id=document_id)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from exc
    response = HttpResponse(documents.render_pdf(doc, full=full), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{doc.number}.pdf"'
    return response


@login_required
def templates_index(request: AuthedHttpRequest) -> HttpResponse:
    if not permissions.may_edit_document_templates(request.user):
        raise PermissionDenied
    own = {t.kind: t for t in DocumentTemplate.objects.filter(organization_id=request.user.org_id)}
    rows = [(kind, label, own.get(kind)) for kind, label in DocumentKind.choices]
    return render(request, "handling/templates_index.html", {"rows": rows})


@login_required
def template_edit(request: AuthedHttpRequest, kind: str) -> HttpResponse:
    if not permissions.may_edit_document_templates(request.user) or kind not in DocumentKind.values:
        raise PermissionDenied
    title, body = documents.template_for(request.user.org_id, kind)
    version = documents.template_fingerprint(request.user.org_id, kind)
    errors: dict[str, list[str]] = {}
    preview = ""
    if request.method == "POST":
        title, body = request.POST.get("title", ""), request.POST.get("body", "")
        version = request.POST.get("version", "")  # kept: a refused page stays the one it was
        try:
            expected = form_fingerprint(version)
            if request.POST.get("reset"):
                services.document_template_reset(actor=request.user, kind=kind, expected=expected)
                messages.success(request, _("已恢复默认模板。"))
                return redirect("handling:template_edit", kind=kind)
            services.document_template_save(actor=request.user, kind=kind, title=title, body=body, expected=expected)
        except ApplicationError as exc:  # a stale page's message on top of the form, the rest by their field
            errors = exc.field_errors(unnamed="version" if isinstance(exc, StaleObject) else "body")
        else:
            messages.success(request, _("模板已保存，之后出具的文书使用新模板。"))
            return redirect("handling:template_edit", kind=kind)
    if not errors:
        try:  # a template saved before a tag it uses was refused opens with the reason, to repair
            documents.check_template(kind, title, body)
        except ApplicationError as exc:
            errors = exc.field_errors(unnamed="body")
        else:
            preview = documents.render_body(body, sample_context(kind))
    return render(
        request,
        "handling/template_edit.html",
        {
            "kind": kind,
            "label": DocumentKind(kind).label,
            "title": title,
            "body": body,
            "version": version,
            "errors": errors,
            "preview": preview,
            "variables": sorted(sample_context(kind)),
            "default": DEFAULT_TEMPLATES[kind],
        },
        status=400 if errors and request.method == "POST" else 200,
    )
