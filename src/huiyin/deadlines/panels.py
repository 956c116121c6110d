"""The deadline engine's panels: clocks on the case page, warnings on the desk
(listed in huiyin/subscribers.py, CASE_PANELS and DESK_PANELS)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from huiyin.cases.models import Case

from .views import deadline_panel, desk_deadlines


def case_panel(request: HttpRequest, case: Case) -> dict[str, Any]:
    return {"deadlines": deadline_panel(request, case)}


def desk_panel(request: HttpRequest) -> dict[str, Any]:
    return desk_deadlines(request.user)  # type: ignore[arg-type]
