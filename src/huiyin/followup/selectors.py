"""Reads for callbacks: an officer's queue and each role's quota progress."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet

from huiyin.handling.records import role_label
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap

from .models import Callback, CallbackStatus, HeadDecision, RectificationTask, TaskStatus
from .permissions import sees_every_callback


def queue(actor: Staff) -> QuerySet[Callback]:
    """Due callbacks for the roles this person holds (the callback desk sees them all),
    the earliest due first."""
    rows = Callback.objects.filter(case__organization_id=actor.org_id, status=CallbackStatus.DUE)
    if not sees_every_callback(actor):
        rows = rows.filter(role__in=actor.roles or [])
        if not actor.can(Cap.VIEW_ALL):  # department staff: the cases their department leads
            rows = rows.filter(Q(case__lead_department_id=actor.department_id) | Q(case__handler=actor))
    return rows.select_related("case", "case__party", "case__lead_department").order_by("due_at", "id")


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
