"""The reception's desk panel: a leader's own coming reception days, and for the desk the
visits booked for today (with a link to the day's calendar)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from huiyin.core.http import AuthedHttpRequest

from . import permissions, selectors
from .models import Appointment, AppointmentStatus


def desk_panel(request: AuthedHttpRequest) -> dict[str, Any] | None:
    user = request.user
    if not permissions.may_view_reception(user):
        return None
    today = timezone.localdate()
    my_days = selectors.my_upcoming_leader_days(user, today=today)
    expected = (
        Appointment.objects.filter(
            organization_id=user.org_id, status=AppointmentStatus.BOOKED, slot__starts_at__date=today
        ).count()
        if permissions.may_check_in(user)
        else 0
    )
    if not my_days and not expected:
        return None
    return {"my_days": my_days, "expected": expected, "today": today}
