"""What the lifecycle's steps produce, written inside their transitions.

``cases.services`` calls these from a transition's ``apply`` (case row locked, one
transaction), so a dispatch, a signature or a review request is recorded together with
the state change it causes, or not at all. Checks that need the policy (grounds,
limits, approval chain, review bodies) live here too, next to the records they guard.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases import selectors as case_selectors
from huiyin.cases.models import Case, CaseRound
from huiyin.core.errors import ApplicationError, PermissionDeniedError, ValidationFailed
from huiyin.deadlines.services import policy_version_for_case
from huiyin.deadlines.services.clocks import case_plan
from huiyin.orgs.actors import Actor, staff_of
from huiyin.orgs.models import Department, Staff
from huiyin.orgs.roles import Role
from huiyin.policy.deadlines import ClockRule, schedule

from .errors import HandlingError
from .models import (
    DISPATCH_STATUSES,
    PROPOSAL_STATUSES,
    ApprovalDecision,
    ApprovalStep,
    AuthorityRequest,
    Dispatch,
    DispatchStatus,
    DocumentStatus,
    Investigation,
    Outcome,
    Proposal,
    ProposalStatus,
    Review,
    ReviewDecision,
)
from .permissions import fits_due_level, has_signed, may_sign

DEFAULT_CHAIN = ("dept_head",)


def preset_of(case: Case):
    """The preset the case was registered under, or None (no policy loaded)."""
    version = policy_version_for_case(case)
    return version.preset() if version is not None else None


def role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role


# --- which actions the records leave open -----------------------------------------------------


# The decisions that refuse a matter; none is offered where the preset forbids refusing
# (``acceptance_grounds.refusal_forbidden``, 首诉负责).
REFUSALS = frozenset({"not_accept", "not_reaccept", "return"})

# The steps whose records name the staff member who took them — the dispatch's sender, the
# department's signature, the proposer, each approver, the review body's decision: a person's
# act, never taken by a registered system (an API client) in a staff member's place.
STAFF_STEPS = frozenset(
    {
        "dispatch",
        "redispatch",
        "sign_for",
        "send_back",
        "submit_for_approval",
        "approve",
        "reject_approval",
        "decide_review",
        "decide_rereview",
    }
)


def staff_only(actor: Actor) -> Staff:
    """The staff member taking a step of ``STAFF_STEPS``; anyone else is refused (403)."""
    staff = staff_of(actor)
    if staff is None:
        raise PermissionDeniedError(_("该步骤须由工作人员本人办理，外部系统不能代办。"))
    return staff


def action_open(actor: Staff, case: Case, action: str) -> bool:
    """The records' say on an action the table and permissions allow (for the buttons)."""
    if action in STAFF_STEPS and staff_of(actor) is None:
        return False
    if action in REFUSALS:
        return not refusal_forbidden(case)
    if action in ("approve", "reject_approval"):
        proposal = pending_proposal(case)
        return proposal is not None and may_sign(actor, case, proposal)
    if action == "request_review":
        return not case.reviews.exists()
    if action == "request_rereview":
        return (
            case.reviews.filter(level=1, decided_at__isnull=False).exists()
            and not case.reviews.filter(level=2).exists()
        )
    if action == "decide_review":
        return case.reviews.filter(level=1, decided_at__isnull=True).exists()
    if action == "decide_rereview":
        return case.reviews.filter(level=2, decided_at__isnull=True).exists()
    return True


# --- acceptance decision --------------------------------------------------------------------------


def refusal_forbidden(case: Case) -> bool:
    preset = preset_of(case)
    return preset is not None and preset.acceptance_grounds.refusal_forbidden


def check_refusal_allowed(case: Case) -> None:
    """首诉负责: where the preset forbids refusing a complaint, no refusal goes through."""
    if refusal_forbidden(case):
        raise ApplicationError(
            _("本单位实行首诉负责制，投诉不得推诿、拒绝：不能不予受理、不再受理或退回，请派遣办理。"),
            code=HandlingError.REFUSAL_FORBIDDEN,
        )


