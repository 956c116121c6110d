"""Roles from the SPEC and what each may do (F80).

Capabilities are plain strings checked by services and selectors; a role is a
set of them. Keeping the table in one place lets an administrator screen, the
state machine and the templates read the same answer.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    INTAKE_CLERK = "intake_clerk", _("接线员/受理员")
    RECEPTION = "reception", _("接待员")
    HANDLER = "handler", _("承办人")
    DEPT_HEAD = "dept_head", _("部门负责人")
    LEADER = "leader", _("领导")
    SUPERVISOR = "supervisor", _("督办员")
    CALLBACK_OFFICER = "callback_officer", _("回访员")
    ANALYST = "analyst", _("统计分析员")
    ADMIN = "admin", _("系统管理员")


class Cap:
    REGISTER = "register"
    DECIDE = "decide"  # accept / not accept / return / transfer
    DISPATCH = "dispatch"
    HANDLE = "handle"  # sign for, work on, propose, reply (own department)
    APPROVE = "approve"
    CLOSE = "close"
    ARCHIVE = "archive"
    REOPEN = "reopen"
    VIEW_ALL = "view_all"  # the whole ledger, not only the own department's cases
    VIEW_PII = "view_pii"  # reveal a full phone / ID number (each reveal is logged)
    ADMINISTER = "administer"
    SUPERVISE = "supervise"  # issue and close supervision notices (督办)
    REVIEW = "review"  # record the review / re-review body's opinion (复查 / 复核)
    MANAGE_STAFF = "manage_staff"  # the own organisation's staff accounts and departments (人员与部门)


ROLE_CAPS: dict[str, frozenset[str]] = {
    Role.INTAKE_CLERK: frozenset(
        {Cap.REGISTER, Cap.DECIDE, Cap.DISPATCH, Cap.CLOSE, Cap.REOPEN, Cap.VIEW_ALL, Cap.VIEW_PII}
    ),
    Role.RECEPTION: frozenset({Cap.REGISTER, Cap.VIEW_ALL, Cap.VIEW_PII}),
    Role.HANDLER: frozenset({Cap.HANDLE, Cap.VIEW_PII}),
    Role.DEPT_HEAD: frozenset({Cap.HANDLE, Cap.DISPATCH, Cap.APPROVE, Cap.CLOSE, Cap.REOPEN, Cap.VIEW_PII}),
    Role.LEADER: frozenset(
        {
            Cap.REGISTER,
            Cap.DECIDE,
            Cap.DISPATCH,
            Cap.HANDLE,
            Cap.APPROVE,
            Cap.CLOSE,
            Cap.ARCHIVE,
            Cap.REOPEN,
            Cap.VIEW_ALL,
            Cap.VIEW_PII,
            Cap.SUPERVISE,
            Cap.REVIEW,
        }
    ),
    # Supervisors watch deadlines and issue notices (督办); dispatching is the desk's.
    Role.SUPERVISOR: frozenset({Cap.VIEW_ALL, Cap.SUPERVISE}),
    Role.CALLBACK_OFFICER: frozenset({Cap.CLOSE, Cap.REOPEN, Cap.VIEW_ALL, Cap.VIEW_PII}),
    Role.ANALYST: frozenset({Cap.VIEW_ALL}),
    Role.ADMIN: frozenset({Cap.ARCHIVE, Cap.VIEW_ALL, Cap.ADMINISTER, Cap.MANAGE_STAFF}),
}


def caps_for(roles: list[str]) -> frozenset[str]:
    result: set[str] = set()
    for role in roles:
        result |= ROLE_CAPS.get(role, frozenset())
    return frozenset(result)
