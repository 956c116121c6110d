"""Writes of the reception (来访接待): rooms and published hours, leader reception days, joint
reception sessions, and the visits booked into them — booked, moved, cancelled, not come,
checked in.

Every write is one transaction and refuses bad input naming the field, before anything is
stored. A booking takes its places with one conditional update of the period's ``Slot``
row (``booked + places <= capacity``): on PostgreSQL the second of two simultaneous bookings
waits for the first's row lock and then finds the row full; on SQLite the IMMEDIATE
transactions queue. Places are given back when a visit is cancelled or moved.

The check-in registers the visit through ``cases.services`` (``case_register`` with the
visit channel, or ``contact_add`` on the visitor's open case), so the visit is handled
through the normal lifecycle from there on.

``at`` (keyword): when a step happened, where history is recreated (the demo); checked by
``core.validators.happened_at``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases import validation
from huiyin.cases.inputs import IntakeInput, PartyInput
from huiyin.cases.models import Case, Channel, Nature
from huiyin.cases.selectors import cases_for
from huiyin.cases.services import case_register, contact_add
from huiyin.cases.workflow import OPEN_STATES
from huiyin.core.errors import ApplicationError, NotFound, PermissionDeniedError, StaleObject, ValidationFailed
from huiyin.core.locks import xact_lock
from huiyin.core.privacy import mask_id_number
from huiyin.core.validators import (
    LINE_MAX,
    NOTE_MAX,
    When,
    checked_text,
    clean_text,
    day_error,
    happened_at,
    id_number_error,
    normalize_id_number,
    normalize_phone,
    phone_error,
)
from huiyin.core.versions import bump, check_version, outdated
from huiyin.deadlines.models import StopReason
from huiyin.deadlines.services.clocks import subject_clock_start, subject_clocks_stop
from huiyin.orgs.models import Department, Organization, Staff
from huiyin.orgs.roles import Role
from huiyin.policy.models import preset_of
from huiyin.policy.services import current_policy

from . import frontdesk, messages, permissions, schedule
from .errors import ReceptionError
from .models import (
    APPOINTMENT_STATUSES,
    HOLDING,
    SESSION_STATUSES,
    Appointment,
    AppointmentLog,
    AppointmentStatus,
    BookedVia,
    JointSession,
    LeaderDay,
    LogKind,
    OpeningHours,
    Room,
    SessionStatus,
    Slot,
    SlotKind,
    Weekday,
)
from .subject import KIND, STAGE

Errors = dict[str, list[str]]
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
NAME_MAX = 60
SLOT_MINUTES = (5, 480)
CAPACITY_MAX = 200


def _add(errors: Errors, name: str, message: str) -> None:
    errors.setdefault(name, []).append(message)


def _raise(errors: Errors) -> None:
    if errors:
        raise ValidationFailed(errors)


# --- rooms and published hours ---------------------------------------------------------------------


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDeniedError()


def room_save(
    *,
    actor: Staff,
    name: str,
    location: str = "",
    active: bool = True,
    room_id: int | None = None,
    version: int | None = None,
    at: datetime | None = None,
) -> Room:
    """Add a reception room, or change one (its name, where it is, whether it is in use)."""
    _require(permissions.may_manage_schedules(actor))
    now = happened_at(at)
    name = checked_text(name, "name", missing=_("请填写接待室名称。"), limit=NAME_MAX, label=_("接待室名称"))
    location = checked_text(location, "location", limit=LINE_MAX, label=_("地点"))
    with transaction.atomic():
        xact_lock(f"reception-room:{actor.org_id}:{name}")
        same = Room.objects.filter(organization_id=actor.org_id, name=name)
        if room_id is not None:
            same = same.exclude(pk=room_id)
        if same.exists():
            raise ValidationFailed({"name": [_("已有名为“%(name)s”的接待室。") % {"name": name}]})
        if room_id is None:
            return Room.objects.create(
                organization_id=actor.org_id, name=name, location=location, active=active, created_at=now
            )
        room = Room.objects.select_for_update().filter(pk=room_id, organization_id=actor.org_id).first()
        if room is None:
            raise NotFound()
        check_version(room, version, what=_("该接待室"))
        room.name, room.location, room.active = name, location, active
        bump(room, ["name", "location", "active"])
        return room


def _room(actor: Staff, room_id: int | None, errors: Errors, field_name: str = "room") -> Room | None:
    room = Room.objects.filter(pk=room_id, organization_id=actor.org_id, active=True).first() if room_id else None
    if room is None:
        _add(errors, field_name, _("请选择接待室。"))
    return room


def _time_errors(
    errors: Errors, starts: time | None, ends: time | None, slot_minutes: int | None, capacity: int | None
) -> None:
    if starts is None:
        _add(errors, "starts", _("请填写开始时间。"))
    if ends is None:
        _add(errors, "ends", _("请填写结束时间。"))
    if starts is not None and ends is not None and starts >= ends:
        _add(errors, "ends", _("结束时间应晚于开始时间。"))
    low, high = SLOT_MINUTES
    if slot_minutes is None or not low <= slot_minutes <= high:
        _add(errors, "slot_minutes", _("每段分钟数应在 %(low)d 到 %(high)d 之间。") % {"low": low, "high": high})
    elif starts is not None and ends is not None and starts < ends:
        length = (datetime.combine(date.min, ends) - datetime.combine(date.min, starts)).total_seconds() / 60
        if length < slot_minutes:
            _add(
                errors,
                "slot_minutes",
                _("接待时长（%(n)d 分钟）不足一段（%(m)d 分钟）。") % {"n": int(length), "m": slot_minutes},
            )
    if capacity is None or not 1 <= capacity <= CAPACITY_MAX:
        _add(errors, "capacity", _("每段名额应在 1 到 %(max)d 之间。") % {"max": CAPACITY_MAX})


def _overlaps(a_start: time, a_end: time, b_start: time, b_end: time) -> bool:
    return a_start < b_end and b_start < a_end


def hours_add(
    *,
    actor: Staff,
    room_id: int | None,
    weekdays: list[int],
    starts: time | None,
    ends: time | None,
    slot_minutes: int | None,
    capacity: int | None,
    valid_from: date | None,
    valid_until: date | None = None,
    at: datetime | None = None,
) -> list[OpeningHours]:
    """Publish recurring reception hours: for each weekday chosen (and/or the 调休 working
    weekend days), ``starts``–``ends`` in slots of ``slot_minutes`` with ``capacity`` places."""
    _require(permissions.may_manage_schedules(actor))
    now = happened_at(at)
    today = timezone.localdate(now)
    errors: Errors = {}
    room = _room(actor, room_id, errors)
    days = sorted(set(weekdays))
    if not days:
        _add(errors, "weekdays", _("请至少选择一天。"))
    elif any(d not in Weekday.values for d in days):
        _add(errors, "weekdays", _("星期无效。"))
    _time_errors(errors, starts, ends, slot_minutes, capacity)
    if valid_from is None:
        _add(errors, "valid_from", _("请填写起始日期。"))
    else:
        message = day_error(valid_from, When.PLANNED, _("起始日期"), today=today)
        if message:
            _add(errors, "valid_from", message)
        elif valid_from < today:
            _add(errors, "valid_from", _("起始日期不能早于今天：已公布的接待时间不能追溯修改。"))
    if valid_until is not None:
        message = day_error(valid_until, When.PLANNED, _("截止日期"), today=today)
        if message:
            _add(errors, "valid_until", message)
        elif valid_from is not None and valid_until < valid_from:
            _add(errors, "valid_until", _("截止日期不能早于起始日期。"))
    _raise(errors)
    assert room is not None and starts is not None and ends is not None and valid_from is not None
    assert slot_minutes is not None and capacity is not None
    with transaction.atomic():
        xact_lock(f"reception-hours:{room.pk}")
        for rule in OpeningHours.objects.filter(room=room, weekday__in=days).exclude(valid_until__lt=valid_from):
            if valid_until is not None and rule.valid_from > valid_until:
                continue
            if _overlaps(rule.starts, rule.ends, starts, ends):
                raise ValidationFailed(
                    {
                        "starts": [
                            _("与已公布的%(day)s %(a)s–%(b)s 重叠：请先停止原接待时间，或另选时间。")
                            % {
                                "day": rule.get_weekday_display(),
                                "a": rule.starts.strftime("%H:%M"),
                                "b": rule.ends.strftime("%H:%M"),
                            }
                        ]
                    }
                )
        return [
            OpeningHours.objects.create(
                organization_id=actor.org_id,
                room=room,
                weekday=day,
                starts=starts,
                ends=ends,
                slot_minutes=slot_minutes,
                capacity=capacity,
                valid_from=valid_from,
                valid_until=valid_until,
                created_by=actor,
                created_at=now,
            )
            for day in days
        ]


def _hours_locked(actor: Staff, hours_id: int) -> OpeningHours:
    """A row of the actor's organisation's published hours, locked for the transaction (404 if none)."""
    rule = (
        OpeningHours.objects.select_for_update()
        .select_related("room")
        .filter(pk=hours_id, organization_id=actor.org_id)
        .first()
    )
    if rule is None:
        raise NotFound()
    return rule


def hours_end(*, actor: Staff, hours_id: int, last_day: date | None, at: datetime | None = None) -> OpeningHours:
    """Stop publishing a row of hours after ``last_day`` (a later change is a new row). Refused
    while visits are booked in its periods after that day: move or cancel them first."""
    _require(permissions.may_manage_schedules(actor))
    now = happened_at(at)
    today = timezone.localdate(now)
    if last_day is None:
        raise ValidationFailed({"last_day": [_("请填写最后一天。")]})
    message = day_error(last_day, When.PLANNED, _("最后一天"), today=today)
    if message or last_day < today - timedelta(days=1):
        raise ValidationFailed({"last_day": [message or _("最后一天不能早于昨天：已过去的接待时间不能修改。")]})
    with transaction.atomic():
        rule = _hours_locked(actor, hours_id)
        if rule.valid_until is not None and rule.valid_until <= last_day:
            raise ValidationFailed({"last_day": [_("这条接待时间已于 %(day)s 停止。") % {"day": rule.valid_until}]})
        after = timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time.min))
        booked = [
            s
            for s in Slot.objects.filter(
                organization_id=actor.org_id, kind=SlotKind.HOURS, room=rule.room, starts_at__gte=after, booked__gt=0
            )
            if timezone.localtime(s.starts_at).weekday() == rule.weekday or rule.weekday == Weekday.SWAPPED_WORKDAY
        ]
        if booked:
            raise ValidationFailed(
                {
                    "last_day": [
                        _("%(day)s 之后仍有 %(n)d 个时段有预约：请先改期或取消这些预约。")
                        % {"day": last_day, "n": len(booked)}
                    ]
                }
            )
        rule.valid_until = max(last_day, rule.valid_from - timedelta(days=1))
        bump(rule, ["valid_until"])
        return rule


def _offered_by(rule: OpeningHours, start: datetime) -> bool:
    """Whether ``rule`` offers a period starting at ``start`` (local), of its length."""
    local = timezone.localtime(start)
    day, moment = local.date(), local.time()
    if day < rule.valid_from or (rule.valid_until is not None and day > rule.valid_until):
        return False
    if rule.weekday == Weekday.SWAPPED_WORKDAY:
        if local.weekday() < 5:
            return False
    elif local.weekday() != rule.weekday:
        return False
    if not rule.starts <= moment < rule.ends:
        return False
    offset = (datetime.combine(day, moment) - datetime.combine(day, rule.starts)).total_seconds() / 60
    end = datetime.combine(day, moment) + timedelta(minutes=rule.slot_minutes)
    return offset % rule.slot_minutes == 0 and end <= datetime.combine(day, rule.ends)


def hours_edit(
    *,
    actor: Staff,
    hours_id: int,
    starts: time | None,
    ends: time | None,
    slot_minutes: int | None,
    capacity: int | None,
    valid_until: date | None = None,
    version: int | None = None,
    at: datetime | None = None,
) -> OpeningHours:
    """Change a row of published hours in place: its times, slots, places and last day.
    Refused, naming how many visits on which days, when a period already booked from today on
    would no longer be offered (move or cancel those visits first); fewer places than are
    taken leave the booked visits their places. Days before today stay as they were
    published: a row already in force is ended yesterday and the change starts today.
    ``version``: the row's version the form was made for; a change saved since (or the row
    ended) is refused (``StaleObject``), never overwritten."""
    _require(permissions.may_manage_schedules(actor))
    now = happened_at(at)
    today = timezone.localdate(now)
    errors: Errors = {}
    _time_errors(errors, starts, ends, slot_minutes, capacity)
    if valid_until is not None:
        message = day_error(valid_until, When.PLANNED, _("截止日期"), today=today)
        if message:
            _add(errors, "valid_until", message)
        elif valid_until < today:
            _add(errors, "valid_until", _("截止日期不能早于今天：已过去的接待时间不能修改。"))
    _raise(errors)
    assert starts is not None and ends is not None and slot_minutes is not None and capacity is not None
    with transaction.atomic():
        rule = _hours_locked(actor, hours_id)
        xact_lock(f"reception-hours:{rule.room_id}")
        check_version(rule, version, what=_("该接待时间"))
        if rule.valid_until is not None and rule.valid_until < today:
            message = _("这条接待时间已于 %(day)s 停止，不能再修改。") % {"day": rule.valid_until}
            raise ValidationFailed({"starts": [message]})
        begins = max(rule.valid_from, today)
        if valid_until is not None and valid_until < begins:
            raise ValidationFailed({"valid_until": [_("截止日期不能早于起始日期（%(day)s）。") % {"day": begins}]})
        others = OpeningHours.objects.filter(room=rule.room, weekday=rule.weekday).exclude(pk=rule.pk)
        for other in others.exclude(valid_until__lt=begins):
            if valid_until is not None and other.valid_from > valid_until:
                continue
            if _overlaps(other.starts, other.ends, starts, ends):
                raise ValidationFailed(
                    {
                        "starts": [
                            _("与已公布的%(day)s %(a)s–%(b)s 重叠。")
                            % {
                                "day": other.get_weekday_display(),
                                "a": other.starts.strftime("%H:%M"),
                                "b": other.ends.strftime("%H:%M"),
                            }
                        ]
                    }
                )
        changed = OpeningHours(
            room=rule.room,
            weekday=rule.weekday,
            starts=starts,
            ends=ends,
            slot_minutes=slot_minutes,
            capacity=capacity,
            valid_from=begins,
            valid_until=valid_until,
        )
        since = timezone.make_aware(datetime.combine(begins, time.min))
        stranded = [
            slot
            for slot in Slot.objects.filter(
                organization_id=actor.org_id, kind=SlotKind.HOURS, room=rule.room, starts_at__gte=since, booked__gt=0
            ).order_by("starts_at")
            if _offered_by(rule, slot.starts_at)
            and not (
                _offered_by(changed, slot.starts_at)
                and slot.ends_at - slot.starts_at == timedelta(minutes=slot_minutes)
            )
        ]
        if stranded:
            days = sorted({timezone.localtime(s.starts_at).date() for s in stranded})
            shown = "、".join(d.isoformat() for d in days[:5]) + (_("等") if len(days) > 5 else "")
            visits = Appointment.objects.filter(slot__in=stranded, status__in=HOLDING).count()
            raise ValidationFailed(
                {
                    "starts": [
                        _(
                            "修改后，%(days)s 已有预约的 %(n)d 个时段（%(visits)d 个预约）将不在接待时间内："
                            "请先为这些预约改期或取消，或从这些日期之后再修改。"
                        )
                        % {"days": shown, "n": len(stranded), "visits": visits}
                    ]
                }
            )
        if rule.valid_from < today:
            rule.valid_until = today - timedelta(days=1)
            bump(rule, ["valid_until"])
            changed.organization_id = actor.org_id
            changed.created_by, changed.created_at = actor, now
            changed.save()
            return changed
        rule.starts, rule.ends, rule.slot_minutes, rule.capacity = starts, ends, slot_minutes, capacity
        rule.valid_until = valid_until
        bump(rule, ["starts", "ends", "slot_minutes", "capacity", "valid_until"])
        return rule


# --- leader reception days and joint reception sessions ------------------------------------------------


@dataclass
class SessionInput:
    room_id: int | None
    date: date | None
    starts: time | None
    ends: time | None
    slot_minutes: int | None
    capacity: int | None
    topic: str
    department_ids: list[int] = field(default_factory=list)


def _departments(actor: Staff, ids: list[int], errors: Errors) -> list[Department]:
    found = list(Department.objects.filter(organization_id=actor.org_id, pk__in=set(ids)))
    if len(found) != len(set(ids)):
        _add(errors, "departments", _("所选部门不存在。"))
    return found


def _session_errors(actor: Staff, data: SessionInput, errors: Errors, today: date) -> tuple[Room | None, str]:
    room = _room(actor, data.room_id, errors)
    topic = clean_text(data.topic).strip()
    if not topic:
        _add(errors, "topic", _("请填写主题。"))
    elif len(topic) > 120:
        _add(errors, "topic", _("主题过长：最多 120 字，当前 %(n)d 字。") % {"n": len(topic)})
    if data.date is None:
        _add(errors, "date", _("请填写日期。"))
    else:
        message = day_error(data.date, When.DUE, _("日期"), today=today)
        if message:
            _add(errors, "date", message)
        else:
            calendar = schedule.calendar_of(actor.org_id)
            if schedule.day_kind(calendar, data.date) == schedule.DayKind.HOLIDAY:
                _add(
                    errors,
                    "date",
                    _("%(day)s 是%(name)s，不安排接待。")
                    % {"day": data.date, "name": calendar.holiday_name(data.date) or _("休息日")},
                )
    _time_errors(errors, data.starts, data.ends, data.slot_minutes, data.capacity)
    return room, topic


def _room_free(model: type[LeaderDay] | type[JointSession], room: Room, data: SessionInput, exclude: int = 0) -> None:
    """No two sessions in one room at one time (a leader day and a joint session alike), and
    none over visits already booked in the room's ordinary hours (the session takes the room:
    its ordinary periods are then not offered)."""
    assert data.date is not None and data.starts is not None and data.ends is not None
    tz = timezone.get_current_timezone()
    begin, end = datetime.combine(data.date, data.starts, tzinfo=tz), datetime.combine(data.date, data.ends, tzinfo=tz)
    booked = Slot.objects.filter(
        room=room, kind=SlotKind.HOURS, starts_at__lt=end, ends_at__gt=begin, booked__gt=0
    ).count()
    if booked:
        raise ValidationFailed(
            {
                "starts": [
                    _("该接待室这段时间已有 %(n)d 个时段有预约来访：请另选时间或接待室，或先为他们改期。")
                    % {"n": booked}
                ]
            }
        )
    for other_model in (LeaderDay, JointSession):
        rows = other_model.objects.filter(room=room, date=data.date, status=SessionStatus.PUBLISHED)
        if other_model is model:
            rows = rows.exclude(pk=exclude)
        for other in rows:
            if _overlaps(other.starts, other.ends, data.starts, data.ends):
                raise ValidationFailed(
                    {
                        "starts": [
                            _("该接待室 %(a)s–%(b)s 已安排“%(topic)s”。")
                            % {
                                "a": other.starts.strftime("%H:%M"),
                                "b": other.ends.strftime("%H:%M"),
                                "topic": other.topic,
                            }
                        ]
                    }
                )


def leader_day_schedule(
    *, actor: Staff, leader_id: int | None, data: SessionInput, at: datetime | None = None
) -> LeaderDay:
    """Publish a leader reception day (领导接待日): the leader, the topic, the attending
    departments, the room and hours; at least the preset's ``leader_day_notice_days`` ahead."""
    _require(permissions.may_manage_schedules(actor))
    now = happened_at(at)
    today = timezone.localdate(now)
    errors: Errors = {}
    leader = (
        Staff.objects.filter(pk=leader_id, organization_id=actor.org_id, is_active=True).first() if leader_id else None
    )
    if leader is None or Role.LEADER not in (leader.roles or []):
        _add(errors, "leader", _("请选择接待领导（须为本单位领导）。"))
    room, topic = _session_errors(actor, data, errors, today)
    departments = _departments(actor, data.department_ids, errors)
    notice = schedule.reception_rules(actor.org_id).leader_day_notice_days
    if data.date is not None and "date" not in errors and data.date < today + timedelta(days=notice):
        _add(
            errors,
            "date",
            _("领导接待日应至少提前 %(n)d 天公布：最早可安排在 %(day)s。")
            % {"n": notice, "day": today + timedelta(days=notice)},
        )
    _raise(errors)
    assert room is not None and leader is not None and data.date is not None
    assert data.starts is not None and data.ends is not None
    assert data.slot_minutes is not None and data.capacity is not None
    with transaction.atomic():
        xact_lock(f"reception-room-sessions:{room.pk}")
        _room_free(LeaderDay, room, data)
        day = LeaderDay.objects.create(
            organization_id=actor.org_id,
            leader=leader,
            room=room,
            date=data.date,
            starts=data.starts,
            ends=data.ends,
            slot_minutes=data.slot_minutes,
            capacity=data.capacity,
            topic=topic,
            created_by=actor,
            created_at=now,
        )
        day.departments.set(departments)
    return day


