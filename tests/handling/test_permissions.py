"""handling.permissions: who may assign, convene, approve documents, sign; and the panel's flags."""

from __future__ import annotations

from huiyin.cases.models import Case
from huiyin.cases.workflow import CaseState
from huiyin.handling import permissions as p
from huiyin.handling.models import JointHandling
from huiyin.handling.selectors import handling_capabilities
from huiyin.orgs.roles import Role
from tests.conftest import make_staff

S = CaseState


def case_in(org, departments, state=S.IN_PROGRESS, lead="city") -> Case:
    return Case(organization=org, lead_department=departments[lead], state=state)


def test_the_lead_departments_head_or_the_central_desk_assigns(org, departments, head, handler, clerk, leader):
    case = case_in(org, departments)
    assert p.may_assign_handler(head, case)
    assert p.may_assign_handler(clerk, case)  # dispatch over the whole ledger
    assert p.may_assign_handler(leader, case)
    assert not p.may_assign_handler(handler, case)
    assert not p.may_assign_handler(head, case_in(org, departments, lead="traffic"))


def test_joint_handling_is_convened_by_dispatchers_or_the_lead_head(org, departments, head, handler, clerk):
    assert p.may_convene_joint(clerk, case_in(org, departments))
    assert p.may_convene_joint(head, case_in(org, departments))  # the lead department's head
    assert not p.may_convene_joint(handler, case_in(org, departments))


def test_an_assisting_departments_head_does_not_steer_the_case(org, departments):
    """Issue 13, hole 9: the head of an assisting department sees the case but neither convenes
    joint handling, files an authority request, issues documents nor assigns the handler."""
    housing_head = make_staff(org, "housing_head", [Role.DEPT_HEAD], departments["housing"])
    case = case_in(org, departments)  # led by city
    assert not p.may_convene_joint(housing_head, case)
    assert not p.may_set_authority_request(housing_head, case)
    assert not p.may_issue_document(housing_head, case)
    assert not p.may_assign_handler(housing_head, case)
    assert not p.may_steer_handling(housing_head, case)


def test_joint_parts_and_outcome(org, departments, handler, other_handler, head):
    joint = JointHandling(coordinator=head)
    assert p.may_record_joint_part(handler, joint, departments["city"].pk)
    assert not p.may_record_joint_part(other_handler, joint, departments["city"].pk)
    assert p.may_record_joint_part(head, joint, departments["traffic"].pk)  # the coordinator
    assert p.may_conclude_joint(head, joint)
    assert not p.may_conclude_joint(handler, joint)


def test_documents(org, leader, head, handler, clerk):
    admin = make_staff(org, "admin", [Role.ADMIN])
    assert p.may_approve_document(leader)
    assert not p.may_approve_document(head)  # approves, but not over the whole ledger
    case = Case(organization=org, lead_department=handler.department, state=S.IN_PROGRESS)
    assert p.may_issue_document(handler, case) and p.may_issue_document(clerk, case)
    assert not p.may_issue_document(admin, case)
    assert p.may_edit_document_templates(admin) and not p.may_edit_document_templates(leader)


def test_authority_requests_are_recorded_by_deciders_and_dispatchers(org, departments, clerk, head, handler):
    case = case_in(org, departments)
    assert p.may_set_authority_request(clerk, case)
    assert p.may_set_authority_request(head, case)  # heads the lead department
    assert not p.may_set_authority_request(handler, case)
    assert not p.may_set_authority_request(head, case_in(org, departments, lead="traffic"))


def test_may_work_on_case(org, departments, register, handler, other_handler, leader, analyst):
    case = register()
    Case.objects.filter(pk=case.pk).update(lead_department=departments["city"])
    case = Case.objects.get(pk=case.pk)
    assert p.may_work_on_case(handler, case)
    assert p.may_work_on_case(leader, case)
    assert not p.may_work_on_case(other_handler, case)
    assert not p.may_work_on_case(analyst, case)  # sees everything, handles nothing
    case.assisting_departments.add(departments["traffic"])
    assert p.may_work_on_case(other_handler, case)


def test_the_panel_flags(org, departments, head, handler):
    case = case_in(org, departments, state=S.DISPATCHED)
    joint = JointHandling(pk=7, coordinator=head)
    caps = handling_capabilities(head, case, joints=[joint])
    assert caps.assign and caps.convene and caps.set_authority and not caps.approve_documents
    assert caps.conclude_joints == frozenset({7})
    assert handling_capabilities(handler, case, joints=[joint]).conclude_joints == frozenset()
    closed = handling_capabilities(head, case_in(org, departments, state=S.CLOSED))
    assert not closed.assign and not closed.set_authority
