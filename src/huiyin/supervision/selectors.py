"""Reads for the supervision board and the daily review queue, with authorisation built
in. Lists are index-backed and paginated without COUNT (``cases.selectors.page``); the
daily review's counts are over a window of a few days."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Least
from django.http import Http404
from django.utils import timezone

from huiyin.cases.models import Case, Contact, Event
from huiyin.cases.selectors import case_visible_to, cases_for
from huiyin.cases.workflow import OPEN_STATES, CaseState, state_label
from huiyin.core.errors import PermissionDeniedError
from huiyin.core.periods import day_start
from huiyin.deadlines.models import Clock, ClockState
from huiyin.deadlines.selectors import ClockView, clock_view, overdue_clocks_for, warned_clocks_for
from huiyin.deadlines.subjects import case_kinds
from huiyin.orgs.models import Staff
from huiyin.policy.services import current_policy

from .models import (
    ACTIVE_NOTICE_STATES,
    WAITING_NOTICE_STATES,
    DailyReview,
    NoticeState,
    SupervisionNotice,
)
from .permissions import (
    board_department,
    may_answer_for,
    may_daily_review,
    may_see_board,
    may_see_whole_board,
    may_supervise,
)

# A case can be supervised while someone still has to act on it.
SUPERVISABLE_STATES = frozenset({*OPEN_STATES, CaseState.REPLIED})


# --- notices ----------------------------------------------------------------------------


def notice_visible_to(staff: Staff, notice: SupervisionNotice) -> bool:
    return notice.organization_id == staff.organization_id and (
        may_see_whole_board(staff) or staff.department_id == notice.department_id or case_visible_to(staff, notice.case)
    )


def notice_get_for_actor(*, actor: Staff, notice_id: int) -> SupervisionNotice:
    notice = (
        SupervisionNotice.objects.select_related(
            "case",
            "case__lead_department",
            "case__handler",
            "department",
            "issued_by",
            "answered_by",
            "closed_by",
        )
        .filter(pk=notice_id, organization_id=actor.org_id)
        .first()
    )
    if notice is None:
        raise Http404
    if not notice_visible_to(actor, notice):
        raise PermissionDeniedError()
    return notice


def notices_for_case(*, actor: Staff, case: Case) -> list[SupervisionNotice]:
    """The case page's supervision panel (the caller has checked the actor sees the case)."""
    return list(
        SupervisionNotice.objects.filter(case=case, organization_id=actor.org_id)
        .select_related("department", "issued_by")
        .order_by("-created_at", "-id")
    )


def case_panel(*, actor: Staff, case: Case) -> dict:
    """The notices on a case and whether the actor may issue one, for the case page's panel."""
    return {
        "notices": notices_for_case(actor=actor, case=case),
        "can_issue": may_supervise(actor) and case.state in SUPERVISABLE_STATES,
    }


def notice_actions(*, actor: Staff, notice: SupervisionNotice) -> dict[str, bool]:
    """Which buttons the notice page shows: exactly what the services would accept."""
    return {
        "answer": notice.state in WAITING_NOTICE_STATES and may_answer_for(actor, notice.department_id),
        "close": notice.state != NoticeState.CLOSED and may_supervise(actor),
    }


# --- the board --------------------------------------------------------------------------


class BoardStatus:
    SUPERVISED = "supervised"  # an active supervision notice
    WARNED = "warned"  # a deadline clock or notice has been warned, not yet due
    OVERDUE = "overdue"  # a deadline clock or notice is past due


@dataclass
class BoardFilters:
    department_id: int | None = None
    status: str = ""  # one of BoardStatus, or "" for all three


def _notices(**filters) -> QuerySet[SupervisionNotice]:
    return SupervisionNotice.objects.filter(case=OuterRef("pk"), **filters)