def _open_cases(actor: Staff, ids: list[int], errors: Errors) -> list[Case]:
    wanted = set(ids)
    found = list(cases_for(actor).filter(pk__in=wanted).select_related("lead_department"))
    if not wanted:
        _add(errors, "cases", _("请至少选择一件案件。"))
    elif len(found) != len(wanted):
        _add(errors, "cases", _("所选案件不存在，或不在您可查看的范围内。"))
    else:
        closed = [c.number for c in found if c.state not in OPEN_STATES]
        if closed:
            _add(errors, "cases", _("案件 %(numbers)s 已办结或不在办理中。") % {"numbers": "、".join(closed)})
    return found


def touched_departments(cases: list[Case]) -> list[Department]:
    """The departments a set of cases touches: each one's lead and assisting departments."""
    ids: set[int] = {c.lead_department_id for c in cases if c.lead_department_id}
    for case in cases:
        ids |= set(case.assisting_departments.values_list("pk", flat=True))
    return list(Department.objects.filter(pk__in=ids))


def joint_convene(*, actor: Staff, case_ids: list[int], data: SessionInput, at: datetime | None = None) -> JointSession:
    """Convene a joint reception session (联合接访) for a set of cases: the departments they
    touch (their lead and assisting departments, with any others chosen) sit together."""
    _require(permissions.may_convene_joint(actor))
    now = happened_at(at)
    errors: Errors = {}
    cases = _open_cases(actor, case_ids, errors)
    room, topic = _session_errors(actor, data, errors, timezone.localdate(now))
    chosen = _departments(actor, data.department_ids, errors)
    _raise(errors)
    departments = {d.pk: d for d in [*touched_departments(cases), *chosen]}
    if not departments:
        raise ValidationFailed({"departments": [_("这些案件尚未交办：请选择参加联合接访的部门。")]})
    assert room is not None and data.date is not None and data.starts is not None and data.ends is not None
    assert data.slot_minutes is not None and data.capacity is not None
    with transaction.atomic():
        xact_lock(f"reception-room-sessions:{room.pk}")
        _room_free(JointSession, room, data)
        session = JointSession.objects.create(
            organization_id=actor.org_id,
            room=room,
            date=data.date,
            starts=data.starts,
            ends=data.ends,
            slot_minutes=data.slot_minutes,
            capacity=data.capacity,
            topic=topic,
            created_by=actor,
            created_at=now,
        )
        session.cases.set(cases)
        session.departments.set(list(departments.values()))
    return session


