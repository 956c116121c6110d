"""After-commit reactions of the case core to its own events (rows in huiyin/subscribers.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from huiyin.core.notify import desk_case_finished, send_sms_once

if TYPE_CHECKING:
    from .models import Case, Event

# The moves that finish a case: its desk reminders are stale from then on.
FINISHING = frozenset({"close", "archive", "not_accept", "not_reaccept", "return", "transfer", "decide_rereview"})


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


def desk_done_on_finish(*, case: Case, event: Event) -> None:
    """A finished case leaves every desk: its reminders are done, at the time it finished
    (in the transaction that finished it, so a reopening starts with a clean desk)."""
    desk_case_finished(case_id=case.pk, at=event.at)
