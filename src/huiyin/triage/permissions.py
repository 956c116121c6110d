"""Who may use triage: pure predicates of the actor."""

from __future__ import annotations

from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap, Role


def may_get_suggestions(actor: Staff) -> bool:
    """Whoever registers matters sees the suggestions on the intake forms."""
    return actor.can(Cap.REGISTER)


def may_manage_models(actor: Staff) -> bool:
    """The organisation's administrator trains, watches and rolls back its model."""
    return actor.can(Cap.ADMINISTER)


# The whole organisation's hot issues: the roles that see the whole statistics dashboard
# (the reports app's rule: analysts, leaders and supervisors); a department head their own.
HOT_WHOLE = frozenset({Role.ANALYST, Role.LEADER, Role.SUPERVISOR})


def hot_issue_scope(actor: Staff) -> tuple[bool, int | None]:
    """(allowed, the department a department head is limited to; None for the whole organisation)."""
    if not isinstance(actor, Staff) or actor.organization_id is None:  # a system or the platform operator
        return False, None
    if set(actor.roles or []) & HOT_WHOLE:
        return True, None
    if actor.is_dept_head and actor.department_id is not None:
        return True, actor.department_id
    return False, None


def may_see_hot_issues(actor: Staff) -> bool:
    return hot_issue_scope(actor)[0]