def _locked_session(model: type[LeaderDay] | type[JointSession], actor: Staff, session_id: int):
    row = model.objects.select_for_update().filter(pk=session_id, organization_id=actor.org_id).first()
    if row is None:
        raise NotFound()
    return row


def _session_close(
    model: type[LeaderDay] | type[JointSession],
    *,
    actor: Staff,
    session_id: int,
    to: str,
    summary: str,
    version: int | None,
    at: datetime | None,
    allowed,
) -> LeaderDay | JointSession:
    now = happened_at(at)
    missing = _("请填写接待情况。") if to == SessionStatus.HELD else _("请填写取消原因。")
    summary = checked_text(summary, "summary", missing=missing, limit=NOTE_MAX, label=_("说明"))
    with transaction.atomic():
        session = _locked_session(model, actor, session_id)
        _require(allowed(session))
        check_version(session, version, what=_("该领导接待日") if model is LeaderDay else _("该联合接访"))
        SESSION_STATUSES.check(session, to, code=ReceptionError.SESSION_CLOSED)
        if to == SessionStatus.HELD and session.date > timezone.localdate(now):
            message = _("尚未举行：%(day)s 当天或之后才能登记接待情况。") % {"day": session.date}
            raise ValidationFailed({"summary": [message]})
        SESSION_STATUSES.move(session, to)
        session.summary, session.closed_by, session.closed_at = summary, actor, now
        bump(session, ["status", "summary", "closed_by", "closed_at"])
        if to == SessionStatus.CANCELLED:
            # Its visitors are told; their places go back with the session.
            for appointment in Appointment.objects.select_for_update().filter(
                slot__in=session.slots.all(), status=AppointmentStatus.BOOKED
            ):
                _cancel(appointment, actor=actor, reason=summary, now=now)
    return session


