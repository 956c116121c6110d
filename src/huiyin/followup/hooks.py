"""Where the case lifecycle tells the callback planner what happened (same transaction)."""

from __future__ import annotations

_ANSWERED = frozenset({"reply", "answer_on_spot", "decide_review"})
_ENDED = frozenset({"reopen", "archive", "decide_rereview"})


def on_case_event(*, case, event) -> None:
    if event.kind != "state_changed":
        return
    action = (event.data or {}).get("action")
    from . import services

    if action in _ANSWERED:
        services.plan_for(case, event.at)
    elif action == "close":
        services.done_by_closing(case, event)
    elif action in _ENDED:
        services.cancel_open(case)
