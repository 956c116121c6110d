"""Where the case lifecycle tells the deadline engine what happened.

Called by ``cases.services._event`` inside the transaction that wrote the event, with
the case row locked, so the deadline clocks change atomically with the case state they
follow. Which clocks exist comes from the case's own policy version (the preset
snapshot it was registered under): a rule starts when the milestone its ``from`` names
happens, and stops when its stage is done.

    event                    stops (reason)                      starts (rules counting from)
    registered               -                                   received (the hotline's dispatch
                                                                   clock among them; the preset's
                                                                   return_within limit as the
                                                                   acceptance clock, if none)
    accept                   acceptance (done; with the preset's accepted
                               written_notice, when the letter
                               is issued instead)
    not_accept, not_reaccept acceptance (done; as for accept),   -
    return, transfer           the rest (cancelled)
    document_issued          acceptance (done), for the letters  -
                               telling the acceptance decision
    answer_on_spot           acceptance, handover, dispatch,     replied (callback)
                               first_contact, reply, overall
    dispatch                 dispatch, handover (done); from     dispatched (and accepted, when
                               registered also acceptance          taken without a decision);
                                                                   the dispatcher's
                                                                   due time, if no reply clock
                                                                   runs or it falls earlier
                                                                   (the preset's is superseded)
    sign_for                 sign_for (done)                     -
    send_back                sign_for and clocks counted from    a new dispatch clock, from the
                               dispatch (sent_back)                  send-back
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
    archive, merge           everything (cancelled)              -
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

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.dateparse import parse_datetime

from huiyin.cases.events import EventKind
from huiyin.cases.services import case_urgency_raise
from huiyin.cases.workflow import OPEN_STATES
from huiyin.policy.deadlines import ClockRule

from .events import DeadlineEvent
from .models import Clock, StopReason
from .services.actions import escalate_major
from .services.case_policy import policy_version_for_case
from .services.clocks import (
    URGENCY_RANK,
    active_clocks,
    case_plan,
    clock_start,
    clock_start_manual,
    clocks_start_for,
    clocks_stop,
    effective_urgency,
    keyword_urgency,
    milestone_time,
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
_TOLD_IN_WRITING = frozenset({"not_accept", "not_reaccept"})
# The letters that tell the complainant the acceptance decision (handling's document kinds).
WRITTEN_NOTICES = frozenset({"acceptance_notice", "not_accepted_notice", "not_reaccepted_notice"})
_REPLIED = frozenset({"reply", "answer_on_spot"})
_REPLAN_FIELDS = frozenset({"category_id", "urgency", "nature", "channel", "text", "title"})


# The kinds the urgency subscriber is listed for: a registration, and an edit of the text.
URGENCY_KINDS = (EventKind.REGISTERED, EventKind.UPDATED)


def raise_urgency(*, case: Case, event: Event) -> None:
    """Safety keywords raise the case's own urgency (F13), visibly and explained: the case
    keeps the keyword and a system event records the raise. Runs before the clocks, which
    then time the case at that urgency. Not after staff lowered a raised urgency."""
    if event.kind == EventKind.UPDATED and not set((event.data or {}).get("after", {})) & {"text", "title"}:
        return
    version = policy_version_for_case(case)
    if version is None or case.urgency_overridden:
        return
    level, keyword = keyword_urgency(case, version.preset())
    if URGENCY_RANK[level] > URGENCY_RANK.get(case.urgency or "normal", 0):
        case_urgency_raise(case, urgency=level, keyword=keyword, at=event.at)


def on_case_event(*, case: Case, event: Event) -> None:
    """Start, stop, pause or resume the case's deadline clocks for this event."""
    plan = case_plan(case)
    started: list[Clock] | None = None
    if event.kind == "registered":
        started = _registered(case, event, plan)
    elif event.kind == "updated":
        _updated(case, event, plan)
    elif event.kind == "state_changed":
        _state_changed(case, event, plan)
    elif plan is not None:
        _rectification(case, event, plan)
    if plan is not None:
        sync_promised_due(case, started)


def _major_check(case: Case, plan: CasePlan | None, event: Event) -> None:
    urgency, keyword = effective_urgency(case, plan.preset if plan is not None else None)
    if urgency == "major":
        escalate_major(case=case, urgency=urgency, keyword=keyword, at=event.at)


