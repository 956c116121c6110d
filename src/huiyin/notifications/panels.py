"""The case page's panel: every message the case sent or withheld, recipient masked, the
query code hidden (the panel seam, huiyin/subscribers.py CASE_PANELS)."""

from __future__ import annotations

from typing import Any

from huiyin.cases.models import Case
from huiyin.core.http import AuthedHttpRequest

from . import permissions
from .selectors import case_messages


def case_panel(request: AuthedHttpRequest, case: Case) -> dict[str, Any] | None:
    messages = case_messages(actor=request.user, case=case)
    if messages is None:
        return None
    party = case.party
    return {
        "messages": messages,
        "party": party,
        "can_set_opt_out": party is not None and permissions.may_set_sms_opt_out(request.user, case),
        "can_resend": permissions.may_resend(request.user),
    }
