"""Where the case lifecycle tells the deadline engine what happened.

Called by ``cases.services._event`` inside the transaction that wrote the event, with
the case row locked, so the deadline clocks change atomically with the case state they
follow. Which clocks exist comes from the case's own policy version (the preset
snapshot it was registered under): a rule starts when the milestone its ``from`` names
happens, and stops when its stage is done.

    event                    stops (reason)                      starts (rules counting from)
    registered               -                                   received (and the preset's
                                                                   return_within limit as the
                                                                   acceptance clock, if none)
    accept                   acceptance (done)                   accepted
    not_accept, not_reaccept acceptance (done), the rest         -
    return, transfer           (cancelled)
    answer_on_spot           acceptance, handover, dispatch,     replied (callback)
                               first_contact, reply, overall
    dispatch                 dispatch, handover (done); from     dispatched (and accepted, when
                               registered also acceptance          taken without a decision);
                                                                   the dispatcher's
                                                                   due time, if no reply rule
    sign_for                 sign_for (done)                     -
    send_back                sign_for and clocks counted from    a new dispatch clock
                               dispatch (sent_back)
    reply, answer_on_spot    first_contact, reply, overall       replied (callback, if on)
    close                    callback (done), rest (cancelled)   -
    reopen                   every active clock (cancelled)      new round: accepted, and
                                                                   received (not acceptance)
    redispatch               sign_for and dispatched-counted      dispatched
                               clocks (superseded)
    request_review /         -                                   review_decision (from the
      request_rereview                                             request)
    decide_review /          review_decision (done); re-review:  -
      decide_rereview          the rest (cancelled)
    archive                  everything (cancelled)              -
    unit_notified            -                                   notified (rectification plan)
    plan_received            rectification_plan (done)           -
    updated (category,       clocks move to the rule that now matches (clocks.replan)
      urgency, nature, text)

Clocks start at the event's time, except ``received`` rules at registration, which
count from the case's ``received_at`` (a letter received yesterday and registered today
is timed from yesterday). A reopened case's new round counts from the reopening.

Leaving the open states while suspended ends the suspension (its paused time is
accounted first). Major matters (urgency ``major`` or a major keyword) are reported
to the leader at once, at registration or when an edit makes them major (F13).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.dateparse import parse_datetime

from huiyin.cases.events import EventKind
from huiyin.cases.workflow import OPEN_STATES
from huiyin.policy.deadlines import ClockRule

from .events import DeadlineEvent
from .models import StopReason
from .services.actions import escalate_major
from .services.clocks import (
    case_plan,
    clock_start,
    clock_start_manual,
    clocks_start_for,
    clocks_stop,
    effective_urgency,
    replan,
    sync_promised_due,
)
from .services.handling import end_suspension

if TYPE_CHECKING:
    from huiyin.cases.models import Case, Event

    from .services.clocks import CasePlan

# The kinds this subscriber is listed for in huiyin/subscribers.py (the bus delivers no others).
KINDS = (
    EventKind.REGISTERED,
    EventKind.STATE_CHANGED,
    EventKind.UPDATED,
    DeadlineEvent.UNIT_NOTIFIED,
    DeadlineEvent.PLAN_RECEIVED,
)
_ENDING = frozenset({"not_accept", "not_reaccept", "return", "transfer"})
_REPLIED = frozenset({"reply", "answer_on_spot"})
_REPLAN_FIELDS = frozenset({"category_id", "urgency", "nature", "channel", "text", "title"})


def on_case_event(*, case: Case, event: Event) -> None:
    """Start, stop, pause or resume the case's deadline clocks for this event."""
    plan = case_plan(case)
    if event.kind == "registered":
        _registered(case, event, plan)
    elif event.kind == "updated":
        _updated(case, event, plan)
    elif event.kind == "state_changed":
        _state_changed(case, event, plan)
    elif plan is not None:
        _rectification(case, event, plan)
    if plan is not None:
        sync_promised_due(case)


def _major_check(case: Case, plan: CasePlan | None, event: Event) -> None:
    urgency, keyword = effective_urgency(case, plan.preset if plan is not None else None)
    if urgency == "major":
        escalate_major(case=case, urgency=urgency, keyword=keyword, at=event.at)


