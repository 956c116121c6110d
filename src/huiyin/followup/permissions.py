"""Who may do what in follow-up: pure predicates of the actor and the callback, task or case."""

from __future__ import annotations

from huiyin.cases.models import Case
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap, Role

from .models import Callback, RectificationTask


def may_use_callback_desk(actor: Staff) -> bool:
    """The callback pages: whoever closes cases after calling back."""
    return actor.can(Cap.CLOSE)


def sees_every_callback(actor: Staff) -> bool:
    """The central callback desk sees every role's callbacks, not only those planned for its own roles."""
    return actor.can(Cap.CLOSE) and actor.can(Cap.VIEW_ALL)


def may_call_back(actor: Staff, callback: Callback) -> bool:
    return sees_every_callback(actor) or callback.role in (actor.roles or [])


def may_record_rectification(actor: Staff, task: RectificationTask) -> bool:
    """The responsible department records that the problem was put right (or a whole-ledger role)."""
    return actor.can(Cap.VIEW_ALL) or actor.department_id == task.department_id


def may_decide_dissatisfaction(actor: Staff, case: Case) -> bool:
    """The lead department's head, or a leader, decides on a dissatisfied callback."""
    return Role.LEADER in (actor.roles or []) or (
        Role.DEPT_HEAD in (actor.roles or []) and actor.department_id == case.lead_department_id
    )
