"""Fixtures for the deadline engine: organisations running a shipped preset, an intake
desk with its duty head, and helpers to drive cases and the sweeper at given times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from huiyin.cases.actions import spec_for
from huiyin.cases.services import case_register
from huiyin.deadlines.sweeper import sweep_until_idle
from huiyin.orgs.models import Department
from huiyin.orgs.roles import Role
from huiyin.policy.presets import load_preset
from huiyin.policy.services import policy_activate, presets_dir
from huiyin.policy.services.calendars import invalidate_calendars
from tests.conftest import intake, make_staff

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


def activate(org, name: str):
    version, _created = policy_activate(
        organization=org, preset=load_preset(presets_dir() / f"{name}.yaml"), actor=None
    )
    return version


@pytest.fixture(autouse=True)
def _fresh_calendars():
    invalidate_calendars()
    yield
    invalidate_calendars()


@pytest.fixture
def intake_dept(org) -> Department:
    return Department.objects.create(organization=org, code="intake", name="受理科", handles_cases=False)


@pytest.fixture
def duty_head(org, intake_dept):
    return make_staff(org, "duty_head", [Role.DEPT_HEAD], intake_dept)


@pytest.fixture
def desk_clerk(org, intake_dept, duty_head):
    return make_staff(org, "desk_clerk", [Role.INTAKE_CLERK], intake_dept)


class Driver:
    """Run services and the sweeper at chosen instants (time-machine, no ticking)."""

    def __init__(self, clerk) -> None:
        self.clerk = clerk

    def at(self, when: datetime):
        return time_machine.travel(when, tick=False)

    def register(self, when: datetime, actor=None, **overrides):
        with self.at(when):
            case, _code = case_register(actor=actor or self.clerk, data=intake(**overrides))
        return case

    def do(self, when: datetime, action: str, case, actor=None, **kwargs):
        with self.at(when):
            spec_for(action).service(actor=actor or self.clerk, case_id=case.pk, **kwargs)
        case.refresh_from_db()
        return case

    def call(self, when: datetime, fn, **kwargs):
        with self.at(when):
            return fn(**kwargs)

    def sweep(self, when: datetime, **kwargs):
        with self.at(when):
            return sweep_until_idle(now=when, worker_id="test", **kwargs)


@pytest.fixture
def drive(desk_clerk) -> Driver:
    return Driver(desk_clerk)


# --- the mandatory steps (presets.RequiredSteps) a flow must take ------------------------------


def png_signature() -> str:
    """A signature drawn on screen, as the signature pad posts it (a PNG data URL)."""
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (4, 2), color=0).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def signed_interview(actor, case, **kwargs):
    """An interview record the interviewee signed (construction station: seeds/000 行 9)."""
    from huiyin.handling.services import investigation_add

    return investigation_add(
        actor=actor,
        case_id=case.pk,
        kind="interview",
        text=kwargs.pop("text", "现场询问施工单位负责人，确认裂缝位置和范围。"),
        interviewee=kwargs.pop("interviewee", "李工"),
        signature_drawn=png_signature(),
        **kwargs,
    )


def construction_approved(drive, when, case, *, handler, leader, unit="某建筑公司", outcome="resolved"):
    """A construction-station case in progress (dispatched to the handler) taken through a
    signed investigation, the handler's proposal naming the unit and the leader's signature."""
    from huiyin.handling.actions import case_approve, case_submit_for_approval

    drive.call(when, signed_interview, actor=handler, case=case)
    drive.call(
        when,
        case_submit_for_approval,
        actor=handler,
        case_id=case.pk,
        proposal="责成施工单位限期加固整改。",
        outcome=outcome,
        responsible_unit=unit,
    )
    drive.call(when, case_approve, actor=leader, case_id=case.pk, comments="同意")
    case.refresh_from_db()
    return case
