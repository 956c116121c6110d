"""What may be booked, computed from the published schedule and the business calendar.

A day is one of four kinds in the organisation's calendar (``policy.calendar``: the
national holidays and 调休 from ``chinesecalendar``, the preset's and the administrators'
own days):

* a working day (Monday to Friday): each room's hours for that weekday;
* a 调休 working weekend day: the room's hours for such days (``Weekday.SWAPPED_WORKDAY``),
  or, if it publishes none, its hours for that weekday;
* a holiday or closure (a named day off): no hours at all;
* a plain weekend day: the room's hours for that weekday, if it opens at weekends.

Leader reception days and joint reception sessions add their own periods. Each period is
an ``OfferedSlot`` with a ``key`` that names it whatever its source; a booking names the key
and the service computes the day again, so only a published period can be booked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.policy.calendar import BusinessCalendar
from huiyin.policy.models import preset_of
from huiyin.policy.presets import Reception
from huiyin.policy.services import current_policy
from huiyin.policy.services.calendars import calendar_for

from .models import (
    JointSession,
    LeaderDay,
    OpeningHours,
    Room,
    SessionStatus,
    Slot,
    SlotKind,
    Weekday,
)

KEY_TIME = "%Y%m%d%H%M"


class DayKind(StrEnum):
    WORKDAY = "workday"
    SWAPPED = "swapped"  # a weekend day the calendar makes a working day (调休上班)
    HOLIDAY = "holiday"  # a statutory holiday or the organisation's closure
    REST = "rest"  # a plain weekend day


def calendar_of(organization_id: int) -> BusinessCalendar:
    """The calendar the organisation's deadlines run on (its policy's closures included)."""
    return calendar_for(organization_id=organization_id, policy_version=current_policy(organization_id))


def reception_rules(organization_id: int) -> Reception:
    """The preset's ``reception`` section, or its defaults when the preset has none."""
    policy = current_policy(organization_id)
    section = preset_of(policy).reception if policy is not None else None
    return section or Reception()


def requirement(organization_id: int) -> Reception | None:
    """The preset's ``reception`` section as a requirement (None: the preset sets none)."""
    policy = current_policy(organization_id)
    return preset_of(policy).reception if policy is not None else None


def day_kind(calendar: BusinessCalendar, day: date) -> DayKind:
    if calendar.is_workday(day):
        return DayKind.SWAPPED if day.weekday() >= 5 else DayKind.WORKDAY
    return DayKind.HOLIDAY if calendar.holiday_name(day) else DayKind.REST


def day_label(calendar: BusinessCalendar, day: date) -> str:
    """How the calendar pages name a day that is not an ordinary one ("" for an ordinary day)."""
    kind = day_kind(calendar, day)
    if kind == DayKind.HOLIDAY:
        return calendar.holiday_name(day) or _("休息日")
    if kind == DayKind.SWAPPED:
        return _("调休上班")
    return _("休息日") if kind == DayKind.REST else ""


def _valid(rule: OpeningHours, day: date) -> bool:
    return rule.valid_from <= day and (rule.valid_until is None or day <= rule.valid_until)


def hours_on(rules: Iterable[OpeningHours], calendar: BusinessCalendar, day: date) -> list[OpeningHours]:
    """The published hours that apply on ``day`` (see the module's docstring)."""
    kind = day_kind(calendar, day)
    if kind == DayKind.HOLIDAY:
        return []
    by_room: dict[int, dict[int, list[OpeningHours]]] = defaultdict(lambda: defaultdict(list))
    for rule in rules:
        if _valid(rule, day):
            by_room[rule.room_id][rule.weekday].append(rule)
    applying: list[OpeningHours] = []
    for days in by_room.values():
        if kind == DayKind.SWAPPED and days.get(Weekday.SWAPPED_WORKDAY):
            applying += days[Weekday.SWAPPED_WORKDAY]
        else:
            applying += days.get(day.weekday(), [])
    return applying


def periods(day: date, starts: time, ends: time, minutes: int) -> list[tuple[datetime, datetime]]:
    """``starts``–``ends`` on ``day`` cut into periods of ``minutes`` (a remainder too short is dropped)."""
    tz = timezone.get_current_timezone()
    begin, end = datetime.combine(day, starts, tzinfo=tz), datetime.combine(day, ends, tzinfo=tz)
    step = timedelta(minutes=max(5, minutes))
    out = []
    while begin + step <= end:
        out.append((begin, begin + step))
        begin += step
    return out


def hours_key(room_id: int, starts_at: datetime) -> str:
    return f"h.{room_id}.{timezone.localtime(starts_at):{KEY_TIME}}"


def session_key(kind: str, session_id: int, starts_at: datetime) -> str:
    prefix = "l" if kind == SlotKind.LEADER_DAY else "j"
    return f"{prefix}.{session_id}.{timezone.localtime(starts_at):{KEY_TIME}}"


@dataclass
class OfferedSlot:
    key: str
    kind: str
    room: Room
    starts_at: datetime
    ends_at: datetime
    capacity: int
    leader_day: LeaderDay | None = None
    joint_session: JointSession | None = None
    booked: int = 0
    appointments: list = field(default_factory=list)  # filled by the calendar selectors

    @property
    def left(self) -> int:
        return max(0, self.capacity - self.booked)

    @property
    def day(self) -> date:
        return timezone.localtime(self.starts_at).date()

    @property
    def bookable_session(self) -> bool:
        """A leader day's or joint session's period is bookable while it is published."""
        session = self.leader_day or self.joint_session
        return session is None or session.status == SessionStatus.PUBLISHED


