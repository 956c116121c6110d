"""Reactions of the case core to its own events (rows in huiyin/subscribers.py): the
complainant's SMS after commit, the desk reminders a move settles in its transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from huiyin.core.notify import desk_case_finished, desk_mark_read, desk_settle, send_sms_once

if TYPE_CHECKING:
    from .models import Case, Event

# The moves that finish a case: its desk reminders are stale from then on.
FINISHING = frozenset({"close", "archive", "not_accept", "not_reaccept", "return", "transfer", "decide_rereview"})
# What a move settles for everyone: "a new case for you" once it is signed for, sent back or
# answered; "waiting for your approval" once approved or returned.
SETTLES: dict[str, tuple[str, ...]] = {
    "sign_for": ("dispatched",),
    "send_back": ("dispatched",),
    "reply": ("dispatched", "approval"),
    "approve": ("approval",),
    "reject_approval": ("approval",),
}


def sms_on_registered(*, event: Event) -> None:
    """Tell the complainant the matter is registered, where the organisation texts complainants."""
    case = event.case
    party = case.party
    if not (case.organization.notify_complainants and party and party.phone.startswith("1")):
        return
    body = _("【%(org)s】您反映的问题已登记，编号%(number)s，请凭受理凭证上的查询码查询办理进度。") % {
        "org": case.organization.name,
        "number": case.number,
    }
    send_sms_once(phone=party.phone, body=body, key=f"event:{event.pk}")


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
