"""The deadline engine's panels: clocks on the case page, warnings on the desk
(listed in huiyin/subscribers.py, CASE_PANELS and DESK_PANELS)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from huiyin.cases.models import Case
from huiyin.core.http import AuthedHttpRequest

from .models import ClockState
from .selectors import ClockView, case_clocks
from .views import deadline_panel, desk_deadlines

# What happens by each running clock's due time, in plain words for the complainant (no
# staff, no roles): what the stage's time limit promises, true from the moment the clock
# starts — a reply clock runs from registration, before the case is accepted, so it says
# "you are answered", not "being handled". Every stage of STAGE_LABELS has one (a test).
PUBLIC_STAGE_TEXT = {
    "dispatch": _("交承办部门办理"),
    "sign_for": _("承办部门签收"),
    "first_contact": _("承办人与您联系"),
    "acceptance": _("告知您是否受理"),
    "handover": _("交承办人办理"),
    "investigation": _("调查核实"),
    "rectification_plan": _("责任单位提出整改方案"),
    "reply": _("答复您"),
    "callback": _("回访您"),
    "overall": _("办结您的诉求"),
    "review_decision": _("出具复查、复核意见"),
    "result_report": _("报告查处结果"),
    "callback_task": _("整改回访中发现的问题"),
    "callback_answer": _("答复您在回访中提出的询问"),
}
# Stages whose time limit is the complainant's own: until when they may act.
PUBLIC_OWN_STAGE_TEXT = {
    "review_request": _("您可以请求复查、复核"),
}
PUBLIC_PAUSED_TEXT = _("等待您补充材料")


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
    return {"next_steps": [_public_step(v) for v in running]}


def _public_step(v: ClockView) -> dict[str, Any]:
    paused = v.state == ClockState.PAUSED
    own = v.stage in PUBLIC_OWN_STAGE_TEXT
    if paused:
        text = PUBLIC_PAUSED_TEXT
    elif own:
        text = PUBLIC_OWN_STAGE_TEXT[v.stage]
    else:
        text = PUBLIC_STAGE_TEXT.get(v.stage, _("答复您"))
    return {"text": text, "due_at": v.due_at, "paused": paused, "own": own, "late": v.overdue and not own}
