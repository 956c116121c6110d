"""supervision.permissions: supervising, the board, answering a notice and the daily review."""

from __future__ import annotations

from huiyin.orgs.roles import Role
from huiyin.supervision import permissions as p
from tests.conftest import make_staff


def test_supervisors_and_leaders_supervise(org, leader, head, clerk):
    supervisor = make_staff(org, "sup", [Role.SUPERVISOR])
    assert p.may_supervise(supervisor) and p.may_supervise(leader)
    assert not p.may_supervise(head) and not p.may_supervise(clerk)
    supervisor.is_active = False
    assert not p.may_supervise(supervisor)


def test_the_board_is_whole_for_supervising_roles_and_analysts_and_one_department_for_a_head(
    org, leader, analyst, head, handler, clerk
):
    assert p.may_see_whole_board(analyst) and p.may_see_whole_board(leader)
    assert p.may_see_board(head) and not p.may_see_whole_board(head)
    assert p.board_department(head) == head.department_id
    assert p.board_department(analyst) is None
    assert not p.may_see_board(handler) and not p.may_see_board(clerk)


def test_a_notice_is_answered_by_the_target_departments_handling_staff(departments, head, handler, other_handler):
    city = departments["city"].pk
    assert p.may_answer_for(head, city) and p.may_answer_for(handler, city)
    assert not p.may_answer_for(other_handler, city)


def test_the_daily_review_is_the_intake_clerks_and_supervisors(org, clerk, leader, handler, analyst):
    reception = make_staff(org, "reception", [Role.RECEPTION])
    assert p.may_daily_review(clerk) and p.may_daily_review(reception) and p.may_daily_review(leader)
    assert not p.may_daily_review(handler) and not p.may_daily_review(analyst)
