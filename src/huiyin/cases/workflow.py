"""The case lifecycle: one explicit transition table, pure and drawable.

Each edge names the action (a service verb) that takes it and the capability
it needs. Stages a policy may switch off (approval, callback) are expressed as
edges that exist only when the stage is on or only when it is off, so the
table itself answers "what may happen now" for any policy. The diagram in
docs/architecture.md is generated from ``EDGES`` (``huiyin lifecycle-diagram``)
and a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from huiyin.orgs.roles import Cap
from huiyin.policy.labels import preset_label
from huiyin.policy.stages import DEFAULT_STAGES, Stage, stages_with_defaults  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class CaseState(models.TextChoices):
    REGISTERED = "registered", _("已登记")  # in the ledger, acceptance not yet decided
    ACCEPTED = "accepted", _("已受理")  # accepted, waiting to be dispatched
    NOT_ACCEPTED = "not_accepted", _("不予受理")  # ground + body to turn to (F10)
    NOT_REACCEPTED = "not_reaccepted", _("不再受理")  # already reviewed / review not requested in time
    RETURNED = "returned", _("已退回")  # out of scope, returned to writer or forwarding body
    TRANSFERRED = "transferred", _("已转送")  # transferred to an external competent body
    MERGED = "merged", _("已合并")  # a duplicate merged into the case that handles the matter (triage)
    DISPATCHED = "dispatched", _("已派遣")  # sent to a lead department, waiting for sign-for
    IN_PROGRESS = "in_progress", _("办理中")  # signed for, being investigated and handled
    PENDING_APPROVAL = "pending_approval", _("待审批")  # handler's proposal awaits the approvers
    APPROVED = "approved", _("已审批")  # proposal approved: notify the unit, answer the complainant
    REPLIED = "replied", _("已答复")  # the complainant has been answered
    UNDER_REVIEW = "under_review", _("复查中")  # the complainant asked the higher body to review
    UNDER_REREVIEW = "under_rereview", _("复核中")  # ...and, after the review, to re-review
    CLOSED = "closed", _("已办结")
    ARCHIVED = "archived", _("已归档")  # read-only


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    action: str
    label: StrOrPromise  # lazily translated
    cap: str
    requires_stage: str | tuple[str, ...] = ()  # edge exists only when these stages are on
    skips_stage: str | tuple[str, ...] = ()  # edge exists only when these stages are off

    @property
    def requires(self) -> tuple[str, ...]:
        return _tuple(self.requires_stage)

    @property
    def skips(self) -> tuple[str, ...]:
        return _tuple(self.skips_stage)


def _tuple(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


S = CaseState
EDGES: tuple[Edge, ...] = (
    # Acceptance decision (F10; seeds/000 第五条, 信访工作条例 第二十五条)
    Edge(S.REGISTERED, S.ACCEPTED, "accept", _("受理"), Cap.DECIDE, requires_stage=Stage.ACCEPTANCE),
    Edge(S.REGISTERED, S.NOT_ACCEPTED, "not_accept", _("不予受理"), Cap.DECIDE),
    Edge(S.REGISTERED, S.NOT_REACCEPTED, "not_reaccept", _("不再受理"), Cap.DECIDE),
    Edge(S.REGISTERED, S.RETURNED, "return", _("退回"), Cap.DECIDE),
    Edge(S.REGISTERED, S.TRANSFERRED, "transfer", _("转送"), Cap.DECIDE),
    # A duplicate of a case being handled, merged into it before any department took it
    # (issue 19: its contacts and complainant go to the case that handles the matter).
    Edge(S.REGISTERED, S.MERGED, "merge", _("合并"), Cap.DECIDE),
    Edge(S.ACCEPTED, S.MERGED, "merge", _("合并"), Cap.DECIDE),
    # Consultations answered at intake (F06): still counted, still callback-eligible
    Edge(S.REGISTERED, S.REPLIED, "answer_on_spot", _("当场答复"), Cap.REGISTER),
    # Dispatch to a lead department (F11); the department signs for or sends back.
    # Without an acceptance decision (首问负责: every complaint is taken) the desk
    # dispatches straight from the ledger; without sign-for the department has it at once.
    Edge(
        S.REGISTERED,
        S.DISPATCHED,
        "dispatch",
        _("派遣"),
        Cap.DISPATCH,
        requires_stage=Stage.SIGN_FOR,
        skips_stage=Stage.ACCEPTANCE,
    ),
    Edge(
        S.REGISTERED, S.IN_PROGRESS, "dispatch", _("派遣"), Cap.DISPATCH, skips_stage=(Stage.ACCEPTANCE, Stage.SIGN_FOR)
    ),
    Edge(S.ACCEPTED, S.DISPATCHED, "dispatch", _("派遣"), Cap.DISPATCH, requires_stage=Stage.SIGN_FOR),
    Edge(S.ACCEPTED, S.IN_PROGRESS, "dispatch", _("派遣"), Cap.DISPATCH, skips_stage=Stage.SIGN_FOR),
    Edge(S.DISPATCHED, S.DISPATCHED, "redispatch", _("改派"), Cap.DISPATCH),
    Edge(S.DISPATCHED, S.IN_PROGRESS, "sign_for", _("签收"), Cap.HANDLE),
    Edge(S.DISPATCHED, S.ACCEPTED, "send_back", _("退单"), Cap.HANDLE),
    # Proposal and approval (F21), switchable per preset; the approvers sign in the
    # preset's order (approval.chain), the last one moves the case on.
    Edge(
        S.IN_PROGRESS,
        S.PENDING_APPROVAL,
        "submit_for_approval",
        _("提交审批"),
        Cap.HANDLE,
        requires_stage=Stage.APPROVAL,
    ),
    Edge(S.PENDING_APPROVAL, S.APPROVED, "approve", _("审批通过"), Cap.APPROVE, requires_stage=Stage.APPROVAL),
    Edge(
        S.PENDING_APPROVAL, S.IN_PROGRESS, "reject_approval", _("退回修改"), Cap.APPROVE, requires_stage=Stage.APPROVAL
    ),
    # Reply to the complainant (F24)
    Edge(S.APPROVED, S.REPLIED, "reply", _("答复"), Cap.HANDLE, requires_stage=Stage.APPROVAL),
    Edge(S.IN_PROGRESS, S.REPLIED, "reply", _("答复"), Cap.HANDLE, skips_stage=Stage.APPROVAL),
    # Closure (F25); with the callback stage on, closing records the callback result
    Edge(S.REPLIED, S.CLOSED, "close", _("办结"), Cap.CLOSE),
    # Reopening (重办) starts a new handling round; the old one is kept
    Edge(S.REPLIED, S.ACCEPTED, "reopen", _("重办"), Cap.REOPEN),
    Edge(S.CLOSED, S.ACCEPTED, "reopen", _("重办"), Cap.REOPEN),
    # Review and re-review (复查 / 复核, F26; 信访工作条例 第三十五条): requested within the
    # preset's limit of the written answer; the re-review opinion is final.
    Edge(S.REPLIED, S.UNDER_REVIEW, "request_review", _("请求复查"), Cap.REGISTER, requires_stage=Stage.REVIEW),
    Edge(S.UNDER_REVIEW, S.REPLIED, "decide_review", _("复查意见"), Cap.REVIEW, requires_stage=Stage.REVIEW),
    Edge(S.REPLIED, S.UNDER_REREVIEW, "request_rereview", _("请求复核"), Cap.REGISTER, requires_stage=Stage.REVIEW),
    Edge(S.UNDER_REREVIEW, S.CLOSED, "decide_rereview", _("复核意见"), Cap.REVIEW, requires_stage=Stage.REVIEW),
    # Archive: read-only from then on
    Edge(S.CLOSED, S.ARCHIVED, "archive", _("归档"), Cap.ARCHIVE),
    Edge(S.NOT_ACCEPTED, S.ARCHIVED, "archive", _("归档"), Cap.ARCHIVE),
    Edge(S.NOT_REACCEPTED, S.ARCHIVED, "archive", _("归档"), Cap.ARCHIVE),
    Edge(S.RETURNED, S.ARCHIVED, "archive", _("归档"), Cap.ARCHIVE),
    Edge(S.TRANSFERRED, S.ARCHIVED, "archive", _("归档"), Cap.ARCHIVE),
    Edge(S.MERGED, S.ARCHIVED, "archive", _("归档"), Cap.ARCHIVE),
)

OPEN_STATES = frozenset({S.REGISTERED, S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.PENDING_APPROVAL, S.APPROVED})
# The higher body is working on the matter again: its own clock runs (review_decision).
REVIEW_STATES = frozenset({S.UNDER_REVIEW, S.UNDER_REREVIEW})


def edge_applies(edge: Edge, stages: Mapping[str, bool]) -> bool:
    if any(not stages.get(stage, True) for stage in edge.requires):
        return False
    return not any(stages.get(stage, True) for stage in edge.skips)


def edges_from(state: str, switches: Mapping[str, bool] | None = None) -> list[Edge]:
    stages = stages_with_defaults(switches)
    return [e for e in EDGES if e.src == state and edge_applies(e, stages)]


def find_edge(state: str, action: str, switches: Mapping[str, bool] | None = None) -> Edge | None:
    return next((e for e in edges_from(state, switches) if e.action == action), None)


def required_step(switches: Mapping[str, Any] | None, name: str) -> Any:
    """A step the case's policy makes mandatory (``presets.RequiredSteps``, copied into the
    case's ``stage_switches`` at registration): its value, or None when not required."""
    return ((switches or {}).get("required_steps") or {}).get(name) or None


