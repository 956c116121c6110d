"""Handling's panel on the case page (listed in huiyin/subscribers.py, CASE_PANELS)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from huiyin.cases.models import Case
from huiyin.cases.workflow import OPEN_STATES, REVIEW_STATES, CaseState
from huiyin.orgs.models import Department, Staff

from . import documents, selectors, steps
from .models import Document, InvestigationKind, NoticeMethod, PlanVerdict


def case_panel(request: HttpRequest, case: Case) -> dict[str, Any]:
    user = request.user
    panel = selectors.handling_panel(case)
    departments = Department.objects.filter(organization_id=case.organization_id, handles_cases=True)
    caps = selectors.handling_capabilities(user, case, joints=panel["joints"])  # type: ignore[arg-type]
    # The assignment form's choices (only when it is shown): the active staff of the lead and
    # assisting departments, read once with their departments (the helpers' list names them).
    members: list[Staff] = []
    if caps.assign:
        # case.assisting_departments is prefetched by the case page (one read for the page).
        member_departments = {case.lead_department_id, *(d.pk for d in case.assisting_departments.all())}
        members = list(
            Staff.objects.filter(department_id__in=[d for d in member_departments if d], is_active=True)
            .select_related("department")
            .order_by("pk")
        )
    return {
        **panel,
        "working": case.state in OPEN_STATES | REVIEW_STATES,
        "handling_caps": caps,
        "lead_staff": [s for s in members if s.department_id == case.lead_department_id],
        "helper_staff": members,
        # the helpers already named start selected: sending the form again keeps them
        "assisting_ids": set(case.assisting_handlers.values_list("pk", flat=True)) if caps.assign else set(),
        "departments": departments,
        "investigation_kinds": InvestigationKind.choices,
        "notice_methods": NoticeMethod.choices,
        "verdicts": [
            (PlanVerdict.ACCEPTED, PlanVerdict.ACCEPTED.label),
            (PlanVerdict.REVISE, PlanVerdict.REVISE.label),
        ],
        "rectification_on": bool((case.stage_switches or {}).get("rectification_plan")),
        "step_hints": steps.hints(case),
        "available_documents": documents.available_kinds(case, panel) if case.state != CaseState.ARCHIVED else [],
    }


def public_panel(request: HttpRequest, case: Case) -> dict[str, Any] | None:
    """Documents issued to the complainant (告知书, 答复意见书...), for the status page.
    Public filter (``selectors.complainant_letters``): the complainant's own letters only,
    title, number and date; never the body's internal drafts, other addressees, or who
    signed. A page that lets the person download them (the portal) passes each letter's
    ``url`` in this panel's override."""
    letters = [public_letter(d) for d in selectors.complainant_letters(case)]
    return {"letters": letters} if letters else None


def public_letter(document: Document) -> dict[str, Any]:
    return {
        "id": document.pk,
        "title": document.title,
        "number": document.number,
        "on": document.approved_at or document.created_at,
    }