def leader_day_record(
    *, actor: Staff, day_id: int, summary: str, version: int | None = None, at: datetime | None = None
) -> LeaderDay:
    """The day was held: how it went (the leader's or the schedule managers' record)."""
    row = _session_close(
        LeaderDay,
        actor=actor,
        session_id=day_id,
        to=SessionStatus.HELD,
        summary=summary,
        version=version,
        at=at,
        allowed=lambda day: permissions.may_record_leader_day(actor, day),
    )
    assert isinstance(row, LeaderDay)
    return row


def leader_day_cancel(
    *, actor: Staff, day_id: int, reason: str, version: int | None = None, at: datetime | None = None
) -> LeaderDay:
    """Cancel a published leader day; its booked visitors are told (their visits cancelled)."""
    row = _session_close(
        LeaderDay,
        actor=actor,
        session_id=day_id,
        to=SessionStatus.CANCELLED,
        summary=reason,
        version=version,
        at=at,
        allowed=lambda day: permissions.may_manage_schedules(actor),
    )
    assert isinstance(row, LeaderDay)
    return row


def joint_record(
    *, actor: Staff, session_id: int, summary: str, version: int | None = None, at: datetime | None = None
) -> JointSession:
    row = _session_close(
        JointSession,
        actor=actor,
        session_id=session_id,
        to=SessionStatus.HELD,
        summary=summary,
        version=version,
        at=at,
        allowed=lambda s: permissions.may_convene_joint(actor),
    )
    assert isinstance(row, JointSession)
    return row


