"""A visit booked by the public on the portal, behind the portal's own abuse guards: its proof
of work (``portal.challenge``: verified, used once, and the booking's one-time token) and its
fixed-window limits (``core.limits``: per client address and per phone number). The
booking itself is the staff's service (``services.appointment_book`` with no staff actor),
so the public gets the same published periods, checks and messages, and fewer levers: no
joint session (by invitation), no case, the portal as the way it was booked.

The page lives in this app, at ``/portal/<org>/appointments/`` (``portal_urls.py``, wired in
``huiyin/urls.py``): the reception sits above the portal in the layers, so it may use the
portal's helpers, templates and error pages, while the portal knows nothing of bookings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from huiyin.core import limits
from huiyin.core.errors import ApplicationError, ValidationFailed
from huiyin.core.validators import clean_text
from huiyin.orgs.models import Organization
from huiyin.portal import challenge
from huiyin.portal.errors import TooManyRequests

from .errors import ReceptionError
from .models import Appointment, BookedVia
from .services import (
    Booking,
    appointment_book,
    appointment_cancel_online,
    appointment_reschedule_online,
    booking_errors,
    manage_code_hash,
    manage_code_matches,
)


@dataclass
class PublicBooking:
    slot: str
    name: str
    phone: str
    purpose: str
    headcount: int | None = 1
    representatives: list[str] = field(default_factory=list)
    consent: bool = False
    challenge: str = ""
    solution: str = ""


def _too_many(bucket: str, field_name: str, message: str) -> TooManyRequests:
    wait = limits.retry_after(bucket)
    return TooManyRequests(message % {"m": limits.minutes(wait)}, field=field_name, retry_after=wait)


def book(*, organization: Organization, data: PublicBooking, client: str) -> Appointment:
    """Book on the portal: the challenge, the consent and the limits, then the booking."""
    checked = challenge.verify(data.challenge, data.solution)
    if not data.consent:
        raise ValidationFailed({"consent": [_("请阅读个人信息处理说明，勾选同意后再预约。")]})
    booking = Booking(
        slot=data.slot,
        name=data.name,
        phone=data.phone,
        purpose=data.purpose,
        headcount=data.headcount,
        representatives=data.representatives,
        via=BookedVia.PORTAL,
        token=challenge.intake_token(checked),
    )
    errors = booking_errors(organization.pk, booking)
    if errors:  # checked before the challenge is used up and the limits counted: a typo costs nothing
        raise ValidationFailed(errors)
    if not limits.hit("book_ip", client):
        raise _too_many("book_ip", challenge.FIELD, _("预约过于频繁，请 %(m)d 分钟后再试。"))
    phone = booking.phone.strip()
    if phone and not limits.hit("book_phone", phone):
        raise _too_many("book_phone", "phone", _("该手机号码今天的预约已达上限，请 %(m)d 分钟后再试，或拨打电话预约。"))
    challenge.consume(checked)
    return appointment_book(actor=None, organization=organization, data=booking)


# --- the visitor's own booking: look it up, cancel it, move it -------------------------------------


def lookup(*, organization: Organization, code: str, manage_code: str, client: str) -> Appointment:
    """The booking for its number and the code sent when it was booked, or one refusal
    whatever was wrong; limited like the portal's case look-up (per address, and wrong codes
    per booking number and per address)."""
    code = "".join(clean_text(code).split()).upper()[:20]
    manage_code = "".join(clean_text(manage_code).split()).upper()[:20]
    subject = f"appointment:{organization.pk}:{code}"
    if not limits.hit("lookup_ip", client):
        raise _too_many("lookup_ip", "code", _("查询过于频繁，请 %(m)d 分钟后再试。"))
    if limits.spent("code_number", subject) or limits.spent("code_ip", client):
        bucket = "code_number" if limits.spent("code_number", subject) else "code_ip"
        raise _too_many(bucket, "manage_code", _("管理码错误次数过多，暂停查询，请 %(m)d 分钟后再试。"))
    appointment = (
        Appointment.objects.select_related("slot__room", "organization")
        .filter(organization=organization, code=code)
        .first()
        if code
        else None
    )
    if appointment is not None and manage_code_matches(appointment, manage_code):
        return appointment
    if appointment is None:
        manage_code_hash(Appointment(organization=organization, code=code), manage_code)  # the same work
    limits.hit("code_number", subject)
    limits.hit("code_ip", client)
    raise ApplicationError(
        _("预约号或管理码不正确，请核对预约确认短信。"), field="manage_code", code=ReceptionError.NOT_PUBLISHED
    )


def _acting(client: str) -> None:
    if not limits.hit("act_ip", client):
        raise _too_many("act_ip", "slot", _("操作过于频繁，请 %(m)d 分钟后再试。"))


def cancel(*, appointment: Appointment, reason: str, client: str) -> Appointment:
    _acting(client)
    return appointment_cancel_online(
        organization=appointment.organization, appointment_id=appointment.pk, reason=reason
    )


def reschedule(*, appointment: Appointment, slot: str, client: str) -> Appointment:
    _acting(client)
    return appointment_reschedule_online(
        organization=appointment.organization, appointment_id=appointment.pk, slot=slot
    )
