"""Who may do what at the front office and in guest reception: pure predicates of the actor,
the record, and the organisation's setup (which department is the administrative office,
which is finance: ``FrontOfficeSetup``).

* **Front desk** (前台接待人员): the reception role. It sees the day's whole visitor list,
  checks visitors in and out, hands out badges, enters the feedback forms, and — with the
  personal-data right — sees a visitor's full name, phone and document number (logged).
  Leaders see and do the same.
* **Hosts**: every staff member may announce the visitors they expect; a host (or the
  escort, or whoever announced the visit) sees and may cancel their own visitors.
* **Guest reception**: staff of a department request receptions hosted by their
  department; the chain's approvers sign in order — the hosting department's head
  (``dept_head``), the administrative office's head (``office_head``), a leader
  (``leader``) — never the requester; the requester, the hosting department and the
  administrative office arrange, spend and close; the finance department reimburses.
"""

from __future__ import annotations

from dataclasses import dataclass

from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap, Role

from .models import Approver, GuestReception, Visitor


@dataclass(frozen=True)
class Setup:
    """The departments the organisation named (None: not named)."""

    office_department_id: int | None = None
    finance_department_id: int | None = None


def _roles(actor: Staff) -> set[str]:
    return set(actor.roles or [])


def _at_desk(actor: Staff) -> bool:
    return actor.organization_id is not None and actor.is_active


# --- the visitor log ----------------------------------------------------------------------------


def is_front_desk(actor: Staff) -> bool:
    """The reception role, and leaders."""
    return _at_desk(actor) and bool(_roles(actor) & {Role.RECEPTION, Role.LEADER})


def may_use_visitor_log(actor: Staff) -> bool:
    """Every staff member hosts visitors: the page shows the front desk everything, a host their own."""
    return _at_desk(actor)


def may_announce_for_others(actor: Staff) -> bool:
    """The front desk registers a visitor for any host (a call, a walk-in); others only for themselves."""
    return is_front_desk(actor)


def may_see_visitor(actor: Staff, visitor: Visitor) -> bool:
    if not _at_desk(actor) or actor.organization_id != visitor.organization_id:
        return False
    return is_front_desk(actor) or actor.pk in (visitor.host_id, visitor.escort_id, visitor.announced_by_id)


def may_check_in(actor: Staff, visitor: Visitor) -> bool:
    """Check-in, check-out, badge, escort, security notes, the feedback form: the front desk."""
    return is_front_desk(actor) and actor.organization_id == visitor.organization_id


def may_cancel_visit(actor: Staff, visitor: Visitor) -> bool:
    return is_front_desk(actor) or (
        actor.organization_id == visitor.organization_id and actor.pk in (visitor.host_id, visitor.announced_by_id)
    )


def may_reveal_visitor(actor: Staff, visitor: Visitor) -> bool:
    """A full name, phone and document number: the front desk with the personal-data right (logged)."""
    return may_check_in(actor, visitor) and actor.can(Cap.VIEW_PII)


# --- guest reception -------------------------------------------------------------------------------


def in_department(actor: Staff, department_id: int | None) -> bool:
    return department_id is not None and actor.department_id == department_id


def may_use_guest_reception(actor: Staff) -> bool:
    """The list page: anyone who may request, approve, arrange or reimburse — every staff
    member with a department, the front desk and leaders."""
    return _at_desk(actor) and (actor.department_id is not None or is_front_desk(actor))


def may_request(actor: Staff) -> bool:
    """A reception is requested by its hosting department: staff with a department."""
    return _at_desk(actor) and actor.department_id is not None


def sees_all_receptions(actor: Staff, setup: Setup) -> bool:
    """Leaders, the front desk, the administrative office and finance see every reception."""
    return is_front_desk(actor) or in_department(actor, setup.office_department_id) or is_finance(actor, setup)


def may_see_reception(actor: Staff, reception: GuestReception, setup: Setup) -> bool:
    if not _at_desk(actor) or actor.organization_id != reception.organization_id:
        return False
    return (
        sees_all_receptions(actor, setup)
        or actor.pk == reception.requested_by_id
        or in_department(actor, reception.hosting_department_id)
    )


