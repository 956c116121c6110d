"""Reads for callbacks: an officer's queue and each role's quota progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from huiyin.cases.models import CaseRound
from huiyin.cases.selectors import category_subtree
from huiyin.core.errors import NotFound
from huiyin.core.periods import day_start
from huiyin.handling.records import role_label
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap

from .models import Callback, CallbackStatus, HeadDecision, PromisedAnswer, RectificationTask, TaskStatus
from .permissions import may_give_promised_answer, sees_every_callback


class Due:
    """The callback desk's deadline filter."""

    OVERDUE = "overdue"  # past its callback deadline
    TODAY = "today"  # due before the end of today
    LATER = "later"  # due after today (or without a deadline)


class Sort:
    DUE = "due"  # the earliest callback deadline first
    OLDEST = "oldest"  # the matter received first, first


@dataclass(frozen=True)
class QueueFilters:
    department_id: int | None = None
    category_id: int | None = None
    due: str = ""
    channel: str = ""
    sort: str = Sort.DUE
    now: datetime = field(default_factory=timezone.now)


def queue(actor: Staff, filters: QueueFilters | None = None) -> QuerySet[Callback]:
    """Due callbacks for the roles this person holds (the callback desk sees them all),
    narrowed by ``filters`` (lead department, category and its subcategories, deadline,
    channel) and in their order: the earliest deadline first (none last), or the oldest
    matter first."""
    f = filters or QueueFilters()
    rows = Callback.objects.filter(case__organization_id=actor.org_id, status=CallbackStatus.DUE)
    if not sees_every_callback(actor):
        rows = rows.filter(role__in=actor.roles or [])
        if not actor.can(Cap.VIEW_ALL):  # department staff: the cases their department leads
            rows = rows.filter(Q(case__lead_department_id=actor.department_id) | Q(case__handler=actor))
    if f.department_id:
        rows = rows.filter(case__lead_department_id=f.department_id)
    if f.category_id:
        rows = rows.filter(case__category_id__in=category_subtree(actor.org_id, f.category_id))
    if f.channel:
        rows = rows.filter(case__channel=f.channel)
    tomorrow = day_start(timezone.localdate(f.now) + timedelta(days=1))
    if f.due == Due.OVERDUE:
        rows = rows.filter(due_at__lt=f.now)
    elif f.due == Due.TODAY:
        rows = rows.filter(due_at__gte=f.now, due_at__lt=tomorrow)
    elif f.due == Due.LATER:
        rows = rows.filter(Q(due_at__gte=tomorrow) | Q(due_at__isnull=True))
    order = (
        (F("case__received_at").asc(), F("id").asc())
        if f.sort == Sort.OLDEST
        else (F("due_at").asc(nulls_last=True), F("id").asc())
    )
    return rows.select_related("case", "case__party", "case__lead_department", "case__category").order_by(*order)


# The callback desk reads at most this many of a filtered queue's ids to place the current
# callback among them (its position, the previous and the next one).
QUEUE_IDS_MAX = 2000


@dataclass(frozen=True)
class QueuePosition:
    """Where the current callback is in the filtered queue."""

    ids: list[int]  # the queue's ids in order (at most QUEUE_IDS_MAX)
    current: int | None
    total: int
    overdue: int

    @property
    def index(self) -> int | None:
        return self.ids.index(self.current) if self.current in self.ids else None

    @property
    def previous(self) -> int | None:
        i = self.index
        return self.ids[i - 1] if i is not None and i > 0 else None

    @property
    def next(self) -> int | None:
        i = self.index
        return self.ids[i + 1] if i is not None and i + 1 < len(self.ids) else None

    @property
    def after_this(self) -> int | None:
        """The callback to show once this one is recorded: the next, or else the previous."""
        return self.next or self.previous


