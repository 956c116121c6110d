"""Who may do what in follow-up: pure predicates of the actor and the callback, task or case."""

from __future__ import annotations

from huiyin.cases.models import Case
from huiyin.cases.permissions import in_write_scope
from huiyin.orgs.actors import ActorKind, ExternalActor
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap, Role

from .models import Callback, PromisedAnswer, RectificationTask


def may_use_callback_desk(actor: Staff) -> bool:
    """The callback pages: whoever closes cases after calling back."""
    return actor.can(Cap.CLOSE)


def sees_every_callback(actor: Staff) -> bool:
    """The central callback desk sees every role's callbacks, not only those planned for its own roles."""
    return actor.can(Cap.CLOSE) and actor.can(Cap.VIEW_ALL)


def may_call_back(actor: Staff, callback: Callback) -> bool:
    """The central callback desk, or whoever holds the role the callback was planned for:
    over the whole ledger for a whole-ledger role, on the cases their department leads for
    department staff (a department head calls back their own department's cases)."""
    if sees_every_callback(actor):
        return True
    return callback.role in (actor.roles or []) and in_write_scope(actor, callback.case)


def may_record_rectification(actor: Staff, task: RectificationTask) -> bool:
    """The responsible department's handling staff record that the problem was put right, or a
    leader (who handles over the whole ledger); not the roles that only read the ledger."""
    return _responsible_department(actor, task.department_id)


def may_give_promised_answer(actor: Staff, promise: PromisedAnswer) -> bool:
    """The answer promised at a callback is recorded by whoever records the rectification: the
    responsible department's handling staff, or a leader over the whole ledger."""
    return _responsible_department(actor, promise.department_id)


def _responsible_department(actor: Staff, department_id: int | None) -> bool:
    if not actor.can(Cap.HANDLE):
        return False
    return actor.can(Cap.VIEW_ALL) or (actor.department_id is not None and actor.department_id == department_id)


def may_decide_dissatisfaction(actor: Staff, case: Case) -> bool:
    """The lead department's head, or a leader, decides on a dissatisfied callback."""
    return Role.LEADER in (actor.roles or []) or (
        Role.DEPT_HEAD in (actor.roles or []) and actor.department_id == case.lead_department_id
    )


def may_rate_online(actor: ExternalActor, case: Case) -> bool:
    """The complainant rates the answer on the portal: the public holding this case (its
    number and query code, or a signed link)."""
    return (
        actor.kind == ActorKind.PUBLIC
        and actor.system.active
        and actor.case_id == case.pk
        and actor.org_id == case.organization_id
    )
