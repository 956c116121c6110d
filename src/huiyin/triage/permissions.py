"""Who may use triage: pure predicates of the actor."""

from __future__ import annotations

from huiyin.cases.models import Case
from huiyin.cases.permissions import in_write_scope, may_view_case
from huiyin.orgs.actors import Actor
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


def may_link(actor: Actor, case: Case) -> bool:
    """Mark a case related to another (关联) or take the link away: the intake desk and whoever
    decides or dispatches on the whole ledger; a department's dispatcher (its head) on the cases
    its department leads. Never a handler of another department; never the public."""
    if not isinstance(actor, Staff) or not may_view_case(actor, case):
        return False
    if actor.can(Cap.REGISTER) or actor.can(Cap.DECIDE):
        return True
    return actor.can(Cap.DISPATCH) and in_write_scope(actor, case)


def may_merge_into(actor: Actor, target: Case) -> bool:
    """The case a duplicate is merged into must be one the actor sees; the merge itself is the
    lifecycle edge ``merge`` (capability ``decide``: the intake desk and leaders), which the
    case core checks on the duplicate."""
    return may_view_case(actor, target)