def _registered(case: Case, event: Event, plan: CasePlan | None) -> list[Clock]:
    """Start a new case's clocks; returns them (they are all the case has)."""
    started: list[Clock] = []
    if plan is not None:
        started = clocks_start_for(case=case, plan=plan, milestone="received", at=case.received_at, fresh=True)
        # Out-of-scope matters must be returned within the preset's limit: without an
        # acceptance deadline of its own, that limit times the acceptance decision.
        back = plan.preset.acceptance_grounds.return_within
        if back is not None and plan.rule("acceptance") is None:
            clock = clock_start(
                case=case, plan=plan, rule=ClockRule.from_preset(back), started_at=case.received_at, fresh=True
            )
            if clock is not None:
                started.append(clock)
    _major_check(case, plan, event)
    return started


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

    # Where the decision must be told in writing, its clock runs on until the letter is issued.
    written = plan is not None and plan.preset.acceptance_grounds.written_notice
    if action == "accept":
        if not written:
            stop(("acceptance",))
        start("accepted")
    elif action in _ENDING:
        if written and action in _TOLD_IN_WRITING:
            stop(None, StopReason.CANCELLED, where=~Q(stage="acceptance"))
        else:
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
        if action == "redispatch" and plan is not None:
            _restore_preset_limit(case, plan)  # an earlier dispatcher's limit went with its dispatch
        due_at = data.get("due_at")
        if plan is not None and due_at:
            due = parse_datetime(due_at) if isinstance(due_at, str) else due_at
            if due is not None and due > at:
                _dispatcher_limit(case, plan, at, due)
    elif action == "sign_for":
        stop(("sign_for",))
    elif action == "send_back":
        stop(("sign_for",), StopReason.SENT_BACK)
        stop(None, StopReason.SENT_BACK, where=Q(rule__clock_from="dispatched"))
        # Back in the dispatcher's queue: dispatching is timed again from the send-back,
        # whatever milestone the rule first counted from (received or accepted).
        rule = plan.rule("dispatch") if plan is not None else None
        if plan is not None and rule is not None:
            clock_start(case=case, plan=plan, rule=ClockRule.from_preset(rule), started_at=at)
        if plan is not None:
            _restore_preset_limit(case, plan)
    elif action in _REPLIED:
        stop(("acceptance", "handover", "investigation", "dispatch", "sign_for", "first_contact", "reply", "overall"))
        start("replied")
    elif action == "close":
        stop(("callback",))
        stop(None, StopReason.CANCELLED)
    elif action == "reopen":
        stop(None, StopReason.CANCELLED)
        start("accepted")
        start("received", exclude=("acceptance",))
    elif action in ("archive", "merge"):  # merge: the matter goes on in the case it joined
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


def on_written_notice(*, case: Case, event: Event) -> None:
    """A letter telling the complainant the acceptance decision was issued: the acceptance
    clock that runs until then (the preset's ``acceptance_grounds.written_notice``) stops."""
    if (event.data or {}).get("kind") in WRITTEN_NOTICES:
        clocks_stop(case=case, at=event.at, reason=StopReason.DONE, stages=("acceptance",))


def on_investigation(*, case: Case, event: Event) -> None:
    """An investigation record (调查核实) was added: the clock that times the first one (the
    property office's 「当天进行调查、核实」) is met."""
    clocks_stop(case=case, at=event.at, reason=StopReason.DONE, stages=("investigation",))


def _dispatcher_limit(case: Case, plan: CasePlan, at: datetime, due: datetime) -> None:
    """The dispatcher's 交办时限 times the answer when it is the stricter limit: it replaces
    the preset's running reply clock if it falls earlier (and stands alone without one);
    a later one leaves the preset's limit in force (more time needs an extension)."""
    running = active_clocks(case, stages=("reply",)).filter(round=case.round).first()
    if running is not None:
        if due >= running.due_at:
            return
        clocks_stop(case=case, at=at, reason=StopReason.SUPERSEDED, where=Q(pk=running.pk))
    clock_start_manual(case=case, plan=plan, stage="reply", started_at=at, due_at=due, label="交办时限")


def _restore_preset_limit(case: Case, plan: CasePlan) -> None:
    """When a dispatcher's 交办时限 ended with its dispatch (redispatched, sent back), the
    preset's reply limit, if it counts from an earlier milestone, runs again as it was."""
    if active_clocks(case, stages=("reply",)).filter(round=case.round).exists():
        return
    rule = plan.rule("reply")
    if rule is None or rule.clock_from == "dispatched":
        return
    start = milestone_time(case, rule.clock_from)
    if start is not None:
        clock_start(case=case, plan=plan, rule=ClockRule.from_preset(rule), started_at=start)


def _rectification(case: Case, event: Event, plan: CasePlan) -> None:
    if event.kind == "unit_notified":
        clocks_start_for(case=case, plan=plan, milestone="notified", at=event.at)
    else:
        clocks_stop(case=case, at=event.at, reason="done", stages=("rectification_plan",))
