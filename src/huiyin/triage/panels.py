"""Triage's panel on the staff intake forms (the ``intake_panels`` seam of the subscriber
table): the suggestion box the script fills as the clerk types, or the notice that triage
is off. The intake form in ``cases`` never imports triage."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .permissions import may_get_suggestions
from .suggest import availability


def intake_panel(request: HttpRequest, channel: str) -> dict[str, Any] | None:
    user: Any = request.user
    if not may_get_suggestions(user):
        return None
    status, notice, row = availability(user.org_id)
    return {"status": status, "notice": notice, "channel": channel, "model_version": row.version if row else None}
