"""Years the holiday package does not know (2027 on, with chinesecalendar 1.11): warned to
administrators before they start — on the calendar page, the policy and staff pages and
the desk — and in the sweeper's log once a day; the calendar page says which years are known."""

from __future__ import annotations

import logging
from datetime import date

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from huiyin.deadlines import sweeper
from huiyin.orgs.roles import Role
from huiyin.policy.calendar import BusinessCalendar, statutory_year_known, statutory_years_range
from huiyin.policy.models import CalendarDay
from huiyin.policy.services.calendars import unknown_year_warnings
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

UNKNOWN = next(y for y in range(2024, 2100) if not statutory_year_known(y))  # 2027 with chinesecalendar 1.11


def test_the_first_unknown_year_counts_monday_to_friday():
    assert statutory_year_known(UNKNOWN - 1) and not statutory_year_known(UNKNOWN)
    assert statutory_years_range() == (2004, UNKNOWN - 1)
    first_of_may = date(UNKNOWN, 5, 3)  # a Labour Day holiday some years, a plain weekday here
    assert BusinessCalendar().is_workday(first_of_may) is (first_of_may.weekday() < 5)


def test_a_coming_unknown_year_is_warned_from_the_first_of_october(org):
    assert unknown_year_warnings(today=date(UNKNOWN - 1, 9, 30)) == []
    (warning,) = unknown_year_warnings(today=date(UNKNOWN - 1, 10, 1))
    assert (warning.year, warning.started, warning.supplied) == (UNKNOWN, False, 0)
    assert f"尚未收录 {UNKNOWN} 年" in warning.message
    (begun,) = unknown_year_warnings(today=date(UNKNOWN, 2, 1))
    assert begun.started and "按周一至周五计算工作日" in begun.message
    CalendarDay.objects.create(date=date(UNKNOWN, 1, 1), kind="holiday", name="元旦")
    (supplied,) = unknown_year_warnings(today=date(UNKNOWN - 1, 12, 1), organization_id=org.pk)
    assert supplied.supplied == 1 and "已补充 1 天" in supplied.message


@pytest.fixture
def admin(org):
    return make_staff(org, "admin", [Role.ADMIN])


def test_administrators_see_the_warning_on_their_pages_and_desk(client, admin, clerk):
    client.force_login(admin)
    with time_machine.travel(date(UNKNOWN - 1, 10, 2), tick=False):
        for name in ("policy:calendar", "policy:index", "administration:staff", "cases:desk"):
            html = client.get(reverse(name)).content.decode()
            assert (
                f'class="alert alert-warning py-2 small calendar-year-warning" role="alert" data-year="{UNKNOWN}"'
                in (html)
            ), name
        calendar = client.get(reverse("policy:calendar")).content.decode()
        assert f"内置节假日日历已收录 2004–{UNKNOWN - 1} 年" in calendar and "未收录" in calendar
        client.force_login(clerk)
        assert "calendar-year-warning" not in client.get(reverse("cases:desk")).content.decode()
    client.force_login(admin)
    with time_machine.travel(date(UNKNOWN - 1, 9, 1), tick=False):
        assert "calendar-year-warning" not in client.get(reverse("policy:calendar")).content.decode()


def test_the_sweeper_logs_the_warning_once_a_day(caplog):
    sweeper._calendar_logged.clear()
    with caplog.at_level(logging.WARNING, logger="huiyin.deadlines.sweeper"):
        with time_machine.travel(date(UNKNOWN - 1, 10, 2), tick=False):
            call_command("huiyin_sweeper", "--once")
            call_command("huiyin_sweeper", "--once")
        with time_machine.travel(date(UNKNOWN - 1, 10, 3), tick=False):
            call_command("huiyin_sweeper", "--once")
    lines = [r.getMessage() for r in caplog.records if "holiday package does not know" in r.getMessage()]
    assert len(lines) == 2 and all(str(UNKNOWN) in line for line in lines)
    assert sweeper.log_calendar_warnings(date(UNKNOWN - 1, 10, 3)) == 0  # already logged today
