"""The host is told their visitor has arrived at the front desk (F70, ``huiyin.frontoffice``):
a reminder on their desk and, through the organisation's templates and switches, an SMS to
the mobile and an e-mail to the address they gave (我的通知方式) — once per visit. The
visitor is named masked (李**) with their unit; the host announced them and knows who it is.
Listed in the subscriber table as ``FRONT_OFFICE_CHECK_IN`` (``frontoffice.hooks``)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from huiyin.core import reminders
from huiyin.core.notify import desk_notify
from huiyin.frontoffice.models import Visitor, VisitStatus

from .models import Message
from .purposes import Purpose
from .services import queue, staff_targets


def host_on_check_in(*, visitor_id: int) -> list[Message]:
    visitor = Visitor.objects.select_related("host", "organization").filter(pk=visitor_id).first()
    if visitor is None or visitor.status != VisitStatus.IN or not visitor.host.is_active:
        return []
    when = timezone.localtime(visitor.checked_in_at or timezone.now()).strftime("%H:%M")
    values = {
        "org": visitor.organization.name,
        "name": visitor.host.get_full_name() or visitor.host.username,
        "visitor": visitor.masked_name,
        "affiliation": visitor.affiliation or _("个人"),
        "when": when,
        "badge": visitor.badge or "—",
    }
    key = f"visitor:{visitor.pk}:arrived"
    text = reminders.VISITOR_ARRIVED(
        visitor=values["visitor"],
        affiliation=visitor.affiliation or gettext_noop("个人"),
        when=when,
        badge=values["badge"],
    )
    desk_notify(recipients=[visitor.host], case=None, key=key, text=text, at=visitor.checked_in_at)
    return queue(
        case=None,
        event=None,
        purpose=Purpose.VISITOR_ARRIVED,
        targets=staff_targets([visitor.host]),
        values=values,
        key_base=key,
        organization_id=visitor.organization_id,
    )