def decision_ground(case: Case, key: str, *, ground: str, refer_to: str, note: str = "") -> dict[str, Any]:
    """Resolve a ground against the preset's list (``not_accepted`` / ``not_reaccepted``).

    Where the preset lists grounds, the ground must be one of them (by code or label), and
    where that ground names bodies to turn to, one of them (or another body in words)
    must be given; a ground with ``reasons_required`` needs the reasons in the note. Where
    it lists none, the ground is given in words. Refused altogether where the preset
    forbids refusing (首诉负责)."""
    check_refusal_allowed(case)
    preset = preset_of(case)
    grounds = getattr(preset.acceptance_grounds, key) if preset else ()
    if not grounds:
        return {"ground": ground, "refer_to": refer_to.strip()}
    chosen = next((g for g in grounds if ground in (g.code, g.label)), None)
    if chosen is None:
        raise ValidationFailed({"ground": [_("请从本单位政策列明的理由中选择。")]})
    bodies = {b.code: b.label for b in preset.acceptance_grounds.referral_bodies}
    refer = bodies.get(refer_to.strip(), refer_to.strip())
    if chosen.refer_to and not refer:
        raise ValidationFailed({"refer_to": [_("该理由须告知反映人向何机关、单位反映：请选择或填写。")]})
    if chosen.reasons_required and not note.strip():
        raise ValidationFailed({"note": [_("该理由须说明不属于本单位办理的理由并提出分流建议：请填写在“备注”中。")]})
    return {"ground": chosen.label, "ground_code": chosen.code, "refer_to": refer}


def ground_choices(case: Case, key: str) -> list[tuple[str, str]]:
    preset = preset_of(case)
    return [(g.code, g.label) for g in getattr(preset.acceptance_grounds, key)] if preset else []


def referral_choices(case: Case) -> list[tuple[str, str]]:
    preset = preset_of(case)
    return [(b.label, b.label) for b in preset.acceptance_grounds.referral_bodies] if preset else []


def _due(plan, rule, start: datetime) -> datetime:
    """A preset rule's due time counted from ``start`` on the case's business calendar."""
    return schedule(ClockRule.from_preset(rule), plan.calendar, timezone.localtime(start)).due_at


def return_due(case: Case) -> datetime | None:
    """When an out-of-scope matter must be returned by (the preset's ``return_within``)."""
    plan = case_plan(case)
    rule = plan.preset.acceptance_grounds.return_within if plan else None
    if rule is None:
        return None
    return _due(plan, rule, case.received_at)


def return_limit(case: Case, *, at: datetime | None = None) -> dict[str, Any]:
    due = return_due(case)
    if due is None:
        return {}
    return {"return_due_at": due, "within_limit": (at or timezone.now()) <= due}


def check_transfer_allowed(case: Case) -> None:
    preset = preset_of(case)
    if preset is not None and not preset.acceptance_grounds.self_transfer_allowed:
        raise ApplicationError(
            _("本单位政策规定不得自行转送其他单位：不属于本单位职责的，请说明理由退回来信人或原批转单位。"),
            field="to_body",
            code=HandlingError.TRANSFER_FORBIDDEN,
        )


# --- dispatch ---------------------------------------------------------------------------------------


def dispatch_recorded(
    case: Case,
    *,
    actor: Staff,
    lead: Department,
    assisting: list[Department],
    instructions: str,
    due_at: datetime | None,
    at: datetime | None = None,
) -> list[Dispatch]:
    now = at or timezone.now()
    withdrawable = DISPATCH_STATUSES.sources(DispatchStatus.WITHDRAWN)
    Dispatch.objects.filter(case=case, status__in=withdrawable).update(
        status=DispatchStatus.WITHDRAWN, answered_at=now, answered_by=actor
    )
    rows = [
        Dispatch(
            case=case,
            round=case.round,
            department=d,
            is_lead=(d == lead),
            instructions=instructions,
            due_at=due_at,
            dispatched_by=actor,
            dispatched_at=now,
        )
        for d in [lead, *assisting]
    ]
    return Dispatch.objects.bulk_create(rows)


