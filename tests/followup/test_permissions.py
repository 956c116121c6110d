"""followup.permissions: the callback desk, who calls back, who records a fix, who decides."""

from __future__ import annotations

from huiyin.cases.models import Case
from huiyin.followup import permissions as p
from huiyin.followup.models import Callback, RectificationTask
from huiyin.orgs.roles import Role
from tests.conftest import make_staff


def test_the_callback_desk_calls_back_for_every_role_others_for_their_own(org, departments, head, handler):
    desk = make_staff(org, "desk", [Role.CALLBACK_OFFICER])
    city_case = Case(organization=org, lead_department=departments["city"])
    planned_for_heads = Callback(role=Role.DEPT_HEAD, case=city_case)
    assert p.may_use_callback_desk(desk) and p.sees_every_callback(desk)
    assert p.may_call_back(desk, planned_for_heads)
    assert p.may_call_back(head, planned_for_heads) and not p.sees_every_callback(head)
    assert not p.may_call_back(handler, planned_for_heads)
    assert not p.may_use_callback_desk(handler)


def test_a_head_calls_back_only_for_the_department_that_leads_the_case(org, departments, head):
    traffic_case = Case(organization=org, lead_department=departments["traffic"])
    assert not p.may_call_back(head, Callback(role=Role.DEPT_HEAD, case=traffic_case))


def test_a_fix_is_recorded_by_the_responsible_department(org, departments, handler, other_handler, clerk, leader):
    task = RectificationTask(department_id=departments["city"].pk)
    assert p.may_record_rectification(handler, task)
    assert p.may_record_rectification(leader, task)  # handles over the whole ledger
    assert not p.may_record_rectification(other_handler, task)
    # Whole-ledger roles that do not handle cases read the task; they do not mark it put right.
    assert not p.may_record_rectification(clerk, task)
    for role in (Role.CALLBACK_OFFICER, Role.ANALYST, Role.SUPERVISOR, Role.ADMIN):
        assert not p.may_record_rectification(make_staff(org, f"ro-{role}", [role]), task)


def test_the_lead_head_or_a_leader_decides_on_dissatisfaction(org, departments, head, leader, handler):
    case = Case(organization=org, lead_department=departments["city"])
    assert p.may_decide_dissatisfaction(head, case) and p.may_decide_dissatisfaction(leader, case)
    assert not p.may_decide_dissatisfaction(handler, case)
    assert not p.may_decide_dissatisfaction(head, Case(organization=org, lead_department=departments["traffic"]))
