"""cases.permissions: the case predicates as pure functions of a staff member and a case."""

from __future__ import annotations

import pytest

from huiyin.cases.errors import InvalidTransition
from huiyin.cases.models import Case
from huiyin.cases.permissions import check_can_edit, may_edit_case, may_take, may_view_case
from huiyin.cases.selectors import case_capabilities, cases_for
from huiyin.cases.workflow import CaseState, Edge
from huiyin.core.errors import PermissionDeniedError
from huiyin.orgs.models import Organization
from huiyin.orgs.roles import Cap

S = CaseState
SIGN_FOR = Edge(S.DISPATCHED, S.IN_PROGRESS, "sign_for", "签收", Cap.HANDLE)
APPROVE = Edge(S.PENDING_APPROVAL, S.APPROVED, "approve", "审批通过", Cap.APPROVE)
DISPATCH = Edge(S.ACCEPTED, S.IN_PROGRESS, "dispatch", "派遣", Cap.DISPATCH)


def case_in(org, *, lead=None, handler=None, state=S.DISPATCHED) -> Case:
    """An unsaved case: may_take reads only its fields."""
    return Case(organization=org, lead_department=lead, handler=handler, state=state)


def test_may_take_needs_the_edge_capability(org, departments, clerk, handler):
    case = case_in(org, lead=departments["city"])
    assert may_take(clerk, case, DISPATCH)
    assert not may_take(handler, case, DISPATCH)


def test_may_take_keeps_handling_inside_the_lead_department(org, departments, handler, other_handler, leader):
    case = case_in(org, lead=departments["city"])
    assert may_take(handler, case, SIGN_FOR)
    assert not may_take(other_handler, case, SIGN_FOR)
    assert may_take(leader, case, SIGN_FOR)  # the whole organisation


def test_may_take_lets_the_handler_handle_but_only_a_head_approve(org, departments, handler, head, other_handler):
    case = case_in(org, lead=departments["traffic"], handler=handler)
    assert may_take(handler, case, SIGN_FOR)
    assert not may_take(handler, case, APPROVE)
    assert may_take(head, case_in(org, lead=departments["city"]), APPROVE)
    assert not may_take(head, case_in(org, lead=departments["traffic"]), APPROVE)
    assert not may_take(other_handler, case_in(org, lead=departments["traffic"]), APPROVE)


def test_may_take_refuses_another_organisation(org, departments, leader):
    other = Organization.objects.create(code="other", name="另一单位")
    assert not may_take(leader, case_in(other), SIGN_FOR)


def test_may_view_case_is_the_ledger_scope_for_one_case(org, departments, register, clerk, handler, other_handler):
    """The predicate and the query (cases_for) give the same answer."""
    mine = register()
    theirs = register()
    Case.objects.filter(pk=mine.pk).update(lead_department=departments["city"])
    Case.objects.filter(pk=theirs.pk).update(lead_department=departments["traffic"])
    helped = register()
    helped.assisting_departments.add(departments["city"])
    for staff in (clerk, handler, other_handler):
        for case in Case.objects.filter(pk__in=[mine.pk, theirs.pk, helped.pk]):
            assert may_view_case(staff, case) == cases_for(staff).filter(pk=case.pk).exists()
    assert may_view_case(handler, Case.objects.get(pk=helped.pk))
    assert not may_view_case(other_handler, Case.objects.get(pk=mine.pk))


def test_may_edit_case_needs_a_working_capability_and_a_live_case(org, register, clerk, analyst, leader):
    case = register()
    assert may_edit_case(clerk, case)
    assert not may_edit_case(analyst, case)  # sees the ledger, edits nothing
    case.state = S.ARCHIVED
    assert not may_edit_case(leader, case)


def test_check_can_edit_tells_archived_from_refused(register, analyst, clerk):
    case = register()
    with pytest.raises(PermissionDeniedError):
        check_can_edit(analyst, case)
    case.state = S.ARCHIVED
    with pytest.raises(InvalidTransition):
        check_can_edit(clerk, case)


def test_case_capabilities_follow_the_state_and_the_pii_permission(org, register, clerk, analyst):
    case = register()
    caps = case_capabilities(clerk, case)
    assert caps.edit and caps.add_contact and caps.upload_attachment and caps.reveal_pii
    assert not case_capabilities(analyst, case).reveal_pii
    case.state = S.ARCHIVED
    archived = case_capabilities(clerk, case)
    assert not (archived.edit or archived.add_contact or archived.upload_attachment)