def dispatch_answered(case: Case, *, actor: Staff, signed: bool, reason: str = "", at: datetime | None = None) -> None:
    now = at or timezone.now()
    # Only an unanswered dispatch can be signed for, sent back or withdrawn (one source in the table).
    open_rows = Dispatch.objects.filter(
        case=case, round=case.round, status__in=DISPATCH_STATUSES.sources(DispatchStatus.SIGNED)
    )
    if signed:
        open_rows.filter(is_lead=True).update(status=DispatchStatus.SIGNED, answered_by=actor, answered_at=now)
        return
    open_rows.filter(is_lead=True).update(
        status=DispatchStatus.SENT_BACK, answered_by=actor, answered_at=now, reason=reason
    )
    open_rows.update(status=DispatchStatus.WITHDRAWN, answered_at=now)


# --- proposal and approval ----------------------------------------------------------------------------


def check_outcome(outcome: str) -> str:
    if outcome not in Outcome.values:
        raise ValidationFailed({"outcome": [_("请选择处理结果。")]})
    return outcome


def approval_chain(case: Case) -> tuple[str, ...]:
    preset = preset_of(case)
    return tuple(preset.approval.chain) if preset is not None and preset.approval else DEFAULT_CHAIN


def pending_proposal(case: Case) -> Proposal | None:
    return Proposal.objects.filter(case=case, round=case.round, status=ProposalStatus.PENDING).order_by("-id").first()


def proposal_submitted(
    case: Case, *, actor: Staff, text: str, outcome: str, responsible_unit: str, at: datetime | None = None
) -> Proposal:
    return Proposal.objects.create(
        case=case,
        round=case.round,
        outcome=outcome,
        text=text,
        responsible_unit=responsible_unit,
        chain=list(approval_chain(case)),
        submitted_by=actor,
        submitted_at=at or timezone.now(),
    )


def sign_refusal(actor: Staff, case: Case, proposal: Proposal) -> str | None:
    """None when ``actor`` may sign the proposal's due level (``permissions.may_sign``), else the reason why not."""
    role = proposal.chain[proposal.next_level]
    if has_signed(actor, proposal):
        return _("您已签署过本审批，须由%(role)s签署。") % {"role": role_label(role)}
    if not fits_due_level(actor, case, proposal):
        return _("现待%(role)s审批（第 %(n)d 级，共 %(total)d 级）。") % {
            "role": role_label(role),
            "n": proposal.next_level + 1,
            "total": len(proposal.chain),
        }
    return None


def proposal_signed(
    case: Case, *, actor: Staff, approved: bool, comments: str, at: datetime | None = None
) -> tuple[ApprovalStep, bool]:
    """Sign the due level; returns the step and whether the case moves on (the last
    approval, or any return)."""
    proposal = pending_proposal(case)
    if proposal is None:
        raise ApplicationError(_("没有待审批的拟办意见。"), code=HandlingError.NO_PROPOSAL)
    refusal = sign_refusal(actor, case, proposal)
    if refusal:
        raise PermissionDeniedError(refusal)
    level = proposal.next_level
    step = ApprovalStep.objects.create(
        proposal=proposal,
        level=level + 1,
        role=proposal.chain[level],
        decision=ApprovalDecision.APPROVED if approved else ApprovalDecision.RETURNED,
        comments=comments,
        decided_by=actor,
        decided_at=at or timezone.now(),
    )
    last = not approved or level + 1 == len(proposal.chain)
    if last:
        PROPOSAL_STATUSES.move(proposal, ProposalStatus.APPROVED if approved else ProposalStatus.RETURNED)
        proposal.save(update_fields=["status"])
    return step, last


def approved_proposal(case: Case) -> Proposal | None:
    return Proposal.objects.filter(case=case, round=case.round, status=ProposalStatus.APPROVED).order_by("-id").first()


# --- closure ------------------------------------------------------------------------------------------


def check_closable(case: Case) -> None:
    request = AuthorityRequest.objects.filter(case=case).select_related("report").first()
    if request is not None and not (request.report and request.report.status == DocumentStatus.SENT):
        raise ApplicationError(
            _("该件为%(authority)s交办查处的事项：请先将查处结果报告审批后报送，再办结。")
            % {"authority": request.authority},
            code=HandlingError.REPORT_MISSING,
        )


# --- review and re-review -----------------------------------------------------------------------------


