"""A visit booked by the public on the portal, behind the portal's own abuse guards: its proof
of work (``portal.challenge``: verified, used once, and the booking's one-time token) and its
fixed-window limits (``portal.limits``: per client address and per phone number). The
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

from huiyin.core.errors import ValidationFailed
from huiyin.orgs.models import Organization
from huiyin.portal import challenge, limits
from huiyin.portal.errors import TooManyRequests

from .models import Appointment, BookedVia
from .services import Booking, appointment_book, booking_errors


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
