"""What the visitor is told about their booking, through ``huiyin.notifications`` (its
templates, switches and backends, once per key): the confirmation when booked, the reminder
before the visit (the appointment clock's warning step), a new time, a cancellation.

A booked visit has no case yet: the messages carry the organisation and a key of their own
(``appointment:<id>:...``), and go to the phone (SMS to a mobile) and e-mail the visitor gave,
unless the organisation sends no messages to the public (a demo's made-up numbers)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.notifications.models import Message
from huiyin.notifications.purposes import Medium, Purpose
from huiyin.notifications.services import Target, is_mobile, queue

from .models import Appointment, Weekday


def when_text(appointment: Appointment) -> str:
    """The visit's time as the visitor reads it: 2026-01-08（星期四）09:30."""
    start = timezone.localtime(appointment.slot.starts_at)
    return _("%(day)s（%(weekday)s）%(time)s") % {
        "day": start.strftime("%Y-%m-%d"),
        "weekday": Weekday(start.weekday()).label,
        "time": start.strftime("%H:%M"),
    }


def targets(appointment: Appointment) -> list[Target]:
    if not appointment.organization.notify_complainants:
        return []
    out = []
    if is_mobile(appointment.phone or ""):
        out.append(Target(Medium.SMS, appointment.phone))
    if appointment.email:
        out.append(Target(Medium.EMAIL, appointment.email))
    return out


def tell(appointment: Appointment, purpose: str, key: str, **more: str) -> list[Message]:
    """Queue ``purpose`` to the visitor once per ``key``; sent by a task after commit. A
    ``manage_code`` among ``more`` is the secret the staff's copy of the text hides."""
    org = appointment.organization
    values = {
        "org": org.name,
        "hotline": org.hotline or settings.HUIYIN_HOTLINE,
        "name": appointment.name,
        "code": appointment.code,
        "when": when_text(appointment),
        "place": appointment.slot.room.place,
        **more,
    }
    return queue(
        case=None,
        event=None,
        purpose=purpose,
        targets=targets(appointment),
        values=values,
        key_base=f"appointment:{appointment.pk}:{key}",
        organization_id=org.pk,
        secret=more.get("manage_code", ""),
    )


def confirm(appointment: Appointment) -> list[Message]:
    """The confirmation, with the code to change the booking online (``public.manage``)."""
    return tell(appointment, Purpose.VISIT_BOOKED, "booked", manage_code=appointment.manage_code)


def remind(appointment: Appointment, clock_id: int) -> list[Message]:
    return tell(appointment, Purpose.VISIT_REMINDER, f"reminder:{clock_id}")


def moved(appointment: Appointment, change: int) -> list[Message]:
    return tell(appointment, Purpose.VISIT_MOVED, f"moved:{change}")


def cancelled(appointment: Appointment) -> list[Message]:
    return tell(appointment, Purpose.VISIT_CANCELLED, "cancelled")


def sent_for(appointment: Appointment) -> list[Message]:
    """The messages about this booking, newest first (the appointment page lists them masked)."""
    return list(
        Message.objects.filter(
            organization_id=appointment.organization_id, key__startswith=f"appointment:{appointment.pk}:"
        ).order_by("-created_at", "-id")
    )
