"""After-commit desk notices for dispatch and approval (rows in huiyin/subscribers.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyin.core import reminders
from huiyin.core.notify import desk_notify
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap

if TYPE_CHECKING:
    from huiyin.cases.models import Case, Event


def dispatch_recipients(case: Case) -> list[Staff]:
    """Who hears of a dispatched case: the named handler, or else the lead department's heads."""
    if case.handler:
        return [case.handler]
    if case.lead_department_id is None:
        return []
    department_staff = Staff.objects.filter(department_id=case.lead_department_id, is_active=True)
    return [s for s in department_staff if s.is_dept_head]


def approval_recipients(case: Case) -> list[Staff]:
    """Whoever may approve it (the whole organisation's approvers, or the lead department's)."""
    return [
        s
        for s in Staff.objects.filter(organization_id=case.organization_id, is_active=True)
        if s.can(Cap.APPROVE) and (s.can(Cap.VIEW_ALL) or s.department_id == case.lead_department_id)
    ]


def desk_on_dispatch(*, event: Event) -> None:
    """The named handler, or else the lead department's heads, find the new case on their desk."""
    case = event.case
    assert case.lead_department_id is not None, "subscribed to the dispatch action, which sets it"
    recipients = dispatch_recipients(case)
    desk_notify(
        recipients=recipients,
        case=case,
        key=f"event:{event.pk}",
        text=reminders.DISPATCHED(number=case.number, title=case.title),
        at=event.at,
        kind="dispatched",
    )


def desk_on_submit_for_approval(*, event: Event) -> None:
    """Whoever may approve it (the whole organisation's approvers, or the lead department's)."""
    case = event.case
    desk_notify(
        recipients=approval_recipients(case),
        case=case,
        key=f"event:{event.pk}",
        text=reminders.APPROVAL(number=case.number, title=case.title),
        at=event.at,
        kind="approval",
    )
