"""Who hears about a deadline, and what their desk says.

Roles in a preset's escalation chain resolve to people at the moment the step fires
(the handler may have changed since the clock started):

* ``handler`` — the person the stage waits on: the case's handler; before dispatch
  (acceptance, dispatch, handover) the clerk who registered the case (首问责任人);
  for sign-for, the lead department's heads; for callbacks, the callback officers.
* ``dept_head`` — heads of the lead department; before dispatch, heads of the
  registering clerk's department.
* any other role — the organisation's active staff holding it.

Nobody is left unaware: an empty level falls back to the organisation's leaders,
then its administrators, then the registering clerk (the event records the fallback).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from huiyin.core import reminders
from huiyin.core.reminders import ReminderText
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Role
from huiyin.policy.forms import UNIT_LABELS
from huiyin.policy.labels import STAGE_LABELS

if TYPE_CHECKING:
    from huiyin.cases.models import Case

    from .models import Clock

BEFORE_DISPATCH = frozenset({"acceptance", "dispatch", "handover"})


class Directory:
    """Active staff of organisations, memoised for one unit of work (a sweeper batch)."""

    def __init__(self) -> None:
        self._staff: dict[int, list[Staff]] = {}

    def staff(self, organization_id: int) -> list[Staff]:
        if organization_id not in self._staff:
            self._staff[organization_id] = list(
                Staff.objects.filter(organization_id=organization_id, is_active=True).order_by("pk")
            )
        return self._staff[organization_id]

    def with_role(self, organization_id: int, role: str) -> list[Staff]:
        return [s for s in self.staff(organization_id) if role in (s.roles or [])]

    def dept_heads(self, organization_id: int, department_id: int | None) -> list[Staff]:
        if department_id is None:
            return []
        return [
            s
            for s in self.staff(organization_id)
            if s.department_id == department_id and Role.DEPT_HEAD in (s.roles or [])
        ]

    def get(self, organization_id: int, staff_id: int | None) -> Staff | None:
        return next((s for s in self.staff(organization_id) if s.pk == staff_id), None)


def _responsible(case: Case, stage: str, directory: Directory) -> list[Staff]:
    org = case.organization_id
    first_contact = directory.get(org, case.first_contact_id)
    if stage == "callback":
        return directory.with_role(org, Role.CALLBACK_OFFICER) or ([first_contact] if first_contact else [])
    if stage in BEFORE_DISPATCH or case.lead_department_id is None:
        return [first_contact] if first_contact else []
    if stage != "sign_for" and case.handler_id:
        handler = directory.get(org, case.handler_id)
        if handler is not None:
            return [handler]
    return directory.dept_heads(org, case.lead_department_id)


def resolve(role: str, case: Case, stage: str, directory: Directory) -> tuple[list[Staff], bool]:
    """(recipients, fell_back) for a role of the escalation chain."""
    org = case.organization_id
    if role == Role.HANDLER:
        people = _responsible(case, stage, directory)
    elif role == Role.DEPT_HEAD:
        department_id = case.lead_department_id
        if stage in BEFORE_DISPATCH or department_id is None:
            first_contact = directory.get(org, case.first_contact_id)
            department_id = first_contact.department_id if first_contact else None
        people = directory.dept_heads(org, department_id)
    else:
        people = directory.with_role(org, role)
    if people:
        return _unique(people), False
    fallback = directory.with_role(org, Role.LEADER) or directory.with_role(org, Role.ADMIN)
    if not fallback:
        first_contact = directory.get(org, case.first_contact_id)
        fallback = [first_contact] if first_contact else []
    return _unique(fallback), True


def _unique(people: Iterable[Staff]) -> list[Staff]:
    seen: set[int] = set()
    out = []
    for person in people:
        if person.pk not in seen:
            seen.add(person.pk)
            out.append(person)
    return out


def _when(dt: datetime) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M")


def stage_label(clock: Clock) -> ReminderText:
    """The clock's stage as a word of the product (its preset's label or the stage's own),
    kept untranslated for a reminder, whatever language the request is in."""
    return reminders.label(clock.rule.get("label") or STAGE_LABELS.get(clock.stage, clock.stage))


def unit_label(unit: str) -> ReminderText:
    """A time unit as a word of the product, for a reminder."""
    if unit == "workdays":  # UNIT_LABELS' own context: "working days", not the calendar's "Working day"
        return ReminderText("工作日", context="time unit")
    return reminders.label(UNIT_LABELS.get(unit, unit))


def desk_text(action: str, case: Case, clock: Clock | None, *, role: str = "") -> ReminderText:
    values: dict[str, object] = {"number": case.number, "title": case.title}
    if action == "major" or clock is None:
        return reminders.MAJOR(**values)
    values.update(stage=stage_label(clock), due=_when(clock.due_at))
    if action == "warn":
        return reminders.CLOCK_WARN(**values)
    if action == "overdue":
        return reminders.CLOCK_OVERDUE(**values)
    return reminders.CLOCK_ESCALATE(role=Role(role).label if role in Role.values else role, **values)
