"""surveys.permissions: who views, runs, instructs and records survey rectification."""

from __future__ import annotations

from huiyin.orgs.roles import Role
from huiyin.surveys import permissions as p
from huiyin.surveys.models import RectificationItem
from tests.conftest import make_staff


def test_viewing_running_and_instructing(org, leader, analyst, head, clerk):
    admin = make_staff(org, "admin", [Role.ADMIN])
    assert p.may_view_surveys(analyst) and not p.may_view_surveys(head)
    assert p.may_run_surveys(leader) and p.may_run_surveys(clerk) and p.may_run_surveys(admin)
    assert not p.may_run_surveys(analyst)
    assert p.may_add_rectification_item(leader) and p.may_add_rectification_item(admin)
    assert not p.may_add_rectification_item(head) and not p.may_add_rectification_item(clerk)


def test_an_item_is_done_by_its_department_or_those_who_run_surveys(departments, handler, other_handler, clerk):
    item = RectificationItem(department=departments["city"])
    assert p.may_record_item_done(handler, item) and p.may_record_item_done(clerk, item)
    assert not p.may_record_item_done(other_handler, item)