def _session_slots(kind: str, session: LeaderDay | JointSession) -> list[OfferedSlot]:
    return [
        OfferedSlot(
            key=session_key(kind, session.pk, begin),
            kind=kind,
            room=session.room,
            starts_at=begin,
            ends_at=end,
            capacity=session.capacity,
            leader_day=session if isinstance(session, LeaderDay) else None,
            joint_session=session if isinstance(session, JointSession) else None,
        )
        for begin, end in periods(session.date, session.starts, session.ends, session.slot_minutes)
    ]


def _holds_room(slot: OfferedSlot) -> bool:
    session = slot.leader_day or slot.joint_session
    return session is not None and session.status != SessionStatus.CANCELLED


def offered(
    organization_id: int,
    first: date,
    last: date,
    *,
    room_id: int | None = None,
    calendar: BusinessCalendar | None = None,
    with_cancelled: bool = False,
) -> list[OfferedSlot]:
    """Every period between ``first`` and ``last`` (inclusive), in time order, with the places
    booked in it so far: the rooms' published hours and the leader days' and joint sessions'
    periods (cancelled sessions only with ``with_cancelled``)."""
    calendar = calendar or calendar_of(organization_id)
    rooms = Room.objects.filter(organization_id=organization_id, active=True)
    if room_id is not None:
        rooms = rooms.filter(pk=room_id)
    rules = list(
        OpeningHours.objects.filter(organization_id=organization_id, room__in=rooms, valid_from__lte=last)
        .exclude(valid_until__lt=first)
        .select_related("room")
    )
    slots: list[OfferedSlot] = []
    day = first
    while day <= last:
        for rule in hours_on(rules, calendar, day):
            for begin, end in periods(day, rule.starts, rule.ends, rule.slot_minutes):
                slots.append(
                    OfferedSlot(
                        key=hours_key(rule.room_id, begin),
                        kind=SlotKind.HOURS,
                        room=rule.room,
                        starts_at=begin,
                        ends_at=end,
                        capacity=rule.capacity,
                    )
                )
        day += timedelta(days=1)
    statuses = list(SessionStatus.values) if with_cancelled else [SessionStatus.PUBLISHED, SessionStatus.HELD]
    leader_days = LeaderDay.objects.filter(
        organization_id=organization_id, date__gte=first, date__lte=last, status__in=statuses
    ).select_related("room", "leader")
    joint_sessions = JointSession.objects.filter(
        organization_id=organization_id, date__gte=first, date__lte=last, status__in=statuses
    ).select_related("room")
    if room_id is not None:
        leader_days, joint_sessions = leader_days.filter(room_id=room_id), joint_sessions.filter(room_id=room_id)
    sessions: list[OfferedSlot] = []
    for day_row in leader_days:
        sessions += _session_slots(SlotKind.LEADER_DAY, day_row)
    for joint_row in joint_sessions:
        sessions += _session_slots(SlotKind.JOINT, joint_row)
    # A session takes its room for its time: the room's ordinary periods then are not offered.
    taken = [(s.room.pk, s.starts_at, s.ends_at) for s in sessions if _holds_room(s)]
    slots = [
        s
        for s in slots
        if not any(room == s.room.pk and s.starts_at < end and start < s.ends_at for room, start, end in taken)
    ]
    slots += sessions
    _fill_booked(organization_id, slots)
    slots.sort(key=lambda s: (s.starts_at, s.room.sort_order, s.room.name, s.key))
    return slots


def _fill_booked(organization_id: int, slots: list[OfferedSlot]) -> None:
    if not slots:
        return
    low, high = min(s.starts_at for s in slots), max(s.starts_at for s in slots)
    counts = dict(
        Slot.objects.filter(organization_id=organization_id, starts_at__gte=low, starts_at__lte=high).values_list(
            "key", "booked"
        )
    )
    for slot in slots:
        slot.booked = counts.get(slot.key, 0)


def find(organization_id: int, key: str) -> OfferedSlot | None:
    """The published period a key names, computed again from the schedule (None: there is none)."""
    parts = (key or "").split(".")
    if len(parts) != 3 or parts[0] not in ("h", "l", "j") or not parts[1].isdigit() or len(parts[2]) != 12:
        return None
    try:
        day = date(int(parts[2][:4]), int(parts[2][4:6]), int(parts[2][6:8]))
    except ValueError:
        return None
    return next((s for s in offered(organization_id, day, day) if s.key == key), None)


# --- what the office must offer -------------------------------------------------------------------


@dataclass(frozen=True)
class WeekCheck:
    """One week against the preset's ``open_days_per_week``: the working days it has, those
    with published hours, how many it needs (all of them in a short week) and whether it
    falls short."""

    monday: date
    workdays: int
    open_days: int
    required: int

    @property
    def short(self) -> bool:
        return self.open_days < self.required

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)


def week_checks(organization_id: int, monday: date, weeks: int, *, calendar: BusinessCalendar | None = None):
    """The weeks from ``monday`` on, each checked against the preset (an empty list when the
    preset sets no requirement)."""
    rule = requirement(organization_id)
    if rule is None:
        return []
    calendar = calendar or calendar_of(organization_id)
    last = monday + timedelta(days=7 * weeks - 1)
    open_days = {s.day for s in offered(organization_id, monday, last, calendar=calendar) if s.kind == SlotKind.HOURS}
    out = []
    for n in range(weeks):
        start = monday + timedelta(days=7 * n)
        days = [start + timedelta(days=i) for i in range(7)]
        workdays = [d for d in days if calendar.is_workday(d)]
        out.append(
            WeekCheck(
                monday=start,
                workdays=len(workdays),
                open_days=sum(1 for d in workdays if d in open_days),
                required=min(rule.open_days_per_week, len(workdays)),
            )
        )
    return out