def review_limit(case: Case, level: int) -> tuple[datetime | None, datetime | None]:
    """(the answer the request is counted from, the last moment to request)."""
    if level == 1:
        answered = CaseRound.objects.filter(case=case, number=case.round).values_list("replied_at", flat=True).first()
    else:
        answered = case.reviews.filter(level=1).values_list("decided_at", flat=True).first()
    plan = case_plan(case)
    rule = plan.rule("review_request") if plan else None
    if answered is None or rule is None:
        return answered, None
    return answered, _due(plan, rule, answered)


def review_requested(case: Case, *, actor: Actor, level: int, reason: str, at: datetime, on_behalf: bool) -> Review:
    preset = preset_of(case)
    if preset is None or preset.review is None:
        raise ApplicationError(_("本单位的政策没有复查、复核环节。"), code=HandlingError.STAGE_OFF)
    if level == 2 and not case.reviews.filter(level=1, decided_at__isnull=False).exists():
        raise ApplicationError(_("须先有复查意见，才能请求复核。"), code=HandlingError.NO_REVIEW)
    if case.reviews.filter(level=level).exists():
        raise ApplicationError(_("同一事项只能请求一次复查（复核）。"), code=HandlingError.REVIEW_TWICE)
    answered, due = review_limit(case, level)
    what = _("书面答复") if level == 1 else _("复查意见")
    if answered is not None and at < answered:  # a mistyped year: a request against no answer yet
        raise ValidationFailed(
            {
                "requested_at": [
                    _("请求时间不能早于%(what)s作出的时间（%(at)s）。")
                    % {"what": what, "at": f"{timezone.localtime(answered):%Y-%m-%d %H:%M}"}
                ]
            }
        )
    if due is not None and at > due:
        raise ValidationFailed(
            {
                "requested_at": [
                    _(
                        "已超过请求期限：%(what)s于 %(answered)s 作出，须在 %(due)s 前请求。"
                        "逾期未请求的，同一事项不再受理。"
                    )
                    % {
                        "what": what,
                        "answered": f"{timezone.localtime(answered):%Y-%m-%d}",
                        "due": f"{timezone.localtime(due):%Y-%m-%d %H:%M}",
                    }
                ]
            }
        )
    body = preset.review.review_body if level == 1 else preset.review.rereview_body
    review = Review.objects.create(
        case=case,
        level=level,
        body=body,
        reason=reason,
        requested_at=at,
        requested_by=staff_of(actor),  # None: the complainant asked through the portal
        on_behalf=on_behalf,
        request_due_at=due,
    )
    return review


def review_decided(case: Case, *, actor: Staff, level: int, decision: str, opinion: str) -> Review:
    if decision not in ReviewDecision.values:
        raise ValidationFailed({"decision": [_("请选择复查（复核）结论：维持、变更或撤销。")]})
    review = case.reviews.filter(level=level, decided_at__isnull=True).first()
    if review is None:
        raise ApplicationError(_("没有待处理的复查（复核）请求。"), code=HandlingError.NO_REVIEW)
    review.decision, review.opinion = decision, opinion
    review.decided_by, review.decided_at = actor, timezone.now()
    review.save(update_fields=["decision", "opinion", "decided_by", "decided_at"])
    return review


def concluded_matters(case: Case) -> list[Case]:
    """The same complainant's matters concluded by re-review (a new submission on one of
    them is not re-accepted): same party, or a party with the same ID or phone number."""
    party = case.party
    if party is None or party.anonymous:
        return []
    # The party ids first: an OR across the case-party join scans the whole case table.
    party_ids = case_selectors.parties_matching(case.organization_id, party)
    return list(
        Case.objects.filter(party_id__in=party_ids, organization_id=case.organization_id, review_concluded=True)
        .exclude(pk=case.pk)
        .order_by("-received_at")[:5]
    )


def erase_interviewees(cases, *, dry_run: bool) -> int:
    """The retention rule (cases.retention): the names of the people interviewed on these
    cases go; the investigation records, their text and dates stay."""
    named = Investigation.objects.filter(case__in=cases).exclude(interviewee="")
    if dry_run:
        return named.count()
    return named.update(interviewee="")