def board(*, actor: Staff, filters: BoardFilters, now: datetime | None = None) -> QuerySet[Case]:
    """Supervised, warned and overdue cases, the nearest deadline first. A department
    head sees the cases of their department (lead, or the target of a notice)."""
    if not may_see_board(actor):
        raise PermissionDeniedError()
    now = now or timezone.now()
    active = _notices(state__in=ACTIVE_NOTICE_STATES)
    own = board_department(actor)
    if own is None:
        qs = cases_for(actor)
    else:  # a department head: the department's cases, whoever else they involve
        qs = Case.objects.filter(organization_id=actor.org_id)
    for department_id in {d for d in (own, filters.department_id) if d is not None}:
        qs = qs.filter(Q(lead_department_id=department_id) | Exists(active.filter(department_id=department_id)))
    # Which cases are on the board: one id set (a union of small index look-ups on notices
    # and clocks), not an OR of EXISTS tests, which no index serves and which reads every
    # case of the organisation.
    notices = SupervisionNotice.objects.filter(organization_id=actor.org_id)
    by_status: dict[str, list[QuerySet[Any]]] = {
        BoardStatus.SUPERVISED: [notices.filter(state__in=ACTIVE_NOTICE_STATES)],
        BoardStatus.WARNED: [
            warned_clocks_for(actor=actor, now=now),
            notices.filter(state=NoticeState.OPEN, warned_at__isnull=False, due_at__gte=now),
        ],
        BoardStatus.OVERDUE: [
            overdue_clocks_for(actor=actor, now=now),
            notices.filter(state__in=WAITING_NOTICE_STATES, due_at__lt=now),
        ],
    }
    parts = by_status.get(filters.status) or [part for group in by_status.values() for part in group]
    ids = [part.order_by().values("case_id") for part in parts]
    qs = qs.filter(pk__in=ids[0].union(*ids[1:]))
    clock_due = Subquery(
        Clock.objects.filter(
            case=OuterRef("pk"), state__in=(ClockState.RUNNING, ClockState.PAUSED), subject_kind__in=case_kinds()
        )
        .order_by("due_at")
        .values("due_at")[:1]
    )
    notice_due = Subquery(
        SupervisionNotice.objects.filter(case=OuterRef("pk"), state__in=WAITING_NOTICE_STATES)
        .order_by("due_at")
        .values("due_at")[:1]
    )
    return (
        qs.annotate(deadline=Least(Coalesce(clock_due, notice_due), Coalesce(notice_due, clock_due)))
        .select_related("lead_department", "handler")
        .order_by(F("deadline").asc(nulls_last=True), "-received_at", "-id")
    )


@dataclass
class BoardRow:
    case: Case
    clock: ClockView | None  # the open deadline clock due first
    notices: list[SupervisionNotice]  # active notices, newest first
    statuses: list[str]
    due_at: datetime | None  # the nearest due time of the clock and the waiting notices
    time_left: timedelta | None  # negative: overdue by


def board_rows(*, cases: list[Case], now: datetime | None = None) -> list[BoardRow]:
    """Decorate one page of ``board`` (cases the actor may see) for display."""
    now = now or timezone.now()
    ids = [c.pk for c in cases]
    clocks: dict[int, Clock] = {}
    for clock in Clock.objects.filter(
        case_id__in=ids, state__in=(ClockState.RUNNING, ClockState.PAUSED), subject_kind__in=case_kinds()
    ).order_by("-due_at", "-pk"):
        assert clock.case_id is not None  # filtered by case_id__in
        clocks[clock.case_id] = clock  # the last one written is the one due first
    notices: dict[int, list[SupervisionNotice]] = defaultdict(list)
    for notice in (
        SupervisionNotice.objects.filter(case_id__in=ids, state__in=ACTIVE_NOTICE_STATES)
        .select_related("department")
        .order_by("-created_at", "-id")
    ):
        notices[notice.case_id].append(notice)
    rows = []
    for case in cases:
        view = clock_view(clocks[case.pk], now) if case.pk in clocks else None
        waiting = [n for n in notices[case.pk] if n.state in WAITING_NOTICE_STATES]
        statuses = []
        if notices[case.pk]:
            statuses.append(BoardStatus.SUPERVISED)
        notice_overdue = any(n.due_at < now for n in waiting)
        if (view and view.overdue) or notice_overdue:
            statuses.append(BoardStatus.OVERDUE)
        elif (view and view.warned) or any(n.warned_at for n in waiting):
            statuses.append(BoardStatus.WARNED)
        candidates = [t for t in [view.due_at if view else None, *(n.due_at for n in waiting)] if t]
        due = min(candidates) if candidates else None
        if view is not None and due == view.due_at:
            left: timedelta | None = view.time_left  # frozen while the clock is paused
        else:
            left = due - now if due else None
        rows.append(
            BoardRow(
                case=case,
                clock=view,
                notices=notices[case.pk],
                statuses=statuses,
                due_at=due,
                time_left=left,
            )
        )
    return rows


# --- the daily review (F34) -----------------------------------------------------------------

DEFAULT_LOOKBACK_DAYS = 3
UNRESOLVED_STATES = frozenset({*OPEN_STATES, CaseState.REPLIED})