def channel_acceptor(switches: Mapping[str, Any] | None, channel: str) -> dict[str, str] | None:
    """Who alone decides acceptance of a case of ``channel`` under its policy
    (``presets.ChannelAcceptor``, copied into ``stage_switches`` at registration): the
    department code and how to name them, or None when anyone who may decide does."""
    rule = ((switches or {}).get("accepted_by") or {}).get(channel)
    return dict(rule) if rule else None


def complainant_kinds(switches: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The kinds of complainant the policy has the intake record, in its order, each with
    the code and name of the office that receives it (``presets.ComplainantKind``, copied
    into ``stage_switches`` at registration); empty where the policy has none."""
    return [dict(k) for k in (switches or {}).get("complainant_kinds") or ()]


def complainant_kind(switches: Mapping[str, Any] | None, code: str) -> dict[str, str] | None:
    """The policy's kind ``code`` (label, receiving office), or None when it has no such kind."""
    return next((k for k in complainant_kinds(switches) if code and k["code"] == code), None)


def receiving_office_name(kind: Mapping[str, str]) -> str:
    """How the policy names the office that receives a kind of complainant (its code when
    unnamed), in the active language."""
    return preset_label(kind.get("department_label") or "") or kind["department"]


def complainant_kind_name(kind: Mapping[str, str]) -> str:
    """A kind of complainant as the policy names it, in the active language."""
    return preset_label(kind["label"])


def state_label(state: str) -> str:
    try:
        return str(CaseState(state).label)
    except ValueError:
        return state


def mermaid_diagram() -> str:
    """The lifecycle as a Mermaid state diagram, generated from EDGES."""
    lines = ["stateDiagram-v2", "    [*] --> registered"]
    for e in EDGES:
        conditions = [f"{s} on" for s in e.requires] + [f"{s} off" for s in e.skips]
        note = f" [{', '.join(conditions)}]" if conditions else ""
        lines.append(f"    {e.src} --> {e.dst}: {e.action}{note}")
    lines.append("    archived --> [*]")
    return "\n".join(lines)
