"""Published reception hours against the business calendar: no hours on the National Day
holidays, the 调休 working Saturday opened with the hours for such days (or the room's
Saturday hours, or none), an organisation's own closure, and the week that falls short of
the preset's five working days."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from huiyin.core.errors import ApplicationError, ValidationFailed
from huiyin.policy.models import CalendarDay, CalendarDayKind
from huiyin.reception import schedule, services
from huiyin.reception.models import Appointment, OpeningHours, Slot, SlotKind, Weekday
from tests.reception.conftest import MONDAY, WORKDAYS, at, booking, key

pytestmark = pytest.mark.django_db


def days_open(org, first: date, last: date, room=None) -> dict[date, list[str]]:
    out: dict[date, list[str]] = {}
    for slot in schedule.offered(org.pk, first, last, room_id=room.pk if room else None):
        out.setdefault(slot.day, []).append(f"{slot.starts_at:%H:%M}")
    return out


def test_hours_follow_the_holidays_and_the_swapped_saturday(org, room, hours):
    shown = days_open(org, MONDAY, MONDAY + timedelta(days=18))
    # 28–30 September open; 1–7 October (National Day) closed; Thursday 8 and Friday 9 open;
    # Saturday 10 (调休上班) open with the hours for such days; Sunday 11 closed; Monday 12 open.
    assert sorted(shown) == [
        date(2026, 9, 28),
        date(2026, 9, 29),
        date(2026, 9, 30),
        date(2026, 10, 8),
        date(2026, 10, 9),
        date(2026, 10, 10),
        date(2026, 10, 12),
        date(2026, 10, 13),
        date(2026, 10, 14),
        date(2026, 10, 15),
        date(2026, 10, 16),
    ]
    assert shown[date(2026, 9, 28)] == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert shown[date(2026, 10, 10)] == shown[date(2026, 9, 28)]
    cal = schedule.calendar_of(org.pk)
    assert schedule.day_kind(cal, date(2026, 10, 10)) == schedule.DayKind.SWAPPED
    assert schedule.day_kind(cal, date(2026, 10, 1)) == schedule.DayKind.HOLIDAY
    assert schedule.day_kind(cal, date(2026, 10, 11)) == schedule.DayKind.REST


def test_a_swapped_saturday_without_its_own_hours_takes_the_rooms_saturday_hours_or_none(org, admin, frozen, petition):
    plain = services.room_save(actor=admin, name="二号接待室")
    services.hours_add(
        actor=admin,
        room_id=plain.pk,
        weekdays=WORKDAYS,
        starts=time(14),
        ends=time(15),
        slot_minutes=60,
        capacity=1,
        valid_from=MONDAY,
    )
    assert date(2026, 10, 10) not in days_open(org, MONDAY, date(2026, 10, 11), plain)
    weekend = services.room_save(actor=admin, name="周末接待点")
    services.hours_add(
        actor=admin,
        room_id=weekend.pk,
        weekdays=[Weekday.SATURDAY],
        starts=time(9),
        ends=time(10),
        slot_minutes=60,
        capacity=1,
        valid_from=MONDAY,
    )
    shown = days_open(org, MONDAY, date(2026, 10, 17), weekend)
    # Its Saturday hours: the swapped Saturday and an ordinary one; the National Day Saturday not.
    assert sorted(shown) == [date(2026, 10, 10), date(2026, 10, 17)]


def test_only_a_published_period_can_be_booked(org, room, hours, desk, frozen):
    before = (Appointment.objects.count(), Slot.objects.count())
    for refused in (
        key(room, 2026, 10, 1, 9),  # National Day
        key(room, 2026, 10, 11, 9),  # an ordinary Sunday
        key(room, 2026, 9, 28, 8),  # before the room opens
        key(room, 2026, 9, 28, 9, 15),  # not a period's start
        "h.999.202609280900",  # no such room
        "nonsense",
    ):
        with pytest.raises(ApplicationError) as refusal:
            services.appointment_book(actor=desk, organization=org, data=booking(refused))
        assert refusal.value.field == "slot"
        assert "不在公布的接待时间内" in str(refusal.value.message)
    assert (Appointment.objects.count(), Slot.objects.count()) == before
    booked = services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 10, 10, 9)))
    assert booked.slot.starts_at == at(2026, 10, 10, 9)


def test_the_organisations_own_closure_closes_the_room(org, room, hours, desk, frozen):
    CalendarDay.objects.create(organization=org, date=date(2026, 9, 30), kind=CalendarDayKind.HOLIDAY, name="停电检修")
    assert date(2026, 9, 30) not in days_open(org, MONDAY, MONDAY + timedelta(days=6))
    with pytest.raises(ApplicationError, match="不在公布的接待时间内"):
        services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 9, 30, 9)))


def test_a_week_short_of_the_presets_open_days_is_flagged(org, room, admin, frozen):
    services.hours_add(
        actor=admin,
        room_id=room.pk,
        weekdays=[Weekday.MONDAY, Weekday.WEDNESDAY, Weekday.FRIDAY],
        starts=time(9),
        ends=time(11),
        slot_minutes=60,
        capacity=3,
        valid_from=MONDAY,
    )
    weeks = {w.monday: w for w in schedule.week_checks(org.pk, MONDAY, 3)}
    # The holiday week (28–30 September open days only): 3 working days, Mon and Wed open.
    assert (weeks[MONDAY].workdays, weeks[MONDAY].open_days, weeks[MONDAY].required) == (3, 2, 3)
    # 8, 9, 10 October are working days: only Friday 9 has hours.
    after = MONDAY + timedelta(days=7)
    assert (weeks[after].workdays, weeks[after].open_days, weeks[after].required) == (3, 1, 3)
    full = MONDAY + timedelta(days=14)
    assert (weeks[full].workdays, weeks[full].open_days, weeks[full].required) == (5, 3, 5)
    assert all(w.short for w in weeks.values())
    services.hours_add(
        actor=admin,
        room_id=room.pk,
        weekdays=[Weekday.TUESDAY, Weekday.THURSDAY, Weekday.SWAPPED_WORKDAY],
        starts=time(14),
        ends=time(16),
        slot_minutes=60,
        capacity=3,
        valid_from=MONDAY,
    )
    assert not any(w.short for w in schedule.week_checks(org.pk, MONDAY, 3))


def test_the_schedule_and_week_pages_warn_about_a_short_week(client, org, room, admin, desk, frozen):
    services.hours_add(
        actor=admin,
        room_id=room.pk,
        weekdays=[Weekday.MONDAY],
        starts=time(9),
        ends=time(10),
        slot_minutes=60,
        capacity=1,
        valid_from=MONDAY,
    )
    client.force_login(desk)
    page = client.get("/reception/schedule/").content.decode()
    assert "接待室每周至少 5 个工作日对外开放" in page and "week-short" in page
    week = client.get("/reception/?day=2026-10-12").content.decode()
    assert "本周只有 1 个工作日公布了接待时间，少于政策要求的 5 个" in week


def test_no_requirement_no_warning_when_the_preset_sets_none(org, admin, frozen, category, departments):
    from tests.policy.conftest import activate

    activate(org, "hospital")
    assert schedule.week_checks(org.pk, MONDAY, 2) == []


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"weekdays": []}, "weekdays", "请至少选择一天"),
        ({"starts": time(12), "ends": time(9)}, "ends", "结束时间应晚于开始时间"),
        ({"slot_minutes": 2}, "slot_minutes", "每段分钟数应在"),
        ({"slot_minutes": 240}, "slot_minutes", "不足一段"),
        ({"capacity": 0}, "capacity", "每段名额应在"),
        ({"valid_from": MONDAY - timedelta(days=3)}, "valid_from", "不能追溯"),
        ({"valid_until": MONDAY - timedelta(days=1)}, "valid_until", "不能早于起始日期"),
        ({"starts": time(11), "ends": time(13)}, "starts", "重叠"),
    ],
)
def test_bad_hours_are_refused_naming_the_field(org, room, hours, admin, change, field, words):
    values = dict(
        actor=admin,
        room_id=room.pk,
        weekdays=[Weekday.MONDAY],
        starts=time(14),
        ends=time(17),
        slot_minutes=30,
        capacity=2,
        valid_from=MONDAY,
    )
    values.update(change)
    before = OpeningHours.objects.count()
    with pytest.raises(ValidationFailed) as refusal:
        services.hours_add(**values)
    assert words in " ".join(refusal.value.errors[field])
    assert OpeningHours.objects.count() == before


def test_ending_hours_with_visits_booked_after_is_refused_until_they_are_moved(org, room, hours, admin, desk, frozen):
    monday_rule = next(h for h in hours if h.weekday == Weekday.MONDAY)
    booked = services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 10, 12, 9)))
    with pytest.raises(ValidationFailed, match="仍有 1 个时段有预约"):
        services.hours_end(actor=admin, hours_id=monday_rule.pk, last_day=date(2026, 10, 5))
    services.appointment_cancel(actor=desk, appointment_id=booked.pk, reason="来访人改为来信反映")
    services.hours_end(actor=admin, hours_id=monday_rule.pk, last_day=date(2026, 10, 5))
    shown = days_open(org, date(2026, 10, 12), date(2026, 10, 13))
    assert date(2026, 10, 12) not in shown and date(2026, 10, 13) in shown


def test_a_leader_day_and_a_joint_session_offer_their_own_periods(org, room, hours, admin, leader, clerk, frozen):
    day = services.leader_day_schedule(
        actor=admin,
        leader_id=leader.pk,
        data=services.SessionInput(
            room_id=room.pk,
            date=date(2026, 10, 9),
            starts=time(14),
            ends=time(16),
            slot_minutes=60,
            capacity=3,
            topic="物业管理与老旧小区改造",
        ),
    )
    offered = schedule.offered(org.pk, date(2026, 10, 9), date(2026, 10, 9))
    periods = [s for s in offered if s.kind == SlotKind.LEADER_DAY]
    assert [(s.starts_at, s.capacity, s.leader_day) for s in periods] == [
        (at(2026, 10, 9, 14), 3, day),
        (at(2026, 10, 9, 15), 3, day),
    ]


def test_a_session_takes_its_room_for_its_time(org, room, hours, admin, leader, desk, frozen):
    """The room's ordinary periods under a leader day are not offered (its own are); a session
    over visits already booked in the room's hours is refused until they are moved."""
    booked = services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 10, 9, 10)))

    def leader_day(starts: int, ends: int):
        return services.leader_day_schedule(
            actor=admin,
            leader_id=leader.pk,
            data=services.SessionInput(
                room_id=room.pk,
                date=date(2026, 10, 9),
                starts=time(starts),
                ends=time(ends),
                slot_minutes=60,
                capacity=2,
                topic="拆迁补偿",
            ),
        )

    with pytest.raises(ValidationFailed, match="已有 1 个时段有预约来访"):
        leader_day(10, 11)
    leader_day(9, 10)
    offered = [(s.kind, f"{s.starts_at:%H:%M}") for s in schedule.offered(org.pk, date(2026, 10, 9), date(2026, 10, 9))]
    assert offered[:3] == [(SlotKind.LEADER_DAY, "09:00"), (SlotKind.HOURS, "10:00"), (SlotKind.HOURS, "10:30")]
    with pytest.raises(ApplicationError, match="不在公布的接待时间内"):
        services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 10, 9, 9, 30)))
    assert booked.slot.key == key(room, 2026, 10, 9, 10)
