"""Business-calendar arithmetic for deadlines (F31).

Pure Python on purpose: the deadline engine, the presets validator and the
tests all need the same answers without a database. Overrides that
administrators keep in the database are passed in as plain mappings.

Counting rules used by ``BusinessCalendar.add`` (the deadline engine's entry point):

* ``minutes`` / ``hours``: elapsed clock time; holidays do not stop the clock
  (the hotline's 3-minute dispatch, "within 24 hours").  ``start_rule`` and
  ``roll`` are ignored.
* ``working_hours``: only time inside ``work_hours`` on workdays counts.
  ``start_rule="next_day"`` starts counting at 00:00 of the following day.
  ``roll`` is ignored: the result is always working time or a period's end.
* ``days``: calendar days.  ``"next_day"`` makes the day after receipt day 1
  (民法典 第二百零一条: 开始的当日不计入; "自收到之日起 15 日" = 15 days starting
  the day after receipt); ``"immediate"`` makes the receipt day itself day 1.
  ``roll="forward"`` moves a last day that is not a workday to the next
  workday (民法典 第二百零三条, 顺延).
* ``workdays``: the n-th workday strictly after the receipt day, under either
  ``start_rule``: a part-day of receipt is never counted as a whole working
  day, which is how petition offices count.
* Day units end at 23:59:59.999999 of the last day in ``start``'s own zone
  (第二百零三条: the last day ends at 24:00; this value still sorts on that
  date).  An amount of 0 means "by the end of the day of receipt" (or of the
  next workday, for ``workdays``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from functools import cache
from typing import Literal

import chinese_calendar  # ships no stubs; ignore_missing_imports in pyproject.toml

WorkHours = tuple[tuple[time, time], ...]
Unit = Literal["minutes", "hours", "working_hours", "days", "workdays"]
StartRule = Literal["immediate", "next_day"]
Roll = Literal["none", "forward", "backward"]

DEFAULT_WORK_HOURS: WorkHours = ((time(9), time(12)), (time(13), time(18)))

_DAY = timedelta(days=1)
_MICROSECONDS_PER_HOUR = 3_600_000_000


@cache
def _statutory(d: date) -> tuple[bool, str | None]:
    """(is a day off, Chinese holiday name) according to the package."""
    try:
        day_off, name = chinese_calendar.get_holiday_detail(d)
    except NotImplementedError:
        # The package only knows years the State Council has announced; later
        # years get their 调休 from administrator overrides instead.
        return d.weekday() >= 5, None
    if not day_off or name is None:
        return bool(day_off), None
    try:
        return True, str(chinese_calendar.Holiday(name).chinese)
    except ValueError:  # a name newer than the enum: still better than nothing
        return True, name


@cache
def statutory_year_known(year: int) -> bool:
    """Whether the holiday package knows ``year`` (its holidays and 调休 were announced and
    packaged). A year it does not know counts Monday to Friday as working days, unless
    administrators add its holidays and working days (CalendarDay rows)."""
    try:
        chinese_calendar.get_holiday_detail(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@cache
def statutory_years_range() -> tuple[int, int] | None:
    """(first, last) year the holiday package knows, or None (for the calendar page)."""
    known = [y for y in range(2000, 2101) if statutory_year_known(y)]
    return (known[0], known[-1]) if known else None


def _end_of_day(d: date, tz: tzinfo | None) -> datetime:
    return datetime.combine(d, time.max, tzinfo=tz)


def _as_timedelta(hours: float | Decimal | timedelta) -> timedelta:
    if isinstance(hours, timedelta):
        return hours
    if isinstance(hours, Decimal):
        # Through float, 0.1 hours would drift by microseconds.
        return timedelta(microseconds=int(hours * _MICROSECONDS_PER_HOUR))
    return timedelta(hours=hours)


def _elapsed(start: datetime, delta: timedelta) -> datetime:
    if start.tzinfo is None:
        return start + delta
    # Aware arithmetic in Python is wall-clock; going through UTC keeps the
    # clock honest should an organisation ever sit in a zone with DST.
    return (start.astimezone(UTC) + delta).astimezone(start.tzinfo)


class BusinessCalendar:
    """Workdays = the package's statutory calendar, overridden by the caller."""

    def __init__(
        self,
        *,
        extra_holidays: Mapping[date, str] | None = None,
        extra_workdays: Mapping[date, str] | None = None,
        work_hours: WorkHours = DEFAULT_WORK_HOURS,
    ) -> None:
        self._holidays = dict(extra_holidays or {})
        self._workdays = dict(extra_workdays or {})
        if clash := sorted(self._holidays.keys() & self._workdays.keys()):
            raise ValueError(f"dates are both extra holidays and extra workdays: {clash}")
        if not work_hours:
            raise ValueError("work_hours needs at least one period")
        previous_end = time.min
        for start, end in work_hours:
            if not previous_end <= start < end:
                raise ValueError("work_hours must be ordered, non-overlapping (start, end) periods")
            previous_end = end
        self.work_hours: WorkHours = tuple(work_hours)

    # --- days ---------------------------------------------------------------

    def is_workday(self, d: date) -> bool:
        if d in self._holidays:
            return False
        if d in self._workdays:
            return True
        return not _statutory(d)[0]

    def holiday_name(self, d: date) -> str | None:
        """Name of the holiday or closure on ``d``; None for workdays and plain weekends."""
        if d in self._holidays:
            return self._holidays[d]
        if d in self._workdays:
            return None
        return _statutory(d)[1]

    def add_workdays(self, d: date, n: int) -> date:
        """The n-th workday after (n > 0) or before (n < 0) ``d``; n == 0: ``d`` or the next one."""
        if n == 0:
            return d if self.is_workday(d) else self.add_workdays(d, 1)
        step = _DAY if n > 0 else -_DAY
        for _ in range(abs(n)):
            d += step
            while not self.is_workday(d):
                d += step
        return d

    def next_workday(self, d: date) -> date:
        return self.add_workdays(d, 1)

    def previous_workday(self, d: date) -> date:
        return self.add_workdays(d, -1)

    def workdays_between(self, a: date, b: date) -> int:
        """Workdays in (a, b] if a <= b, else minus the workdays in [b, a).

        The halves are chosen so ``add_workdays(a, workdays_between(a, b)) == b``
        for every workday ``b``, which is what "days left / days overdue" needs.
        """
        if a <= b:
            return sum(self.is_workday(a + i * _DAY) for i in range(1, (b - a).days + 1))
        return -sum(self.is_workday(b + i * _DAY) for i in range((a - b).days))

    def add_calendar_days(self, d: date, n: int, *, roll: Roll = "none") -> date:
        result = d + n * _DAY
        if roll == "none" or self.is_workday(result):
            return result
        return self.add_workdays(result, 1 if roll == "forward" else -1)

    # --- working hours ------------------------------------------------------

    def _periods(self, d: date, tz: tzinfo | None) -> list[tuple[datetime, datetime]]:
        if not self.is_workday(d):
            return []
        return [(datetime.combine(d, s, tzinfo=tz), datetime.combine(d, e, tzinfo=tz)) for s, e in self.work_hours]

    def add_working_hours(self, dt: datetime, hours: float | Decimal | timedelta) -> datetime:
        """``dt`` plus ``hours`` of working time, in ``dt``'s own zone.

        Ending exactly at a period's end returns that end (12:00), not the
        next period's start: the earlier instant is the safer deadline.
        """
        remaining = _as_timedelta(hours)
        if remaining < timedelta(0):
            raise ValueError("working hours cannot be negative")
        if not remaining:
            return dt
        day = dt.date()
        while True:
            for start, end in self._periods(day, dt.tzinfo):
                start = max(start, dt)
                if start >= end:
                    continue
                if remaining <= end - start:
                    return start + remaining
                remaining -= end - start
            day += _DAY

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time in [a, b]; negative when b is before a."""
        if b < a:
            return -self.working_time_between(b, a)
        if a.tzinfo is not None:
            b = b.astimezone(a.tzinfo)  # periods are wall-clock times in a's zone
        total = timedelta(0)
        day = a.date()
        while day <= b.date():
            for start, end in self._periods(day, a.tzinfo):
                low, high = max(start, a), min(end, b)
                if low < high:
                    total += high - low
            day += _DAY
        return total

    # --- deadline engine entry point ----------------------------------------

    def add(
        self,
        start: datetime,
        amount: int,
        unit: Unit,
        *,
        start_rule: StartRule = "immediate",
        roll: Literal["none", "forward"] = "forward",
    ) -> datetime:
        """The deadline ``amount`` ``unit`` after ``start``; rules in the module docstring."""
        if amount < 0:
            raise ValueError("deadline amounts cannot be negative")
        if unit == "minutes":
            return _elapsed(start, timedelta(minutes=amount))
        if unit == "hours":
            return _elapsed(start, timedelta(hours=amount))
        if unit == "working_hours":
            if start_rule == "next_day":
                start = datetime.combine(start.date() + _DAY, time.min, tzinfo=start.tzinfo)
            return self.add_working_hours(start, amount)
        if unit == "days":
            offset = amount if start_rule == "next_day" else max(amount - 1, 0)
            return _end_of_day(self.add_calendar_days(start.date(), offset, roll=roll), start.tzinfo)
        if unit == "workdays":
            return _end_of_day(self.add_workdays(start.date(), amount), start.tzinfo)
        raise ValueError(f"unknown deadline unit: {unit!r}")
