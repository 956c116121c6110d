"""Reads of deadline data for the pages that come next (the deadline panel on the case
page and on "my desk", the supervision board, operations): plain values, index-backed
queries, authorisation through ``cases.selectors``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone

from huiyin.cases.selectors import cases_for
from huiyin.orgs.roles import Cap

from .models import (
    STAGE_LABELS,
    Clock,
    ClockState,
    Extension,
    ExtensionStatus,
    Suspension,
    SweeperHeartbeat,
)
from .subjects import case_kinds

if TYPE_CHECKING:
    from huiyin.cases.models import Case
    from huiyin.orgs.models import Staff

# Who a stage waits on, for "who is waiting on whom" (see deadlines.notify for the people).
WAITING_ON = {
    "acceptance": "intake",
    "handover": "intake",
    "investigation": "handler",
    "dispatch": "intake",
    "sign_for": "department",
    "first_contact": "handler",
    "reply": "handler",
    "overall": "handler",
    "callback": "callback_officer",
    "rectification_plan": "responsible_unit",
    "review_request": "complainant",
    "review_decision": "handler",
    "callback_answer": "department",
}


@dataclass(frozen=True)
class ClockView:
    clock: Clock
    stage: str
    label: str
    state: str
    due_at: datetime
    warn_at: datetime | None
    started_at: datetime
    time_left: timedelta  # negative when overdue; frozen while paused
    overdue: bool
    warned: bool
    paused_for: timedelta  # paused so far, including an open pause
    waiting_on: str  # intake | department | handler | callback_officer | responsible_unit | complainant
    escalation_level: int
    pending_extension: bool


def clock_view(clock: Clock, now: datetime, *, pending: set[int] | None = None) -> ClockView:
    paused = timedelta(seconds=clock.paused_seconds)
    reference = now
    if clock.state == ClockState.PAUSED and clock.paused_at is not None:
        paused += now - clock.paused_at
        reference = clock.paused_at
    elif clock.state == ClockState.STOPPED and clock.stopped_at is not None:
        reference = clock.stopped_at
    waiting = "complainant" if clock.state == ClockState.PAUSED else WAITING_ON.get(clock.stage, "handler")
    return ClockView(
        clock=clock,
        stage=clock.stage,
        label=clock.label,
        state=clock.state,
        due_at=clock.due_at,
        warn_at=clock.warn_at,
        started_at=clock.started_at,
        time_left=clock.due_at - reference,
        overdue=clock.is_overdue(now),
        warned=clock.warned_at is not None,
        paused_for=paused,
        waiting_on=waiting,
        escalation_level=clock.escalation_level,
        pending_extension=clock.pk in (pending or set()),
    )


def case_clocks(*, case: Case, now: datetime | None = None, include_stopped: bool = True) -> list[ClockView]:
    """The deadline panel of one case (the caller has checked the actor may see it):
    the current round's clocks and an earlier round's still running (an answer promised at
    the callback before a reopening is still owed), running ones first."""
    now = now or timezone.now()
    live = Q(state__in=(ClockState.RUNNING, ClockState.PAUSED))
    qs = Clock.objects.filter(Q(round=case.round) | live, case=case, subject_kind__in=case_kinds())
    if not include_stopped:
        qs = qs.exclude(state=ClockState.STOPPED)
    clocks = list(qs.order_by("started_at", "pk"))
    pending = set(
        Extension.objects.filter(clock__in=clocks, status=ExtensionStatus.PENDING).values_list("clock_id", flat=True)
    )
    views = [clock_view(c, now, pending=pending) for c in clocks]
    return sorted(views, key=lambda v: (v.state == ClockState.STOPPED, v.due_at))


def case_suspension(*, case: Case) -> Suspension | None:
    return Suspension.objects.filter(case=case, ended_at__isnull=True).first()


def open_clocks_for(*, actor: Staff) -> QuerySet[Clock]:
    """Running and paused clocks of the cases the actor may see (desk panel, board),
    soonest due first; filter further by ``case__lead_department_id`` for a department."""
    qs = Clock.objects.filter(
        organization_id=actor.org_id,
        case__isnull=False,
        state__in=(ClockState.RUNNING, ClockState.PAUSED),
        subject_kind__in=case_kinds(),
    )
    if not actor.can(Cap.VIEW_ALL):
        # Scoped to the cases the actor may see; the whole ledger needs no case subquery
        # (one on the organisation alone reads every case: the clock's own index serves).
        qs = qs.filter(case__in=cases_for(actor))
    return qs.select_related("case", "case__lead_department", "case__handler").order_by("due_at", "pk")


def overdue_clocks_for(*, actor: Staff, now: datetime | None = None) -> QuerySet[Clock]:
    now = now or timezone.now()
    return open_clocks_for(actor=actor).filter(due_at__lt=now)


def warned_clocks_for(*, actor: Staff, now: datetime | None = None) -> QuerySet[Clock]:
    now = now or timezone.now()
    return open_clocks_for(actor=actor).filter(warned_at__isnull=False, due_at__gte=now)


def pending_extensions_for(*, actor: Staff) -> QuerySet[Extension]:
    """Pending requests on cases the actor may see, not their own. Whether the actor holds
    the approver role of each one's preset is ``extension_decide``'s check."""
    return (
        Extension.objects.filter(status=ExtensionStatus.PENDING, case__in=cases_for(actor))
        .exclude(requested_by=actor)
        .select_related("clock", "case")
        .order_by("requested_at")
    )


def sweeper_health(*, now: datetime | None = None, stale_after: timedelta = timedelta(minutes=1)) -> dict:
    """Is a sweeper alive, and how late is the oldest pending step?"""
    now = now or timezone.now()
    beats = list(SweeperHeartbeat.objects.filter(last_beat_at__gte=now - stale_after))
    oldest = (
        Clock.objects.filter(next_action_at__isnull=False)
        .order_by("next_action_at")
        .values_list("next_action_at", flat=True)
        .first()
    )
    lag = max(timedelta(0), now - oldest) if oldest else timedelta(0)
    return {"alive": [b.worker_id for b in beats], "backlog_lag": lag}


__all__ = [
    "STAGE_LABELS",
    "ClockView",
    "case_clocks",
    "case_suspension",
    "clock_view",
    "open_clocks_for",
    "overdue_clocks_for",
    "pending_extensions_for",
    "sweeper_health",
    "warned_clocks_for",
]
