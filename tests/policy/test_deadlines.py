"""Due, warning, pause and escalation arithmetic (policy.deadlines): pure, no database."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huiyin.policy.calendar import BusinessCalendar
from huiyin.policy.deadlines import ClockRule, Grant, escalation_at, paused_amount, schedule, shift
from huiyin.policy.presets import load_preset
from huiyin.policy.services.versions import presets_dir

SH = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar()


def at(y, m, d, hh=0, mm=0, ss=0):
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


def end_of(y, m, d):
    return datetime(y, m, d, 23, 59, 59, 999999, tzinfo=SH)


def rule(amount, unit, **kw):
    return ClockRule(stage=kw.pop("stage", "reply"), amount=amount, unit=unit, **kw)


def test_hotline_dispatch_rule_is_three_minutes_in_seconds():
    preset = load_preset(presets_dir() / "city_hotline.yaml")
    r = ClockRule.from_preset(preset.match_deadline("dispatch", channel="phone"))
    s = schedule(r, CAL, at(2026, 3, 2, 10, 0, 0))
    assert s.due_at == at(2026, 3, 2, 10, 3, 0)
    assert s.warn_at == at(2026, 3, 2, 10, 2, 15)  # 75 % of 180 s


def test_petition_acceptance_counts_from_the_next_day_and_rolls_over_the_holiday():
    preset = load_preset(presets_dir() / "petition_office.yaml")
    r = ClockRule.from_preset(preset.match_deadline("acceptance", channel="letter"))
    assert (r.start, r.roll) == ("next_day", "forward")
    # received the day before National Day: day 1 is 10-01, day 15 is Thursday 10-15
    assert schedule(r, CAL, at(2026, 9, 30, 16)).due_at == end_of(2026, 10, 15)
    # day 15 would be 10-01 (holiday): rolled forward to the first working day, 10-08
    assert schedule(r, CAL, at(2026, 9, 16, 9)).due_at == end_of(2026, 10, 8)


def test_workday_warning_falls_in_working_time():
    s = schedule(rule(15, "workdays"), CAL, at(2026, 9, 21, 10))
    assert s.due_at.date() == CAL.add_workdays(at(2026, 9, 21).date(), 15)
    assert CAL.is_workday(s.warn_at.date())
    assert any(a <= s.warn_at.timetz().replace(tzinfo=None) <= b for a, b in CAL.work_hours)


def test_warning_is_dropped_when_it_would_not_come_before_the_due_time():
    assert schedule(rule(1, "minutes", warn_fraction=0.99), CAL, at(2026, 3, 2, 10)).warn_at is not None
    # 99.9999999 % of a minute rounds to the due time itself: no separate warning
    assert schedule(rule(1, "minutes", warn_fraction=0.999999999), CAL, at(2026, 3, 2, 10)).warn_at is None
    # working hours started after the day's last period: nothing of the allowance before due
    s = schedule(rule(1, "working_hours"), CAL, at(2026, 3, 2, 20))
    assert s.due_at == at(2026, 3, 3, 10)
    assert at(2026, 3, 3, 9) < s.warn_at < s.due_at


def test_pause_shifts_elapsed_rules_by_the_paused_seconds():
    r = rule(3, "minutes")
    paused = paused_amount("minutes", CAL, at(2026, 3, 2, 10, 1), at(2026, 3, 2, 10, 11, 30))
    assert paused == 630
    s = schedule(r, CAL, at(2026, 3, 2, 10), paused_units=paused)
    assert s.due_at == at(2026, 3, 2, 10, 13, 30)
    assert s.warn_at == at(2026, 3, 2, 10, 12, 45)


def test_pause_of_working_hours_counts_only_working_time():
    # paused Friday 17:00 → Monday 10:00: 1 h Friday + 1 h Monday of working time
    paused = paused_amount("working_hours", CAL, at(2026, 3, 6, 17), at(2026, 3, 9, 10))
    assert paused == 2 * 3600
    s = schedule(rule(8, "working_hours"), CAL, at(2026, 3, 6, 9), paused_units=paused)
    assert s.due_at == CAL.add_working_hours(at(2026, 3, 6, 9), 10)


def test_day_rules_exclude_whole_days_and_roll_after_the_exclusion():
    assert paused_amount("days", CAL, at(2026, 3, 2, 10), at(2026, 3, 2, 17)) == 0
    assert paused_amount("days", CAL, at(2026, 3, 3, 10), at(2026, 3, 6, 15)) == 3
    # paused over a weekend: no working day excluded
    assert paused_amount("workdays", CAL, at(2026, 3, 6, 16), at(2026, 3, 9, 8)) == 1
    assert paused_amount("workdays", CAL, at(2026, 3, 7, 9), at(2026, 3, 8, 18)) == 0
    r = rule(15, "days", start="next_day", roll="forward")
    # 2026-09-13 + 15 = 09-28 (workday); with 3 paused days 10-01 → rolled to 10-08
    assert schedule(r, CAL, at(2026, 9, 13, 9)).due_at == end_of(2026, 9, 28)
    assert schedule(r, CAL, at(2026, 9, 13, 9), paused_units=3).due_at == end_of(2026, 10, 8)


def test_extension_in_the_rules_unit_is_added_to_the_amount_then_rolled():
    r = rule(60, "days", start="next_day", roll="forward", stage="overall")
    base = schedule(r, CAL, at(2026, 3, 2, 9)).due_at
    extended = schedule(r, CAL, at(2026, 3, 2, 9), grants=[Grant(30, "days")]).due_at
    assert base == end_of(2026, 5, 6)  # 05-01 … 05-05 holiday ends before: 05-01 + 5 = 05-06 workday
    assert extended == schedule(rule(90, "days", start="next_day", roll="forward"), CAL, at(2026, 3, 2, 9)).due_at


def test_extension_in_another_unit_is_added_after_the_due_time():
    s = schedule(rule(24, "hours"), CAL, at(2026, 3, 2, 10), grants=[Grant(5, "days")])
    assert s.due_at == end_of(2026, 3, 8)
    assert s.warn_at == at(2026, 3, 2, 10) + (s.due_at - at(2026, 3, 2, 10)) * 0.75


def test_extension_moves_the_warning_too():
    r = rule(7, "days", start="next_day")
    before = schedule(r, CAL, at(2026, 3, 2, 10))
    after = schedule(r, CAL, at(2026, 3, 2, 10), grants=[Grant(7, "days")])
    assert after.due_at == end_of(2026, 3, 16) and after.warn_at > before.due_at - timedelta(days=1)


@pytest.mark.parametrize(
    ("amount", "unit", "expected"),
    [
        (0, "minutes", at(2026, 3, 2, 10, 3)),
        (30, "minutes", at(2026, 3, 2, 10, 33)),
        (2, "hours", at(2026, 3, 2, 12, 3)),
        (1, "workdays", end_of(2026, 3, 3)),
        (1, "days", end_of(2026, 3, 3)),
    ],
)
def test_escalation_steps_count_from_the_due_time(amount, unit, expected):
    assert escalation_at(CAL, at(2026, 3, 2, 10, 3), amount, unit) == expected


def test_escalation_in_workdays_skips_the_holiday():
    assert escalation_at(CAL, end_of(2026, 9, 30), 1, "workdays") == end_of(2026, 10, 8)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="aware"):
        schedule(rule(1, "hours"), CAL, datetime(2026, 3, 2, 10))  # noqa: DTZ001


def test_rule_round_trips_through_json():
    r = rule(15, "days", start="next_day", roll="forward", warn_fraction=0.5, label="受理告知")
    assert ClockRule.from_json(r.to_json()) == r


UNITS = st.sampled_from(["minutes", "hours", "working_hours", "days", "workdays"])
# hypothesis wants naive bounds and attaches the zone itself
STARTS = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001
    max_value=datetime(2026, 12, 1),  # noqa: DTZ001
    timezones=st.just(SH),
)


@settings(max_examples=150, deadline=None)
@given(UNITS, st.integers(1, 40), STARTS, st.integers(0, 20), st.integers(0, 20))
def test_more_paused_time_never_makes_the_due_time_earlier(unit, amount, start, p1, p2):
    scale = 3600 if unit in ("minutes", "hours", "working_hours") else 1
    r = rule(amount, unit)
    a = schedule(r, CAL, start, paused_units=min(p1, p2) * scale).due_at
    b = schedule(r, CAL, start, paused_units=max(p1, p2) * scale).due_at
    assert start < a <= b


@settings(max_examples=150, deadline=None)
@given(UNITS, st.integers(1, 40), STARTS, st.floats(0.05, 0.95))
def test_warning_lies_strictly_between_start_and_due(unit, amount, start, fraction):
    s = schedule(rule(amount, unit, warn_fraction=fraction), CAL, start)
    if s.warn_at is not None:
        assert start < s.warn_at < s.due_at
    if unit == "workdays":
        assert CAL.is_workday(s.due_at.date())


@settings(max_examples=100, deadline=None)
@given(STARTS, st.integers(0, 10))
def test_shifting_by_workdays_lands_on_a_workday_at_the_same_time(start, n):
    start = start.replace(hour=10, minute=0, second=0, microsecond=0)
    start = datetime.combine(CAL.add_workdays(start.date(), 0), time(10), tzinfo=SH)
    shifted = shift("workdays", CAL, start, n)
    assert CAL.is_workday(shifted.date()) and shifted.timetz() == start.timetz()
    assert CAL.workdays_between(start.date(), shifted.date()) == n
