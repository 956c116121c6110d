"""The steps a policy makes mandatory (``presets.RequiredSteps``), checked where the case
would move on without them. Each check reads the case's own copy of its policy
(``cases.workflow.required_step``: copied at registration) and refuses with the form field
at fault and a Chinese message saying what is missing and where to do it; the case page
shows the same hints beside the records (``hints``), so a step is seen before it is refused.

* submit for approval — investigation records signed by the interviewee, the responsible
  unit named, the proposal submitted by the case's handler (construction station, seeds/000
  行 8–9);
* naming assisting handlers — by the role the policy names (行 8: 经主管站长同意);
* notifying the responsible unit — only after the approval chain signed (行 10);
* the answer — after the accepted rectification plan was told to the complainant (行 11),
  after an investigation (hospital, 行 286).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.models import Case
from huiyin.cases.workflow import CaseState, required_step
from huiyin.core.errors import ValidationFailed
from huiyin.orgs.models import Staff

from .models import Investigation, InvestigationKind, Outcome, PlanVerdict, Proposal, ProposalStatus, Rectification
from .records import role_label


def unsigned_investigations(case: Case) -> list[Investigation]:
    return list(Investigation.objects.filter(case=case, round=case.round, confirmation="").order_by("occurred_at"))


def _investigation_errors(case: Case) -> list[str]:
    if not required_step(case.stage_switches, "signed_investigation"):
        return []
    if not Investigation.objects.filter(case=case, round=case.round).exists():
        return [_("调查笔录：本单位政策规定须按工作方案调查并记录调查笔录（经被调查人签字），再提出处理原则报审批。")]
    unsigned = unsigned_investigations(case)
    if unsigned:
        which = "、".join(
            f"{i.get_kind_display()}（{timezone.localtime(i.occurred_at):%m-%d %H:%M}）" for i in unsigned[:3]
        )
        return [
            _("调查笔录：%(which)s 尚未经被调查人签字确认；调查材料须有被调查人认可签字，签字后才能提交审批。")
            % {"which": which}
        ]
    return []


def check_proposal(case: Case, *, actor: Staff, responsible_unit: str) -> None:
    """Before a proposal goes to approval: every required step, all refusals at once."""
    errors: dict[str, list[str]] = {}
    if required_step(case.stage_switches, "proposal_by_handler"):
        if case.handler_id is None:
            errors["proposal"] = [_("拟办意见：本单位政策规定调查报告由承办人负责，请先指定承办人。")]
        elif case.handler_id != actor.pk:
            errors["proposal"] = [
                _("拟办意见：本单位政策规定调查报告由承办人%(name)s负责提交，协办人仅协助调查。")
                % {"name": case.handler}
            ]
    if required_step(case.stage_switches, "proposal_names_unit") and not responsible_unit.strip():
        errors["responsible_unit"] = [_("责任单位：本单位政策规定须初步确定责任单位，再提出处理原则报审批，请填写。")]
    found = _investigation_errors(case)
    if found:
        errors["investigations"] = found
    if errors:
        raise ValidationFailed(errors)


def check_helpers(case: Case, *, actor: Staff, helper_ids: set[int]) -> None:
    """Adding assisting handlers needs the consent of the role the policy names."""
    role = required_step(case.stage_switches, "helpers_named_by")
    if not role or role in (actor.roles or []):
        return
    already = set(case.assisting_handlers.values_list("pk", flat=True))
    if helper_ids - already:
        raise ValidationFailed(
            {
                "assisting_handlers": [
                    _("协办人：本单位政策规定确需协办人时须经%(role)s同意，请由%(role)s指定协办人。")
                    % {"role": role_label(role)}
                ]
            }
        )


def notice_refusal(case: Case) -> str | None:
    """Why the responsible unit may not be notified yet (the handling principle unsigned)."""
    if not required_step(case.stage_switches, "notice_after_approval"):
        return None
    signed = Proposal.objects.filter(case=case, round=case.round, status=ProposalStatus.APPROVED).exists()
    if case.state != CaseState.APPROVED or not signed:
        return _("责任单位：本单位政策规定处理原则须经审批签发后，才能通知责任单位整改；请先提交审批。")
    return None


def check_notice(case: Case) -> None:
    refusal = notice_refusal(case)
    if refusal:
        raise ValidationFailed({"unit": [refusal]})


def reply_refusal(case: Case) -> str | None:
    """Why the complainant may not be answered yet: the accepted rectification plan not
    told to them; no investigation, or no written account of the person complained about,
    where the policy wants one first."""
    if (
        required_step(case.stage_switches, "investigation_before_reply")
        and not Investigation.objects.filter(case=case, round=case.round).exists()
    ):
        return _("答复内容：本单位政策规定须先对投诉的问题进行调查了解（调查记录），再提出处理意见答复。")
    if (
        required_step(case.stage_switches, "respondent_statement_before_reply")
        and not Investigation.objects.filter(case=case, round=case.round, kind=InvestigationKind.STATEMENT).exists()
    ):
        return _(
            "答复内容：本单位政策规定被投诉人的书面情况须备案：请先添加类别为“被投诉人书面情况”的调查记录"
            "（投诉不涉及具体人员的，在该记录中注明），再答复。"
        )
    if required_step(case.stage_switches, "plan_told_before_reply"):
        rows = list(Rectification.objects.filter(case=case, round=case.round))
        if not rows:
            proposal = (
                Proposal.objects.filter(case=case, round=case.round, status=ProposalStatus.APPROVED)
                .order_by("-id")
                .first()
            )
            if proposal is not None and proposal.outcome in (Outcome.RESOLVED, Outcome.PARTLY):
                return _("答复内容：处理原则要求整改：请先通知责任单位整改，并将其整改方案告知反映人，再答复。")
        untold = [r for r in rows if r.complainant_informed_at is None]
        if untold:
            r = untold[0]
            if r.verdict != PlanVerdict.ACCEPTED:
                return _("答复内容：%(unit)s的整改方案尚未审核通过；本单位政策规定须将整改方案告知反映人后再答复。") % {
                    "unit": r.unit
                }
            return _("答复内容：请先将%(unit)s的整改方案告知反映人（整改通知与整改方案 → 已告知反映人），再答复。") % {
                "unit": r.unit
            }
    return None


def check_reply(case: Case) -> None:
    """The subscriber table's guard on ``reply``."""
    refusal = reply_refusal(case)
    if refusal:
        raise ValidationFailed({"reply": [refusal]})


def hints(case: Case) -> dict[str, str]:
    """What the case page shows beside the records before anyone tries to move on."""
    out: dict[str, str] = {}
    if case.state == CaseState.IN_PROGRESS and required_step(case.stage_switches, "signed_investigation"):
        found = _investigation_errors(case)
        if found:
            out["investigations"] = found[0]
    if case.state in (CaseState.IN_PROGRESS, CaseState.PENDING_APPROVAL):
        refusal = notice_refusal(case)
        if refusal:
            out["notice"] = refusal
    if case.state in (CaseState.IN_PROGRESS, CaseState.APPROVED):
        refusal = reply_refusal(case)
        if refusal:
            out["reply"] = refusal
    return out