def joint_cancel(
    *, actor: Staff, session_id: int, reason: str, version: int | None = None, at: datetime | None = None
) -> JointSession:
    row = _session_close(
        JointSession,
        actor=actor,
        session_id=session_id,
        to=SessionStatus.CANCELLED,
        summary=reason,
        version=version,
        at=at,
        allowed=lambda s: permissions.may_convene_joint(actor),
    )
    assert isinstance(row, JointSession)
    return row


# --- booking -------------------------------------------------------------------------------------------


@dataclass
class Booking:
    """A visit to book: the period (``slot``: an ``OfferedSlot.key``), who comes and why."""

    slot: str
    name: str
    phone: str
    purpose: str
    email: str = ""
    headcount: int | None = 1
    representatives: list[str] = field(default_factory=list)
    via: str = BookedVia.PHONE
    case_id: int | None = None  # a joint session's case the visitor comes about
    token: str | None = None  # the portal form's one-time token


def _intake_rules(organization_id: int):
    policy = current_policy(organization_id)
    return preset_of(policy).intake if policy is not None else None


def booking_errors(organization_id: int, data: Booking) -> Errors:
    """The visitor's details, each refusal naming its field (cleaned in place first)."""
    errors: Errors = {}
    data.name = clean_text(data.name).strip()
    data.phone = normalize_phone(clean_text(data.phone).strip())
    data.email = clean_text(data.email).strip()
    data.purpose = clean_text(data.purpose).strip()
    data.representatives = [clean_text(r).strip() for r in data.representatives if clean_text(r).strip()]
    if not data.name:
        _add(errors, "name", _("请填写来访人姓名。"))
    elif len(data.name) > NAME_MAX:
        _add(errors, "name", _("姓名过长：最多 %(max)d 字。") % {"max": NAME_MAX})
    if not data.phone:
        _add(errors, "phone", _("请填写联系电话，以便发送预约确认和提醒。"))
    else:
        message = phone_error(data.phone)
        if message:
            _add(errors, "phone", message)
    message = validation.email_error(data.email)
    if message:
        _add(errors, "email", message)
    if not data.purpose:
        _add(errors, "purpose", _("请简要填写来访事由。"))
    elif len(data.purpose) > NOTE_MAX:
        values = {"max": NOTE_MAX, "n": len(data.purpose)}
        _add(errors, "purpose", _("来访事由过长：最多 %(max)d 字，当前 %(n)d 字。") % values)
    if data.headcount is None or not 1 <= data.headcount <= 10000:
        _add(errors, "headcount", _("来访人数应在 1 到 10000 之间。"))
    if len(data.representatives) > validation.REPRESENTATIVES_MAX:
        _add(
            errors,
            "representatives",
            _("其他代表最多 %(max)d 人（每行一人），当前 %(n)d 行。")
            % {"max": validation.REPRESENTATIVES_MAX, "n": len(data.representatives)},
        )
    elif any(len(r) > NAME_MAX for r in data.representatives):
        _add(errors, "representatives", _("代表姓名过长：每行一人，最多 %(max)d 字。") % {"max": NAME_MAX})
    rules = _intake_rules(organization_id)
    if rules is not None and data.headcount is not None and "headcount" not in errors:
        # The same rule as the visit's registration (cases.validation.group_errors).
        validation.group_errors(
            errors,
            representatives=1 + len(data.representatives),
            group_size=data.headcount,
            rules=rules,
            field="representatives",
            size_field="headcount",
        )
    if data.via not in BookedVia.values:
        _add(errors, "via", _("预约方式无效。"))
    return errors


def _new_manage_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(6))


def _new_code(organization_id: int) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(8))
        if not Appointment.objects.filter(organization_id=organization_id, code=code).exists():
            return code


