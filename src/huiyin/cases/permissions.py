"""Who may do what to a case: pure predicates of the actor and the case.

Services raise on a ``False``; selectors turn the same answers into the flags the
case page and the API read (``selectors.case_capabilities``). Nothing here takes a
request or looks further than the case itself needs.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from huiyin.cases.errors import InvalidTransition
from huiyin.core.errors import PermissionDeniedError
from huiyin.orgs.actors import Actor, ActorKind, ExternalActor
from huiyin.orgs.models import Department, Staff
from huiyin.orgs.roles import Cap
from huiyin.policy.labels import preset_label

from .models import Case
from .workflow import CaseState, Edge, channel_acceptor


def may_view_case(actor: Actor, case: Case) -> bool:
    """The whole ledger for roles that need it, otherwise the actor's department's cases
    (lead or assisting) and the ones they received or handle; a system (an API client) the
    cases it registered. ``selectors.cases_for`` is the same rule as a query."""
    if case.organization_id != actor.organization_id:
        return False
    if actor.can(Cap.VIEW_ALL):
        return True
    if isinstance(actor, ExternalActor):
        return case.submitter_system_id == actor.system.pk
    if actor.pk in (case.handler_id, case.first_contact_id):
        return True
    if not actor.department_id:
        return False
    return (
        case.lead_department_id == actor.department_id
        or case.assisting_departments.filter(pk=actor.department_id).exists()
    )


def may_register(actor: Staff) -> bool:
    """Register a new matter, or a repeat contact on one."""
    return actor.can(Cap.REGISTER)


def leads_case(actor: Staff, case: Case) -> bool:
    """The actor is the case's handler or belongs to the department that leads it. An
    assisting department helps (investigations, its part of a joint handling) but does
    not steer the case."""
    if actor.pk is not None and actor.pk == case.handler_id:
        return True
    return actor.department_id is not None and actor.department_id == case.lead_department_id


def in_write_scope(actor: Staff, case: Case) -> bool:
    """Whose case it is to act on: a whole-ledger role over its organisation's cases,
    department staff over the cases their department leads (or they handle)."""
    if case.organization_id != actor.organization_id:
        return False
    return actor.can(Cap.VIEW_ALL) or leads_case(actor, case)


def works_on_case(actor: Staff, case: Case) -> bool:
    """Handling staff on the case: whole-ledger handlers (leaders), the handler and
    assisting handlers, and the handling staff of the lead or an assisting department."""
    if case.organization_id != actor.organization_id or not actor.can(Cap.HANDLE):
        return False
    if actor.can(Cap.VIEW_ALL) or leads_case(actor, case):
        return True
    if case.pk is not None and case.assisting_handlers.filter(pk=actor.pk).exists():
        return True
    return (
        actor.department_id is not None
        and case.pk is not None
        and case.assisting_departments.filter(pk=actor.department_id).exists()
    )


def may_edit_case(actor: Staff, case: Case) -> bool:
    """Registration details: not once archived; the intake desk (who registers), or the
    handling staff of the lead department."""
    return (
        case.state != CaseState.ARCHIVED
        and may_view_case(actor, case)
        and (actor.can(Cap.REGISTER) or (actor.can(Cap.HANDLE) and in_write_scope(actor, case)))
    )


def check_can_edit(actor: Staff, case: Case) -> None:
    """``may_edit_case`` as the service needs it: an archived case is a state error, the rest a refusal."""
    if case.state == CaseState.ARCHIVED:
        raise InvalidTransition(src=case.state, dst=case.state, reason=_("已归档的案件只读。"))
    if not may_edit_case(actor, case):
        raise PermissionDeniedError()


def may_reveal_pii(actor: Staff) -> bool:
    """See a full phone / ID number (each reveal is logged by the service)."""
    return actor.can(Cap.VIEW_PII)


def may_upload_attachment(actor: Staff, case: Case) -> bool:
    """Add a file to a live case: the intake desk (a complainant's papers) and the staff
    working on the case (lead or assisting). Roles that only read — analysts, supervisors,
    administrators, the callback desk — do not; a callback's signature or an investigation's
    files are stored by that step's own service, under that step's permission."""
    return (
        case.state != CaseState.ARCHIVED
        and may_view_case(actor, case)
        and (actor.can(Cap.REGISTER) or works_on_case(actor, case))
    )


def may_reissue_receipt(actor: Staff, case: Case) -> bool:
    """A new query code invalidates the complainant's: only the desk that issues receipts."""
    return actor.can(Cap.REGISTER) and may_view_case(actor, case)


# What a member of the public may do on the one case they showed they hold (its number and
# query code, or a signed link: ``ExternalActor.case_id``), through the portal: ask for review
# or re-review of the answer, and rate it, which closes or reopens the case as a reached
# callback does (``followup.services.portal_rating_submit``).
PUBLIC_ACTIONS = frozenset({"request_review", "request_rereview", "close", "reopen"})


def public_may_take(actor: ExternalActor, case: Case, edge: Edge) -> bool:
    """The public's part of ``may_take``: only its own case, only the public's actions."""
    return (
        actor.kind == ActorKind.PUBLIC
        and actor.system.active
        and actor.case_id is not None
        and actor.case_id == case.pk
        and actor.org_id == case.organization_id
        and edge.action in PUBLIC_ACTIONS
    )


def _acceptor_rule(actor: Actor, case: Case, edge: Edge) -> dict | None:
    """The case's rule naming the department that alone decides acceptance of its channel,
    when it stands in ``actor``'s way (``presets.ChannelAcceptor``); None otherwise."""
    if edge.cap != Cap.DECIDE or case.state != CaseState.REGISTERED:
        return None
    rule = channel_acceptor(case.stage_switches, case.channel)
    if rule is None:
        return None
    department = actor.department if isinstance(actor, Staff) else None
    if department is not None and department.code == rule["department"]:
        return None
    return rule


def acceptance_refusal(actor: Actor, case: Case, edge: Edge) -> str | None:
    """Why ``actor`` may not take an acceptance decision (受理, 不予受理, 退回...) on ``case``
    where its policy names the department that alone accepts the case's channel
    (``presets.ChannelAcceptor``; the city bureau: 办公室网络维护工作人员负责对网上投诉案件的受理);
    None when nothing stands in the way. Staff of another department, or of none, and
    registered systems are refused, whatever their role. Where the organisation has no
    department with that code yet, the message says so: nobody could accept such a case
    until an administrator adds it."""
    rule = _acceptor_rule(actor, case, edge)
    if rule is None:
        return None
    message = _("受理：本单位规定%(channel)s渠道的诉求由%(who)s负责受理，您不能对该件作出受理决定，请转交其受理。") % {
        "channel": case.get_channel_display(),
        "who": preset_label(rule.get("label") or "") or rule["department"],
    }
    if not Department.objects.filter(organization_id=case.organization_id, code=rule["department"]).exists():
        message += _("本单位尚未设置编号为“%(code)s”的部门，请管理员先在组织机构中添加该部门及其人员。") % {
            "code": rule["department"]
        }
    return message


def may_take(actor: Actor, case: Case, edge: Edge) -> bool:
    """Capability plus scope. A whole-ledger role takes the edges its capabilities allow on
    any case of its organisation; department staff only on the cases their department
    leads: the handler or the lead department's staff handle, and the lead department's
    head approves, redispatches, closes and reopens. An assisting department's head does none
    of these. The public: ``public_may_take``. A registered system (the API) takes the edges
    its capabilities allow on the whole ledger of its organisation, while it is active (its
    keys may narrow this further to departments and actions: ``huiyin.api``)."""
    if isinstance(actor, ExternalActor) and actor.kind == ActorKind.PUBLIC:
        return public_may_take(actor, case, edge)
    if _acceptor_rule(actor, case, edge):
        return False
    if isinstance(actor, ExternalActor):
        return (
            actor.system.active
            and case.organization_id == actor.organization_id
            and actor.can(edge.cap)
            and actor.can(Cap.VIEW_ALL)
        )
    if case.organization_id != actor.organization_id or not actor.can(edge.cap):
        return False
    if actor.can(Cap.VIEW_ALL):
        return True
    if edge.cap == Cap.HANDLE:
        return leads_case(actor, case)
    return actor.is_dept_head and case.lead_department_id is not None and case.lead_department_id == actor.department_id
