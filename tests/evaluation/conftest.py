"""Fixtures for the evaluation: the hand-computed example of test_evaluation.py (whose
docstring has the table of cases and the figures worked out by hand), built through the
real services at controlled times."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest

from huiyin.evaluation.services import deduction_record
from huiyin.followup.models import Callback
from huiyin.followup.services import callback_record
from huiyin.policy.presets import load_preset
from huiyin.policy.services import policy_activate, presets_dir
from tests.handling.conftest import (  # noqa: F401 - fixtures shared with the handling tests
    _fresh_calendars,
    activate,
    admin,
    at,
    desk_clerk,
    drive,
    duty_head,
    housing_handler,
    housing_head,
    intake_dept,
    property_rules,
)

MARCH = (at(2026, 3, 1), at(2026, 4, 1))
EVALUATED_AT = at(2026, 4, 5, 9)


@pytest.fixture
def rules_min2(org):
    preset = load_preset(presets_dir() / "property_management.yaml")
    preset = replace(preset, evaluation=replace(preset.evaluation, min_sample=2))
    version, _created = policy_activate(organization=org, preset=preset, actor=None)
    return version


def handle(drive, *, dept, handler, dispatched, answered=None, case=None):
    """Register (an hour before), dispatch to ``dept`` naming ``handler``, sign for,
    and answer at ``answered`` (or never)."""
    case = case or drive.register(dispatched - timedelta(hours=1))
    drive.do(dispatched, "dispatch", case, department_id=dept.pk, handler_id=handler.pk)
    drive.do(dispatched + timedelta(minutes=30), "sign_for", case, actor=handler)
    if answered is not None:
        drive.do(answered, "reply", case, actor=handler, reply="已处理完毕。", remedy="当日维修")
    return case


def call_back(drive, officer, case, when, outcome="reached", satisfaction=""):
    case.refresh_from_db()
    callback = Callback.objects.get(case=case, round=case.round)
    drive.call(
        when, callback_record, actor=officer, callback_id=callback.pk, outcome=outcome, satisfaction=satisfaction
    )
    case.refresh_from_db()
    return case


@pytest.fixture
def example(
    rules_min2, drive, departments, handler, head, housing_handler, housing_head, other_handler, officer, supervisor
):
    city, housing, traffic = departments["city"], departments["housing"], departments["traffic"]
    d = SimpleNamespace()
    # Handler A
    d.a1 = handle(drive, dept=city, handler=handler, dispatched=at(2026, 3, 2, 10), answered=at(2026, 3, 3, 10))
    call_back(drive, officer, d.a1, at(2026, 3, 4, 10), satisfaction="satisfied")
    d.a2 = handle(drive, dept=city, handler=handler, dispatched=at(2026, 3, 9, 10), answered=at(2026, 3, 20, 10))
    call_back(drive, officer, d.a2, at(2026, 3, 21, 10), satisfaction="dissatisfied")
    d.a3 = handle(drive, dept=city, handler=handler, dispatched=at(2026, 3, 16, 10))
    drive.call(
        at(2026, 3, 25, 15),
        deduction_record,
        actor=supervisor,
        case_id=d.a3.pk,
        rule="escalated_complaint",
        level="company_leader",
        note="业主致电公司总经理",
    )
    d.a4 = handle(drive, dept=city, handler=handler, dispatched=at(2026, 3, 23, 10), answered=at(2026, 3, 24, 10))
    call_back(drive, officer, d.a4, at(2026, 3, 25, 10), outcome="wrong_number")
    d.a5 = handle(drive, dept=city, handler=handler, dispatched=at(2026, 2, 25, 10), answered=at(2026, 3, 2, 10))
    call_back(drive, officer, d.a5, at(2026, 3, 3, 10), satisfaction="satisfied")
    d.a6 = handle(drive, dept=city, handler=handler, dispatched=at(2026, 3, 26, 10), answered=at(2026, 3, 27, 10))
    d.a7 = handle(drive, dept=city, handler=handler, dispatched=at(2026, 3, 30, 10))
    d.a8 = drive.register(at(2026, 3, 5, 9))  # sent back before signing for: its clock stops, unanswered
    drive.do(at(2026, 3, 5, 10), "dispatch", d.a8, department_id=city.pk, handler_id=handler.pk)
    drive.do(at(2026, 3, 6, 10), "send_back", d.a8, actor=handler, reason="不属于本科室职责")
    # Handler B
    d.b1 = handle(
        drive, dept=housing, handler=housing_handler, dispatched=at(2026, 3, 3, 10), answered=at(2026, 3, 4, 10)
    )
    call_back(drive, officer, d.b1, at(2026, 3, 5, 10), satisfaction="basically_satisfied")
    drive.call(
        at(2026, 4, 2, 10),
        deduction_record,
        actor=supervisor,
        case_id=d.b1.pk,
        rule="escalated_complaint",
        level="county_level",
    )
    d.b2 = handle(
        drive, dept=housing, handler=housing_handler, dispatched=at(2026, 3, 5, 10), answered=at(2026, 3, 10, 10)
    )
    call_back(drive, officer, d.b2, at(2026, 3, 11, 10), satisfaction="satisfied")
    d.b3 = handle(
        drive, dept=housing, handler=housing_handler, dispatched=at(2026, 3, 10, 10), answered=at(2026, 3, 11, 10)
    )
    call_back(drive, officer, d.b3, at(2026, 3, 12, 10), satisfaction="dissatisfied")
    handle(
        drive,
        dept=housing,
        handler=housing_handler,
        dispatched=at(2026, 3, 13, 10),
        answered=at(2026, 3, 14, 10),
        case=d.b3,
    )
    call_back(drive, officer, d.b3, at(2026, 3, 15, 10), satisfaction="satisfied")
    d.b4 = handle(
        drive, dept=housing, handler=housing_handler, dispatched=at(2026, 3, 17, 10), answered=at(2026, 3, 18, 10)
    )
    drive.do(at(2026, 3, 19, 10), "reopen", d.b4, reason="反映人来电称问题仍未解决")  # cancels the callback
    # Handler C
    d.c1 = handle(
        drive, dept=traffic, handler=other_handler, dispatched=at(2026, 3, 4, 10), answered=at(2026, 3, 5, 10)
    )
    call_back(drive, officer, d.c1, at(2026, 3, 6, 10), satisfaction="satisfied")
    return d
