"""Reactions of the case core to its own events (rows in huiyin/subscribers.py): the
handler told of a repeat call on the desk after commit, the desk reminders a move settles in its
transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyin.core import reminders
from huiyin.core.notify import desk_case_finished, desk_mark_read, desk_notify, desk_settle
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap

from .permissions import may_view_case

if TYPE_CHECKING:
    from .models import Case, Event

# The moves that finish a case: its desk reminders are stale from then on.
FINISHING = frozenset(
    {"close", "archive", "not_accept", "not_reaccept", "return", "transfer", "decide_rereview", "merge"}
)
# What a move settles for everyone: "a new case for you" once it is signed for, sent back or
# answered; "waiting for your approval" once approved or returned.
SETTLES: dict[str, tuple[str, ...]] = {
    "sign_for": ("dispatched",),
    "send_back": ("dispatched",),
    "reply": ("dispatched", "approval"),
    "approve": ("approval",),
    "reject_approval": ("approval",),
}


def repeat_contact_recipients(event: Event) -> list[Staff]:
    """Who must hear of a repeat call on a case: the handler; without one, the lead
    department's heads; before dispatch, the staff member who took the first call
    (首问责任人), else whoever may dispatch. Never the one who recorded the call, nor anyone
    who cannot open the case (a department's head may dispatch, but only their own cases)."""
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
            if s.can(Cap.DISPATCH) and may_view_case(s, case)
        ]
    return [p for p in people if p.pk != event.actor_id]


def notify_repeat_contact(*, event: Event) -> None:
    """A repeat call (重复来电) on a case: the handler is told on the desk (96310: 每次电话受理的
    情况必须详实书面记录，同时通知承办人与投诉人进行沟通). The same people get it by e-mail or SMS
    where the organisation switched that on: the ``repeat_contact`` message of
    ``huiyin.notifications``, a subscriber of the same event."""
    case = event.case
    data = event.data or {}
    text = reminders.REPEAT_CONTACT(number=case.number, title=case.title, text=str(data.get("text", ""))[:80])
    desk_notify(recipients=repeat_contact_recipients(event), case=case, key=f"event:{event.pk}", text=text)


def desk_on_move(*, case: Case, event: Event) -> None:
    """The desk follows the case, in the transaction of the move: a finished case leaves
    every desk (so a reopening starts with a clean desk); a settled reminder is done; and
    whoever moved the case has seen its reminders. At the move's own time."""
    action = (event.data or {}).get("action", "")
    if action in FINISHING:
        desk_case_finished(case_id=case.pk, at=event.at)
    elif action in SETTLES:
        desk_settle(case_id=case.pk, kinds=SETTLES[action], at=event.at)
    if event.actor_id is not None:
        desk_mark_read(recipient=event.actor, case_id=case.pk, at=event.at)
