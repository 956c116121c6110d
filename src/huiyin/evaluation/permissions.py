"""Who may see and record staff evaluation: pure predicates of the actor."""

from __future__ import annotations

from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap, Role

EVALUATORS = frozenset({Role.LEADER, Role.SUPERVISOR, Role.ANALYST, Role.ADMIN})


def sees_whole_evaluation(actor: Staff) -> bool:
    """Leaders, supervisors, analysts and administrators see the whole organisation's evaluation."""
    return bool(set(actor.roles or []) & EVALUATORS)


def may_see_evaluation(actor: Staff) -> bool:
    """Evaluation is management information: a department head sees their own department's;
    intake clerks, reception and callback officers do not see it."""
    return sees_whole_evaluation(actor) or bool(actor.is_dept_head and actor.department_id is not None)


def may_record_deductions(actor: Staff) -> bool:
    """越级投诉 deductions are recorded by supervisors (and leaders) or administrators."""
    return actor.can(Cap.SUPERVISE) or actor.can(Cap.ADMINISTER)
