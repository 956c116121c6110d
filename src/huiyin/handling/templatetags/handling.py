from django import template

from huiyin.cases.workflow import OPEN_STATES, REVIEW_STATES, CaseState
from huiyin.orgs.models import Department, Staff

from .. import documents, selectors
from ..models import InvestigationKind, NoticeMethod, PlanVerdict

register = template.Library()


@register.inclusion_tag("handling/_panel.html", takes_context=True)
def handling_panel(context, case):
    user = context["request"].user
    panel = selectors.handling_panel(case)
    working = case.state in OPEN_STATES | REVIEW_STATES
    departments = Department.objects.filter(organization_id=case.organization_id, handles_cases=True)
    member_departments = {case.lead_department_id, *case.assisting_departments.values_list("pk", flat=True)}
    return {
        **panel,
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "case": case,
        "working": working,
        "handling_caps": selectors.handling_capabilities(user, case, joints=panel["joints"]),
        "lead_staff": Staff.objects.filter(department_id=case.lead_department_id, is_active=True)
        if case.lead_department_id
        else Staff.objects.none(),
        "helper_staff": Staff.objects.filter(department_id__in=[d for d in member_departments if d], is_active=True),
        "departments": departments,
        "investigation_kinds": InvestigationKind.choices,
        "notice_methods": NoticeMethod.choices,
        "verdicts": [
            (PlanVerdict.ACCEPTED, PlanVerdict.ACCEPTED.label),
            (PlanVerdict.REVISE, PlanVerdict.REVISE.label),
        ],
        "rectification_on": bool((case.stage_switches or {}).get("rectification_plan")),
        "available_documents": documents.available_kinds(case) if case.state != CaseState.ARCHIVED else [],
        "user": user,
    }
