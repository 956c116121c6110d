"""The deadline engine's panels: clocks on the case page, warnings on the desk
(listed in huiyin/subscribers.py, CASE_PANELS and DESK_PANELS)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from huiyin.cases.models import Case
from huiyin.core.http import AuthedHttpRequest

from .selectors import case_clocks
from .views import deadline_panel, desk_deadlines

# What the complainant is told each running stage means, in plain words (no staff, no roles).
PUBLIC_STAGE_TEXT = {
    "intake": _("正在登记受理"),
    "department": _("已交承办部门，等待签收"),
    "handler": _("正在办理"),
    "responsible_unit": _("责任单位正在整改"),
    "callback_officer": _("等待回访"),
    "complainant": _("等待您补充材料"),
}


def case_panel(request: AuthedHttpRequest, case: Case) -> dict[str, Any]:
    return {"deadlines": deadline_panel(request, case)}


def desk_panel(request: AuthedHttpRequest) -> dict[str, Any]:
    return desk_deadlines(request.user)


def public_panel(request: HttpRequest, case: Case) -> dict[str, Any] | None:
    """The status page's "what happens next": each running stage in plain words and by when.
    Public filter: stage and date only; who works on it is not shown."""
    running = case_clocks(case=case, include_stopped=False)
    if not running:
        return None
    return {
        "next_steps": [
            {
                "text": PUBLIC_STAGE_TEXT.get(v.waiting_on, _("正在办理")),
                "due_at": v.due_at,
                "paused": v.state == "paused",
            }
            for v in running
        ]
    }
