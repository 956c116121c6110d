"""The reception in Chromium: the desk books a visit from a call (a refused group first, the
message next to the field), the public books one on a phone (360x740) through the portal's
proof of work, and a visitor who arrived is checked in — a wrong ID number refused next to its
field, then a visit case registered and shown with its query code. The calendars render
(and print) with the visits masked.

Set ``HUIYIN_SCREENSHOTS=/some/dir`` to keep screenshots of the week and day calendars, the
schedule, the check-in and the public booking (reception-*.png; docs/screenshots/issue-17/).
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from huiyin.cases import services as cs
from huiyin.cases.models import Case, Channel
from huiyin.cases.services import case_register
from huiyin.core.validators import id_check_digit
from huiyin.handling import actions as ha
from huiyin.orgs.roles import Role
from huiyin.policy.models import CalendarDay, CalendarDayKind
from huiyin.reception import schedule, services
from huiyin.reception.models import Appointment, AppointmentStatus, SlotKind, Weekday
from tests.conftest import intake, make_staff
from tests.e2e.test_portal_phone import PHONE, phone_page  # noqa: F401 - the phone-sized page fixture
from tests.policy.conftest import activate

pytestmark = pytest.mark.e2e

ID_NUMBER = "11010519800101002" + id_check_digit("11010519800101002")


def shoot(page, name: str, *, full: bool = True) -> None:
    directory = os.environ.get("HUIYIN_SCREENSHOTS")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(directory) / name), full_page=full)


@pytest.fixture(autouse=True)
def _portal_settings(settings):
    settings.HUIYIN_PORTAL_POW_BITS = 12


def _moment(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture
def office(org, category, departments, clerk, leader):
    """The petition office with a reception room open 09:00–11:30 and 14:00–16:30 on working
    days (调休 weekend days too), today made a working day if it is not (the browser's clock
    cannot travel), half-hour slots of two places."""
    activate(org, "petition_office")
    admin = make_staff(org, "admin", [Role.ADMIN])
    desk = make_staff(org, "reception", [Role.RECEPTION])
    today = timezone.localdate()
    cal = schedule.calendar_of(org.pk)
    if not cal.is_workday(today):
        CalendarDay.objects.create(organization=org, date=today, kind=CalendarDayKind.WORKDAY, name="加班接待")
    set_up = timezone.now() - timedelta(days=1)
    room = services.room_save(actor=admin, name="信访接待室", location="市民中心一楼东侧", at=set_up)
    for starts, ends in ((time(9), time(11, 30)), (time(14), time(16, 30))):
        services.hours_add(
            actor=admin,
            room_id=room.pk,
            weekdays=[*range(5), Weekday.SWAPPED_WORKDAY],
            starts=starts,
            ends=ends,
            slot_minutes=30,
            capacity=2,
            valid_from=timezone.localdate(set_up),  # the local date: from 16:00 UTC it is the next day here
            at=set_up,
        )
    return {"admin": admin, "desk": desk, "room": room, "today": today}


def _next_workdays(org, count: int, *, after: date) -> list[date]:
    cal, days, day = schedule.calendar_of(org.pk), [], after
    while len(days) < count:
        day += timedelta(days=1)
        if cal.is_workday(day) and day.weekday() < 5:
            days.append(day)
    return days


def _busy_week(org, office, clerk, leader, departments) -> None:
    """A week with visits booked, one arrived, a leader day and a joint session, for the calendar."""
    room, desk = office["room"], office["desk"]
    days = _next_workdays(org, 3, after=office["today"] + timedelta(days=5))
    services.leader_day_schedule(
        actor=office["admin"],
        leader_id=leader.pk,
        data=services.SessionInput(
            room_id=room.pk,
            date=days[0],
            starts=time(14),
            ends=time(16),
            slot_minutes=30,
            capacity=2,
            topic="老旧小区加装电梯",
            department_ids=[departments["housing"].pk],
        ),
    )
    first, _ = case_register(actor=clerk, data=intake(party=cs.PartyInput(name="李娜", phone="13900001111")))
    cs.case_accept(actor=clerk, case_id=first.pk)
    ha.case_dispatch(
        actor=clerk, case_id=first.pk, department_id=departments["city"].pk, assisting_ids=[departments["housing"].pk]
    )
    services.joint_convene(
        actor=clerk,
        case_ids=[first.pk],
        data=services.SessionInput(
            room_id=room.pk,
            date=days[1],
            starts=time(15),
            ends=time(16),
            slot_minutes=60,
            capacity=3,
            topic="小区消防通道占用",
        ),
    )
    people = [
        ("王芳", "13900002222", days[0], SlotKind.HOURS),
        ("赵强", "13900003333", days[0], SlotKind.LEADER_DAY),
        ("陈静", "13900004444", days[1], SlotKind.HOURS),
        ("刘洋", "13900005555", days[2], SlotKind.HOURS),
    ]
    for n, (name, phone, day, kind) in enumerate(people):
        pick = next(s for s in schedule.offered(org.pk, day, day) if s.left and s.kind == kind)
        services.appointment_book(
            actor=desk,
            organization=org,
            data=services.Booking(
                slot=pick.key, name=name, phone=phone, purpose="反映小区物业服务问题", headcount=1 + n
            ),
        )


def test_the_desk_books_a_visit_from_a_call(org, office, logged_in_page):
    page = logged_in_page("reception")
    page.locator("#nav-reception").click()
    expect(page).to_have_url(re.compile(r"/reception/$"))
    expect(page.locator("#week-calendar")).to_be_visible()
    page.locator("#go-book").click()
    first = page.locator("input[name=slot]").first
    slot_key = first.get_attribute("value")
    first.check()
    page.fill("#id_name", "张伟")
    page.fill("#id_phone", "13812345678")
    page.fill("#id_purpose", "小区消防通道被占用，反映多次无果")
    page.fill("#id_headcount", "8")
    page.fill("#id_representatives", "李娜\n王芳\n赵强\n孙丽\n周杰")
    page.locator("#book-submit").click()
    expect(page.locator('[data-field="representatives"]')).to_contain_text("代表不超过 5 人")
    assert Appointment.objects.count() == 0
    page.locator(f"input[name=slot][value='{slot_key}']").check()
    page.fill("#id_representatives", "李娜")
    page.locator("#book-submit").click()
    expect(page).to_have_url(re.compile(r"/reception/appointments/\d+/$"))
    appointment = Appointment.objects.get()
    expect(page.locator("#appointment-status")).to_have_text("已预约")
    expect(page.locator("#appointment-facts")).to_contain_text("张*")
    expect(page.locator("#appointment-facts")).not_to_contain_text("13812345678")
    assert (appointment.headcount, appointment.places, appointment.slot.key) == (8, 2, slot_key)
    expect(page.locator("#appointment-log")).to_contain_text("预约")


def test_the_public_books_a_visit_on_a_phone(org, office, phone_page):  # noqa: F811 - the fixture above
    page = phone_page()
    page.goto(f"/portal/{org.code}/")
    page.locator("#go-book").click()
    expect(page).to_have_url(re.compile(r"/appointments/$"))
    tomorrow = _next_workdays(org, 1, after=office["today"])[0]
    page.select_option("#pick-day", tomorrow.isoformat())  # the page shows that day's periods by itself
    expect(page).to_have_url(re.compile(rf"day={tomorrow.isoformat()}"))
    page.get_by_label(re.compile(r"^10:00–10:30")).check()
    page.fill("#id_name", "李娜")
    page.fill("#id_phone", "13900001111")
    page.fill("#id_purpose", "咨询拆迁补偿政策")
    page.get_by_label("我已阅读并同意上面的个人信息处理说明").check()
    expect(page.locator("#pow-status")).to_have_text("安全验证已完成，可以提交。")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    shoot(page, "reception-portal-booking.png")
    page.locator("#book-button").click()
    expect(page).to_have_url(re.compile(r"/appointments/done/$"))
    appointment = Appointment.objects.get()
    expect(page.locator("#booking-code")).to_have_text(appointment.code)
    expect(page.locator("#booking-when")).to_contain_text(f"{tomorrow:%Y-%m-%d}")
    expect(page.locator("#booking-when")).to_contain_text("10:00")
    assert appointment.booked_by is None and appointment.slot.starts_at == _moment(tomorrow, 10)
    shoot(page, "reception-portal-booked.png")


def test_a_visitor_is_checked_in_and_their_visit_becomes_a_case(
    org, office, clerk, leader, departments, logged_in_page
):
    _busy_week(org, office, clerk, leader, departments)
    today = office["today"]
    # Booked yesterday by phone for today's first period (the clock does not travel).
    booked = services.appointment_book(
        actor=office["desk"],
        organization=org,
        data=services.Booking(
            slot=schedule.hours_key(office["room"].pk, _moment(today, 9)),
            name="张伟",
            phone="13812345678",
            purpose="小区楼道长期堆放杂物，存在消防隐患。",
            representatives=["李娜"],
            headcount=3,
        ),
        at=_moment(today, 9) - timedelta(hours=20),
    )
    page = logged_in_page("reception")
    page.goto(f"/reception/day/?day={today.isoformat()}")
    expect(page.locator("#day-calendar")).to_contain_text(booked.code)
    page.get_by_role("link", name=booked.code).click()
    page.locator("#go-check-in").click()
    expect(page).to_have_url(re.compile(r"/check-in/$"))
    expect(page.locator("#id_name")).to_have_value("张伟")
    wrong = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")
    page.fill("#id_id_number", wrong)
    page.select_option("#id_gender", "male")
    page.fill("#id_age", "46")
    page.fill("#id_affiliation", "幸福里小区业主")
    page.locator("#check-in-submit").click()
    expect(page.locator('[data-field="id_number"]')).to_contain_text("校验位错误")
    assert Case.objects.filter(channel=Channel.VISIT).count() == 0
    page.fill("#id_id_number", ID_NUMBER)
    page.select_option("#id_gender", "male")
    page.fill("#id_age", "46")
    page.fill("#id_affiliation", "幸福里小区业主")
    shoot(page, "reception-check-in.png")
    page.locator("#check-in-submit").click()
    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get(channel=Channel.VISIT)
    expect(page.locator("body")).to_contain_text(case.number)
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CHECKED_IN and booked.case == case
    assert case.group_size == 3 and case.party.id_number == ID_NUMBER
    # The visit page shows the ID number masked.
    page.goto(f"/reception/appointments/{booked.pk}/")
    expect(page.locator("#appointment-arrived")).to_contain_text(booked.id_number_masked)
    expect(page.locator("body")).not_to_contain_text(ID_NUMBER)
    shoot(page, "reception-appointment.png")

    # The calendars, a leader day and a joint session in them, printable.
    week_of = _next_workdays(org, 1, after=today + timedelta(days=5))[0]
    page.goto(f"/reception/?day={week_of.isoformat()}")
    expect(page.locator("#week-calendar")).to_contain_text("领导接待日")
    expect(page.locator("#week-calendar")).to_contain_text("联合接访")
    expect(page.locator("#week-calendar")).to_contain_text("王*")
    shoot(page, "reception-week.png")
    page.emulate_media(media="print")
    expect(page.locator("#calendar-nav")).to_be_hidden()
    shoot(page, "reception-week-print.png")
    page.emulate_media(media="screen")
    page.goto(f"/reception/day/?day={week_of.isoformat()}")
    expect(page.locator("#day-calendar")).to_contain_text("领导接待日")
    shoot(page, "reception-day.png")
    leader_page = logged_in_page("leader")
    leader_page.goto("/reception/schedule/")
    expect(leader_page.locator("#my-leader-days")).to_contain_text("老旧小区加装电梯")
    shoot(leader_page, "reception-schedule.png")
