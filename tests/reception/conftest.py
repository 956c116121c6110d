"""Fixtures for the reception: an office under the petition office's rules (reception hours
at least five working days a week, group visits capped at five representatives, the visit's
registration fields), its reception room and published hours, and the desk's people.

The days are fixed: Monday 28 September 2026, the week before the National Day holidays
(1–7 October) with the 调休 working Saturday 10 October after them — the national calendar
as ``chinesecalendar`` has it."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from huiyin.orgs.roles import Role
from huiyin.policy.services.calendars import invalidate_calendars
from huiyin.reception import services
from huiyin.reception.models import Weekday
from tests.conftest import make_staff
from tests.policy.conftest import activate

SH = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 9, 28)
WORKDAYS = [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY]


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


NOW = at(2026, 9, 28, 8, 0)  # Monday morning, before the room opens


def key(room, y: int, m: int, d: int, hh: int, mm: int = 0) -> str:
    """The key of a room's published period starting then (``schedule.hours_key``)."""
    return f"h.{room.pk}.{y:04d}{m:02d}{d:02d}{hh:02d}{mm:02d}"


@pytest.fixture(autouse=True)
def _fresh_calendars():
    invalidate_calendars()
    yield
    invalidate_calendars()


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def petition(org, category, departments):
    return activate(org, "petition_office")


@pytest.fixture
def admin(org):
    return make_staff(org, "admin", [Role.ADMIN])


@pytest.fixture
def desk(org):
    """The reception desk (接待员): books and checks in."""
    return make_staff(org, "reception", [Role.RECEPTION])


@pytest.fixture
def room(petition, admin, frozen):
    return services.room_save(actor=admin, name="信访接待室", location="市民中心一楼")


@pytest.fixture
def hours(room, admin, frozen):
    """Monday to Friday and 调休 working weekend days, 09:00–12:00 in half hours, two places each."""
    return services.hours_add(
        actor=admin,
        room_id=room.pk,
        weekdays=[*WORKDAYS, Weekday.SWAPPED_WORKDAY],
        starts=time(9),
        ends=time(12),
        slot_minutes=30,
        capacity=2,
        valid_from=MONDAY,
    )


def booking(slot: str, **more) -> services.Booking:
    values = dict(slot=slot, name="张伟", phone="13812345678", purpose="小区楼道长期堆放杂物，存在消防隐患。")
    values.update(more)
    return services.Booking(**values)
