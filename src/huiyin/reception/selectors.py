"""Reads of the reception, each with its permission check: the day and week calendars (the
periods with their bookings, leader days and joint sessions, every name masked), the
schedule page with what the preset requires, one visit's page, and what the portal offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.utils import timezone

from huiyin.cases.models import Case, Party
from huiyin.cases.selectors import cases_for
from huiyin.cases.workflow import OPEN_STATES
from huiyin.core.errors import NotFound
from huiyin.core.validators import id_number_error, normalize_id_number, normalize_phone
from huiyin.notifications.models import Message
from huiyin.orgs.models import Organization, Staff
from huiyin.orgs.roles import Role

from . import messages, permissions, schedule
from .models import (
    Appointment,
    AppointmentStatus,
    JointSession,
    LeaderDay,
    OpeningHours,
    Room,
    SessionStatus,
    Slot,
    SlotKind,
)

SHOWN = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN, AppointmentStatus.NO_SHOW)
WEEKS_CHECKED = 4


def _check(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass
class CalendarDay:
    day: date
    label: str  # a holiday's name, 调休上班, 休息日; "" on an ordinary working day
    closed: bool  # a holiday or closure
    slots: list[schedule.OfferedSlot] = field(default_factory=list)
    leader_days: list[LeaderDay] = field(default_factory=list)
    joint_sessions: list[JointSession] = field(default_factory=list)

    @property
    def weekday(self) -> int:
        return self.day.weekday()

    @property
    def booked(self) -> int:
        return sum(len(s.appointments) for s in self.slots)


def _orphans(organization_id: int, first: date, last: date, known: set[str]) -> list[schedule.OfferedSlot]:
    """Periods with visits in them that the schedule no longer offers (hours ended, a session
    cancelled with visits already moved): shown, so no visit disappears from the calendar."""
    tz = timezone.get_current_timezone()
    low = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    high = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    rows = Slot.objects.filter(organization_id=organization_id, starts_at__gte=low, starts_at__lt=high).select_related(
        "room", "leader_day__leader", "joint_session"
    )
    return [
        schedule.OfferedSlot(
            key=s.key,
            kind=s.kind,
            room=s.room,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            capacity=s.capacity,
            leader_day=s.leader_day,
            joint_session=s.joint_session,
            booked=s.booked,
        )
        for s in rows
        if s.key not in known and s.appointments.filter(status__in=SHOWN).exists()
    ]


def calendar(actor: Staff, first: date, last: date, *, room_id: int | None = None) -> list[CalendarDay]:
    """Each day from ``first`` to ``last``: its periods with their visits (booked, arrived, not
    come; names masked in the template), its leader days and joint sessions."""
    _check(permissions.may_view_reception(actor))
    org_id = actor.org_id
    cal = schedule.calendar_of(org_id)
    slots = schedule.offered(org_id, first, last, room_id=room_id, calendar=cal, with_cancelled=True)
    slots += _orphans(org_id, first, last, {s.key for s in slots})
    by_key = {s.key: s for s in slots}
    for appointment in (
        Appointment.objects.filter(organization_id=org_id, slot__key__in=list(by_key), status__in=SHOWN)
        .select_related("slot", "case")
        .order_by("slot__starts_at", "id")
    ):
        by_key[appointment.slot.key].appointments.append(appointment)
    days: dict[date, CalendarDay] = {}
    day = first
    while day <= last:
        kind = schedule.day_kind(cal, day)
        days[day] = CalendarDay(day=day, label=schedule.day_label(cal, day), closed=kind == schedule.DayKind.HOLIDAY)
        day += timedelta(days=1)
    for slot in sorted(slots, key=lambda s: (s.starts_at, s.room.sort_order, s.room.name)):
        if slot.day in days:
            days[slot.day].slots.append(slot)
    leader_days = LeaderDay.objects.filter(organization_id=org_id, date__gte=first, date__lte=last)
    joint_sessions = JointSession.objects.filter(organization_id=org_id, date__gte=first, date__lte=last)
    if room_id is not None:
        leader_days, joint_sessions = leader_days.filter(room_id=room_id), joint_sessions.filter(room_id=room_id)
    for leader_day in leader_days.select_related("room", "leader").prefetch_related("departments"):
        days[leader_day.date].leader_days.append(leader_day)
    for joint in joint_sessions.select_related("room").prefetch_related("departments"):
        days[joint.date].joint_sessions.append(joint)
    return list(days.values())


def rooms(organization_id: int) -> list[Room]:
    return list(Room.objects.filter(organization_id=organization_id, active=True))


@dataclass(frozen=True)
class SchedulePage:
    rooms: list[Room]
    hours: list[OpeningHours]
    leader_days: list[LeaderDay]
    joint_sessions: list[JointSession]
    weeks: list[schedule.WeekCheck]
    requirement: object  # the preset's reception section, or None
    leaders: list[Staff]
    my_days: list[LeaderDay]


def schedule_page(actor: Staff, *, today: date | None = None) -> SchedulePage:
    """Rooms, the hours in force or to come, the coming leader days and joint sessions, and the
    next weeks checked against the preset (``open_days_per_week``)."""
    _check(permissions.may_view_reception(actor))
    org_id = actor.org_id
    today = today or timezone.localdate()
    upcoming = {"organization_id": org_id, "date__gte": today - timedelta(days=7)}
    leader_days = list(
        LeaderDay.objects.filter(**upcoming)
        .select_related("leader", "room")
        .prefetch_related("departments")
        .order_by("date", "starts")[:50]
    )
    return SchedulePage(
        rooms=list(Room.objects.filter(organization_id=org_id)),
        hours=list(
            OpeningHours.objects.filter(organization_id=org_id)
            .exclude(valid_until__lt=today)
            .select_related("room")
            .order_by("room__sort_order", "room__name", "weekday", "starts")
        ),
        leader_days=leader_days,
        joint_sessions=list(
            JointSession.objects.filter(**upcoming)
            .select_related("room")
            .prefetch_related("departments", Prefetch("cases", queryset=Case.objects.only("pk", "number", "title")))
            .order_by("date", "starts")[:50]
        ),
        weeks=schedule.week_checks(org_id, monday_of(today), WEEKS_CHECKED),
        requirement=schedule.requirement(org_id),
        leaders=[
            s
            for s in Staff.objects.filter(organization_id=org_id, is_active=True).order_by("full_name", "username")
            if Role.LEADER in (s.roles or [])
        ],
        my_days=[d for d in leader_days if permissions.is_own_leader_day(actor, d) and d.date >= today],
    )


def hours_get(actor: Staff, hours_id: int) -> OpeningHours:
    """A row of published hours, to change (the schedule managers')."""
    _check(permissions.may_manage_schedules(actor))
    row = OpeningHours.objects.select_related("room").filter(pk=hours_id, organization_id=actor.org_id).first()
    if row is None:
        raise NotFound()
    return row


def appointment_get(actor: Staff, appointment_id: int) -> Appointment:
    _check(permissions.may_view_reception(actor))
    appointment = (
        Appointment.objects.select_related(
            "slot__room", "slot__leader_day__leader", "slot__joint_session", "case", "booked_by", "checked_in_by"
        )
        .filter(pk=appointment_id, organization_id=actor.org_id)
        .first()
    )
    if appointment is None:
        raise NotFound()
    return appointment


def appointment_messages(appointment: Appointment) -> list[Message]:
    return messages.sent_for(appointment)


def open_cases_of(actor: Staff, *, phone: str = "", id_number: str = "") -> list[Case]:
    """The open cases of the person with this phone or ID number that the actor may see: where
    a visit about the same matter is added as a contact instead of a new case."""
    parties = Party.objects.filter(organization_id=actor.org_id)
    ids: set[int] = set()
    if phone:
        ids |= set(parties.with_phone(normalize_phone(phone)).values_list("pk", flat=True))
    if id_number and id_number_error(normalize_id_number(id_number)) is None:
        ids |= set(parties.with_id_number(id_number).values_list("pk", flat=True))
    if not ids:
        return []
    return list(cases_for(actor).filter(party_id__in=ids, state__in=OPEN_STATES).order_by("-received_at")[:10])


def free_slots(
    organization_id: int,
    *,
    first: date,
    days: int,
    places: int = 1,
    public: bool = False,
    now: datetime | None = None,
) -> list[schedule.OfferedSlot]:
    """Periods still bookable from ``first`` for ``days`` days with ``places`` left: the future
    ones of published sessions (the public: no joint sessions, which are by invitation)."""
    now = now or timezone.now()
    ahead = schedule.reception_rules(organization_id).book_ahead_days
    last = min(first + timedelta(days=days - 1), timezone.localdate(now) + timedelta(days=ahead))
    if last < first:
        return []
    return [
        s
        for s in schedule.offered(organization_id, first, last)
        if s.starts_at > now and s.left >= places and s.bookable_session and not (public and s.kind == SlotKind.JOINT)
    ]


@dataclass(frozen=True)
class PublicDay:
    day: date
    slots: list[schedule.OfferedSlot]


def public_days(organization: Organization, *, now: datetime | None = None) -> list[PublicDay]:
    """What the portal offers: each coming day with a free period (the preset's
    ``book_ahead_days``), its free periods in time order."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ahead = schedule.reception_rules(organization.pk).book_ahead_days
    by_day: dict[date, list[schedule.OfferedSlot]] = {}
    for slot in free_slots(organization.pk, first=today, days=ahead + 1, public=True, now=now):
        by_day.setdefault(slot.day, []).append(slot)
    return [PublicDay(day, slots) for day, slots in sorted(by_day.items())]


def leader_day_get(actor: Staff, day_id: int) -> LeaderDay:
    _check(permissions.may_view_reception(actor))
    day = (
        LeaderDay.objects.select_related("leader", "room", "closed_by")
        .prefetch_related("departments")
        .filter(pk=day_id, organization_id=actor.org_id)
        .first()
    )
    if day is None:
        raise NotFound()
    return day


def joint_get(actor: Staff, session_id: int) -> JointSession:
    _check(permissions.may_view_reception(actor))
    session = (
        JointSession.objects.select_related("room", "closed_by")
        .prefetch_related("departments", "cases__party", "cases__lead_department")
        .filter(pk=session_id, organization_id=actor.org_id)
        .first()
    )
    if session is None:
        raise NotFound()
    return session


def session_appointments(session: LeaderDay | JointSession) -> list[Appointment]:
    return list(
        Appointment.objects.filter(slot__in=session.slots.all(), status__in=SHOWN)
        .select_related("slot", "case")
        .order_by("slot__starts_at", "id")
    )


def my_upcoming_leader_days(actor: Staff, *, today: date | None = None) -> list[LeaderDay]:
    """The leader's own coming reception days (their desk panel)."""
    today = today or timezone.localdate()
    return list(
        LeaderDay.objects.filter(
            organization_id=actor.org_id, leader=actor, date__gte=today, status=SessionStatus.PUBLISHED
        )
        .select_related("room")
        .order_by("date", "starts")[:5]
    )