def _offer(organization: Organization, key: str, now: datetime, *, public: bool) -> schedule.OfferedSlot:
    """The published period ``key`` names, bookable now; else the reason, on the field ``slot``."""
    offer = schedule.find(organization.pk, clean_text(key).strip())
    if offer is None or (public and offer.kind == SlotKind.JOINT):
        raise ApplicationError(
            _("所选时段不在公布的接待时间内，请重新选择。"), field="slot", code=ReceptionError.NOT_PUBLISHED
        )
    if not offer.bookable_session:
        raise ApplicationError(
            _("该场接待已取消或已举行，不能再预约。"), field="slot", code=ReceptionError.SESSION_CLOSED
        )
    if offer.starts_at <= now:
        raise ApplicationError(_("所选时段已过，请选择以后的时段。"), field="slot", code=ReceptionError.PAST)
    ahead = schedule.reception_rules(organization.pk).book_ahead_days
    latest = timezone.localdate(now) + timedelta(days=ahead)
    if offer.day > latest:
        raise ApplicationError(
            _("最多可提前 %(n)d 天预约（最晚 %(day)s）。") % {"n": ahead, "day": latest},
            field="slot",
            code=ReceptionError.TOO_FAR,
        )
    return offer


def _take(organization_id: int, offer: schedule.OfferedSlot, places: int) -> Slot:
    """Take ``places`` in the period, or refuse naming how many are left: the conditional update
    is the one place the count is decided."""
    xact_lock(f"reception-slot:{organization_id}:{offer.key}")
    slot = Slot.objects.filter(organization_id=organization_id, key=offer.key).first()
    if slot is None:
        slot = Slot.objects.create(
            organization_id=organization_id,
            key=offer.key,
            kind=offer.kind,
            room=offer.room,
            starts_at=offer.starts_at,
            ends_at=offer.ends_at,
            capacity=offer.capacity,
            leader_day=offer.leader_day,
            joint_session=offer.joint_session,
        )
    elif slot.capacity != offer.capacity:  # the period's published capacity changed: never below what is taken
        Slot.objects.filter(pk=slot.pk).update(capacity=max(offer.capacity, slot.booked))
    taken = Slot.objects.filter(pk=slot.pk, booked__lte=F("capacity") - places).update(booked=F("booked") + places)
    if not taken:
        slot.refresh_from_db(fields=["booked", "capacity"])
        if slot.left == 0:
            message = _("该时段已约满，请选择其他时段。")
        else:
            message = _("该时段只剩 %(left)d 个名额，本次预约需要 %(n)d 个（来访人及其他代表），请选择其他时段。") % {
                "left": slot.left,
                "n": places,
            }
        raise ApplicationError(message, field="slot", code=ReceptionError.FULL)
    slot.refresh_from_db(fields=["booked", "capacity"])
    return slot


def _give_back(appointment: Appointment) -> None:
    Slot.objects.filter(pk=appointment.slot_id, booked__gte=appointment.places).update(
        booked=F("booked") - appointment.places
    )


def _log(appointment: Appointment, kind: str, at: datetime, staff: Staff | None, note: str = "") -> None:
    AppointmentLog.objects.create(appointment=appointment, kind=kind, at=at, staff=staff, note=note[:300])


def _clock_start(appointment: Appointment, slot: Slot, now: datetime) -> None:
    """The visit's clock (``subject.py``): the reminder as its warning, not come as its due time."""
    rules = schedule.reception_rules(appointment.organization_id)
    warn_at = None
    if rules.remind_hours_before:
        warn_at = slot.starts_at - timedelta(hours=rules.remind_hours_before)
        if warn_at <= now:
            warn_at = None  # booked later than that: the confirmation is the reminder
    subject_clock_start(
        organization_id=appointment.organization_id,
        subject_kind=KIND,
        subject_id=appointment.pk,
        stage=STAGE,
        started_at=now,
        due_at=max(slot.starts_at + timedelta(minutes=rules.no_show_after_minutes), now + timedelta(minutes=1)),
        warn_at=warn_at,
        label=appointment.code,
    )


def _clock_stop(appointment: Appointment, now: datetime, reason: str) -> None:
    subject_clocks_stop(subject_kind=KIND, subject_id=appointment.pk, at=now, reason=reason)


def _case_for_booking(actor: Staff | None, organization: Organization, data: Booking, offer) -> Case | None:
    session = offer.joint_session
    if session is not None and (data.case_id is None or not session.cases.filter(pk=data.case_id).exists()):
        raise ValidationFailed({"case": [_("联合接访只接待相关案件的反映人：请选择所涉案件。")]})
    if data.case_id is None:
        return None
    if actor is None:
        raise ValidationFailed({"case": [_("所选案件不存在。")]})
    case = cases_for(actor).filter(pk=data.case_id).first()
    if case is None:
        raise ValidationFailed({"case": [_("所选案件不存在，或不在您可查看的范围内。")]})
    return case


def appointment_book(
    *, actor: Staff | None, organization: Organization, data: Booking, at: datetime | None = None
) -> Appointment:
    """Book a visit in a published period: by staff (``actor``: from a call, a mail, at the
    desk) or by the public on the portal (``actor=None``: ``public.book`` checks its guards
    first). The confirmation goes to the visitor after commit; the reminder and the
    not-come mark are the visit's clock."""
    if actor is not None:
        _require(permissions.may_book(actor) and actor.org_id == organization.pk)
    now = happened_at(at)
    _raise(booking_errors(organization.pk, data))
    offer = _offer(organization, data.slot, now, public=actor is None)
    places = 1 + len(data.representatives)
    with transaction.atomic():
        if data.token:
            xact_lock(f"reception-token:{data.token}")
            if Appointment.objects.filter(token=data.token).exists():
                raise ApplicationError(
                    _("这份预约已经提交过，没有重复预约。"), field="slot", code=ReceptionError.REPLAYED
                )
        case = _case_for_booking(actor, organization, data, offer)
        slot = _take(organization.pk, offer, places)
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(
                    organization=organization,
                    slot=slot,
                    code=_new_code(organization.pk),
                    booked_via=BookedVia.PORTAL if actor is None else data.via,
                    booked_by=actor,
                    booked_at=now,
                    name=data.name,
                    phone=data.phone,
                    email=data.email,
                    purpose=data.purpose,
                    representatives="\n".join(data.representatives),
                    places=places,
                    headcount=data.headcount or 1,
                    case=case,
                    token=data.token or None,
                )
                # The code the visitor changes the booking with online: in clear only here
                # (the confirmation carries it), kept as a keyed hash.
                appointment.manage_code = _new_manage_code()
                appointment.manage_code_hash = manage_code_hash(appointment, appointment.manage_code)
                appointment.save(update_fields=["manage_code_hash"])
        except IntegrityError as exc:  # the same form, raced past the look above
            raise ApplicationError(
                _("这份预约已经提交过，没有重复预约。"), field="slot", code=ReceptionError.REPLAYED
            ) from exc
        _log(appointment, LogKind.BOOKED, now, actor, str(BookedVia(appointment.booked_via).label))
        _clock_start(appointment, slot, now)
        frontdesk.expect(appointment, actor, now)
        messages.confirm(appointment)
    return appointment


