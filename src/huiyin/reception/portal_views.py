"""Booking a visit on the public portal (phone-first, no login): choose a day, a period, say who
comes and why, prove the browser did the work (the portal's proof of work); the booking
number and time are shown and sent by SMS. Under /portal/, with the portal's base template,
error pages and request-size limit (``public.py`` says why the page lives here)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from huiyin.access.network import client_ip
from huiyin.core.errors import ApplicationError
from huiyin.core.forms import put_errors
from huiyin.core.privacy import mask_phone
from huiyin.portal import challenge
from huiyin.portal import selectors as portal_selectors
from huiyin.portal.errors import TooManyRequests

from . import messages, public, selectors
from .forms import PublicBookingForm
from .models import Appointment

BOOKED = "reception_booked"  # the booking just made in this browser: its id
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
        },
    )
