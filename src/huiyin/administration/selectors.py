"""Reads for the administration screens, always scoped to the administrator's organisation.

A staff member or department of another organisation is never found here (the views
answer 404); neither is a platform superuser's account, which only the operator manages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huiyin.cases import categories
from huiyin.cases.models import Category
from huiyin.orgs.models import Department, Staff
from huiyin.orgs.roles import Role
from huiyin.policy.services import current_policy

from .models import AuditEntry, PasswordChangeRequired


def manageable_staff(actor: Staff) -> QuerySet[Staff]:
    """Every account the organisation's administrator may see and change."""
    return Staff.objects.filter(organization_id=actor.org_id, is_superuser=False)


def staff_list(
    actor: Staff, *, query: str = "", department: Department | None = None, status: str = "active"
) -> QuerySet[Staff]:
    """The organisation's staff, by username; ``query`` matches username or name,
    ``status`` is ``active``, ``inactive`` or ``all``."""
    rows = manageable_staff(actor).select_related("department")
    if query:
        rows = rows.filter(Q(username__icontains=query) | Q(full_name__icontains=query))
    if department is not None:
        rows = rows.filter(department=department)
    if status == "active":
        rows = rows.filter(is_active=True)
    elif status == "inactive":
        rows = rows.filter(is_active=False)
    return rows.order_by("username")


# Ids beyond the widest key column are nobody's (SQLite would overflow on them, not answer).
MAX_ID = 2**63 - 1


def staff_get(actor: Staff, staff_id: int) -> Staff | None:
    if not 0 < staff_id <= MAX_ID:
        return None
    return manageable_staff(actor).select_related("department").filter(pk=staff_id).first()


def own_departments(actor: Staff) -> QuerySet[Department]:
    return Department.objects.filter(organization_id=actor.org_id)


def department_get(actor: Staff, department_id: int) -> Department | None:
    if not 0 < department_id <= MAX_ID:
        return None
    return own_departments(actor).select_related("parent").filter(pk=department_id).first()


@dataclass(frozen=True)
class DepartmentRow:
    department: Department
    depth: int
    active_staff: int


def department_tree(actor: Staff) -> list[DepartmentRow]:
    """The organisation's departments in tree order (parents before their children)."""
    departments = list(
        own_departments(actor).annotate(
            active_staff=Count("staff", filter=Q(staff__is_active=True, staff__is_superuser=False))
        )
    )
    children: dict[int | None, list[Any]] = {}
    for d in departments:
        children.setdefault(d.parent_id, []).append(d)
    rows: list[DepartmentRow] = []
    seen: set[int] = set()

    def walk(parent_id: int | None, depth: int) -> None:
        for d in children.get(parent_id, []):
            if d.pk in seen:
                continue
            seen.add(d.pk)
            rows.append(DepartmentRow(d, depth, d.active_staff))
            walk(d.pk, depth + 1)

    walk(None, 0)
    for d in departments:  # a parent outside the organisation (bad data): shown at the top
        if d.pk not in seen:
            seen.add(d.pk)
            rows.append(DepartmentRow(d, 0, d.active_staff))
            walk(d.pk, 1)
    return rows


def department_choices(actor: Staff) -> list[tuple[int, str]]:
    """Departments for a select, indented by their depth in the tree."""
    return [(row.department.pk, "\u3000" * row.depth + row.department.name) for row in department_tree(actor)]


# --- the audit trail ---------------------------------------------------------------------

FIELD_LABELS = {
    "username": gettext_lazy("用户名"),
    "full_name": gettext_lazy("姓名"),
    "department": gettext_lazy("部门"),
    "roles": gettext_lazy("角色"),
    "is_active": gettext_lazy("状态"),
    "password": gettext_lazy("密码"),
    "must_change_password": gettext_lazy("下次登录须修改密码"),
    "name": gettext_lazy("名称"),
    "code": gettext_lazy("代码"),
    "parent": gettext_lazy("上级部门"),
    "handles_cases": gettext_lazy("可承办"),
    "sort_order": gettext_lazy("排序"),
    "tags": gettext_lazy("分类标签"),
}


def _show(field: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if field == "roles":
        return "、".join(str(Role(r).label) if r in Role.values else str(r) for r in value)
    if field == "is_active":
        return _("启用") if value else _("停用")
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return str(value)


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    changes: list[tuple[str, str, str]]  # (field label, old, new)


def audit_entries(
    actor: Staff, *, staff: Staff | None = None, department: Department | None = None
) -> QuerySet[AuditEntry]:
    """The organisation's administration record, newest first (of one account or department)."""
    entries = AuditEntry.objects.filter(organization_id=actor.org_id).select_related("actor")
    if staff is not None:
        entries = entries.filter(staff=staff)
    if department is not None:
        entries = entries.filter(department=department)
    return entries.order_by("-at", "-pk")


def labelled(entries: Iterable[AuditEntry]) -> list[AuditRow]:
    """Audit entries with each change's field label and shown values."""
    rows = []
    for entry in entries:
        changes = [
            (
                str(FIELD_LABELS.get(c.get("field", ""), c.get("field", ""))),
                _show(c.get("field", ""), c.get("old")),
                _show(c.get("field", ""), c.get("new")),
            )
            for c in entry.changes or []
        ]
        rows.append(AuditRow(entry, changes))
    return rows


def must_change_password(staff: Staff) -> bool:
    return PasswordChangeRequired.objects.filter(staff_id=staff.pk).exists()


# --- categories ---------------------------------------------------------------------------------


@dataclass
class CategoryRow:
    category: Category
    depth: int
    inherited: list[str]  # the ancestors' tags, which the category answers to as well


@dataclass
class CategoryRule:
    """A rule of the running policy keyed on a category, and the categories it finds."""

    rule: str
    value: str
    matches: list[str]


def category_tree(actor: Staff) -> list[CategoryRow]:
    rows = list(Category.objects.filter(organization_id=actor.org_id).order_by("full_name", "pk"))
    by_pk = {c.pk: c for c in rows}
    out = []
    for c in rows:
        ancestors = [int(x) for x in (c.path or "").strip("/").split("/") if x.isdigit() and int(x) != c.pk]
        inherited = [t for a in ancestors if a in by_pk for t in by_pk[a].tag_list]
        out.append(CategoryRow(category=c, depth=len(ancestors), inherited=inherited))
    return out


def category_rules(actor: Staff) -> list[CategoryRule]:
    """The running policy's category-keyed rules with the categories each value matches."""
    running = current_policy(actor.org_id)
    if running is None:
        return []
    catalogue = categories.catalogue_terms(actor.org_id)
    names = dict(Category.objects.filter(organization_id=actor.org_id).values_list("pk", "full_name"))
    out = []
    for _path, rule in categories.category_rules(running.preset()):
        for value in rule.when.category:
            found = sorted(names.get(pk) or "" for pk, terms in catalogue.items() if value in terms)
            out.append(CategoryRule(rule=categories.rule_name(rule), value=value, matches=found))
    return out