def queue_position(actor: Staff, filters: QueueFilters, wanted: int | None) -> QueuePosition:
    """The filtered queue's order and size, and the current callback: ``wanted`` if it is
    in the queue, otherwise the first."""
    rows = queue(actor, filters)
    ids = list(rows.values_list("pk", flat=True)[:QUEUE_IDS_MAX])
    total = len(ids) if len(ids) < QUEUE_IDS_MAX else rows.count()
    overdue = rows.filter(due_at__lt=filters.now).count()
    current = wanted if wanted in ids else (ids[0] if ids else None)
    return QueuePosition(ids=ids, current=current, total=total, overdue=overdue)


def callback_card(actor: Staff, callback_id: int) -> tuple[Callback, CaseRound | None]:
    """A callback of the actor's organisation with its case, and the round it calls back on
    (what was answered, by whom, when)."""
    callback = (
        Callback.objects.select_related(
            "case", "case__party", "case__lead_department", "case__category", "case__handler"
        )
        .filter(pk=callback_id, case__organization_id=actor.org_id)
        .first()
    )
    if callback is None:
        raise NotFound()
    answered = (
        CaseRound.objects.select_related("handler", "lead_department")
        .filter(case_id=callback.case_id, number=callback.round)
        .first()
    )
    return callback, answered


def quota_progress(organization_id: int, since: datetime, shares: list[tuple[str, float]]) -> list[dict]:
    """Per role: callbacks planned and done since ``since`` against the preset's share."""
    rows = (
        Callback.objects.filter(case__organization_id=organization_id, planned_at__gte=since)
        .values("role")
        .annotate(planned=Count("id"), done=Count("id", filter=Q(status=CallbackStatus.DONE)))
    )
    by_role: dict[str, dict[str, int]] = {r["role"]: {"planned": r["planned"], "done": r["done"]} for r in rows}
    total = sum(r["planned"] for r in by_role.values())
    roles = [role for role, _share in shares] or sorted(by_role)
    share_of = dict(shares)

    return [
        {
            "role": role,
            "label": role_label(role),
            "target": share_of.get(role),
            "planned": by_role.get(role, {}).get("planned", 0),
            "done": by_role.get(role, {}).get("done", 0),
            "share": (by_role.get(role, {}).get("planned", 0) / total) if total else None,
        }
        for role in roles
    ]


def open_tasks(actor: Staff) -> QuerySet[RectificationTask]:
    """Problems found at callbacks still to be put right: the whole organisation's for the
    callback desk and leaders, the own department's otherwise."""
    rows = RectificationTask.objects.filter(case__organization_id=actor.org_id, status=TaskStatus.OPEN)
    if not actor.can(Cap.VIEW_ALL):
        rows = rows.filter(department_id=actor.department_id)
    return rows.select_related("case").order_by("due_at", "id")


def awaiting_decision(actor: Staff) -> QuerySet[Callback]:
    """Dissatisfied callbacks the lead department's head (or a leader) has to decide on."""
    rows = Callback.objects.filter(case__organization_id=actor.org_id, head_decision=HeadDecision.PENDING)
    if "leader" not in (actor.roles or []):
        if "dept_head" not in (actor.roles or []):
            return rows.none()
        rows = rows.filter(case__lead_department_id=actor.department_id)
    return rows.select_related("case").order_by("done_at", "id")


@dataclass(frozen=True)
class PromiseView:
    promise: PromisedAnswer
    may_answer: bool  # this actor records the answer (``permissions.may_give_promised_answer``)


def promised_answers_on_case(*, actor: Staff, case) -> list[PromiseView]:
    """The answers promised at the case's callbacks, every round, open ones first (the caller
    has checked the actor may see the case)."""
    rows = PromisedAnswer.objects.filter(case=case).select_related("answered_by", "created_by")
    ordered = sorted(rows, key=lambda p: (p.answered_at is not None, p.answer_by))
    return [PromiseView(p, p.answered_at is None and may_give_promised_answer(actor, p)) for p in ordered]


def promise_get(*, actor: Staff, promise_id: int) -> PromisedAnswer:
    """A promised answer of the actor's organisation (its case's visibility is the caller's
    check, ``case_get_for_actor``), or NotFound."""
    promise = PromisedAnswer.objects.filter(pk=promise_id, case__organization_id=actor.org_id).first()
    if promise is None:
        raise NotFound()
    return promise
