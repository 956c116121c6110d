"""Reads of the knowledge base: entries found by keyword and category, and past answers —
the replies given on closed cases of a category, with the complainants' personal data masked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from huiyin.cases.models import Case, CaseRound, Category
from huiyin.cases.selectors import KEYWORD_MAX, cases_for, category_subtree, search_filter
from huiyin.core.errors import NotFound, PermissionDeniedError
from huiyin.core.privacy import mask_in_text
from huiyin.core.search import keyword_filter
from huiyin.orgs.models import Staff

from .models import KnowledgeEntry
from .permissions import may_edit_knowledge, may_read_knowledge

RESULTS_MAX = 50
PAST_ANSWERS_MAX = 20
FINISHED = ("closed", "archived")


def _readable(actor: Staff) -> None:
    if not may_read_knowledge(actor):
        raise PermissionDeniedError()


def _category_and_ancestors(org_id: int, category_id: int | None) -> list[int]:
    """The category and those above it: an entry about 物业管理 serves everything under it."""
    if category_id is None:
        return []
    category = Category.objects.filter(pk=category_id, organization_id=org_id).first()
    if category is None:
        return []
    return [int(part) for part in category.path.strip("/").split("/") if part.isdigit()] or [category.pk]


def entries(
    *, actor: Staff, keyword: str = "", category_id: int | None = None, include_inactive: bool = False
) -> QuerySet[KnowledgeEntry]:
    """The organisation's entries matching ``keyword`` (every run of it, as in the ledger's
    search) and, with ``category_id``, those about that category, one above it, or no
    category at all; newest change first. Inactive entries only for the editors."""
    _readable(actor)
    qs = KnowledgeEntry.objects.filter(organization_id=actor.org_id)
    if not (include_inactive and may_edit_knowledge(actor)):
        qs = qs.filter(active=True)
    if category_id is not None:
        related = _category_and_ancestors(actor.org_id, category_id)
        qs = qs.filter(Q(categories__in=related) | Q(categories__isnull=True)).distinct()
    qs = keyword_filter(qs, keyword[:KEYWORD_MAX], table=KnowledgeEntry._meta.db_table)
    return qs.prefetch_related("categories").order_by("-updated_at", "pk")


def entry_get(*, actor: Staff, entry_id: int) -> KnowledgeEntry:
    """One entry of the actor's organisation (an inactive one for its editors only), or NotFound."""
    _readable(actor)
    qs = KnowledgeEntry.objects.filter(pk=entry_id, organization_id=actor.org_id)
    if not may_edit_knowledge(actor):
        qs = qs.filter(active=True)
    entry = qs.prefetch_related("categories").first()
    if entry is None:
        raise NotFound(_("找不到该知识条目。"))
    return entry


@dataclass(frozen=True)
class PastAnswer:
    """An answer given on a finished case, as staff may read it anywhere: masked text, the
    category and department, when; the case's number only for those who may open the case."""

    category: str
    department: str
    replied_at: datetime | None
    reply: str
    remedy: str
    case_id: int | None  # None: the actor may not open the case


def _masked(text: str, case: Case) -> str:
    people = [p for p in (case.party, *case.co_parties.all()) if p is not None]
    return mask_in_text(
        text,
        names=[p.name for p in people if getattr(p, "name", "")],
        addresses=[a for a in (*(p.address for p in people), case.location) if a],
        others=[v for p in people for v in (p.phone, p.id_number, p.email) if v],
    )


def _category_name(category: Category | None) -> str:
    return (category.full_name or category.name) if category is not None else ""


def past_answers(*, actor: Staff, category_id: int | None = None, keyword: str = "") -> list[PastAnswer]:
    """The answers of finished (closed or archived) cases of the organisation, in the
    category and under it, whose complaint or answer holds ``keyword``; newest first, at most
    PAST_ANSWERS_MAX. Personal data of the complainants is masked in every text shown."""
    _readable(actor)
    cases = Case.objects.filter(organization_id=actor.org_id, state__in=FINISHED)
    if category_id is not None:
        cases = cases.filter(category_id__in=category_subtree(actor.org_id, category_id))
    rounds = CaseRound.objects.filter(case__in=cases).exclude(reply_text="")
    keyword = keyword.strip()[:KEYWORD_MAX]
    if keyword:
        rounds = rounds.filter(Q(case__in=search_filter(cases, keyword).values("pk")) | Q(reply_text__contains=keyword))
    found = list(
        rounds.select_related("case__party", "case__category", "lead_department")
        .prefetch_related("case__co_parties")
        .order_by("-replied_at", "-pk")[:PAST_ANSWERS_MAX]
    )
    visible = set(cases_for(actor).filter(pk__in=[r.case_id for r in found]).values_list("pk", flat=True))
    return [
        PastAnswer(
            category=_category_name(r.case.category),
            department=str(r.lead_department or ""),
            replied_at=r.replied_at,
            reply=_masked(r.reply_text, r.case),
            remedy=_masked(r.remedy, r.case),
            case_id=r.case_id if r.case_id in visible else None,
        )
        for r in found
    ]
