"""The handling verbs on a case: the acceptance decisions other than accepting, dispatch and
sign-for, proposal and approval, review and re-review (F10, F11, F21, F26).

Each verb is one locking move through the case core's ``transition`` (table ∩ policy ∩
permission, one transaction, one event); what the step produces beyond the state is written
to this app's records in the same transaction (``records``). ``SPECS`` registers them as
action specs (``huiyin.cases.actions``), so the workbench buttons and the coming API come
from one list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.actions import ActionSpec, ReasonInput
from huiyin.cases.models import Case, CaseRound
from huiyin.cases.services import (
    STAY,
    check_complainant_kind,
    kind_required_message,
    receiving_department,
    required_text,
    transition,
)
from huiyin.cases.workflow import complainant_kinds, required_step
from huiyin.core.errors import ValidationFailed
from huiyin.core.validators import ANSWER_MAX, LINE_MAX, NOTE_MAX, When, check_moment, checked_text, happened_at
from huiyin.orgs.actors import Actor
from huiyin.orgs.models import Department, Staff

from . import records, steps
from .events import HandlingEvent
from .forms import action_form_choices


def case_not_accept(
    *,
    actor: Staff,
    case_id: int,
    ground: str,
    refer_to: str = "",
    note: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Case:
    """不予受理: a ground from the preset's list (or, where it lists none, in words) and the
    body the complainant should turn to, where the ground names one."""
    ground = required_text(ground, "ground", _("请选择或填写不予受理的理由。"), limit=NOTE_MAX, label=_("不予受理理由"))
    refer_to = checked_text(refer_to, "refer_to", limit=LINE_MAX, label=_("告知其向何机关、单位反映"))

    def apply(case: Case) -> dict[str, Any]:
        return records.decision_ground(case, "not_accepted", ground=ground, refer_to=refer_to, note=note)

    return transition(
        actor=actor,
        case_id=case_id,
        action="not_accept",
        note=note,
        apply=apply,
        expected_version=expected_version,
        at=at,
    )


def case_not_reaccept(
    *,
    actor: Staff,
    case_id: int,
    ground: str,
    note: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Case:
    ground = required_text(ground, "ground", _("请选择或填写不再受理的理由。"), limit=NOTE_MAX, label=_("不再受理理由"))

    def apply(case: Case) -> dict[str, Any]:
        return records.decision_ground(case, "not_reaccepted", ground=ground, refer_to="")

    return transition(
        actor=actor,
        case_id=case_id,
        action="not_reaccept",
        note=note,
        apply=apply,
        expected_version=expected_version,
        at=at,
    )


def case_return(
    *,
    actor: Staff,
    case_id: int,
    reason: str,
    returned_to: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Case:
    """退回: out of scope, returned with reasons to the writer or forwarding body; the event
    records whether it was within the preset's limit."""
    reason = required_text(reason, "reason", _("请填写退回理由。"), limit=NOTE_MAX, label=_("退回理由"))
    returned_to = required_text(
        returned_to,
        "returned_to",
        _("请填写退回至何人或何单位（来信人或原批转单位）。"),
        limit=LINE_MAX,
        label=_("退回至"),
    )
    now = happened_at(at)

    def apply(case: Case) -> dict[str, Any]:
        records.check_refusal_allowed(case)
        return {"reason": reason, "returned_to": returned_to, **records.return_limit(case, at=now)}

    return transition(
        actor=actor, case_id=case_id, action="return", apply=apply, expected_version=expected_version, at=at
    )


