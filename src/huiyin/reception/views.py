"""The reception desk's pages (来访接待): the day and week calendars (printable), the schedule
(rooms, published hours, leader reception days, joint reception sessions, what the preset
requires), booking, one visit's page with its changes, and the check-in at arrival.

Each view parses, calls one service or selector and renders; a refusal answers 400 (403,
404) with each message next to the field it names, and nothing stored."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huiyin.cases.selectors import cases_for
from huiyin.cases.views import remember_code
from huiyin.core.errors import ApplicationError, DuplicateSubmission, ValidationFailed, http_status
from huiyin.core.forms import put_errors
from huiyin.core.http import AuthedHttpRequest
from huiyin.core.privacy import mask_name, mask_phone
from huiyin.core.validators import ID_MAX, whole_number
from huiyin.orgs.models import Organization, Staff

from . import permissions, schedule, selectors, services
from .forms import (
    BookingForm,
    CancelForm,
    CheckInForm,
    CloseForm,
    HoursEditForm,
    HoursEndForm,
    HoursForm,
    JointForm,
    LeaderDayForm,
    RescheduleForm,
    RoomAddForm,
    RoomForm,
    VersionForm,
)
from .models import Appointment, AppointmentStatus, JointSession, LeaderDay, SessionStatus

# The check-in's registration names the case's fields; the form has its own.
CHECK_IN_ALIASES = {
    "party_name": "name",
    "party_phone": "phone",
    "party_id_number": "id_number",
    "party_gender": "gender",
    "party_age": "age",
    "party_affiliation": "affiliation",
    "party_address": "address",
    "group_size": "headcount",
    "intake_token": "id_number",
    "channel": "text",
    "case": "target",
}
BOOKING_DAYS = 14  # the desk's booking page lists this many days of free periods


def _render(request: AuthedHttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """A reception page: its tabs offer booking to those who may book."""
    return render(request, template, {**context, "tabs_book": permissions.may_book(request.user)}, status=status)


def _organization(user: Staff) -> Organization:
    if user.organization is None:  # a bare operator account has no reception
        raise PermissionDenied
    return user.organization


def _may(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _day(raw: str | None, default: date) -> date:
    """A day from the query (YYYY-MM-DD); anything else (a typo, a fuzzed value) is ``default``."""
    try:
        value = date.fromisoformat((raw or "").strip()[:10])
    except ValueError:
        return default
    return value if date(2000, 1, 1) <= value <= date(2100, 12, 31) else default


def _id(raw: str | None) -> int | None:
    return whole_number(raw, maximum=ID_MAX)


def _nav(request: AuthedHttpRequest, step: timedelta) -> tuple[date, int | None]:
    """The day the calendar shows (``day``, moved by ``go``: prev / next / today) and the room."""
    today = timezone.localdate()
    day = _day(request.GET.get("day"), today)
    go = request.GET.get("go")
    if go == "prev":
        day -= step
    elif go == "next":
        day += step
    elif go == "today":
        day = today
    day = min(max(day, date(2000, 1, 8)), date(2100, 12, 24))
    room = _id(request.GET.get("room"))
    return day, room


def _calendar_context(request: AuthedHttpRequest, day: date, room: int | None) -> dict[str, Any]:
    user = request.user
    rooms = selectors.rooms(user.org_id)
    return {
        "day": day,
        "today": timezone.localdate(),
        "rooms": rooms,
        "room": room if room in {r.pk for r in rooms} else None,
        "may_book": permissions.may_book(user),
        "may_manage": permissions.may_manage_schedules(user),
        "printed_at": timezone.localtime(),
    }


@login_required
def week(request: AuthedHttpRequest) -> HttpResponse:
    """The week's calendar: each day's periods, bookings, leader days and joint sessions."""
    _may(permissions.may_view_reception(request.user))
    day, room = _nav(request, timedelta(days=7))
    context = _calendar_context(request, day, room)
    monday = selectors.monday_of(day)
    days = selectors.calendar(request.user, monday, monday + timedelta(days=6), room_id=context["room"])
    checks = schedule.week_checks(request.user.org_id, monday, 1)
    return _render(
        request,
        "reception/week.html",
        {**context, "days": days, "monday": monday, "sunday": monday + timedelta(days=6), "check": checks[:1]},
    )


@login_required
def day_view(request: AuthedHttpRequest) -> HttpResponse:
    _may(permissions.may_view_reception(request.user))
    day, room = _nav(request, timedelta(days=1))
    context = _calendar_context(request, day, room)
    (shown,) = selectors.calendar(request.user, day, day, room_id=context["room"])
    return _render(request, "reception/day.html", {**context, "shown": shown, "monday": selectors.monday_of(day)})


# --- the schedule ----------------------------------------------------------------------------------------


def _schedule_page(request: AuthedHttpRequest, status: int = 200, **forms: Any) -> HttpResponse:
    user = request.user
    page = selectors.schedule_page(user)
    org_id = user.org_id
    return _render(
        request,
        "reception/schedule.html",
        {
            "page": page,
            "may_manage": permissions.may_manage_schedules(user),
            "may_convene": permissions.may_convene_joint(user),
            "room_form": forms.get("room_form") or RoomAddForm(),
            "hours_form": forms.get("hours_form")
            or HoursForm(organization_id=org_id, initial={"valid_from": timezone.localdate()}),
            "leader_form": forms.get("leader_form") or LeaderDayForm(organization_id=org_id, leaders=page.leaders),
            "joint_form": forms.get("joint_form") or JointForm(organization_id=org_id),
            "failed": forms.get("failed", ""),
        },
        status=status,
    )


@login_required
def schedule_view(request: AuthedHttpRequest) -> HttpResponse:
    _may(permissions.may_view_reception(request.user))
    return _schedule_page(request)


@login_required
@require_POST
def room_add(request: AuthedHttpRequest) -> HttpResponse:
    _may(permissions.may_manage_schedules(request.user))
    form = RoomAddForm(request.POST)
    if form.is_valid():
        try:
            room = services.room_save(
                actor=request.user, name=form.cleaned_data["name"], location=form.cleaned_data["location"]
            )
        except ApplicationError as exc:
            put_errors(form, exc)
            return _schedule_page(request, http_status(exc), room_form=form, failed="room")
        messages.success(request, _("已添加接待室：%(name)s") % {"name": room.name})
        return redirect("reception:schedule")
    return _schedule_page(request, 400, room_form=form, failed="room")


@login_required
@require_POST
def room_edit(request: AuthedHttpRequest, room_id: int) -> HttpResponse:
    _may(permissions.may_manage_schedules(request.user))
    form = RoomForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.room_save(
                actor=request.user,
                room_id=room_id,
                name=d["name"],
                location=d["location"],
                active=d["active"],
                version=d["version"],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return _schedule_page(request, http_status(exc))
        messages.success(request, _("接待室已保存。"))
        return redirect("reception:schedule")
    messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return _schedule_page(request, 400)


@login_required
@require_POST
def hours_add(request: AuthedHttpRequest) -> HttpResponse:
    _may(permissions.may_manage_schedules(request.user))
    form = HoursForm(request.POST, organization_id=request.user.org_id)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.hours_add(
                actor=request.user,
                room_id=d["room"].pk,
                weekdays=d["weekdays"],
                starts=d["starts"],
                ends=d["ends"],
                slot_minutes=d["slot_minutes"],
                capacity=d["capacity"],
                valid_from=d["valid_from"],
                valid_until=d["valid_until"],
            )
        except ApplicationError as exc:
            put_errors(form, exc)
            return _schedule_page(request, http_status(exc), hours_form=form, failed="hours")
        messages.success(request, _("接待时间已公布。"))
        return redirect("reception:schedule")
    return _schedule_page(request, 400, hours_form=form, failed="hours")


@login_required
def hours_edit(request: AuthedHttpRequest, hours_id: int) -> HttpResponse:
    """One row of published hours, changed in place (GET: the form with its values)."""
    _may(permissions.may_manage_schedules(request.user))
    row = selectors.hours_get(request.user, hours_id)
    status = 200
    if request.method == "POST":
        form = HoursEditForm(request.POST)
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.hours_edit(
                    actor=request.user,
                    hours_id=row.pk,
                    starts=d["starts"],
                    ends=d["ends"],
                    slot_minutes=d["slot_minutes"],
                    capacity=d["capacity"],
                    valid_until=d["valid_until"],
                    version=d["version"],
                )
            except ApplicationError as exc:
                put_errors(form, exc)
                status = http_status(exc)
            else:
                messages.success(request, _("接待时间已修改。"))
                return redirect("reception:schedule")
    else:
        form = HoursEditForm(
            initial={
                "starts": row.starts,
                "ends": row.ends,
                "slot_minutes": row.slot_minutes,
                "capacity": row.capacity,
                "valid_until": row.valid_until,
                "version": row.version,
            }
        )
    return _render(request, "reception/hours_edit.html", {"row": row, "form": form}, status=status)


@login_required
@require_POST
def hours_end(request: AuthedHttpRequest, hours_id: int) -> HttpResponse:
    _may(permissions.may_manage_schedules(request.user))
    form = HoursEndForm(request.POST)
    if form.is_valid():
        try:
            services.hours_end(actor=request.user, hours_id=hours_id, last_day=form.cleaned_data["last_day"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return _schedule_page(request, http_status(exc))
        messages.success(request, _("该接待时间将于 %(day)s 后停止。") % {"day": form.cleaned_data["last_day"]})
        return redirect("reception:schedule")
    messages.error(request, _("请填写有效的最后一天。"))
    return _schedule_page(request, 400)


def _session_input(form: LeaderDayForm | JointForm) -> services.SessionInput:
    d = form.cleaned_data
    return services.SessionInput(
        room_id=d["room"].pk,
        date=d["date"],
        starts=d["starts"],
        ends=d["ends"],
        slot_minutes=d["slot_minutes"],
        capacity=d["capacity"],
        topic=d["topic"],
        department_ids=[dept.pk for dept in d["departments"]],
    )


@login_required
@require_POST
def leader_day_add(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    _may(permissions.may_manage_schedules(user))
    page = selectors.schedule_page(user)
    form = LeaderDayForm(request.POST, organization_id=user.org_id, leaders=page.leaders)
    if form.is_valid():
        try:
            day = services.leader_day_schedule(
                actor=user, leader_id=form.cleaned_data["leader"].pk, data=_session_input(form)
            )
        except ApplicationError as exc:
            put_errors(form, exc)
            return _schedule_page(request, http_status(exc), leader_form=form, failed="leader")
        messages.success(request, _("领导接待日已公布：%(day)s %(topic)s") % {"day": day.date, "topic": day.topic})
        return redirect("reception:leader_day", day_id=day.pk)
    return _schedule_page(request, 400, leader_form=form, failed="leader")


@login_required
@require_POST
def joint_add(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    _may(permissions.may_convene_joint(user))
    form = JointForm(request.POST, organization_id=user.org_id)
    if form.is_valid():
        numbers = form.numbers()
        found = dict(cases_for(user).filter(number__in=numbers).values_list("number", "pk"))
        unknown = [n for n in numbers if n not in found]
        try:
            if unknown:
                raise ValidationFailed({"case_numbers": [_("找不到案件：%(n)s") % {"n": "、".join(unknown[:5])}]})
            session = services.joint_convene(
                actor=user, case_ids=[found[n] for n in numbers], data=_session_input(form)
            )
        except ApplicationError as exc:
            put_errors(form, exc, {"cases": "case_numbers"})
            return _schedule_page(request, http_status(exc), joint_form=form, failed="joint")
        messages.success(
            request, _("已安排联合接访：%(day)s %(topic)s") % {"day": session.date, "topic": session.topic}
        )
        return redirect("reception:joint", session_id=session.pk)
    return _schedule_page(request, 400, joint_form=form, failed="joint")


# --- leader days and joint sessions ---------------------------------------------------------------------


def _session_page(
    request: AuthedHttpRequest, session: LeaderDay | JointSession, status: int = 200, **extra: Any
) -> HttpResponse:
    user = request.user
    is_leader_day = isinstance(session, LeaderDay)
    own = False
    if isinstance(session, LeaderDay):
        may_close = permissions.may_record_leader_day(user, session)
        may_cancel = permissions.may_manage_schedules(user)
        own = permissions.is_own_leader_day(user, session)
    else:
        may_close = may_cancel = permissions.may_convene_joint(user)
    open_ = session.status == SessionStatus.PUBLISHED
    context = {
        "session": session,
        "is_leader_day": is_leader_day,
        "own": own,
        "appointments": selectors.session_appointments(session),
        "slots": schedule.offered(user.org_id, session.date, session.date, room_id=session.room.pk),
        "may_close": may_close and open_ and session.date <= timezone.localdate(),
        "may_cancel": may_cancel and open_,
        "may_book": permissions.may_book(user) and open_ and session.date >= timezone.localdate(),
        "close_form": extra.pop("close_form", None) or CloseForm(initial={"version": session.version}),
        "cancel_form": extra.pop("cancel_form", None) or CloseForm(initial={"version": session.version}),
        **extra,
    }
    # The session's own periods still to come (where its cases' complainants are booked).
    context["slots"] = [
        s for s in context["slots"] if (s.leader_day or s.joint_session) == session and s.starts_at > timezone.now()
    ]
    return _render(request, "reception/session.html", context, status=status)


@login_required
def leader_day(request: AuthedHttpRequest, day_id: int) -> HttpResponse:
    return _session_page(request, selectors.leader_day_get(request.user, day_id))


@login_required
def joint(request: AuthedHttpRequest, session_id: int) -> HttpResponse:
    return _session_page(request, selectors.joint_get(request.user, session_id))


def _close(request: AuthedHttpRequest, session: LeaderDay | JointSession, *, cancel: bool) -> HttpResponse:
    form = CloseForm(request.POST)
    key = "cancel_form" if cancel else "close_form"
    if not form.is_valid():
        return _session_page(request, session, 400, **{key: form})
    d = form.cleaned_data
    kwargs = {"actor": request.user, "version": d["version"]}
    try:
        if isinstance(session, LeaderDay):
            if cancel:
                services.leader_day_cancel(day_id=session.pk, reason=d["summary"], **kwargs)
            else:
                services.leader_day_record(day_id=session.pk, summary=d["summary"], **kwargs)
        elif cancel:
            services.joint_cancel(session_id=session.pk, reason=d["summary"], **kwargs)
        else:
            services.joint_record(session_id=session.pk, summary=d["summary"], **kwargs)
    except ApplicationError as exc:
        put_errors(form, exc)
        return _session_page(request, session, http_status(exc), **{key: form})
    messages.success(request, _("已取消，已预约的来访人将收到通知。") if cancel else _("接待情况已登记。"))
    if isinstance(session, LeaderDay):
        return redirect("reception:leader_day", day_id=session.pk)
    return redirect("reception:joint", session_id=session.pk)


@login_required
@require_POST
def leader_day_record(request: AuthedHttpRequest, day_id: int) -> HttpResponse:
    return _close(request, selectors.leader_day_get(request.user, day_id), cancel=False)


@login_required
@require_POST
def leader_day_cancel(request: AuthedHttpRequest, day_id: int) -> HttpResponse:
    return _close(request, selectors.leader_day_get(request.user, day_id), cancel=True)


@login_required
@require_POST
def joint_record(request: AuthedHttpRequest, session_id: int) -> HttpResponse:
    return _close(request, selectors.joint_get(request.user, session_id), cancel=False)


@login_required
@require_POST
def joint_cancel(request: AuthedHttpRequest, session_id: int) -> HttpResponse:
    return _close(request, selectors.joint_get(request.user, session_id), cancel=True)


# --- booking -----------------------------------------------------------------------------------------------


def _book_page(request: AuthedHttpRequest, form: BookingForm, status: int = 200) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    first = _day(request.GET.get("day"), today)
    first = min(max(first, today), today + timedelta(days=366))
    slots = selectors.free_slots(user.org_id, first=first, days=BOOKING_DAYS)
    chosen = str(form["slot"].value() or "")
    return _render(
        request,
        "reception/book.html",
        {"form": form, "slots": slots, "first": first, "chosen": chosen, "today": today},
        status=status,
    )


@login_required
def book(request: AuthedHttpRequest) -> HttpResponse:
    """The desk books a visit (from a call, a mail, at the counter) in a published period."""
    user = request.user
    _may(permissions.may_book(user))
    if request.method != "POST":
        return _book_page(request, BookingForm(initial={"headcount": 1}))
    form = BookingForm(request.POST)
    if not form.is_valid():
        return _book_page(request, form, 400)
    d = form.cleaned_data
    data = services.Booking(
        slot=d["slot"],
        name=d["name"],
        phone=d["phone"],
        email=d["email"],
        purpose=d["purpose"],
        headcount=d["headcount"],
        representatives=form.representative_names(),
        via=d["via"],
        case_id=d["case"],
    )
    try:
        appointment = services.appointment_book(actor=user, organization=_organization(user), data=data)
    except ApplicationError as exc:
        put_errors(form, exc)
        return _book_page(request, form, http_status(exc))
    messages.success(request, _("已预约，预约号 %(code)s。") % {"code": appointment.code})
    return redirect("reception:appointment", appointment_id=appointment.pk)


@login_required
@require_POST
def joint_invite(request: AuthedHttpRequest, session_id: int) -> HttpResponse:
    """Book a joint session's case's complainant into one of its periods (their name and phone
    as registered on the case)."""
    user = request.user
    session = selectors.joint_get(user, session_id)
    _may(permissions.may_book(user))
    case_id = _id(request.POST.get("case"))
    case = next((c for c in session.cases.all() if c.pk == case_id), None)
    try:
        if case is None:
            raise ValidationFailed({"case": [_("请选择本次联合接访的相关案件。")]})
        party = case.party
        if party is None or party.anonymous or not party.phone:
            raise ValidationFailed({"case": [_("该案件的反映人未留姓名或电话，请电话联系后在“预约来访”中登记。")]})
        appointment = services.appointment_book(
            actor=user,
            organization=_organization(user),
            data=services.Booking(
                slot=request.POST.get("slot", ""),
                name=party.name or _("反映人"),
                phone=party.phone,
                email=party.email or "",
                purpose=_("参加联合接访：%(topic)s（案件 %(number)s）")
                % {"topic": session.topic, "number": case.number},
                case_id=case.pk,
            ),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _session_page(request, session, http_status(exc))
    messages.success(
        request,
        _("已为 %(number)s 的反映人预约，预约号 %(code)s。") % {"number": case.number, "code": appointment.code},
    )
    return redirect("reception:joint", session_id=session.pk)


# --- one visit --------------------------------------------------------------------------------------------


def _appointment_page(
    request: AuthedHttpRequest, appointment: Appointment, status: int = 200, **forms: Any
) -> HttpResponse:
    user = request.user
    booked = appointment.status == AppointmentStatus.BOOKED
    may_change = permissions.may_book(user) and booked
    now = timezone.now()
    # A change refused because the booking moved on meanwhile (cancelled in another tab): its
    # form is no longer on the page, so its messages are shown on top instead of nowhere.
    refused = [] if may_change else [e for f in forms.values() for errs in f.errors.values() for e in errs]
    return _render(
        request,
        "reception/appointment.html",
        {
            "a": appointment,
            "name": mask_name(appointment.name),
            "phone": mask_phone(appointment.phone),
            "representatives": [mask_name(n) for n in appointment.representative_names],
            "log": list(appointment.log.select_related("staff")),
            "sent": selectors.appointment_messages(appointment),
            "may_change": may_change,
            "refused": refused,
            "may_no_show": permissions.may_book(user) and booked and appointment.slot.starts_at <= now,
            "may_check_in": permissions.may_check_in(user)
            and appointment.status in (AppointmentStatus.BOOKED, AppointmentStatus.NO_SHOW)
            and timezone.localtime(appointment.slot.starts_at).date() <= timezone.localdate(),
            "slots": [
                s
                for s in selectors.free_slots(
                    user.org_id, first=timezone.localdate(), days=BOOKING_DAYS, places=appointment.places
                )
                if s.key != appointment.slot.key
            ]
            if booked
            else [],
            "reschedule_form": forms.get("reschedule_form") or RescheduleForm(initial={"version": appointment.version}),
            "cancel_form": forms.get("cancel_form") or CancelForm(initial={"version": appointment.version}),
        },
        status=status,
    )


@login_required
def appointment(request: AuthedHttpRequest, appointment_id: int) -> HttpResponse:
    return _appointment_page(request, selectors.appointment_get(request.user, appointment_id))


@login_required
@require_POST
def appointment_cancel(request: AuthedHttpRequest, appointment_id: int) -> HttpResponse:
    current = selectors.appointment_get(request.user, appointment_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _appointment_page(request, current, 400, cancel_form=form)
    try:
        services.appointment_cancel(
            actor=request.user,
            appointment_id=current.pk,
            reason=form.cleaned_data["reason"],
            version=form.cleaned_data["version"],
        )
    except ApplicationError as exc:
        put_errors(form, exc)
        return _appointment_page(request, current, http_status(exc), cancel_form=form)
    messages.success(request, _("预约已取消，来访人将收到通知。"))
    return redirect("reception:appointment", appointment_id=current.pk)


@login_required
@require_POST
def appointment_reschedule(request: AuthedHttpRequest, appointment_id: int) -> HttpResponse:
    current = selectors.appointment_get(request.user, appointment_id)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        return _appointment_page(request, current, 400, reschedule_form=form)
    try:
        services.appointment_reschedule(
            actor=request.user,
            appointment_id=current.pk,
            slot=form.cleaned_data["slot"],
            version=form.cleaned_data["version"],
        )
    except ApplicationError as exc:
        put_errors(form, exc)
        return _appointment_page(request, current, http_status(exc), reschedule_form=form)
    messages.success(request, _("已改期，来访人将收到通知。"))
    return redirect("reception:appointment", appointment_id=current.pk)


@login_required
@require_POST
def appointment_no_show(request: AuthedHttpRequest, appointment_id: int) -> HttpResponse:
    current = selectors.appointment_get(request.user, appointment_id)
    form = VersionForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed({"version": [str(e) for errs in form.errors.values() for e in errs]})
        services.appointment_no_show(
            actor=request.user, appointment_id=current.pk, version=form.cleaned_data["version"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _appointment_page(request, current, http_status(exc))
    messages.success(request, _("已登记为未到访。"))
    return redirect("reception:appointment", appointment_id=current.pk)


# --- arrival --------------------------------------------------------------------------------------------


def _check_in_page(
    request: AuthedHttpRequest, appointment: Appointment, form: CheckInForm, status: int = 200
) -> HttpResponse:
    user = request.user
    typed_id = str(form["id_number"].value() or "") if form.is_bound else ""
    open_cases = selectors.open_cases_of(user, phone=appointment.phone, id_number=typed_id)
    if appointment.case_id and appointment.case_id not in {c.pk for c in open_cases}:
        open_cases = [*cases_for(user).filter(pk=appointment.case_id), *open_cases]
    target = str(form["target"].value() or "") if form.is_bound else (str(appointment.case_id or "") or "new")
    return _render(
        request,
        "reception/check_in.html",
        {
            "a": appointment,
            "form": form,
            "open_cases": open_cases,
            "target": target,
            "masked_phone": mask_phone(appointment.phone),
        },
        status=status,
    )


@login_required
def check_in(request: AuthedHttpRequest, appointment_id: int) -> HttpResponse:
    """The visitor arrived: identity check (ID number validated with its check digit), then a
    new case on the visit channel or a contact on their open case."""
    user = request.user
    _may(permissions.may_check_in(user))
    current = selectors.appointment_get(user, appointment_id)
    if current.status not in (AppointmentStatus.BOOKED, AppointmentStatus.NO_SHOW):
        messages.info(request, _("该预约已%(status)s。") % {"status": current.get_status_display()})
        return redirect("reception:appointment", appointment_id=current.pk)
    if request.method != "POST":
        form = CheckInForm(
            organization_id=user.org_id,
            initial={
                "name": current.name,
                "phone": current.phone,
                "text": current.purpose,
                "headcount": current.headcount,
                "representatives": "\n".join(current.representative_names),
                "version": current.version,
            },
        )
        return _check_in_page(request, current, form)
    form = CheckInForm(request.POST, organization_id=user.org_id)
    if not form.is_valid():
        return _check_in_page(request, current, form, 400)
    d = form.cleaned_data
    target = d["target"] or "new"
    case_id = None if target == "new" else _id(target)
    data = services.CheckIn(
        id_number=d["id_number"],
        name=d["name"],
        phone=d["phone"],
        gender=d["gender"],
        age=d["age"],
        affiliation=d["affiliation"],
        address=d["address"],
        nature=d["nature"],
        category_id=d["category"].pk if d["category"] else None,
        title=d["title"],
        text=d["text"],
        headcount=d["headcount"],
        representatives=form.representative_names(),
        case_id=case_id,
        new_matter=d["new_matter"],
    )
    try:
        if target != "new" and case_id is None:
            raise ValidationFailed({"target": [_("请选择登记为新的事项，或选择在办案件。")]})
        arrived, case, code = services.appointment_check_in(
            actor=user, appointment_id=current.pk, data=data, version=d["version"]
        )
    except DuplicateSubmission as exc:
        messages.info(request, exc.message)
        return redirect("reception:appointment", appointment_id=current.pk)
    except ApplicationError as exc:
        put_errors(form, exc, CHECK_IN_ALIASES)
        return _check_in_page(request, current, form, http_status(exc))
    if code is not None:
        remember_code(request, case, code, show_once=True)
        messages.success(request, _("已到访登记，登记为案件 %(number)s。") % {"number": case.number})
    else:
        messages.success(request, _("已到访登记，记入在办案件 %(number)s。") % {"number": case.number})
    return redirect("cases:detail", case_id=case.pk)
