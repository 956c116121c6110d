"""After-commit reactions of the case core to its own events (rows in huiyin/subscribers.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from huiyin.core.notify import desk_notify, email_staff_once
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap

if TYPE_CHECKING:
    from .models import Event


def repeat_contact_recipients(event: Event) -> list[Staff]:
    """Who must hear of a repeat call on a case: the handler; without one, the lead
    department's heads; before dispatch, the staff member who took the first call
    (首问责任人), else whoever may dispatch. Never the one who recorded the call."""
    case = event.case
    people: list[Staff] = []
    if case.handler_id is not None and case.handler is not None and case.handler.is_active:
        people = [case.handler]
    elif case.lead_department_id is not None:
        people = [
            s for s in Staff.objects.filter(department_id=case.lead_department_id, is_active=True) if s.is_dept_head
        ]
    elif case.first_contact_id is not None and case.first_contact is not None and case.first_contact.is_active:
        people = [case.first_contact]
    if not [p for p in people if p.pk != event.actor_id]:
        people = [
            s
            for s in Staff.objects.filter(organization_id=case.organization_id, is_active=True).order_by("pk")
            if s.can(Cap.DISPATCH)
        ]
    return [p for p in people if p.pk != event.actor_id]


def notify_repeat_contact(*, event: Event) -> None:
    """A repeat call (重复来电) on a case: the handler is told, on the desk and through the
    staff notification backend (96310: 每次电话受理的情况必须详实书面记录，同时通知承办人
    与投诉人进行沟通)."""
    case = event.case
    data = event.data or {}
    values = {"number": case.number, "title": case.title, "text": str(data.get("text", ""))[:80]}
    text = _("重复来电 %(number)s %(title)s：%(text)s（请与反映人沟通）") % values
    recipients = repeat_contact_recipients(event)
    desk_notify(recipients=recipients, case=case, key=f"event:{event.pk}", text=text)
    subject = _("[重复来电] %(number)s %(title)s") % values
    email_staff_once(recipients=recipients, subject=subject, body=text, key=f"event:{event.pk}")
