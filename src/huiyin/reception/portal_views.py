"""Booking a visit on the public portal (phone-first, no login): choose a day, a period, say who
comes and why, prove the browser did the work (the portal's proof of work); the booking
number and time are shown and sent by SMS. Under /portal/, with the portal's base template,
error pages and request-size limit (``public.py`` says why the page lives here)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.access.network import client_ip
from huiyin.core import crypto
from huiyin.core.errors import ApplicationError, http_status
from huiyin.core.forms import put_errors
from huiyin.core.privacy import mask_phone
from huiyin.portal import challenge
from huiyin.portal import selectors as portal_selectors
from huiyin.portal.errors import TooManyRequests

from . import messages, public, selectors
from .forms import ManageChangeForm, ManageLookupForm, PublicBookingForm
from .models import Appointment, AppointmentStatus

BOOKED = "reception_booked"  # the booking just made in this browser: its id
MANAGE_CODE = "reception_manage_code"  # {id: the code to change it online}, the booking just made
MANAGED = "reception_managed"  # the booking this browser showed it holds (number + code): its id
ALIASES = {"token": "challenge", "via": "challenge", "email": "phone"}


def _chosen_day(raw: str | None, days: list[selectors.PublicDay]) -> selectors.PublicDay | None:
    try:
        wanted = date.fromisoformat((raw or "").strip()[:10])
    except ValueError:
        wanted = None
    return next((d for d in days if d.day == wanted), days[0] if days else None)


def book(request: HttpRequest, org: str) -> HttpResponse:
    organization = portal_selectors.organization(org)
    days = selectors.public_days(organization)
    form = PublicBookingForm(request.POST or None)
    status = 200
    chosen_slot = str(request.POST.get("slot", ""))[:60]
    shown = _chosen_day(request.GET.get("day"), days)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                appointment = public.book(
                    organization=organization,
                    data=public.PublicBooking(
                        slot=d["slot"],
                        name=d["name"],
                        phone=d["phone"],
                        purpose=d["purpose"],
                        headcount=d["headcount"],
                        representatives=form.representative_names(),
                        consent=d["consent"],
                        challenge=d["challenge"],
                        solution=d["solution"],
                    ),
                    client=client_ip(request) or "unknown",
                )
            except ApplicationError as error:
                put_errors(form, error, ALIASES)
                status = 429 if isinstance(error, TooManyRequests) else 400
            else:
                request.session[BOOKED] = appointment.pk
                # Sealed: the session row is readable, the code is kept only as a keyed hash.
                request.session[MANAGE_CODE] = {str(appointment.pk): crypto.seal(appointment.manage_code)}
                return redirect("reception_portal:done", org=organization.code)
    return render(
        request,
        "reception/portal_book.html",
        {
            "org": organization,
            "form": form,
            "days": days,
            "shown": shown,
            "chosen_slot": chosen_slot,
            "consent": portal_selectors.consent(organization),
            "challenge": challenge.issue(),
        },
        status=status,
    )


def done(request: HttpRequest, org: str) -> HttpResponse:
    """The booking just made in this browser (its session): number, time, place, what to bring."""
    organization = portal_selectors.organization(org)
    pk = request.session.get(BOOKED)
    appointment = (
        Appointment.objects.select_related("slot__room", "slot__leader_day__leader")
        .filter(pk=pk, organization=organization)
        .first()
        if isinstance(pk, int)
        else None
    )
    if appointment is None:
        return redirect("reception_portal:book", org=organization.code)
    return render(
        request,
        "reception/portal_done.html",
        {
            "org": organization,
            "a": appointment,
            "when": messages.when_text(appointment),
            "phone": mask_phone(appointment.phone),
            "past": appointment.slot.starts_at < timezone.now(),
            "manage_code": crypto.unseal((request.session.get(MANAGE_CODE) or {}).get(str(appointment.pk), "")) or "",
        },
    )


def _held(request: HttpRequest, organization) -> Appointment | None:
    pk = request.session.get(MANAGED)
    if not isinstance(pk, int):
        return None
    return (
        Appointment.objects.select_related("slot__room", "organization")
        .filter(pk=pk, organization=organization)
        .first()
    )


def manage(request: HttpRequest, org: str) -> HttpResponse:
    """The visitor's own booking: shown once its number and code are given (this browser then
    holds it), cancelled or moved to another published period before it begins."""
    organization = portal_selectors.organization(org)
    client = client_ip(request) or "unknown"
    action = str(request.POST.get("action", ""))[:20] if request.method == "POST" else ""
    lookup_form = ManageLookupForm(request.POST if action == "lookup" else None)
    change_form = ManageChangeForm(request.POST if action in ("cancel", "reschedule") else None)
    status = 200
    held = _held(request, organization)
    if action == "leave":
        request.session.pop(MANAGED, None)
        return redirect("reception_portal:manage", org=organization.code)
    if action == "lookup":
        status = 400
        if lookup_form.is_valid():
            try:
                found = public.lookup(
                    organization=organization,
                    code=lookup_form.cleaned_data["code"],
                    manage_code=lookup_form.cleaned_data["manage_code"],
                    client=client,
                )
            except ApplicationError as error:  # a wrong code: said next to the field (as the case look-up)
                put_errors(lookup_form, error)
                status = 429 if isinstance(error, TooManyRequests) else 200
            else:
                request.session[MANAGED] = found.pk
                return redirect("reception_portal:manage", org=organization.code)
    elif action in ("cancel", "reschedule"):
        status = 400
        if held is None:
            lookup_form = ManageLookupForm({})
            lookup_form.is_valid()
            lookup_form.add_error("code", _("请先输入预约号和管理码。"))
        elif change_form.is_valid():
            d = change_form.cleaned_data
            try:
                if action == "cancel":
                    public.cancel(appointment=held, reason=d["reason"], client=client)
                    done = _("预约已取消。")
                else:
                    public.reschedule(appointment=held, slot=d["slot"], client=client)
                    done = _("预约已改期，确认短信已发送。")
            except ApplicationError as error:
                put_errors(change_form, error, {"manage_code": "slot"})
                status = 429 if isinstance(error, TooManyRequests) else http_status(error)
            else:
                request.session["reception_manage_done"] = str(done)
                return redirect("reception_portal:manage", org=organization.code)
        if held is not None:
            held.refresh_from_db()
    days = selectors.public_days(organization) if held is not None and held.status == AppointmentStatus.BOOKED else []
    return render(
        request,
        "reception/portal_manage.html",
        {
            "org": organization,
            "a": held,
            "when": messages.when_text(held) if held is not None else "",
            "begun": held is not None and held.slot.starts_at <= timezone.now(),
            "lookup_form": lookup_form,
            "change_form": change_form,
            "days": days,
            "shown": _chosen_day(request.GET.get("day"), days),
            "chosen_slot": str(request.POST.get("slot", ""))[:60],
            "done": request.session.pop("reception_manage_done", ""),
            "consent": portal_selectors.consent(organization),
        },
        status=status,
    )
