"""Who may do what to a case: pure predicates of the actor and the case.

Services raise on a ``False``; selectors turn the same answers into the flags the
case page and the API read (``selectors.case_capabilities``). Nothing here takes a
request or looks further than the case itself needs.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from huiyin.cases.errors import InvalidTransition
from huiyin.core.errors import PermissionDeniedError
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap

from .models import Case
from .workflow import CaseState, Edge


def may_view_case(actor: Staff, case: Case) -> bool:
    """The whole ledger for roles that need it, otherwise the actor's department's cases
    (lead or assisting) and the ones they received or handle. ``selectors.cases_for`` is
    the same rule as a query."""
    if case.organization_id != actor.organization_id:
        return False
    if actor.can(Cap.VIEW_ALL) or actor.pk in (case.handler_id, case.first_contact_id):
        return True
    if not actor.department_id:
        return False
    return (
        case.lead_department_id == actor.department_id
        or case.assisting_departments.filter(pk=actor.department_id).exists()
    )


def may_register(actor: Staff) -> bool:
    """Register a new matter, or a repeat contact on one."""
    return actor.can(Cap.REGISTER)


def may_edit_case(actor: Staff, case: Case) -> bool:
    """Registration details: not once archived, and only for those who register, dispatch or handle."""
    return (
        case.state != CaseState.ARCHIVED
        and (actor.can(Cap.REGISTER) or actor.can(Cap.DISPATCH) or actor.can(Cap.HANDLE))
        and may_view_case(actor, case)
    )


def check_can_edit(actor: Staff, case: Case) -> None:
    """``may_edit_case`` as the service needs it: an archived case is a state error, the rest a refusal."""
    if case.state == CaseState.ARCHIVED:
        raise InvalidTransition(src=case.state, dst=case.state, reason=_("已归档的案件只读。"))
    if not may_edit_case(actor, case):
        raise PermissionDeniedError()


def may_reveal_pii(actor: Staff) -> bool:
    """See a full phone / ID number (each reveal is logged by the service)."""
    return actor.can(Cap.VIEW_PII)


def may_take(actor: Staff, case: Case, edge: Edge) -> bool:
    """Capability plus department scope: handling and approving stay inside the departments
    a case was dispatched to, unless the actor sees the whole organisation."""
    if case.organization_id != actor.organization_id or not actor.can(edge.cap):
        return False
    if edge.cap in (Cap.HANDLE, Cap.APPROVE) and not actor.can(Cap.VIEW_ALL):
        if case.handler_id == actor.pk:
            return edge.cap == Cap.HANDLE or actor.is_dept_head
        if edge.cap == Cap.APPROVE and not actor.is_dept_head:
            return False
        return case.lead_department_id is not None and case.lead_department_id == actor.department_id
    return True
