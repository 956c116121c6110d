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

from django.db import models
from django.utils.translation import gettext_lazy as _

from huiyin.orgs.roles import Cap


class CaseState(models.TextChoices):
    REGISTERED = "registered", _("已登记")  # in the ledger, acceptance not yet decided
    ACCEPTED = "accepted", _("已受理")  # accepted, waiting to be dispatched
    NOT_ACCEPTED = "not_accepted", _("不予受理")  # ground + body to turn to (F10)
    NOT_REACCEPTED = "not_reaccepted", _("不再受理")  # already reviewed / review not requested in time
    RETURNED = "returned", _("已退回")  # out of scope, returned to writer or forwarding body
    TRANSFERRED = "transferred", _("已转送")  # transferred to an external competent body
    DISPATCHED = "dispatched", _("已派遣")  # sent to a lead department, waiting for sign-for
    IN_PROGRESS = "in_progress", _("办理中")  # signed for, being investigated and handled
    PENDING_APPROVAL = "pending_approval", _("待审批")  # handler's proposal awaits the leader
    REPLIED = "replied", _("已答复")  # the complainant has been answered
    CLOSED = "closed", _("已办结")
    ARCHIVED = "archived", _("已归档")  # read-only


class Stage(models.TextChoices):
    """Lifecycle stages a policy preset may switch on or off."""

    APPROVAL = "approval", _("审批")
    CALLBACK = "callback", _("回访")


DEFAULT_STAGES: dict[str, bool] = {Stage.APPROVAL: True, Stage.CALLBACK: True}


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    action: str
    label: str
    cap: str
    requires_stage: str | None = None  # edge exists only when this stage is on
    skips_stage: str | None = None  # edge exists only when this stage is off


S = CaseState
EDGES: tuple[Edge, ...] = (
    # Acceptance decision (F10; seeds/000 第五条, 信访工作条例 第二十五条)
    Edge(S.REGISTERED, S.ACCEPTED, "accept", _("受理"), Cap.DECIDE),
    Edge(S.REGISTERED, S.NOT_ACCEPTED, "not_accept", _("不予受理"), Cap.DECIDE),
    Edge(S.REGISTERED, S.NOT_REACCEPTED, "not_reaccept", _("不再受理"), Cap.DECIDE),
    Edge(S.REGISTERED, S.RETURNED, "return", _("退回"), Cap.DECIDE),
    Edge(S.REGISTERED, S.TRANSFERRED, "transfer", _("转送"), Cap.DECIDE),
    # Consultations answered at intake (F06): still counted, still callback-eligible
    Edge(S.REGISTERED, S.REPLIED, "answer_on_spot", _("当场答复"), Cap.REGISTER),
    # Dispatch to a lead department (F11); the department signs for or sends back
    Edge(S.ACCEPTED, S.DISPATCHED, "dispatch", _("派遣"), Cap.DISPATCH),
    Edge(S.DISPATCHED, S.IN_PROGRESS, "sign_for", _("签收"), Cap.HANDLE),
    Edge(S.DISPATCHED, S.ACCEPTED, "send_back", _("退单"), Cap.HANDLE),
    # Proposal and approval (F21), switchable per preset
    Edge(S.IN_PROGRESS, S.PENDING_APPROVAL, "submit_for_approval", _("提交审批"), Cap.HANDLE,
         requires_stage=Stage.APPROVAL),
    Edge(S.PENDING_APPROVAL, S.REPLIED, "approve", _("审批通过并答复"), Cap.APPROVE,
         requires_stage=Stage.APPROVAL),
    Edge(S.PENDING_APPROVAL, S.IN_PROGRESS, "reject_approval", _("退回重办"), Cap.APPROVE,
         requires_stage=Stage.APPROVAL),
    Edge(S.IN_PROGRESS, S.REPLIED, "reply", _("答复"), Cap.HANDLE, skips_stage=Stage.APPROVAL),
    # Closure (F25); with the callback stage on, closing records the callback result
    Edge(S.REPLIED, S.CLOSED, "close", _("办结"), Cap.CLOSE),
    # Reopening (重办) starts a new handling round; the old one is kept
    Edge(S.REPLIED, S.ACCEPTED, "reopen", _("重办"), Cap.REOPEN),
    Edge(S.CLOSED, S.ACCEPTED, "reopen", _("重办"), Cap.REOPEN),
    # Archive: read-only from then on
    Edge(S.CLOSED, S.ARCHIVED, "archive", _("归档"), Cap.ARCHIVE),
    Edge(S.NOT_ACCEPTED, S.ARCHIVED, "archive", _("归档"), Cap.ARCHIVE),
    Edge(S.NOT_REACCEPTED, S.ARCHIVED, "archive", _("归档"), Cap.ARCHIVE),
    Edge(S.RETURNED, S.ARCHIVED, "archive", _("归档"), Cap.ARCHIVE),
    Edge(S.TRANSFERRED, S.ARCHIVED, "archive", _("归档"), Cap.ARCHIVE),
)

TERMINAL_STATES = frozenset({S.ARCHIVED})
OPEN_STATES = frozenset({S.REGISTERED, S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.PENDING_APPROVAL})


def stages_with_defaults(switches: Mapping[str, bool] | None) -> dict[str, bool]:
    merged = dict(DEFAULT_STAGES)
    merged.update({k: bool(v) for k, v in (switches or {}).items() if k in DEFAULT_STAGES})
    return merged


def edge_applies(edge: Edge, stages: Mapping[str, bool]) -> bool:
    if edge.requires_stage and not stages.get(edge.requires_stage, True):
        return False
    return not (edge.skips_stage and stages.get(edge.skips_stage, True))


def edges_from(state: str, switches: Mapping[str, bool] | None = None) -> list[Edge]:
    stages = stages_with_defaults(switches)
    return [e for e in EDGES if e.src == state and edge_applies(e, stages)]


def find_edge(state: str, action: str, switches: Mapping[str, bool] | None = None) -> Edge | None:
    return next((e for e in edges_from(state, switches) if e.action == action), None)


def state_label(state: str) -> str:
    try:
        return str(CaseState(state).label)
    except ValueError:
        return state


def mermaid_diagram() -> str:
    """The lifecycle as a Mermaid state diagram, generated from EDGES."""
    lines = ["stateDiagram-v2", "    [*] --> registered"]
    for e in EDGES:
        note = ""
        if e.requires_stage:
            note = f" [{e.requires_stage} on]"
        elif e.skips_stage:
            note = f" [{e.skips_stage} off]"
        lines.append(f"    {e.src} --> {e.dst}: {e.action}{note}")
    lines.append("    archived --> [*]")
    return "\n".join(lines)