def _registered(case: Case, event: Event, plan: CasePlan | None) -> None:
    if plan is not None:
        clocks_start_for(case=case, plan=plan, milestone="received", at=case.received_at)
        # Out-of-scope matters must be returned within the preset's limit: without an
        # acceptance deadline of its own, that limit times the acceptance decision.
        back = plan.preset.acceptance_grounds.return_within
        if back is not None and plan.rule("acceptance") is None:
            clock_start(case=case, plan=plan, rule=ClockRule.from_preset(back), started_at=case.received_at)
    _major_check(case, plan, event)


def _updated(case: Case, event: Event, plan: CasePlan | None) -> None:
    changed = set((event.data or {}).get("after", {}))
    if not changed & _REPLAN_FIELDS:
        return
    if plan is not None:
        replan(case, plan, event.at)
    _major_check(case, plan, event)


def _state_changed(case: Case, event: Event, plan: CasePlan | None) -> None:
    data = event.data or {}
    action, at = data.get("action", ""), event.at
    if case.state not in OPEN_STATES:
        end_suspension(case, at, because=str(data.get("to", "")))

    def stop(stages: tuple[str, ...] | None, reason: str = StopReason.DONE, where: Q | None = None) -> None:
        clocks_stop(case=case, at=at, reason=reason, stages=stages, where=where)

    def start(milestone: str, **kwargs) -> None:
        if plan is not None:
            clocks_start_for(case=case, plan=plan, milestone=milestone, at=at, **kwargs)

    if action == "accept":
        stop(("acceptance",))
        start("accepted")
    elif action in _ENDING:
        stop(("acceptance",))
        stop(None, StopReason.CANCELLED)
    elif action in ("dispatch", "redispatch"):
        if action == "redispatch":
            stop(("sign_for",), StopReason.SUPERSEDED)
            stop(None, StopReason.SUPERSEDED, where=Q(rule__clock_from="dispatched"))
        if data.get("from") == "registered":  # no acceptance decision: taken on dispatch
            stop(("acceptance",))
            start("accepted")
        stop(("dispatch", "handover"))
        start("dispatched")
        due_at = data.get("due_at")
        if plan is not None and due_at:
            due = parse_datetime(due_at) if isinstance(due_at, str) else due_at
            if due is not None and due > at:
                clock_start_manual(case=case, plan=plan, stage="reply", started_at=at, due_at=due, label="交办时限")
    elif action == "sign_for":
        stop(("sign_for",))
    elif action == "send_back":
        stop(("sign_for",), StopReason.SENT_BACK)
        stop(None, StopReason.SENT_BACK, where=Q(rule__clock_from="dispatched"))
        start("accepted", stages=("dispatch",))
    elif action in _REPLIED:
        stop(("acceptance", "handover", "dispatch", "sign_for", "first_contact", "reply", "overall"))
        start("replied")
    elif action == "close":
        stop(("callback",))
        stop(None, StopReason.CANCELLED)
    elif action == "reopen":
        stop(None, StopReason.CANCELLED)
        start("accepted")
        start("received", exclude=("acceptance",))
    elif action == "archive":
        stop(None, StopReason.CANCELLED)
    elif action in ("request_review", "request_rereview"):
        # The higher body's opinion is due within the preset's limit of the request.
        if plan is not None:
            requested = data.get("requested_at")
            requested = parse_datetime(requested) if isinstance(requested, str) else requested
            clocks_start_for(
                case=case, plan=plan, milestone="received", at=requested or at, stages=("review_decision",)
            )
    elif action in ("decide_review", "decide_rereview"):
        stop(("review_decision",))
        if action == "decide_rereview":  # final: the case closes
            stop(None, StopReason.CANCELLED)


def _rectification(case: Case, event: Event, plan: CasePlan) -> None:
    if event.kind == "unit_notified":
        clocks_start_for(case=case, plan=plan, milestone="notified", at=event.at)
    else:
        clocks_stop(case=case, at=event.at, reason="done", stages=("rectification_plan",))
