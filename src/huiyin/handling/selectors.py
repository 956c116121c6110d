"""Reads for handling: queues and the case page's handling panels."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from huiyin.cases.models import Case
from huiyin.cases.workflow import OPEN_STATES, REVIEW_STATES, CaseState
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap

from . import permissions, records
from .models import (
    AuthorityRequest,
    Dispatch,
    DispatchStatus,
    Document,
    DocumentStatus,
    Investigation,
    JointHandling,
    Proposal,
    ProposalStatus,
    Rectification,
    Review,
)


def with_send_back(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Annotate the last send-back reason and department, for the dispatcher's queue."""
    last = Dispatch.objects.filter(case=OuterRef("pk"), is_lead=True).order_by("-id")
    return cases.annotate(
        sent_back_reason=Subquery(last.filter(status=DispatchStatus.SENT_BACK).values("reason")[:1]),
        sent_back_by=Subquery(last.filter(status=DispatchStatus.SENT_BACK).values("department__name")[:1]),
    )


def awaiting_my_signature(actor: Staff, cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases whose pending proposal waits for a level this person can sign."""
    pending = cases.filter(state="pending_approval").filter(
        Exists(Proposal.objects.filter(case=OuterRef("pk"), status=ProposalStatus.PENDING))
    )
    if not (actor.can(Cap.VIEW_ALL) or actor.is_dept_head):
        return pending.none()
    if not actor.can(Cap.VIEW_ALL):
        pending = pending.filter(lead_department_id=actor.department_id)
    # The chain is short; the exact level check runs per case (a desk shows 15 rows).
    ids = [
        c.pk
        for c in pending.select_related(None).only("pk", "round", "lead_department_id")[:200]
        if _can_sign(actor, c)
    ]
    return cases.filter(pk__in=ids)


def _can_sign(actor: Staff, case: Case) -> bool:
    proposal = records.pending_proposal(case)
    return proposal is not None and permissions.may_sign(actor, case, proposal)


# The states in which the lead department's head names (or renames) the handler.
ASSIGNABLE_STATES = frozenset({CaseState.DISPATCHED, CaseState.IN_PROGRESS, CaseState.APPROVED})


@dataclass(frozen=True)
class HandlingCapabilities:
    """What the actor may start from the handling panel; the panel reads these, never the roles."""

    assign: bool  # name the handler and assisting handlers
    convene: bool  # call a joint handling
    approve_documents: bool  # approve a draft result report
    set_authority: bool  # record a higher authority's request for a result report
    conclude_joints: frozenset[int]  # the joint handlings (ids) whose outcome this actor records
    investigate: bool = False  # add investigation records and their signatures
    steer: bool = False  # the lead's steps: rectification notice and plan, sending the result report
    issue_documents: bool = False


def handling_capabilities(actor: Staff, case: Case, joints: Iterable[JointHandling] = ()) -> HandlingCapabilities:
    """The panel's flags; ``joints`` are the case's joint handlings the panel lists."""
    working = case.state in OPEN_STATES | REVIEW_STATES
    return HandlingCapabilities(
        assign=case.state in ASSIGNABLE_STATES and permissions.may_assign_handler(actor, case),
        convene=permissions.may_convene_joint(actor, case),
        approve_documents=permissions.may_approve_document(actor),
        set_authority=working and permissions.may_set_authority_request(actor, case),
        conclude_joints=frozenset(j.pk for j in joints if permissions.may_conclude_joint(actor, j)),
        investigate=working and permissions.may_work_on_case(actor, case),
        steer=permissions.may_steer_handling(actor, case),
        issue_documents=case.state != CaseState.ARCHIVED and permissions.may_issue_document(actor, case),
    )


# What the handling panel lists, by the model each list is read from.
PANEL_RECORDS = {
    "dispatches": Dispatch,
    "investigations": Investigation,
    "proposals": Proposal,
    "rectifications": Rectification,
    "documents": Document,
    "reviews": Review,
    "joints": JointHandling,
    "authority": AuthorityRequest,
}


def _records_present(case: Case) -> dict[str, bool]:
    """Which of the panel's lists have anything, in one statement: most cases have a dispatch
    and a document or two, few have an investigation, a proposal, a review or joint
    handling, and each list read for nothing costs a statement of its own."""
    probes = {
        f"has_{name}": Exists(model._default_manager.filter(case=OuterRef("pk")))
        for name, model in PANEL_RECORDS.items()
    }
    row = Case.objects.filter(pk=case.pk).values(**probes).first() or {}
    return {name: bool(row.get(f"has_{name}")) for name in PANEL_RECORDS}


def review_request_window(case: Case) -> tuple[int, datetime | None] | None:
    """(level, last moment) of the review (复查, level 1) or re-review (复核, level 2) the
    complainant may still ask for: while the case waits in 已答复, the preset has reviews,
    and that level was not requested yet; None otherwise. The moment is None when the
    preset gives no ``review_request`` limit."""
    if case.state != CaseState.REPLIED:
        return None
    preset = records.preset_of(case)
    if preset is None or preset.review is None or not (case.stage_switches or {}).get("review", True):
        return None
    levels = {r.level: r for r in Review.objects.filter(case=case)}
    if 1 not in levels:
        level = 1
    elif 2 not in levels and levels[1].decided_at is not None:
        level = 2
    else:
        return None
    _answered, due = records.review_limit(case, level)
    return level, due


def handling_panel(case: Case) -> dict:
    """Everything the case page shows about the handling, all rounds, oldest first."""
    present = _records_present(case)

    def read(name: str, rows: Callable[[], QuerySet[Any]]) -> list[Any]:
        return list(rows()) if present[name] else []

    proposals = read(
        "proposals",
        lambda: Proposal.objects.filter(case=case).prefetch_related("steps__decided_by").select_related("submitted_by"),
    )
    for p in proposals:
        p.step_list = list(p.steps.all())
        for step in p.step_list:
            step.role_label = records.role_label(step.role)
        p.due_role = (
            records.role_label(p.chain[len(p.step_list)])
            if p.status == ProposalStatus.PENDING and len(p.step_list) < len(p.chain)
            else ""
        )
        p.chain_labels = [records.role_label(r) for r in p.chain]
    return {
        "dispatches": read(
            "dispatches",
            lambda: Dispatch.objects.filter(case=case).select_related("department", "dispatched_by", "answered_by"),
        ),
        "investigations": read(
            "investigations",
            lambda: (
                Investigation.objects.filter(case=case)
                .select_related("recorded_by", "signature")
                .prefetch_related("attachments")
            ),
        ),
        "proposals": proposals,
        "rectifications": read(
            "rectifications",
            lambda: Rectification.objects.filter(case=case).select_related("notified_by", "checked_by"),
        ),
        "documents": read(
            "documents", lambda: Document.objects.filter(case=case).select_related("created_by", "approved_by")
        ),
        "reviews": read("reviews", lambda: case.reviews.select_related("requested_by", "decided_by")),
        "joints": read(
            "joints",
            lambda: (
                JointHandling.objects.filter(case=case)
                .select_related("coordinator")
                .prefetch_related("parts__department", "parts__recorded_by")
            ),
        ),
        "authority": (
            AuthorityRequest.objects.filter(case=case).select_related("report").first()
            if present["authority"]
            else None
        ),
        "concluded_matters": records.concluded_matters(case),
        "review_window": _review_window_shown(case),
    }


def _review_window_shown(case: Case) -> dict[str, Any] | None:
    window = review_request_window(case)
    if window is None:
        return None
    level, due = window
    if due is None:
        return None
    return {"level": level, "due": due, "passed": timezone.now() > due}


# --- the desk's sections (huiyin/subscribers.py, DESK_SECTIONS) --------------------------------------


def desk_approvals(actor: Staff, base: QuerySet[Case]) -> QuerySet[Case] | None:
    return awaiting_my_signature(actor, base) if actor.can(Cap.APPROVE) else None


def desk_to_dispatch(actor: Staff, base: QuerySet[Case]) -> QuerySet[Case] | None:
    if not (actor.can(Cap.DISPATCH) and actor.can(Cap.VIEW_ALL)):
        return None
    return with_send_back(base.filter(state=CaseState.ACCEPTED))


# --- the complainant's own letters (the public status page and the portal) ----------------------

# A document reaches the complainant once issued (a draft is not), or after it was sent on.
LETTER_STATUSES = (DocumentStatus.ISSUED, DocumentStatus.SENT)


def complainant_letters(case: Case) -> QuerySet[Document]:
    """The documents issued to the case's complainant (受理告知书, 答复意见书, 复查意见书, 延期告知...),
    oldest first: addressed to the case's own party and to no department, unit or body, and
    issued. Never a handling notice to a department, a rectification notice to a unit, a
    report to a higher authority, a letter returning or transferring the matter to another
    body, or a draft — nor anything of another case."""
    if case.party_id is None:
        return Document.objects.none()
    return Document.objects.filter(
        case=case, to_party_id=case.party_id, addressee="", status__in=LETTER_STATUSES
    ).order_by("created_at", "pk")


def complainant_letter(case: Case, document_id: int) -> Document | None:
    """One of ``complainant_letters(case)``, or None (another case's, an internal document, a draft, none)."""
    return complainant_letters(case).select_related("case__organization", "to_party").filter(pk=document_id).first()
