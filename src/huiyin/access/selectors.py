"""Reads: a staff member's confirmed authenticator and where the login throttle stands."""

from __future__ import annotations

import math
from datetime import datetime

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice


def confirmed_device(user) -> TOTPDevice | None:
    """The authenticator the user confirmed with a code, if any (the newest)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def lock_minutes_left(*, username: str, ip_address: str, now: datetime | None = None) -> int:
    """Whole minutes (at least 1) until a login of ``username`` from ``ip_address`` is allowed again."""
    cool_off = get_cool_off()
    last = (
        AccessAttempt.objects.filter(username=username, ip_address=ip_address)
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    if cool_off is None or last is None:
        return math.ceil(cool_off.total_seconds() / 60) if cool_off else 0
    left = (last + cool_off - (now or timezone.now())).total_seconds()
    return max(1, math.ceil(left / 60))
