"""The deadline engine's panels: clocks on the case page, warnings on the desk
(listed in huiyin/subscribers.py, CASE_PANELS and DESK_PANELS)."""

from __future__ import annotations

from typing import Any

from huiyin.cases.models import Case
from huiyin.core.http import AuthedHttpRequest

from .views import deadline_panel, desk_deadlines


def case_panel(request: AuthedHttpRequest, case: Case) -> dict[str, Any]:
    return {"deadlines": deadline_panel(request, case)}


def desk_panel(request: AuthedHttpRequest) -> dict[str, Any]:
    return desk_deadlines(request.user)