def case_transfer(
    *,
    actor: Staff,
    case_id: int,
    to_body: str,
    note: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Case:
    to_body = required_text(to_body, "to_body", _("请填写转送单位。"), limit=LINE_MAX, label=_("转送单位"))

    def apply(case: Case) -> dict[str, Any]:
        records.check_transfer_allowed(case)
        return {"to_body": to_body}

    return transition(
        actor=actor,
        case_id=case_id,
        action="transfer",
        note=note,
        apply=apply,
        expected_version=expected_version,
        at=at,
    )


# --- dispatch and sign-for (F11) ------------------------------------------------------------------


def _receiving_office(case: Case, complainant_kind: str) -> tuple[Department | None, dict[str, Any]]:
    """Where the case's policy receives each kind of complainant in its own office (the
    hospital, seeds/000 行 283: 门诊部 receives outpatients' complaints and coordinates those
    involving other departments, 医务科 inpatients'), a case is dispatched only once its kind
    is known — given here (the dispatch form asks for it when the intake did not record it)
    or at registration — and the receiving office goes with it as an assisting department.
    Returns that office and what the event records."""
    if not complainant_kinds(case.stage_switches):
        return None, {}
    recorded: dict[str, Any] = {}
    if complainant_kind and complainant_kind != case.complainant_kind:
        check_complainant_kind(case, complainant_kind)
        recorded = {"complainant_kind": {"before": case.complainant_kind, "after": complainant_kind}}
        case.complainant_kind = complainant_kind
    if not case.complainant_kind:
        raise ValidationFailed({"complainant_kind": [kind_required_message(case, dispatch=True)]})
    office = receiving_department(case)
    assert office is not None  # the kind is one of the policy's (checked when it was recorded)
    return office, {**recorded, "receiving_department": office.pk, "receiving_department_name": office.name}


def _dispatch_apply(
    actor: Staff,
    department_id: int,
    assisting_ids: Iterable[int],
    handler_id: int | None,
    instructions: str,
    due_at: datetime | None,
    at: datetime | None = None,
    complainant_kind: str = "",
) -> Callable[[Case], dict[str, Any]]:
    def apply(case: Case) -> dict[str, Any]:
        records.staff_only(actor)
        # Checked after the state: an illegal move is reported as such, whatever the form says.
        department = Department.objects.filter(pk=department_id, organization_id=actor.org_id).first()
        if department is None:
            raise ValidationFailed({"department": [_("请选择主办部门。")]})
        check_moment(due_at, "due_at", _("办理时限"), When.DUE)
        office, received = _receiving_office(case, complainant_kind)
        wanted = {*assisting_ids}
        if office is not None:  # it receives and coordinates; the lead investigates (unless it is the lead)
            wanted.add(office.pk)
        assisting = list(
            Department.objects.filter(pk__in=wanted, organization_id=actor.org_id).exclude(pk=department.pk)
        )
        handler = None
        if not handler_id and required_step(case.stage_switches, "handler_named_at_dispatch"):
            raise ValidationFailed(
                {"handler": [_("承办人：本单位政策规定登记后须将材料交指定承办人调查处理，请选择承办人。")]}
            )
        if handler_id:
            handler = Staff.objects.filter(pk=handler_id, department=department, is_active=True).first()
            if handler is None:
                raise ValidationFailed({"handler": [_("承办人必须是主办部门的在岗人员。")]})
        before = {"lead_department": case.lead_department_id, "handler": case.handler_id}
        case.lead_department, case.handler = department, handler
        case.assisting_departments.set(assisting)
        case.assisting_handlers.clear()
        CaseRound.objects.filter(case=case, number=case.round).update(lead_department=department, handler=handler)
        records.dispatch_recorded(
            case, actor=actor, lead=department, assisting=assisting, instructions=instructions, due_at=due_at, at=at
        )
        return {
            "before": before,
            "after": {"lead_department": department.pk, "handler": handler_id, "assisting": [d.pk for d in assisting]},
            "instructions": instructions,
            "due_at": due_at,
            # Names as they were at the time, for the timeline.
            "department_name": department.name,
            "assisting_names": [d.name for d in assisting],
            "handler_name": str(handler) if handler else "",
            **received,
        }

    return apply


def case_dispatch(
    *,
    actor: Staff,
    case_id: int,
    department_id: int,
    assisting_ids: Iterable[int] = (),
    handler_id: int | None = None,
    instructions: str = "",
    due_at: datetime | None = None,
    complainant_kind: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Case:
    instructions = checked_text(instructions, "instructions", limit=NOTE_MAX, label=_("交办意见"))
    apply = _dispatch_apply(
        actor, department_id, assisting_ids, handler_id, instructions, due_at, happened_at(at), complainant_kind
    )
    return transition(
        actor=actor, case_id=case_id, action="dispatch", apply=apply, expected_version=expected_version, at=at
    )


def case_redispatch(
    *,
    actor: Staff,
    case_id: int,
    department_id: int,
    assisting_ids: Iterable[int] = (),
    handler_id: int | None = None,
    instructions: str = "",
    due_at: datetime | None = None,
    complainant_kind: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Case:
    """改派 before the department signed for it: the earlier dispatch stays in the history."""
    instructions = checked_text(instructions, "instructions", limit=NOTE_MAX, label=_("交办意见"))
    apply = _dispatch_apply(
        actor, department_id, assisting_ids, handler_id, instructions, due_at, happened_at(at), complainant_kind
    )
    return transition(
        actor=actor, case_id=case_id, action="redispatch", apply=apply, expected_version=expected_version, at=at
    )


def case_sign_for(
    *,
    actor: Staff,
    case_id: int,
    handler_id: int | None = None,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Case:
    now = happened_at(at)

    def apply(case: Case) -> dict[str, Any]:
        taker = records.staff_only(actor)
        handler = case.handler or taker
        if handler_id and handler_id != handler.pk:
            assert case.lead_department_id is not None, "sign-for is from dispatched, which has a lead department"
            named = Staff.objects.filter(pk=handler_id, department_id=case.lead_department_id, is_active=True).first()
            if named is None:
                raise ValidationFailed({"handler": [_("承办人必须是主办部门的在岗人员。")]})
            handler = named
        before = case.handler_id
        case.handler = handler
        CaseRound.objects.filter(case=case, number=case.round).update(handler=handler)
        records.dispatch_answered(case, actor=actor, signed=True, at=now)
        return {"before": {"handler": before}, "after": {"handler": handler.pk}, "handler_name": str(handler)}

    return transition(
        actor=actor, case_id=case_id, action="sign_for", apply=apply, expected_version=expected_version, at=at
    )


def case_send_back(
    *, actor: Staff, case_id: int, reason: str, expected_version: int | None = None, at: datetime | None = None
) -> Case:
    """退单: back to the dispatcher's queue with the reason; the department lets go of it."""
    reason = required_text(reason, "reason", _("请填写退单理由。"), limit=NOTE_MAX, label=_("退单理由"))
    now = happened_at(at)

    def apply(case: Case) -> dict[str, Any]:
        records.staff_only(actor)
        before = {"lead_department": case.lead_department_id, "handler": case.handler_id}
        department_name = case.lead_department.name if case.lead_department else ""
        records.dispatch_answered(case, actor=actor, signed=False, reason=reason, at=now)
        case.lead_department, case.handler = None, None
        case.assisting_departments.clear()
        case.assisting_handlers.clear()
        return {"before": before, "reason": reason, "sent_back_by": department_name}

    return transition(
        actor=actor, case_id=case_id, action="send_back", apply=apply, expected_version=expected_version, at=at
    )


# --- proposal and approval (F21) ---------------------------------------------------------------------


def case_submit_for_approval(
    *,
    actor: Staff,
    case_id: int,
    proposal: str,
    outcome: str = "",
    responsible_unit: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Case:
    """The handler proposes the outcome and the responsible unit; the preset's chain signs."""
    proposal = required_text(
        proposal, "proposal", _("请填写拟办意见（处理结果）。"), limit=ANSWER_MAX, label=_("拟办意见")
    )
    responsible_unit = checked_text(responsible_unit, "responsible_unit", limit=120, label=_("责任单位"))
    outcome = records.check_outcome(outcome)
    now = happened_at(at)

    def apply(case: Case) -> dict[str, Any]:
        records.staff_only(actor)
        steps.check_proposal(case, actor=actor, responsible_unit=responsible_unit)
        made = records.proposal_submitted(
            case, actor=actor, text=proposal, outcome=outcome, responsible_unit=responsible_unit.strip(), at=now
        )
        return {
            "proposal": proposal,
            "outcome": outcome,
            "responsible_unit": responsible_unit.strip(),
            "proposal_id": made.pk,
            "chain": made.chain,
        }

    return transition(
        actor=actor,
        case_id=case_id,
        action="submit_for_approval",
        apply=apply,
        expected_version=expected_version,
        at=at,
    )


def case_approve(
    *, actor: Staff, case_id: int, comments: str = "", expected_version: int | None = None, at: datetime | None = None
) -> Case:
    """Sign the pending proposal at the level that is due; the last signature approves it."""
    comments = checked_text(comments, "comments", limit=NOTE_MAX, label=_("审批意见"))
    now = happened_at(at)

    def apply(case: Case) -> dict[str, Any]:
        records.staff_only(actor)
        step, last = records.proposal_signed(case, actor=actor, approved=True, comments=comments.strip(), at=now)
        data = {"level": step.level, "role": step.role, "comments": step.comments}
        return data if last else {**data, STAY: HandlingEvent.APPROVAL_SIGNED}

    return transition(
        actor=actor, case_id=case_id, action="approve", apply=apply, expected_version=expected_version, at=at
    )


def case_reject_approval(
    *, actor: Staff, case_id: int, reason: str, expected_version: int | None = None, at: datetime | None = None
) -> Case:
    """Return the proposal to the handler with comments (退回修改)."""
    reason = required_text(reason, "reason", _("请填写退回意见。"), limit=NOTE_MAX, label=_("退回意见"))
    now = happened_at(at)

    def apply(case: Case) -> dict[str, Any]:
        records.staff_only(actor)
        step, _last = records.proposal_signed(case, actor=actor, approved=False, comments=reason, at=now)
        return {"level": step.level, "role": step.role, "reason": reason}

    return transition(
        actor=actor, case_id=case_id, action="reject_approval", apply=apply, expected_version=expected_version, at=at
    )


# --- review and re-review (F26) ------------------------------------------------------------------------


def case_request_review(
    *,
    actor: Actor,
    case_id: int,
    reason: str,
    requested_at: datetime | None = None,
    on_behalf: bool = True,
    expected_version: int | None = None,
) -> Case:
    """复查: requested within the preset's limit of the written answer, by staff for the
    complainant (``on_behalf``) or by the complainant through the portal (a public actor
    holding the case, ``on_behalf=False``)."""
    return _review_request(
        actor=actor,
        case_id=case_id,
        level=1,
        reason=reason,
        requested_at=requested_at,
        on_behalf=on_behalf,
        expected_version=expected_version,
    )


def case_request_rereview(
    *,
    actor: Actor,
    case_id: int,
    reason: str,
    requested_at: datetime | None = None,
    on_behalf: bool = True,
    expected_version: int | None = None,
) -> Case:
    """复核: requested within the preset's limit of the review opinion."""
    return _review_request(
        actor=actor,
        case_id=case_id,
        level=2,
        reason=reason,
        requested_at=requested_at,
        on_behalf=on_behalf,
        expected_version=expected_version,
    )


def _review_request(
    *,
    actor: Actor,
    case_id: int,
    level: int,
    reason: str,
    requested_at: datetime | None,
    on_behalf: bool,
    expected_version: int | None,
) -> Case:
    reason = required_text(reason, "reason", _("请填写请求复查（复核）的事项和理由。"), limit=NOTE_MAX, label=_("理由"))
    at = check_moment(requested_at, "requested_at", _("请求时间"), When.PAST) or timezone.now()

    def apply(case: Case) -> dict[str, Any]:
        review = records.review_requested(case, actor=actor, level=level, reason=reason, at=at, on_behalf=on_behalf)
        return {"review_id": review.pk, "level": level, "reason": reason, "body": review.body, "requested_at": at}

    action = "request_review" if level == 1 else "request_rereview"
    return transition(actor=actor, case_id=case_id, action=action, apply=apply, expected_version=expected_version)


def case_decide_review(
    *,
    actor: Staff,
    case_id: int,
    decision: str,
    opinion: str,
    expected_version: int | None = None,
) -> Case:
    return _review_decision(
        actor=actor, case_id=case_id, level=1, decision=decision, opinion=opinion, expected_version=expected_version
    )


def case_decide_rereview(
    *,
    actor: Staff,
    case_id: int,
    decision: str,
    opinion: str,
    expected_version: int | None = None,
) -> Case:
    """The re-review opinion is final: the case closes and the matter is concluded for good."""
    return _review_decision(
        actor=actor, case_id=case_id, level=2, decision=decision, opinion=opinion, expected_version=expected_version
    )


def _review_decision(
    *,
    actor: Staff,
    case_id: int,
    level: int,
    decision: str,
    opinion: str,
    expected_version: int | None,
) -> Case:
    opinion = required_text(opinion, "opinion", _("请填写复查（复核）意见。"), limit=ANSWER_MAX, label=_("意见"))

    def apply(case: Case) -> dict[str, Any]:
        records.staff_only(actor)
        review = records.review_decided(case, actor=actor, level=level, decision=decision, opinion=opinion)
        if level == 2:
            case.review_concluded = True
            case.closed_at = review.decided_at
            CaseRound.objects.filter(case=case, number=case.round).update(ended_at=review.decided_at)
        return {"review_id": review.pk, "level": level, "decision": decision, "opinion": opinion}

    action = "decide_review" if level == 1 else "decide_rereview"
    return transition(actor=actor, case_id=case_id, action=action, apply=apply, expected_version=expected_version)


# --- the action specs (listed in huiyin/subscribers.py, ACTIONS) ----------------------------------


@dataclass(frozen=True)
class NotAcceptInput:
    ground: str = ""
    refer_to: str = ""
    note: str = ""


@dataclass(frozen=True)
class NotReacceptInput:
    ground: str = ""
    note: str = ""


@dataclass(frozen=True)
class ReturnInput:
    reason: str = ""
    returned_to: str = ""


@dataclass(frozen=True)
class TransferInput:
    to_body: str = ""
    note: str = ""


@dataclass(frozen=True)
class DispatchInput:
    department_id: int = 0
    assisting_ids: tuple[int, ...] = ()
    handler_id: int | None = None
    instructions: str = ""
    due_at: datetime | None = None
    complainant_kind: str = ""  # where the policy has kinds and the intake did not record it


@dataclass(frozen=True)
class SignForInput:
    handler_id: int | None = None


@dataclass(frozen=True)
class ProposalInput:
    proposal: str = ""
    outcome: str = ""
    responsible_unit: str = ""


@dataclass(frozen=True)
class CommentsInput:
    comments: str = ""


@dataclass(frozen=True)
class ReviewRequestInput:
    reason: str = ""
    requested_at: datetime | None = None
    on_behalf: bool = True


@dataclass(frozen=True)
class ReviewDecisionInput:
    decision: str = ""
    opinion: str = ""


def _open(action: str) -> Callable[[Staff, Case], bool]:
    """What the records say about ``action`` now (whose signature is due, which review is next)."""
    return lambda actor, case: records.action_open(actor, case, action)


_DISPATCH_FIELDS = ("complainant_kind", "department", "assisting", "handler", "instructions", "due_at")


def _spec(name: str, input: type, service: Callable[..., Case], form_fields: tuple[str, ...], **kw: Any) -> ActionSpec:
    return ActionSpec(name, input, service, form_fields, customize_form=action_form_choices, owner="handling", **kw)


SPECS: tuple[ActionSpec, ...] = (
    _spec("not_accept", NotAcceptInput, case_not_accept, ("ground", "refer_to", "note"), available=_open("not_accept")),
    _spec(
        "not_reaccept",
        NotReacceptInput,
        case_not_reaccept,
        ("reaccept_ground", "note"),
        available=_open("not_reaccept"),
    ),
    _spec("return", ReturnInput, case_return, ("reason", "returned_to"), available=_open("return")),
    _spec("transfer", TransferInput, case_transfer, ("to_body", "note")),
    _spec("dispatch", DispatchInput, case_dispatch, _DISPATCH_FIELDS, available=_open("dispatch")),
    _spec("redispatch", DispatchInput, case_redispatch, _DISPATCH_FIELDS, available=_open("redispatch")),
    _spec("sign_for", SignForInput, case_sign_for, ("handler",), available=_open("sign_for")),
    _spec("send_back", ReasonInput, case_send_back, ("reason",), available=_open("send_back")),
    _spec(
        "submit_for_approval",
        ProposalInput,
        case_submit_for_approval,
        ("outcome", "proposal", "responsible_unit"),
        available=_open("submit_for_approval"),
    ),
    _spec("approve", CommentsInput, case_approve, ("comments",), available=_open("approve")),
    _spec("reject_approval", ReasonInput, case_reject_approval, ("reason",), available=_open("reject_approval")),
    _spec(
        "request_review",
        ReviewRequestInput,
        case_request_review,
        ("reason", "requested_at"),
        available=_open("request_review"),
    ),
    _spec(
        "request_rereview",
        ReviewRequestInput,
        case_request_rereview,
        ("reason", "requested_at"),
        available=_open("request_rereview"),
    ),
    _spec(
        "decide_review",
        ReviewDecisionInput,
        case_decide_review,
        ("decision", "opinion"),
        available=_open("decide_review"),
    ),
    _spec(
        "decide_rereview",
        ReviewDecisionInput,
        case_decide_rereview,
        ("decision", "opinion"),
        available=_open("decide_rereview"),
    ),
)
