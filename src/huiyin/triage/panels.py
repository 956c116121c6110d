"""Triage's panels: on the staff intake forms (the ``intake_panels`` seam of the subscriber
table): the suggestion box the script fills as the clerk types, or the notice that triage
is off; on the case page (``case_panels``): the related cases, the merge's record and the
case's likely duplicates with the link and merge entry points. The intake form and the case
page in ``cases`` never import triage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from huiyin.cases.models import Case
from huiyin.cases.permissions import may_take
from huiyin.cases.workflow import OPEN_STATES, CaseState, find_edge
from huiyin.orgs.models import Staff

from .links import links_of
from .models import CaseLink, LinkKind
from .permissions import may_get_suggestions, may_link
from .repeats import Candidate, candidates
from .suggest import availability


def intake_panel(request: HttpRequest, channel: str) -> dict[str, Any] | None:
    user: Any = request.user
    if not may_get_suggestions(user):
        return None
    status, notice, row = availability(user.org_id)
    return {"status": status, "notice": notice, "channel": channel, "model_version": row.version if row else None}


@dataclass(frozen=True)
class LinkRow:
    link: CaseLink
    other: Case
    may_unlink: bool

    @property
    def merged_here(self) -> bool:
        """The other case was merged into this one."""
        return self.link.kind == LinkKind.MERGED and self.link.merged_into_id != self.other.pk


@dataclass(frozen=True)
class DuplicateRow:
    candidate: Candidate
    case: Case
    merge_here: bool  # the candidate may be merged into this case (合并到此件)
    merge_there: bool  # this case may be merged into the candidate (并入该件)


def _may_merge(actor: Staff, duplicate: Case, target: Case) -> bool:
    edge = find_edge(duplicate.state, "merge", duplicate.stage_switches)
    return edge is not None and target.state in OPEN_STATES and may_take(actor, duplicate, edge)


def _duplicates(actor: Staff, case: Case, linked: set[int]) -> list[DuplicateRow]:
    """This case's likely duplicates (the intake panel's search, from the case's own data)."""
    party = case.party
    found = candidates(
        actor=actor,
        phone=party.phone if party is not None and party.erased_at is None else "",
        id_number=party.id_number if party is not None and party.erased_at is None else "",
        location=case.location,
        title=case.title,
        text=case.text,
        exclude=case.pk,
    )
    found = [c for c in found if c.id not in linked]
    rows = {c.pk: c for c in Case.objects.filter(pk__in=[c.id for c in found], organization_id=case.organization_id)}
    return [
        DuplicateRow(c, rows[c.id], _may_merge(actor, rows[c.id], case), _may_merge(actor, case, rows[c.id]))
        for c in found
        if c.id in rows
    ]


def case_panel(request: HttpRequest, case: Case) -> dict[str, Any] | None:
    """The case page's 关联案件 card: the linked cases (both directions, with who, when, why),
    the link form, and — while the case is being handled — its likely duplicates with
    关联 / 合并到此件 / 并入该件."""
    user: Any = request.user
    if not isinstance(user, Staff):
        return None
    rows = [LinkRow(link, link.other(case.pk), False) for link in links_of(case)]
    can_link = may_link(user, case)
    rows = [
        LinkRow(r.link, r.other, can_link and r.link.kind == LinkKind.RELATED and may_link(user, r.other)) for r in rows
    ]
    live = case.state in OPEN_STATES
    duplicates = _duplicates(user, case, {r.other.pk for r in rows}) if live and can_link else []
    if not rows and not can_link:
        return None
    return {"links": rows, "can_link": can_link and case.state != CaseState.ARCHIVED, "duplicates": duplicates}
