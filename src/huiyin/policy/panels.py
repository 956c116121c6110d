"""The administrators' desk panel: a year the holiday package does not know, before it
starts (from 1 October) and while it runs (``services.calendars.unknown_year_warnings``)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from huiyin.core.http import AuthedHttpRequest
from huiyin.orgs.permissions import may_administer

from .services.calendars import unknown_year_warnings


def desk_panel(request: AuthedHttpRequest) -> dict[str, Any] | None:
    user = request.user
    if not may_administer(user):
        return None
    warnings = unknown_year_warnings(today=timezone.localdate(), organization_id=user.organization_id)
    return {"warnings": warnings} if warnings else None
