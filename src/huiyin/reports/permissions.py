"""Who sees the dashboard and the periodic reports: pure predicates of the actor."""

from __future__ import annotations

from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Role

# The whole organisation's figures: analysts, leaders and supervisors.
WHOLE = frozenset({Role.ANALYST, Role.LEADER, Role.SUPERVISOR})
# Periodic reports are generated (and their commentary written) by analysts and leaders.
AUTHORS = frozenset({Role.ANALYST, Role.LEADER})


def sees_whole_dashboard(actor: Staff) -> bool:
    return bool(set(actor.roles or []) & WHOLE)


def may_see_dashboard(actor: Staff) -> bool:
    """Analysts, leaders and supervisors see the organisation's; a department head their
    own department's."""
    return sees_whole_dashboard(actor) or bool(actor.is_dept_head and actor.department_id is not None)


def may_see_reports(actor: Staff) -> bool:
    """The periodic reports cover the whole organisation: analysts, leaders, supervisors."""
    return sees_whole_dashboard(actor)


def may_write_reports(actor: Staff) -> bool:
    """Generating a report and keeping the analysis commentary with it."""
    return bool(set(actor.roles or []) & AUTHORS)
