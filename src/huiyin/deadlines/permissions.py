"""Who may do what on the deadline panel: pure functions of (actor, object). The services
check the same predicates; the panel uses them to decide which actions to offer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyin.cases.permissions import in_write_scope
from huiyin.cases.workflow import OPEN_STATES
from huiyin.orgs.roles import Cap

if TYPE_CHECKING:
    from huiyin.cases.models import Case
    from huiyin.orgs.models import Staff


def may_manage_deadlines(actor: Staff, case: Case) -> bool:
    """Suspend, resume and ask for an extension: the staff steering the case — whole-ledger
    roles that handle or decide, the handler and the lead department's handling staff (not
    an assisting department, not the roles that only read)."""
    return (actor.can(Cap.HANDLE) or actor.can(Cap.DECIDE)) and in_write_scope(actor, case)


def may_work_on(actor: Staff, case: Case) -> bool:
    """Whether to offer suspension and extension requests on the panel."""
    return case.state in OPEN_STATES and may_manage_deadlines(actor, case)


def may_decide_extension(actor: Staff, case: Case, *, approver_role: str, requested_by_id: int | None) -> bool:
    """The preset's approver role, never the requester; a department head approves only for
    the department that leads the case."""
    if approver_role not in (actor.roles or []) or actor.pk == requested_by_id:
        return False
    return in_write_scope(actor, case)
