"""The callback planner's subscription to case events (in the transaction, see huiyin/subscribers.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import services

if TYPE_CHECKING:
    from huiyin.cases.models import Case, Event

_ANSWERED = frozenset({"reply", "answer_on_spot", "decide_review"})
_ENDED = frozenset({"reopen", "archive", "decide_rereview"})
ACTIONS = _ANSWERED | _ENDED | {"close"}


def on_case_event(*, case: Case, event: Event) -> None:
    action = (event.data or {}).get("action")
    if action in _ANSWERED:
        services.plan_for(case, event.at)
    elif action == "close":
        services.done_by_closing(case, event)
    elif action in _ENDED:
        services.cancel_open(case)
