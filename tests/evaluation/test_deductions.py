"""Escalation deductions (越级投诉扣分): who is charged, with the preset's points, and
what is refused (nothing written then)."""

from __future__ import annotations

import pytest

from huiyin.cases.events import EventKind
from huiyin.cases.models import Event
from huiyin.core.errors import ApplicationError, PermissionDeniedError, ValidationFailed
from huiyin.evaluation.models import DeductionEntry
from huiyin.evaluation.services import deduction_record
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.evaluation.conftest import call_back, handle
from tests.policy.conftest import at

pytestmark = pytest.mark.django_db

RULE = "escalated_complaint"


def deduction_events(case):
    return [e for e in Event.objects.filter(case=case, kind=EventKind.NOTE) if "deduction" in e.data]


def test_the_lead_departments_heads_and_the_handler_are_charged_the_presets_points(
    property_rules, drive, departments, handler, head, supervisor, org
):
    make_staff(org, "head2", [Role.DEPT_HEAD], departments["city"])
    make_staff(org, "other_head", [Role.DEPT_HEAD], departments["housing"])  # not the lead department
    case = handle(drive, dept=departments["city"], handler=handler, dispatched=at(2026, 3, 2, 10))
    entries = drive.call(
        at(2026, 3, 3, 9),
        deduction_record,
        actor=supervisor,
        case_id=case.pk,
        rule=RULE,
        level="county_level",
        note="业主投诉到县住建局",
    )
    assert sorted((e.staff.username, e.charged_as, e.points) for e in entries) == [
        ("handler", "handler", 30),
        ("head", "dept_head", 30),
        ("head2", "dept_head", 30),
    ]
    assert {(e.department_id, e.level_label, e.recorded_at) for e in entries} == {
        (departments["city"].pk, "越级到县级网站、行政主管部门或相关媒体", at(2026, 3, 3, 9))
    }
    (event,) = deduction_events(case)
    assert event.actor == supervisor
    assert event.data["deduction"]["points"] == 30
    assert {c["name"] for c in event.data["deduction"]["charged"]} == {"handler", "head", "head2"}
    assert "扣 30 分" in event.data["text"]
    # Another level of the same rule is another deduction (city level: 50 points)
    more = deduction_record(actor=supervisor, case_id=case.pk, rule=RULE, level="city_level_or_above")
    assert {e.points for e in more} == {50} and len(more) == 3


def test_after_a_reopening_the_handler_of_the_round_that_was_reopened_is_charged(
    property_rules, drive, departments, handler, head, supervisor, org
):
    officer = make_staff(org, "officer", [Role.CALLBACK_OFFICER])
    case = handle(
        drive, dept=departments["city"], handler=handler, dispatched=at(2026, 3, 2, 10), answered=at(2026, 3, 3, 10)
    )
    case = call_back(drive, officer, case, at(2026, 3, 4, 10), satisfaction="dissatisfied")
    assert (case.round, case.handler_id) == (2, None)
    entries = deduction_record(actor=supervisor, case_id=case.pk, rule=RULE, level="company_leader")
    assert sorted((e.staff.username, e.points) for e in entries) == [("handler", 20), ("head", 20)]


def test_with_nobody_to_charge_the_department_alone_is_charged(
    property_rules, drive, departments, other_handler, admin
):
    # Dispatched to the traffic department (no head there), not yet signed for: no handler.
    case = drive.register(at(2026, 3, 2, 9))
    drive.do(at(2026, 3, 2, 10), "dispatch", case, department_id=departments["traffic"].pk)
    assert case.handler_id is None
    (entry,) = deduction_record(actor=admin, case_id=case.pk, rule=RULE, level="company_leader")
    assert (entry.staff, entry.charged_as, entry.department, entry.points) == (None, "", departments["traffic"], 20)
    with pytest.raises(ApplicationError, match="已登记过"):
        deduction_record(actor=admin, case_id=case.pk, rule=RULE, level="company_leader")
    assert DeductionEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("rule", "level", "field", "message"),
    [
        ("escalated_complaint", "province", "level", "不属于"),
        ("late_reply", "company_leader", "rule", "不存在"),
    ],
)
def test_an_unknown_rule_or_level_is_refused_naming_the_field(
    property_rules, drive, departments, handler, head, supervisor, rule, level, field, message
):
    case = handle(drive, dept=departments["city"], handler=handler, dispatched=at(2026, 3, 2, 10))
    with pytest.raises(ValidationFailed) as info:
        deduction_record(actor=supervisor, case_id=case.pk, rule=rule, level=level)
    assert info.value.field == field and message in info.value.message
    assert not DeductionEntry.objects.exists() and not deduction_events(case)


def test_the_same_deduction_twice_is_refused(property_rules, drive, departments, handler, head, supervisor):
    case = handle(drive, dept=departments["city"], handler=handler, dispatched=at(2026, 3, 2, 10))
    deduction_record(actor=supervisor, case_id=case.pk, rule=RULE, level="company_leader")
    with pytest.raises(ApplicationError, match="已登记过“越级投诉到公司领导”扣分") as info:
        deduction_record(actor=supervisor, case_id=case.pk, rule=RULE, level="company_leader")
    assert info.value.code == "deduction_recorded"
    assert DeductionEntry.objects.count() == 2 and len(deduction_events(case)) == 1


def test_the_unique_constraints_back_the_check(property_rules, drive, departments, handler, head, supervisor):
    from django.db import IntegrityError, transaction

    case = handle(drive, dept=departments["city"], handler=handler, dispatched=at(2026, 3, 2, 10))
    (first, _second) = deduction_record(actor=supervisor, case_id=case.pk, rule=RULE, level="company_leader")
    with pytest.raises(IntegrityError), transaction.atomic():
        DeductionEntry.objects.create(
            organization_id=first.organization_id,
            case=case,
            rule=RULE,
            level="company_leader",
            points=20,
            staff=first.staff,
            department=first.department,
            recorded_by=supervisor,
            recorded_at=first.recorded_at,
        )


def test_only_supervisors_leaders_and_administrators_record(
    property_rules, drive, departments, handler, head, analyst, leader, clerk
):
    case = handle(drive, dept=departments["city"], handler=handler, dispatched=at(2026, 3, 2, 10))
    for actor in (handler, head, analyst, clerk):
        with pytest.raises(PermissionDeniedError):
            deduction_record(actor=actor, case_id=case.pk, rule=RULE, level="company_leader")
    assert not DeductionEntry.objects.exists() and not deduction_events(case)
    assert len(deduction_record(actor=leader, case_id=case.pk, rule=RULE, level="company_leader")) == 2


def test_a_case_of_another_organisation_is_not_found(property_rules, drive, departments, handler, supervisor):
    from huiyin.orgs.models import Organization

    case = handle(drive, dept=departments["city"], handler=handler, dispatched=at(2026, 3, 2, 10))
    elsewhere = Organization.objects.create(code="elsewhere", name="另一单位")
    stranger = make_staff(elsewhere, "stranger", [Role.SUPERVISOR])
    with pytest.raises(ValidationFailed) as info:
        deduction_record(actor=stranger, case_id=case.pk, rule=RULE, level="company_leader")
    assert info.value.field == "case"
    assert not DeductionEntry.objects.exists()