def review_settings(organization_id: int) -> tuple[int, bool]:
    """(lookback_days, repeats_first) from the running policy's ``daily_review``."""
    policy = current_policy(organization_id)
    section = ((policy.snapshot or {}).get("daily_review") or {}) if policy else {}
    days = section.get("lookback_days") or DEFAULT_LOOKBACK_DAYS
    return int(days), bool(section.get("repeats_first", True))


def last_review(*, actor: Staff) -> DailyReview | None:
    return (
        DailyReview.objects.filter(reviewer=actor, organization_id=actor.org_id).order_by("-reviewed_at", "-id").first()
    )


def window_start(now: datetime, days: int) -> datetime:
    """From the start of the day ``days`` days ago: the previous ``days`` days and today."""
    return day_start(timezone.localdate(now) - timedelta(days=days))


@dataclass
class DailyReviewQueue:
    cases: QuerySet[Case]
    start: datetime
    lookback_days: int
    repeats_first: bool
    since: datetime | None  # the last completed review's cut-off (None: never reviewed)
    last: DailyReview | None
    counts: dict[str, int] = field(default_factory=dict)


def daily_review_queue(*, actor: Staff, now: datetime | None = None) -> DailyReviewQueue:
    """The last days' intake that still needs an eye: every case with a repeat contact in
    the window (also older cases called about again), then every case received in the
    window that is not resolved yet. Each is marked ``changed`` when it has an event or
    contact newer than the reviewer's last completed review."""
    if not may_daily_review(actor):
        raise PermissionDeniedError()
    now = now or timezone.now()
    days, repeats_first = review_settings(actor.org_id)
    start = window_start(now, days)
    last = last_review(actor=actor)
    since = last.covered_until if last else None
    repeat_cases = Contact.objects.filter(
        is_initial=False, occurred_at__gte=start, case__organization_id=actor.org_id
    ).values("case_id")
    qs = cases_for(actor).filter(Q(received_at__gte=start, state__in=UNRESOLVED_STATES) | Q(pk__in=repeat_cases))
    repeat = Q(Exists(Contact.objects.filter(case=OuterRef("pk"), is_initial=False, occurred_at__gte=start)))
    unresolved = Q(state__in=UNRESOLVED_STATES)
    changed = (
        Q(Exists(Event.objects.filter(case=OuterRef("pk"), at__gt=since)))
        | Q(Exists(Contact.objects.filter(case=OuterRef("pk"), created_at__gt=since)))
        if since
        else Q(pk__isnull=False)
    )
    # Counted from the expressions themselves, not the annotations (Django prunes those).
    counts = qs.aggregate(
        total=Count("pk"),
        repeats=Count("pk", filter=repeat),
        unresolved=Count("pk", filter=unresolved),
        changed=Count("pk", filter=changed),
    )
    qs = qs.annotate(
        repeat=ExpressionWrapper(repeat, output_field=BooleanField()),
        unresolved=ExpressionWrapper(unresolved, output_field=BooleanField()),
        changed=ExpressionWrapper(changed, output_field=BooleanField()),
    )
    order = ("-repeat", "-received_at", "-id") if repeats_first else ("-received_at", "-id")
    return DailyReviewQueue(
        cases=qs.select_related("lead_department", "handler").order_by(*order),
        start=start,
        lookback_days=days,
        repeats_first=repeats_first,
        since=since,
        last=last,
        counts={k: int(v or 0) for k, v in counts.items()},
    )


@dataclass
class ReviewRow:
    case: Case
    repeat_contacts: int
    changes: list[str]  # labels of what happened since the last review, oldest first


def review_rows(*, cases: list[Case], since: datetime | None) -> list[ReviewRow]:
    """Decorate one page of the queue: repeat-contact counts and what changed."""
    ids = [c.pk for c in cases]
    repeats = dict(
        Contact.objects.filter(case_id__in=ids, is_initial=False)
        .values("case_id")
        .annotate(n=Count("id"))
        .values_list("case_id", "n")
    )
    changes: dict[int, list[str]] = defaultdict(list)
    if since is not None:
        for event in Event.objects.filter(case_id__in=ids, at__gt=since).order_by("at", "id"):
            label = _change_label(event)
            if label not in changes[event.case_id]:
                changes[event.case_id].append(label)
    return [ReviewRow(case=c, repeat_contacts=repeats.get(c.pk, 0), changes=changes[c.pk]) for c in cases]


def _change_label(event: Event) -> str:
    if event.kind == "state_changed" and event.data.get("to"):
        return str(state_label(event.data["to"]))
    return str(event.kind_label)
