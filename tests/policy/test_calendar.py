"""Business calendar (F31): official schedules, 调休 crossings, properties.

The expected 2025 and 2026 schedules are typed in from the State Council
notices (国办发明电〔2024〕12号 for 2025; 国务院办公厅关于2026年部分节假日安排的通知
of 4 November 2025 for 2026), not read from ``chinese_calendar``, so a wrong
package release fails here instead of moving legal deadlines.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huiyin.policy.calendar import BusinessCalendar

SH = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar()
END_OF_DAY = time.max


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def end_of(d: date) -> datetime:
    return datetime.combine(d, END_OF_DAY, tzinfo=SH)


# (acceptable names, first day off, last day off) — the ranges include weekends.
OFFICIAL_DAYS_OFF = {
    2025: [
        ({"元旦"}, date(2025, 1, 1), date(2025, 1, 1)),
        ({"春节"}, date(2025, 1, 28), date(2025, 2, 4)),
        ({"清明"}, date(2025, 4, 4), date(2025, 4, 6)),
        ({"劳动节"}, date(2025, 5, 1), date(2025, 5, 5)),
        ({"端午"}, date(2025, 5, 31), date(2025, 6, 2)),
        ({"国庆节", "中秋"}, date(2025, 10, 1), date(2025, 10, 8)),
    ],
    2026: [
        ({"元旦"}, date(2026, 1, 1), date(2026, 1, 3)),
        ({"春节"}, date(2026, 2, 15), date(2026, 2, 23)),
        ({"清明"}, date(2026, 4, 4), date(2026, 4, 6)),
        ({"劳动节"}, date(2026, 5, 1), date(2026, 5, 5)),
        ({"端午"}, date(2026, 6, 19), date(2026, 6, 21)),
        ({"中秋"}, date(2026, 9, 25), date(2026, 9, 27)),
        ({"国庆节"}, date(2026, 10, 1), date(2026, 10, 7)),
    ],
}
# Make-up working days (调休上班), all on a Saturday or Sunday.
OFFICIAL_MAKEUP_WORKDAYS = {
    2025: [
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 4, 27),
        date(2025, 9, 28),
        date(2025, 10, 11),
    ],
    2026: [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ],
}


def official_days_off(year: int) -> dict[date, set[str]]:
    days: dict[date, set[str]] = {}
    for names, first, last in OFFICIAL_DAYS_OFF[year]:
        for i in range((last - first).days + 1):
            days[first + timedelta(days=i)] = names
    return days


# --- official schedules -----------------------------------------------------


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_of_the_year_matches_the_official_notice(year: int) -> None:
    days_off = official_days_off(year)
    makeup = set(OFFICIAL_MAKEUP_WORKDAYS[year])
    day, wrong = date(year, 1, 1), []
    while day.year == year:
        expected = day in makeup or (day.weekday() < 5 and day not in days_off)
        if CAL.is_workday(day) is not expected:
            wrong.append(day)
        day += timedelta(days=1)
    assert wrong == []


@pytest.mark.parametrize("year", [2025, 2026])
def test_holiday_names_follow_the_notice(year: int) -> None:
    for day, names in official_days_off(year).items():
        assert CAL.holiday_name(day) in names, day
    for day in OFFICIAL_MAKEUP_WORKDAYS[year]:
        assert day.weekday() >= 5
        assert CAL.holiday_name(day) is None


def test_spot_checks() -> None:
    assert CAL.is_workday(date(2026, 10, 1)) is False
    assert CAL.is_workday(date(2026, 10, 10)) is True  # Saturday, 调休
    assert CAL.holiday_name(date(2025, 1, 28)) == "春节"
    assert CAL.holiday_name(date(2025, 3, 8)) is None  # a plain Saturday is not a holiday
    assert CAL.is_workday(date(2025, 3, 8)) is False


# --- crossing 调休 ------------------------------------------------------------


def test_adding_workdays_lands_on_a_makeup_sunday() -> None:
    assert CAL.add_workdays(date(2025, 1, 24), 1) == date(2025, 1, 26)  # Fri -> Sun 调休
    assert CAL.add_workdays(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert CAL.add_workdays(date(2026, 2, 13), 1) == date(2026, 2, 14)  # Fri -> Sat 调休


def test_adding_workdays_skips_golden_week_and_spring_festival() -> None:
    assert CAL.add_workdays(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert CAL.add_workdays(date(2025, 10, 9), -1) == date(2025, 9, 30)
    assert CAL.add_workdays(date(2025, 1, 26), 2) == date(2025, 2, 5)  # 27 Jan, then 5 Feb
    assert CAL.add_workdays(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert CAL.add_workdays(date(2026, 9, 30), 2) == date(2026, 10, 9)
    assert CAL.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert CAL.workdays_between(date(2025, 9, 30), date(2025, 10, 9)) == 1
    assert CAL.workdays_between(date(2025, 10, 9), date(2025, 9, 30)) == -1


def test_next_and_previous_workday_and_zero() -> None:
    assert CAL.next_workday(date(2025, 10, 1)) == date(2025, 10, 9)
    assert CAL.previous_workday(date(2025, 10, 1)) == date(2025, 9, 30)
    assert CAL.add_workdays(date(2025, 10, 3), 0) == date(2025, 10, 9)
    assert CAL.add_workdays(date(2025, 10, 9), 0) == date(2025, 10, 9)


def test_calendar_days_roll() -> None:
    d = date(2025, 9, 20)
    assert CAL.add_calendar_days(d, 11) == date(2025, 10, 1)
    assert CAL.add_calendar_days(d, 11, roll="forward") == date(2025, 10, 9)
    assert CAL.add_calendar_days(d, 11, roll="backward") == date(2025, 9, 30)
    assert CAL.add_calendar_days(d, 8, roll="forward") == date(2025, 9, 28)  # 调休 Sunday


def test_working_hours_across_a_makeup_sunday() -> None:
    due = CAL.add_working_hours(at(2025, 9, 26, 17), 2)
    assert due == at(2025, 9, 28, 10)
    assert due.tzinfo is SH


def test_working_hours_end_exactly_at_period_end_and_skip_lunch() -> None:
    assert CAL.add_working_hours(at(2025, 9, 30, 11), 1) == at(2025, 9, 30, 12)
    assert CAL.add_working_hours(at(2025, 9, 30, 11), Decimal("1.5")) == at(2025, 9, 30, 13, 30)
    assert CAL.add_working_hours(at(2025, 9, 30, 17), timedelta(hours=2)) == at(2025, 10, 9, 10)
    assert CAL.add_working_hours(at(2025, 10, 3, 15), 0) == at(2025, 10, 3, 15)


def test_working_hours_accept_naive_datetimes_and_custom_hours() -> None:
    cal = BusinessCalendar(work_hours=((time(9), time(12)), (time(13, 30), time(17, 30))))
    start = datetime(2025, 3, 3, 11)  # noqa: DTZ001 — naive input is part of the contract
    assert cal.add_working_hours(start, 2) == datetime(2025, 3, 3, 14, 30)  # noqa: DTZ001
    assert cal.working_time_between(start, datetime(2025, 3, 4, 11)) == timedelta(hours=7)  # noqa: DTZ001


def test_working_time_between() -> None:
    assert CAL.working_time_between(at(2025, 3, 7, 9), at(2025, 3, 10, 9)) == timedelta(hours=8)
    assert CAL.working_time_between(at(2025, 9, 30, 18), at(2025, 10, 9, 9)) == timedelta(0)
    assert CAL.working_time_between(at(2025, 3, 10, 9), at(2025, 3, 7, 9)) == -timedelta(hours=8)


# --- the deadline engine entry point ----------------------------------------


def test_clock_units_ignore_holidays() -> None:
    start = at(2025, 10, 1, 23, 58)
    assert CAL.add(start, 3, "minutes") == at(2025, 10, 2, 0, 1)
    assert CAL.add(start, 24, "hours") == at(2025, 10, 2, 23, 58)


def test_petition_fifteen_days_from_receipt() -> None:
    # Received 16 Sep: day 1 is 17 Sep, day 15 is 1 Oct (holiday) -> 顺延 to 9 Oct.
    received = at(2025, 9, 16, 15)
    assert CAL.add(received, 15, "days", start_rule="next_day") == end_of(date(2025, 10, 9))
    assert CAL.add(received, 15, "days", start_rule="next_day", roll="none") == end_of(date(2025, 10, 1))
    # Day 15 falls on 11 Oct, a Saturday worked under 调休: no roll.
    assert CAL.add(at(2025, 9, 26, 9), 15, "days", start_rule="next_day") == end_of(date(2025, 10, 11))


def test_days_immediate_counts_the_day_of_receipt() -> None:
    start = at(2025, 3, 3, 10)  # Monday
    assert CAL.add(start, 1, "days") == end_of(date(2025, 3, 3))
    assert CAL.add(start, 1, "days", start_rule="next_day") == end_of(date(2025, 3, 4))
    assert CAL.add(start, 0, "days") == end_of(date(2025, 3, 3))
    assert CAL.add(start, 0, "days", start_rule="next_day") == end_of(date(2025, 3, 3))


def test_workdays_never_count_the_day_of_receipt() -> None:
    start = at(2025, 9, 29, 10)  # Monday, a workday
    expected = end_of(date(2025, 10, 10))  # 30 Sep, 9 Oct, 10 Oct
    assert CAL.add(start, 3, "workdays") == expected
    assert CAL.add(start, 3, "workdays", start_rule="next_day") == expected
    assert CAL.add(at(2025, 10, 1, 10), 1, "workdays") == end_of(date(2025, 10, 9))


def test_working_hours_next_day_starts_at_the_next_morning() -> None:
    start = at(2025, 3, 3, 10)
    assert CAL.add(start, 2, "working_hours") == at(2025, 3, 3, 12)
    assert CAL.add(start, 2, "working_hours", start_rule="next_day") == at(2025, 3, 4, 11)


def test_add_rejects_negative_amounts() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add(at(2025, 3, 3), -1, "days")


# --- overrides and unknown years --------------------------------------------


def test_overrides_win_over_the_package() -> None:
    cal = BusinessCalendar(
        extra_holidays={date(2025, 9, 28): "单位停业", date(2025, 3, 3): "单位停业"},
        extra_workdays={date(2025, 10, 8): "值班日"},
    )
    assert cal.is_workday(date(2025, 9, 28)) is False  # package: 调休 workday
    assert cal.holiday_name(date(2025, 3, 3)) == "单位停业"
    assert cal.is_workday(date(2025, 10, 8)) is True  # package: National Day
    assert cal.holiday_name(date(2025, 10, 8)) is None
    assert cal.add_workdays(date(2025, 9, 26), 1) == date(2025, 9, 29)
    assert cal.add_workdays(date(2025, 9, 30), 1) == date(2025, 10, 8)


def test_unknown_year_falls_back_to_weekends_plus_overrides() -> None:
    assert CAL.is_workday(date(2031, 1, 1)) is True  # package has no 2031: a Wednesday
    assert CAL.holiday_name(date(2031, 1, 1)) is None
    assert CAL.is_workday(date(2003, 6, 7)) is False  # before the package: a Saturday
    cal = BusinessCalendar(
        extra_holidays={date(2031, 1, 1): "元旦", date(2031, 1, 2): "元旦"},
        extra_workdays={date(2031, 1, 4): "元旦调休"},  # a Saturday
    )
    assert cal.holiday_name(date(2031, 1, 1)) == "元旦"
    assert cal.add_workdays(date(2030, 12, 31), 1) == date(2031, 1, 3)
    assert cal.add_workdays(date(2031, 1, 3), 1) == date(2031, 1, 4)
    assert cal.add(at(2030, 12, 31, 9), 2, "days", start_rule="next_day") == end_of(date(2031, 1, 3))
    assert cal.workdays_between(date(2030, 12, 31), date(2031, 1, 6)) == 3


def test_contradictory_or_malformed_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="both"):
        BusinessCalendar(extra_holidays={date(2031, 1, 1): "x"}, extra_workdays={date(2031, 1, 1): "y"})
    with pytest.raises(ValueError, match="work_hours"):
        BusinessCalendar(work_hours=((time(13), time(18)), (time(9), time(12))))
    with pytest.raises(ValueError, match="work_hours"):
        BusinessCalendar(work_hours=())


# --- properties -------------------------------------------------------------

# Spans both package edges (2004 and 2026) so the fallback is exercised too.
dates = st.dates(min_value=date(2003, 1, 1), max_value=date(2032, 12, 31))
workdays = dates.map(lambda d: CAL.add_workdays(d, 0))
moments = st.datetimes(
    min_value=datetime(2003, 1, 1),  # noqa: DTZ001 — hypothesis wants naive bounds
    max_value=datetime(2032, 12, 31),  # noqa: DTZ001
    timezones=st.just(SH),
)
steps = st.integers(min_value=-300, max_value=300)
units = st.sampled_from(["minutes", "hours", "working_hours", "days", "workdays"])
start_rules = st.sampled_from(["immediate", "next_day"])
rolls = st.sampled_from(["none", "forward"])
props = settings(deadline=None, max_examples=150)


@props
@given(d=workdays, n=steps)
def test_add_workdays_round_trips(d: date, n: int) -> None:
    assert CAL.add_workdays(CAL.add_workdays(d, n), -n) == d


@props
@given(d=dates, n=steps)
def test_add_workdays_always_returns_a_workday(d: date, n: int) -> None:
    assert CAL.is_workday(CAL.add_workdays(d, n))


@props
@given(d=dates, a=steps, b=steps)
def test_add_workdays_is_monotone(d: date, a: int, b: int) -> None:
    a, b = sorted((a, b))
    assert CAL.add_workdays(d, a) <= CAL.add_workdays(d, b)
    if CAL.is_workday(d) and a < b:
        assert CAL.add_workdays(d, a) < CAL.add_workdays(d, b)


@props
@given(a=dates, b=workdays)
def test_workdays_between_inverts_add_workdays(a: date, b: date) -> None:
    assert CAL.add_workdays(a, CAL.workdays_between(a, b)) == b


@props
@given(a=dates, span=st.integers(min_value=0, max_value=400))
def test_workdays_between_counts_the_half_open_interval(a: date, span: int) -> None:
    b = a + timedelta(days=span)
    brute = sum(CAL.is_workday(a + timedelta(days=i)) for i in range(1, span + 1))
    assert CAL.workdays_between(a, b) == brute


@props
@given(start=moments, minutes=st.integers(min_value=1, max_value=200 * 60))
def test_add_working_hours_lands_in_working_time(start: datetime, minutes: int) -> None:
    spent = timedelta(minutes=minutes)
    due = CAL.add_working_hours(start, spent)
    assert due.tzinfo is SH
    assert CAL.is_workday(due.date())
    assert any(s <= due.time() < e or due.time() == e for s, e in CAL.work_hours)
    assert CAL.working_time_between(start, due) == spent


@props
@given(
    start=moments,
    unit=units,
    a=st.integers(0, 400),
    b=st.integers(0, 400),
    start_rule=start_rules,
    roll=rolls,
)
def test_add_is_monotone_in_amount(start: datetime, unit: str, a: int, b: int, start_rule: str, roll: str) -> None:
    a, b = sorted((a, b))
    first = CAL.add(start, a, unit, start_rule=start_rule, roll=roll)  # type: ignore[arg-type]
    second = CAL.add(start, b, unit, start_rule=start_rule, roll=roll)  # type: ignore[arg-type]
    assert first <= second
    assert second >= start


@props
@given(
    closures=st.dictionaries(
        st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
        st.just("单位停业"),
        max_size=40,
    ),
    start=st.datetimes(
        min_value=datetime(2024, 1, 1),  # noqa: DTZ001
        max_value=datetime(2028, 6, 30),  # noqa: DTZ001
        timezones=st.just(SH),
    ),
    unit=st.sampled_from(["working_hours", "days", "workdays"]),
    amount=st.integers(0, 60),
    start_rule=start_rules,
)
def test_an_extra_holiday_is_never_a_deadline_day(
    closures: dict[date, str], start: datetime, unit: str, amount: int, start_rule: str
) -> None:
    cal = BusinessCalendar(extra_holidays=closures)
    due = cal.add(start, amount, unit, start_rule=start_rule)  # type: ignore[arg-type]
    if unit == "working_hours" and amount == 0:
        return  # zero working hours is the start itself, whatever day that is
    assert due.date() not in closures
    assert cal.is_workday(due.date())