def _locked_appointment(actor: Staff, appointment_id: int, version: int | None) -> Appointment:
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("slot__room", "organization")
        .filter(pk=appointment_id, organization_id=actor.org_id)
        .first()
    )
    if appointment is None:
        raise NotFound()
    if outdated(appointment, version):
        # Changed meanwhile (in another tab, by a colleague, by the visitor online): say what it is now.
        raise StaleObject(
            _("该预约已被他人更改，现为“%(status)s”，您的操作未执行；请查看后再操作。")
            % {"status": appointment.get_status_display()}
        )
    return appointment


def _cancel(appointment: Appointment, *, actor: Staff | None, reason: str, now: datetime) -> None:
    APPOINTMENT_STATUSES.move(appointment, AppointmentStatus.CANCELLED, code=ReceptionError.ALREADY_HANDLED)
    appointment.cancelled_at, appointment.cancel_reason = now, reason[:200]
    bump(appointment, ["status", "cancelled_at", "cancel_reason"])
    _give_back(appointment)
    _clock_stop(appointment, now, StopReason.CANCELLED)
    _log(appointment, LogKind.CANCELLED, now, actor, reason)
    frontdesk.withdraw(appointment, actor, reason, now)
    messages.cancelled(appointment)


def appointment_cancel(
    *, actor: Staff, appointment_id: int, reason: str, version: int | None = None, at: datetime | None = None
) -> Appointment:
    """The visitor cannot come (or called to cancel): the places go back, the visitor is told."""
    _require(permissions.may_book(actor))
    now = happened_at(at)
    reason = checked_text(reason, "reason", missing=_("请填写取消原因。"), limit=200, label=_("取消原因"))
    with transaction.atomic():
        appointment = _locked_appointment(actor, appointment_id, version)
        _cancel(appointment, actor=actor, reason=reason, now=now)
    return appointment


def _move(
    appointment: Appointment, slot: str, now: datetime, actor: Staff | None, *, public: bool = False
) -> Appointment:
    """Move a locked, booked visit to the published period ``slot``: the new places are taken
    before the old ones are given back (refused as a whole if the new period is full)."""
    APPOINTMENT_STATUSES.check(appointment, AppointmentStatus.CANCELLED, code=ReceptionError.ALREADY_HANDLED)
    if appointment.slot.key == clean_text(slot).strip():
        raise ValidationFailed({"slot": [_("新时段与原时段相同，请选择其他时段。")]})
    offer = _offer(appointment.organization, slot, now, public=public)
    session = offer.joint_session
    if session is not None and not (appointment.case_id and session.cases.filter(pk=appointment.case_id).exists()):
        raise ValidationFailed({"slot": [_("联合接访只接待相关案件的反映人，不能改到该时段。")]})
    before = messages.when_text(appointment)
    new_slot = _take(appointment.organization_id, offer, appointment.places)
    _give_back(appointment)
    appointment.slot = new_slot
    bump(appointment, ["slot"])
    _clock_stop(appointment, now, StopReason.SUPERSEDED)
    _clock_start(appointment, new_slot, now)
    frontdesk.move(appointment, actor, now)
    changes = appointment.log.filter(kind=LogKind.MOVED).count() + 1
    note = _("原定 %(when)s") % {"when": before}
    _log(appointment, LogKind.MOVED, now, actor, note if actor is not None else _("来访人网上改期，") + note)
    messages.moved(appointment, changes)
    return appointment


def appointment_reschedule(
    *, actor: Staff, appointment_id: int, slot: str, version: int | None = None, at: datetime | None = None
) -> Appointment:
    """Move a booked visit to another published period, in one transaction."""
    _require(permissions.may_book(actor))
    now = happened_at(at)
    with transaction.atomic():
        appointment = _locked_appointment(actor, appointment_id, version)
        return _move(appointment, slot, now, actor)


# --- the visitor's own changes on the portal (``public.manage``) -------------------------------------


def manage_code_hash(appointment: Appointment, manage_code: str) -> str:
    key = settings.SECRET_KEY.encode()
    text = f"appointment:{appointment.organization_id}:{appointment.code}:{manage_code.upper()}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def manage_code_matches(appointment: Appointment, manage_code: str) -> bool:
    return bool(appointment.manage_code_hash) and hmac.compare_digest(
        appointment.manage_code_hash, manage_code_hash(appointment, manage_code)
    )


def _visitors_own(organization: Organization, appointment_id: int, now: datetime, *, cancel: bool) -> Appointment:
    """The visit the visitor holds (booked, not yet begun), locked; else why not, in words."""
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("slot__room", "organization")
        .filter(pk=appointment_id, organization=organization)
        .first()
    )
    if appointment is None:
        raise NotFound()
    if appointment.status != AppointmentStatus.BOOKED:
        status = appointment.get_status_display()
        message = _("该预约%(status)s，不能再取消。") if cancel else _("该预约%(status)s，不能再改期。")
        raise ApplicationError(message % {"status": status}, field="slot", code=ReceptionError.ALREADY_HANDLED)
    if appointment.slot.starts_at <= now:
        values = {
            "when": messages.when_text(appointment),
            "hotline": organization.hotline or settings.HUIYIN_HOTLINE,
        }
        message = (
            _("预约的来访时间 %(when)s 已开始，不能在网上取消；如有需要请致电 %(hotline)s。")
            if cancel
            else _("预约的来访时间 %(when)s 已开始，不能在网上改期；如有需要请致电 %(hotline)s。")
        )
        raise ApplicationError(message % values, field="slot", code=ReceptionError.PAST)
    return appointment


def appointment_cancel_online(
    *, organization: Organization, appointment_id: int, reason: str = "", at: datetime | None = None
) -> Appointment:
    """The visitor cancels their own booking on the portal (before it begins): the places go
    back, the front office's expected visitor is cancelled, the visitor is told."""
    now = happened_at(at)
    reason = checked_text(reason, "reason", limit=200, label=_("取消原因"))
    with transaction.atomic():
        appointment = _visitors_own(organization, appointment_id, now, cancel=True)
        _cancel(appointment, actor=None, reason=reason or _("来访人网上取消"), now=now)
    return appointment


