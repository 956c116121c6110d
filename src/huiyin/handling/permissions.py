"""Who may do what in handling: pure predicates of the actor and the case (or the record).

The services raise on a ``False``; ``selectors.handling_capabilities`` turns the same
answers into the flags of the handling panel. State rules (which states allow a step)
stay with the services; these answer only "this person, this case".
"""

from __future__ import annotations

from huiyin.cases.models import Case
from huiyin.cases.permissions import in_write_scope, works_on_case
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap, Role

from .models import JointHandling, Proposal


def heads_lead_department(actor: Staff, case: Case) -> bool:
    return actor.is_dept_head and actor.department_id == case.lead_department_id


def may_work_on_case(actor: Staff, case: Case) -> bool:
    """Contribute to the handling (investigation records and their signatures): the
    handler, assisting handlers, or staff of the lead / assisting departments who handle
    cases; leaders and the central desk (whole-ledger roles that handle or decide)."""
    if actor.can(Cap.DECIDE) and actor.can(Cap.VIEW_ALL):
        return case.organization_id == actor.organization_id
    return works_on_case(actor, case)


def may_steer_handling(actor: Staff, case: Case) -> bool:
    """The lead's steps (rectification notice and plan, sending the result report): whole-ledger
    roles that handle or decide, or the handler and the lead department's handling staff. An
    assisting department contributes investigations, not these."""
    return (actor.can(Cap.HANDLE) or actor.can(Cap.DECIDE)) and in_write_scope(actor, case)


def may_assign_handler(actor: Staff, case: Case) -> bool:
    """The lead department's head, or the central dispatch desk, names the handler."""
    return heads_lead_department(actor, case) or (actor.can(Cap.DISPATCH) and actor.can(Cap.VIEW_ALL))


def may_issue_document(actor: Staff, case: Case) -> bool:
    """Documents speak for the case's handling: the desk that decides or dispatches, leaders,
    or the lead department's handling staff."""
    return (actor.can(Cap.HANDLE) or actor.can(Cap.DECIDE) or actor.can(Cap.DISPATCH)) and in_write_scope(actor, case)


def may_approve_document(actor: Staff) -> bool:
    """A result report is approved by a leader (approval over the whole ledger)."""
    return actor.can(Cap.APPROVE) and actor.can(Cap.VIEW_ALL)


def may_edit_document_templates(actor: Staff) -> bool:
    return actor.can(Cap.ADMINISTER)


def may_convene_joint(actor: Staff, case: Case) -> bool:
    """The central dispatch desk, leaders, or the lead department's head call a joint
    handling; not an assisting department."""
    return (actor.can(Cap.DISPATCH) and actor.can(Cap.VIEW_ALL)) or heads_lead_department(actor, case)


def may_record_joint_part(actor: Staff, joint: JointHandling, department_id: int) -> bool:
    """A department's own staff, or the coordinator, write that department's part."""
    return actor.pk == joint.coordinator_id or (actor.can(Cap.HANDLE) and actor.department_id == department_id)


def may_conclude_joint(actor: Staff, joint: JointHandling) -> bool:
    return actor.pk == joint.coordinator_id


def may_set_authority_request(actor: Staff, case: Case) -> bool:
    """Record a higher authority's request for a result report: the desk that decides or
    dispatches over the whole ledger, leaders, or the lead department's head."""
    whole_desk = (actor.can(Cap.DECIDE) or actor.can(Cap.DISPATCH)) and actor.can(Cap.VIEW_ALL)
    return case.organization_id == actor.organization_id and (whole_desk or heads_lead_department(actor, case))


def has_signed(actor: Staff, proposal: Proposal) -> bool:
    """One person signs a proposal once, whatever roles they hold."""
    return proposal.steps.filter(decided_by=actor).exists()


def fits_due_level(actor: Staff, case: Case, proposal: Proposal) -> bool:
    """The proposal's due level is the actor's to sign: a leader level takes a leader; a
    department-head level takes the lead department's head, or a leader standing in when no
    leader signs later in the chain."""
    level = proposal.next_level
    roles = actor.roles or []
    if proposal.chain[level] == Role.LEADER:
        fits = Role.LEADER in roles
    else:
        fits = heads_lead_department(actor, case) or (
            Role.LEADER in roles and Role.LEADER not in proposal.chain[level + 1 :]
        )
    return fits and actor.can(Cap.APPROVE)


def may_sign(actor: Staff, case: Case, proposal: Proposal) -> bool:
    """``records.sign_refusal`` says why not."""
    return not has_signed(actor, proposal) and fits_due_level(actor, case, proposal)