def holds(actor: Staff, approver: str, reception: GuestReception, setup: Setup) -> bool:
    """Whether ``actor`` is an approver of kind ``approver`` for ``reception`` (never its requester)."""
    if not _at_desk(actor) or actor.organization_id != reception.organization_id:
        return False
    if actor.pk == reception.requested_by_id:
        return False
    roles = _roles(actor)
    if approver == Approver.LEADER:
        return Role.LEADER in roles
    if approver == Approver.DEPT_HEAD:
        return Role.DEPT_HEAD in roles and in_department(actor, reception.hosting_department_id)
    if approver == Approver.OFFICE_HEAD:
        return Role.DEPT_HEAD in roles and in_department(actor, setup.office_department_id)
    return False


def may_decide(actor: Staff, reception: GuestReception, setup: Setup) -> bool:
    """The step due now, by whoever holds it."""
    due = reception.due_approver
    return bool(due) and holds(actor, due, reception, setup)


def may_decide_overrun(actor: Staff, reception: GuestReception, setup: Setup) -> bool:
    return holds(actor, reception.overrun_approver, reception, setup)


def organizes(actor: Staff, reception: GuestReception, setup: Setup) -> bool:
    """The requester, the hosting department and the administrative office (行政部门负责安排)."""
    return (
        _at_desk(actor)
        and actor.organization_id == reception.organization_id
        and (
            actor.pk == reception.requested_by_id
            or in_department(actor, reception.hosting_department_id)
            or in_department(actor, setup.office_department_id)
        )
    )


def may_arrange(actor: Staff, reception: GuestReception, setup: Setup) -> bool:
    """The checklist: the organisers and the front desk."""
    return organizes(actor, reception, setup) or (
        is_front_desk(actor) and actor.organization_id == reception.organization_id
    )


def may_spend(actor: Staff, reception: GuestReception, setup: Setup) -> bool:
    """Expenses and requests for more budget: the organisers."""
    return organizes(actor, reception, setup)


def may_close(actor: Staff, reception: GuestReception, setup: Setup) -> bool:
    """The summary and the guests' feedback: the organisers."""
    return organizes(actor, reception, setup)


def may_cancel_reception(actor: Staff, reception: GuestReception, setup: Setup) -> bool:
    """The requester or the hosting department's head, before anything was spent."""
    return actor.organization_id == reception.organization_id and (
        actor.pk == reception.requested_by_id
        or (Role.DEPT_HEAD in _roles(actor) and in_department(actor, reception.hosting_department_id))
    )


def may_submit_reimbursement(actor: Staff, reception: GuestReception, setup: Setup) -> bool:
    """The hosting department hands in the expenses with their receipts (提交费用明细及合法票据)."""
    return actor.organization_id == reception.organization_id and (
        actor.pk == reception.requested_by_id or in_department(actor, reception.hosting_department_id)
    )


def is_finance(actor: Staff, setup: Setup) -> bool:
    return _at_desk(actor) and in_department(actor, setup.finance_department_id)


def may_reimburse(actor: Staff, reception: GuestReception, setup: Setup) -> bool:
    """The finance department, never for a reception one requested oneself."""
    return (
        is_finance(actor, setup)
        and actor.organization_id == reception.organization_id
        and actor.pk != reception.requested_by_id
    )


def may_see_costs(actor: Staff, setup: Setup) -> bool:
    """The cost report: leaders, finance, the administrative office, analysts (the whole
    organisation) and department heads (their own department)."""
    return cost_scope_all(actor, setup) or (
        _at_desk(actor) and Role.DEPT_HEAD in _roles(actor) and actor.department_id is not None
    )


def cost_scope_all(actor: Staff, setup: Setup) -> bool:
    roles = _roles(actor)
    return _at_desk(actor) and (
        bool(roles & {Role.LEADER, Role.ANALYST})
        or is_finance(actor, setup)
        or in_department(actor, setup.office_department_id)
    )


def may_set_up(actor: Staff) -> bool:
    """Which departments are the administrative office and finance: the administrator."""
    return _at_desk(actor) and actor.can(Cap.ADMINISTER)
