"""Fixtures for supervision and the daily review: a supervisor, heads and handlers of
two departments, and helpers that drive cases, notices and sweepers at chosen instants."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from huiyin.cases import services as cases
from huiyin.cases.services import case_register
from huiyin.deadlines.sweeper import sweep_until_idle
from huiyin.handling import actions as handling_actions
from huiyin.orgs.roles import Role
from huiyin.policy.services.calendars import invalidate_calendars
from huiyin.supervision import services
from tests.conftest import intake, make_staff

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


@pytest.fixture(autouse=True)
def _fresh_calendars():
    invalidate_calendars()
    yield
    invalidate_calendars()


@pytest.fixture
def traffic_head(org, departments):
    return make_staff(org, "traffic_head", [Role.DEPT_HEAD], departments["traffic"])


class Driver:
    """Services and sweepers at chosen instants (time-machine, no ticking)."""

    def __init__(self, clerk) -> None:
        self.clerk = clerk

    def at(self, when: datetime):
        return time_machine.travel(when, tick=False)

    def register(self, when: datetime, **overrides):
        with self.at(when):
            case, _code = case_register(actor=self.clerk, data=intake(**overrides))
        return case

    def dispatched(self, when: datetime, department, handler=None, due_at=None, **overrides):
        """Registered, accepted and dispatched at ``when``."""
        case = self.register(when, **overrides)
        with self.at(when):
            cases.case_accept(actor=self.clerk, case_id=case.pk)
            handling_actions.case_dispatch(
                actor=self.clerk,
                case_id=case.pk,
                department_id=department.pk,
                handler_id=handler.pk if handler else None,
                due_at=due_at,
            )
        case.refresh_from_db()
        return case

    def issue(
        self,
        when: datetime,
        actor,
        case,
        department,
        due_at,
        kind="routine",
        requirement="请三日内反馈办理进展。",
    ):
        with self.at(when):
            return services.supervision_issue(
                actor=actor,
                case_id=case.pk,
                kind=kind,
                department_id=department.pk,
                requirement=requirement,
                due_at=due_at,
            )

    def call(self, when: datetime, fn, **kwargs):
        with self.at(when):
            return fn(**kwargs)

    def sweep(self, when: datetime):
        """The one deadline sweeper (case clocks and notices alike)."""
        with self.at(when):
            return sweep_until_idle(now=when, worker_id="test")

    sweep_clocks = sweep


@pytest.fixture
def drive(clerk) -> Driver:
    return Driver(clerk)
