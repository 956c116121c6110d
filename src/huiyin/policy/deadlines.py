"""Due and warning times of a deadline clock: pure functions over a BusinessCalendar.

No database, no settings: the hook, the services, the sweeper and the tests call the
same functions with the same answers. All datetimes must be aware and in the
organisation's local zone (the calendar's day boundaries are the local ones).

Conventions
-----------
* Rule → ``BusinessCalendar.add``: ``unit`` as is; ``start`` → ``start_rule``;
  ``on_holiday: roll_forward`` → ``roll="forward"``, ``none`` → ``roll="none"``.
  The calendar's module docstring says how each unit counts.
* Warning time: ``start + warn_at × allowance``, where the allowance is the time from
  the clock's start to its (unpaused) due time, measured in the rule's own terms:
  elapsed time for ``minutes``/``hours``/``days`` (calendar days run through weekends,
  so does their warning), *working time* for ``working_hours``/``workdays`` (75 % of
  15 working days lands on a working day, during working hours, never on a Sunday).
  No warning when that instant is not strictly between start and due.
* Pause (suspension): the paused time is measured in the rule's unit semantics and
  both due and warning times move by it:
  ``minutes``/``hours``: wall-clock seconds; ``working_hours``: working seconds
  between pause and resume; ``days``: calendar days between the pause date and the
  resume date; ``workdays``: working days in (pause date, resume date]. Day units thus
  exclude whole days: a pause and resume on the same day excludes nothing, a pause
  over a weekend excludes no working day. For day units the paused days are added to
  the amount *before* rolling over a holiday, as the law counts (期间扣除后顺延).
* Extensions: an approved extension in the rule's own unit is added to the amount
  (then rolled); one in another unit is added after the due time (day units: whole
  days after the due date). The warning time is recomputed over the extended
  allowance, so a fresh warning precedes the new due time.
* Escalation steps (preset ``escalation[].after``) are counted from the due time: 0 =
  at the due time; day units end at the end of the n-th (working) day after the due
  date; time units add elapsed or working time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from .calendar import BusinessCalendar, StartRule, Unit

DAY_UNITS = frozenset({"days", "workdays"})
ELAPSED_UNITS = frozenset({"minutes", "hours"})
WORKING_UNITS = frozenset({"working_hours", "workdays"})


def _require_aware(dt: datetime, what: str) -> None:
    if dt.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware")


def _plus(dt: datetime, delta: timedelta) -> datetime:
    """Elapsed-time addition that stays in dt's zone (via UTC, DST-safe)."""
    return (dt.astimezone(UTC) + delta).astimezone(dt.tzinfo)


@dataclass(frozen=True, kw_only=True)
class ClockRule:
    """The part of a preset DeadlineRule a clock needs, JSON-serialisable."""

    stage: str
    amount: int
    unit: Unit
    clock_from: str = "received"
    start: StartRule = "immediate"
    roll: Literal["none", "forward"] = "none"
    warn_fraction: float = 0.75
    label: str = ""
    source: str = ""

    @classmethod
    def from_preset(cls, rule: Any) -> ClockRule:
        """From a ``presets.DeadlineRule``."""
        return cls(
            stage=rule.stage,
            amount=int(rule.amount),
            unit=cast(Unit, rule.unit),
            clock_from=rule.clock_from,
            start=cast(StartRule, rule.start),
            roll="forward" if rule.on_holiday == "roll_forward" else "none",
            warn_fraction=float(rule.warn_at),
            label=rule.label,
            source=rule.source,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClockRule:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass(frozen=True)
class Grant:
    """An approved extension."""

    amount: int
    unit: Unit


@dataclass(frozen=True)
class Schedule:
    due_at: datetime
    warn_at: datetime | None


def _extend(cal: BusinessCalendar, dt: datetime, grant: Grant) -> datetime:
    if grant.unit in DAY_UNITS:
        return cal.add(dt, grant.amount, grant.unit, start_rule="next_day", roll="none")
    return cal.add(dt, grant.amount, grant.unit)


def _fraction_point(rule: ClockRule, cal: BusinessCalendar, start: datetime, due: datetime) -> datetime | None:
    if rule.unit in WORKING_UNITS:
        working = cal.working_time_between(start, due)
        if working <= timedelta(0):
            return None
        point = cal.add_working_hours(start, working * rule.warn_fraction)
    else:
        point = _plus(start, (due - start) * rule.warn_fraction)
    return point if start < point < due else None


def shift(unit: str, cal: BusinessCalendar, dt: datetime, paused_units: int) -> datetime:
    """``dt`` moved later by ``paused_units`` in the unit's pause semantics."""
    if not paused_units:
        return dt
    if unit in ELAPSED_UNITS:
        return _plus(dt, timedelta(seconds=paused_units))
    if unit == "working_hours":
        return cal.add_working_hours(dt, timedelta(seconds=paused_units))
    if unit == "days":
        return dt + timedelta(days=paused_units)  # aware + timedelta is wall-clock: same time of day
    if unit == "workdays":
        return datetime.combine(cal.add_workdays(dt.date(), paused_units), dt.timetz())
    raise ValueError(f"unknown deadline unit: {unit!r}")


def schedule(
    rule: ClockRule,
    cal: BusinessCalendar,
    start: datetime,
    *,
    paused_units: int = 0,
    grants: Iterable[Grant] = (),
) -> Schedule:
    """Due and warning times of a clock started at ``start`` (see module docstring)."""
    _require_aware(start, "start")
    grants = tuple(grants)
    same = sum(g.amount for g in grants if g.unit == rule.unit)
    others = [g for g in grants if g.unit != rule.unit]

    def due_for(extra: int) -> datetime:
        due = cal.add(start, rule.amount + same + extra, rule.unit, start_rule=rule.start, roll=rule.roll)
        for grant in others:
            due = _extend(cal, due, grant)
        return due

    base = due_for(0)
    warn = _fraction_point(rule, cal, start, base)
    due = due_for(paused_units) if rule.unit in DAY_UNITS else shift(rule.unit, cal, base, paused_units)
    if warn is not None:
        warn = shift(rule.unit, cal, warn, paused_units)
        if warn >= due:
            warn = None
    return Schedule(due_at=due, warn_at=warn)


def paused_amount(unit: str, cal: BusinessCalendar, paused_at: datetime, resumed_at: datetime) -> int:
    """How much of a rule's allowance a pause from ``paused_at`` to ``resumed_at`` excludes."""
    _require_aware(paused_at, "paused_at")
    _require_aware(resumed_at, "resumed_at")
    if resumed_at <= paused_at:
        return 0
    if unit in ELAPSED_UNITS:
        return int((resumed_at - paused_at).total_seconds())
    if unit == "working_hours":
        return int(cal.working_time_between(paused_at, resumed_at).total_seconds())
    resumed_local = resumed_at.astimezone(paused_at.tzinfo)
    if unit == "days":
        return (resumed_local.date() - paused_at.date()).days
    if unit == "workdays":
        return cal.workdays_between(paused_at.date(), resumed_local.date())
    raise ValueError(f"unknown deadline unit: {unit!r}")


def escalation_at(cal: BusinessCalendar, due_at: datetime, amount: int, unit: str) -> datetime:
    """When an escalation step ``after: {amount, unit}`` falls, counted from the due time."""
    _require_aware(due_at, "due_at")
    if amount <= 0:
        return due_at
    if unit in DAY_UNITS:
        return cal.add(due_at, amount, cast(Unit, unit), start_rule="next_day", roll="none")
    return cal.add(due_at, amount, cast(Unit, unit))
