"""What one case contributes to the roll-ups: a pure function of the case's rows as they
stand (the case, its events, rounds, deadline clocks, callbacks, dispatches, contacts,
suspensions, proposals and callback tasks), computed for a batch of cases with one query
per table.

The contributions are counters on days (``COUNTERS``, named after the measures of
``huiyin.policy.presets.MEASURES``), all under the case's *current* dimensions: a case
moved to another category or department moves its whole history there, so an incremental
update and a rebuild from scratch always agree. Each counter's day is its measure's
period rule (``basis``):

* received day — ``received`` (and ``complaints``), ``received_accepted`` (its first
  acceptance decision accepted it), ``received_closed`` (it is closed now), ``repeat``
  (it has a contact besides the first), ``valid_complaints`` (a complaint, accepted, and
  not found unsubstantiated, unsupported or only explained by the latest proposal);
* the day of the step — ``decided`` / ``accepted`` (the first move out of 已登记:
  accept, dispatch or an answer on the spot accept; not accepted, not re-accepted,
  returned and transferred do not), ``dispatched`` / ``sent_back`` (each dispatch to the
  lead department; sent back if it was), ``answered`` / ``answered_reachable`` /
  ``called_back`` / ``reopened`` (each round answered; not recorded as 无法回访; its
  callback done; a later round started), callbacks planned / completed (and the
  mandatory ones) and, apart from them, ``callbacks_no_contact`` (无法回访: no phone
  number), rated / satisfied (the day they were done),
  ``closed`` and ``handling_seconds`` (the last closing of a case closed now: from
  receipt to closing less the time suspended, also counted in its ``hist_NN`` bucket),
  ``escalations`` (each escalation level recorded on the case, once), callback tasks
  raised / done;
* the day a deadline concluded — per stage, ``<stage>_done`` (the clock stopped as
  done), ``<stage>_on_time`` (at or before its due time, which approved extensions and
  suspensions have moved), ``<stage>_overdue`` (still running, marked overdue by the
  sweeper: on its due day). Clocks cancelled, sent back or superseded do not count.

Nothing here reads "now": a case's contribution changes only when its rows do, and every
such change writes an event on the case, which brings it back to the consumer.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Count
from django.db.models.fields.json import KT
from django.utils import timezone

from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, CaseRound, Contact, Event
from huiyin.deadlines.models import Clock, ClockState, StopReason, Suspension
from huiyin.followup.models import SATISFIED, Callback, CallbackReason, CallbackStatus, RectificationTask, TaskStatus
from huiyin.handling.models import Dispatch, DispatchStatus, Outcome, Proposal

from .models import HANDLING_BOUNDS_H, HISTOGRAM, TIMED_STAGES

PLACE_MAX = 40
# The first number in a location starts its detail (a building, a house number): what is
# before it names the place (an estate, a road, a square).
_DETAIL = re.compile(r"[0-9０-９一二三四五六七八九十]+\s*(?:号|幢|栋|楼|单元|弄|巷|室|层|期|区|路口)|[0-9０-９]")
ACCEPTING = frozenset({"accept", "dispatch", "answer_on_spot"})
CLOSED_STATES = frozenset({"closed", "archived"})
NOT_VALID = frozenset({Outcome.NOT_SUBSTANTIATED, Outcome.NOT_SUPPORTED, Outcome.EXPLAINED})
MANDATORY = frozenset({CallbackReason.GROUP_VISIT, CallbackReason.FORWARDED})
HANDLING_BOUNDS_S = tuple(h * 3600 for h in HANDLING_BOUNDS_H)  # a time on a bound is in the lower bucket


def place_of(location: str) -> str:
    """The place (属地) a location names: its text before the first number of a building,
    house or room ("滨江花园3幢2单元" → "滨江花园", "人民路123号" → "人民路"), at most
    40 characters; "" when none is given."""
    text = " ".join((location or "").split())
    match = _DETAIL.search(text)
    if match and match.start() > 0:
        text = text[: match.start()]
    return text.strip(" ,，、;；")[:PLACE_MAX]


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


@dataclass
class Fact:
    case_id: int
    organization_id: int
    department_id: int
    category_id: int
    channel: str
    nature: str
    place: str
    received_day: date
    closed_day: date | None = None
    handling_seconds: int | None = None
    counts: dict[date, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    def add(self, moment: datetime | date, counter: str, n: int = 1) -> None:
        day = moment if isinstance(moment, date) and not isinstance(moment, datetime) else local_day(moment)
        self.counts[day][counter] += n

    @property
    def dims(self) -> tuple[int, int, str, str, str]:
        return (self.department_id, self.category_id, self.channel, self.nature, self.place)

    def contributions(self) -> dict[str, dict[str, int]]:
        """JSON form: ISO day → counter → n (zeros left out)."""
        return {
            day.isoformat(): {k: v for k, v in sorted(c.items()) if v}
            for day, c in sorted(self.counts.items())
            if any(c.values())
        }


def _group(rows: Iterable[Any], key: str = "case_id") -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row)
    return out


def facts_for(case_ids: Iterable[int]) -> dict[int, Fact]:
    """The facts of these cases (a case that no longer exists has none)."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    cases = Case.objects.filter(pk__in=ids).values(
        "id",
        "organization_id",
        "lead_department_id",
        "category_id",
        "channel",
        "nature",
        "location",
        "received_at",
        "state",
    )
    moves = _group(
        Event.objects.filter(case_id__in=ids, kind=EventKind.STATE_CHANGED)
        .order_by("case_id", "id")
        .values("case_id", "id", "at", action=KT("data__action"), src=KT("data__from"), dst=KT("data__to"))
    )
    escalations = _group(
        Event.objects.filter(case_id__in=ids, kind=EventKind.NOTE, data__has_key="deduction")
        .order_by("case_id", "id")
        .values("case_id", "at", rule=KT("data__deduction__rule"), level=KT("data__deduction__level"))
    )
    rounds = _group(CaseRound.objects.filter(case_id__in=ids).values("case_id", "number", "replied_at"))
    clocks = _group(
        Clock.objects.filter(case_id__in=ids, subject_kind="case", stage__in=TIMED_STAGES).values(
            "case_id", "stage", "state", "stop_reason", "stopped_at", "due_at", "overdue_at"
        )
    )
    callbacks = _group(
        Callback.objects.filter(case_id__in=ids).values(
            "case_id", "round", "reason", "status", "planned_at", "done_at", "satisfaction"
        )
    )
    dispatches = _group(
        Dispatch.objects.filter(case_id__in=ids, is_lead=True).values("case_id", "dispatched_at", "status")
    )
    repeats = set(
        Contact.objects.filter(case_id__in=ids, is_initial=False)
        .values("case_id")
        .annotate(n=Count("id"))
        .values_list("case_id", flat=True)
    )
    suspensions = _group(Suspension.objects.filter(case_id__in=ids).values("case_id", "started_at", "ended_at"))
    outcomes: dict[int, str] = {}
    for p in (
        Proposal.objects.filter(case_id__in=ids).order_by("case_id", "submitted_at", "id").values("case_id", "outcome")
    ):
        outcomes[p["case_id"]] = p["outcome"]  # the latest wins
    tasks = _group(RectificationTask.objects.filter(case_id__in=ids).values("case_id", "created_at", "status"))

    facts: dict[int, Fact] = {}
    for c in cases:
        cid = c["id"]
        fact = Fact(
            case_id=cid,
            organization_id=c["organization_id"],
            department_id=c["lead_department_id"] or 0,
            category_id=c["category_id"] or 0,
            channel=c["channel"],
            nature=c["nature"],
            place=place_of(c["location"]),
            received_day=local_day(c["received_at"]),
        )
        received = fact.received_day
        fact.add(received, "received")
        complaint = c["nature"] == "complaint"
        if complaint:
            fact.add(received, "complaints")
        if cid in repeats:
            fact.add(received, "repeat")

        case_moves = moves.get(cid, [])
        decision = next((m for m in case_moves if m["src"] == "registered"), None)
        accepted = decision is not None and decision["action"] in ACCEPTING
        if decision is not None:
            fact.add(decision["at"], "decided")
            if accepted:
                fact.add(decision["at"], "accepted")
                fact.add(received, "received_accepted")
        if complaint and accepted and outcomes.get(cid) not in NOT_VALID:
            fact.add(received, "valid_complaints")

        closings = [m for m in case_moves if m["dst"] == "closed"]
        if c["state"] in CLOSED_STATES and closings:
            closed_at = closings[-1]["at"]
            fact.add(closed_at, "closed")
            fact.add(received, "received_closed")
            paused = sum(
                (min(s["ended_at"] or closed_at, closed_at) - max(s["started_at"], c["received_at"])).total_seconds()
                for s in suspensions.get(cid, [])
                if s["started_at"] < closed_at and (s["ended_at"] or closed_at) > c["received_at"]
            )
            seconds = max(0, int((closed_at - c["received_at"]).total_seconds() - max(paused, 0)))
            fact.closed_day, fact.handling_seconds = local_day(closed_at), seconds
            fact.add(closed_at, "handling_seconds", seconds)
            fact.add(closed_at, HISTOGRAM[bisect_left(HANDLING_BOUNDS_S, seconds)])

        case_rounds = rounds.get(cid, [])
        numbers = {r["number"] for r in case_rounds}
        done_rounds = {
            cb["round"] for cb in callbacks.get(cid, []) if cb["status"] == CallbackStatus.DONE and cb["done_at"]
        }
        no_contact_rounds = {cb["round"] for cb in callbacks.get(cid, []) if cb["status"] == CallbackStatus.NO_CONTACT}
        for r in case_rounds:
            if r["replied_at"] is None:
                continue
            fact.add(r["replied_at"], "answered")
            if r["number"] not in no_contact_rounds:
                fact.add(r["replied_at"], "answered_reachable")
            if r["number"] in done_rounds:
                fact.add(r["replied_at"], "called_back")
            if r["number"] + 1 in numbers:
                fact.add(r["replied_at"], "reopened")

        for cb in callbacks.get(cid, []):
            if cb["status"] == CallbackStatus.NO_CONTACT:  # nobody could call: apart from those planned
                fact.add(cb["planned_at"], "callbacks_no_contact")
            elif cb["status"] != CallbackStatus.CANCELLED:
                completed = cb["status"] in (CallbackStatus.DONE, CallbackStatus.UNREACHABLE)
                fact.add(cb["planned_at"], "callbacks_planned")
                if completed:
                    fact.add(cb["planned_at"], "callbacks_completed")
                if cb["reason"] in MANDATORY:
                    fact.add(cb["planned_at"], "mandatory_callbacks")
                    if completed:
                        fact.add(cb["planned_at"], "mandatory_callbacks_completed")
            if cb["status"] == CallbackStatus.DONE and cb["done_at"] and cb["satisfaction"]:
                fact.add(cb["done_at"], "callbacks_rated")
                if cb["satisfaction"] in SATISFIED:
                    fact.add(cb["done_at"], "callbacks_satisfied")

        for d in dispatches.get(cid, []):
            fact.add(d["dispatched_at"], "dispatched")
            if d["status"] == DispatchStatus.SENT_BACK:
                fact.add(d["dispatched_at"], "sent_back")

        seen: set[tuple[str, str]] = set()
        for e in escalations.get(cid, []):
            key = (e["rule"] or "", e["level"] or "")
            if key not in seen:
                seen.add(key)
                fact.add(e["at"], "escalations")

        for t in tasks.get(cid, []):
            fact.add(t["created_at"], "callback_tasks")
            if t["status"] == TaskStatus.DONE:
                fact.add(t["created_at"], "callback_tasks_done")

        for k in clocks.get(cid, []):
            stage = k["stage"]
            if k["state"] == ClockState.STOPPED:
                if k["stop_reason"] == StopReason.DONE and k["stopped_at"] is not None:
                    fact.add(k["stopped_at"], f"{stage}_done")
                    if k["stopped_at"] <= k["due_at"]:
                        fact.add(k["stopped_at"], f"{stage}_on_time")
            elif k["state"] == ClockState.RUNNING and k["overdue_at"] is not None:
                fact.add(k["due_at"], f"{stage}_overdue")
        facts[cid] = fact
    return facts
