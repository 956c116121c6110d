"""The retention rule (F81, ``huiyin retention apply``) for visits that never became a case
(cancelled, not come, or still marked booked long after): the subscriber table's
``record_erasers`` calls ``erase_bookings`` with the running preset's rule and the moment
before which the period is over, counted from the visit's time. Such a visit loses the
visitor's name, phone, e-mail and representatives, and the messages about it their
recipient and texts; the rows (time, room, status, headcount, the log) stay for the
statistics. A visit that became a case is erased with the case (``services.erase_visitors``).
"""

from __future__ import annotations

from datetime import datetime

from huiyin.notifications.models import Message
from huiyin.orgs.models import Organization
from huiyin.policy.presets import Retention

from .models import Appointment


def erase_bookings(
    organization: Organization, *, rule: Retention, cutoff: datetime, now: datetime, dry_run: bool
) -> int:
    visits = Appointment.objects.filter(
        organization=organization, case__isnull=True, slot__starts_at__lt=cutoff, erased_at__isnull=True
    )
    if dry_run:
        return visits.count()
    ids = list(visits.values_list("pk", flat=True))
    for pk in ids:
        Message.objects.filter(organization_id=organization.pk, case=None, key__startswith=f"appointment:{pk}:").update(
            recipient="", recipient_masked="", body="", shown_body="", subject=""
        )
    return Appointment.objects.filter(pk__in=ids).update(name="", phone="", email="", representatives="", erased_at=now)