def appointment_reschedule_online(
    *, organization: Organization, appointment_id: int, slot: str, at: datetime | None = None
) -> Appointment:
    """The visitor moves their own booking on the portal (before it begins) to another period
    published for the public."""
    now = happened_at(at)
    with transaction.atomic():
        appointment = _visitors_own(organization, appointment_id, now, cancel=False)
        return _move(appointment, slot, now, None, public=True)


def appointment_no_show(
    *, actor: Staff, appointment_id: int, version: int | None = None, at: datetime | None = None
) -> Appointment:
    """The visitor did not come (recorded by the desk once the visit has begun; the clock
    records it by itself ``no_show_after_minutes`` after the start)."""
    _require(permissions.may_book(actor))
    now = happened_at(at)
    with transaction.atomic():
        appointment = _locked_appointment(actor, appointment_id, version)
        if appointment.slot.starts_at > now:
            raise ApplicationError(
                _("预约时间（%(when)s）还未到，不能登记为未到访。") % {"when": messages.when_text(appointment)},
                code=ReceptionError.NOT_TODAY,
            )
        APPOINTMENT_STATUSES.move(appointment, AppointmentStatus.NO_SHOW, code=ReceptionError.ALREADY_HANDLED)
        appointment.no_show_at = now
        bump(appointment, ["status", "no_show_at"])
        _clock_stop(appointment, now, StopReason.DONE)
        _log(appointment, LogKind.NO_SHOW, now, actor)
    return appointment


# --- arrival ---------------------------------------------------------------------------------------------


@dataclass
class CheckIn:
    """What the desk records when the visitor arrives: the identity checked (the ID number is
    required and validated), the registration the case needs, and where it goes: a new case,
    or a contact on the visitor's open case (``case_id``)."""

    id_number: str
    name: str
    phone: str = ""
    gender: str = ""
    age: int | None = None
    affiliation: str = ""
    address: str = ""
    nature: str = Nature.COMPLAINT
    category_id: int | None = None
    title: str = ""
    text: str = ""
    headcount: int | None = 1
    representatives: list[str] = field(default_factory=list)
    case_id: int | None = None
    new_matter: bool = False


def _identity_errors(data: CheckIn) -> Errors:
    errors: Errors = {}
    data.id_number = normalize_id_number(clean_text(data.id_number))
    if not data.id_number:
        _add(errors, "id_number", _("到访须核验身份证件：请填写身份证号码。"))
    else:
        message = id_number_error(data.id_number)
        if message:
            _add(errors, "id_number", message)
    if data.headcount is None or not 1 <= data.headcount <= 10000:
        _add(errors, "headcount", _("来访人数应在 1 到 10000 之间。"))
    return errors


def appointment_check_in(
    *, actor: Staff, appointment_id: int, data: CheckIn, version: int | None = None, at: datetime | None = None
) -> tuple[Appointment, Case, str | None]:
    """The visitor arrived: check the identity, then register the visit — a new case on the
    visit channel (its query code returned for the receipt), or a contact on the open case
    ``data.case_id`` (no code) — and mark the visit arrived. One transaction: a refusal of
    the registration leaves the visit booked and nothing stored."""
    _require(permissions.may_check_in(actor))
    now = happened_at(at)
    _raise(_identity_errors(data))
    token = f"appointment-{appointment_id}"
    party = PartyInput(
        name=data.name,
        phone=data.phone,
        id_number=data.id_number,
        address=data.address,
        affiliation=data.affiliation,
        gender=data.gender,
        age=data.age,
    )
    with transaction.atomic():
        appointment = _locked_appointment(actor, appointment_id, version)
        APPOINTMENT_STATUSES.check(appointment, AppointmentStatus.CHECKED_IN, code=ReceptionError.ALREADY_HANDLED)
        day = timezone.localtime(appointment.slot.starts_at).date()
        if timezone.localdate(now) < day:
            raise ApplicationError(
                _("预约的是 %(when)s，未到预约日期：请按预约时间来访，或先改期。")
                % {"when": messages.when_text(appointment)},
                code=ReceptionError.NOT_TODAY,
            )
        code: str | None = None
        contact = None
        if data.case_id is not None:
            case = cases_for(actor).filter(pk=data.case_id, state__in=OPEN_STATES).first()
            if case is None:
                raise ValidationFailed({"case": [_("所选案件不存在或已办结：请选择在办案件，或登记为新的事项。")]})
            contact = contact_add(
                actor=actor,
                case_id=case.pk,
                channel=Channel.VISIT,
                text=data.text or appointment.purpose,
                party=party,
                occurred_at=now,
                intake_token=token,
                at=at,
            )
        else:
            intake = IntakeInput(
                channel=Channel.VISIT,
                nature=data.nature,
                title=data.title,
                text=data.text or appointment.purpose,
                party=party,
                category_id=data.category_id,
                received_at=at,
                group_size=data.headcount or 1,
                representatives=[PartyInput(name=r) for r in data.representatives],
                intake_token=token,
                new_matter=data.new_matter,
            )
            case, code = case_register(actor=actor, data=intake, at=at)
        APPOINTMENT_STATUSES.move(appointment, AppointmentStatus.CHECKED_IN, code=ReceptionError.ALREADY_HANDLED)
        appointment.checked_in_at, appointment.checked_in_by = now, actor
        appointment.id_number_masked = mask_id_number(data.id_number)
        appointment.case, appointment.contact = case, contact
        appointment.headcount = data.headcount or appointment.headcount
        bump(
            appointment,
            ["status", "checked_in_at", "checked_in_by", "id_number_masked", "case", "contact", "headcount"],
        )
        _clock_stop(appointment, now, StopReason.DONE)
        _log(appointment, LogKind.CHECKED_IN, now, actor, case.number)
    return appointment, case, code


def erase_visitors(cases, *, dry_run: bool) -> int:
    """The retention rule (``cases.retention``, the subscriber table's ``erasers``): the visits
    that became these cases lose the visitor's name, phone, e-mail and representatives; the
    visit (its time, status, headcount and masked ID number) stays for the statistics."""
    visits = Appointment.objects.filter(case__in=cases).exclude(name="", phone="", email="", representatives="")
    if dry_run:
        return visits.count()
    return visits.update(name="", phone="", email="", representatives="", erased_at=timezone.now())
