"""evaluation.permissions: who sees the evaluation (and how much) and who records deductions."""

from __future__ import annotations

from huiyin.evaluation import permissions as p
from huiyin.orgs.roles import Role
from tests.conftest import make_staff


def test_evaluators_see_the_whole_a_head_their_department_desks_nothing(org, leader, analyst, head, clerk, handler):
    assert p.sees_whole_evaluation(leader) and p.sees_whole_evaluation(analyst)
    assert p.may_see_evaluation(head) and not p.sees_whole_evaluation(head)
    assert not p.may_see_evaluation(clerk) and not p.may_see_evaluation(handler)


def test_deductions_are_recorded_by_supervising_roles_and_administrators(org, leader, head, analyst):
    assert p.may_record_deductions(leader)
    assert p.may_record_deductions(make_staff(org, "sup", [Role.SUPERVISOR]))
    assert p.may_record_deductions(make_staff(org, "admin", [Role.ADMIN]))
    assert not p.may_record_deductions(head) and not p.may_record_deductions(analyst)
