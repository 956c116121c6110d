"""Reads for the workbench, with authorisation built in (F80).

Every list is index-backed and paginated by LIMIT/OFFSET from the end it is read from.
The ledger's total is exact where that is cheap (a COUNT capped at COUNT_CAP rows and,
on PostgreSQL, at COUNT_TIMEOUT_MS) and otherwise PostgreSQL's planner estimate,
labelled as such: at a million rows an exact COUNT(*) of a filter reads every row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connection, transaction
from django.db.models import BooleanField, Exists, Expression, F, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils.translation import gettext as _

from huiyin.core.errors import PermissionDeniedError
from huiyin.core.models import Notification
from huiyin.core.notify import KINDS_AFTER_CLOSING
from huiyin.core.periods import day_start
from huiyin.core.search import keyword_filter, query_phrases, tsquery
from huiyin.orgs.actors import Actor, ExternalActor
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap
from huiyin.policy.services.versions import current_policy

from .audit import broken_case_ids, check_chain
from .bus import table
from .models import Case, Category, Contact, Event, Party
from .permissions import (
    may_edit_case,
    may_register,
    may_reissue_receipt,
    may_reveal_pii,
    may_upload_attachment,
    may_view_case,
)
from .workflow import OPEN_STATES, CaseState

PAGE_SIZE = 30
KEYWORD_MAX = 100  # a search keyword; the ledger form refuses a longer one
PAGE_MAX = 100_000  # a page number beyond it is a typo, not a page (and its offset would overflow)
# Keyword search on PostgreSQL fetches at most this many matching ids through the GIN
# index; a term with more matches is common enough for the newest-first walk.
SEARCH_CANDIDATES = 2000
# The ledger's total: counted exactly up to COUNT_CAP rows (and, on PostgreSQL, within
# COUNT_TIMEOUT_MS); beyond that, the planner's estimate ("约 N 条"). The timeout is what a
# page of at most 200 ms can spend on its total: at a million cases, a department's closed
# reports (10,000 rows reached through ~26,000 heap pages) take 230-300 ms to count.
COUNT_CAP = 10_000
COUNT_TIMEOUT_MS = 120
# A planner estimate this many times the cap is taken as it is, without trying to count: the
# count could not finish below the cap unless the estimate were that far off.
ESTIMATE_TRUSTED_FACTOR = 5
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout
# Rows per query when the whole filtered list is read (exports): flat memory at any size.
CHUNK_SIZE = 1000
CHUNK_RELATED = ("category", "lead_department", "handler")  # small tables, joined


def _assisting(department_id: int) -> Exists:
    through = Case.assisting_departments.through
    return Exists(through.objects.filter(case_id=OuterRef("pk"), department_id=department_id))


class InScope(Expression):
    """The case's department scope holds ``department_id``: ``scope_departments @> ARRAY[D]``
    on PostgreSQL, where the column (the lead and the assisting departments, kept by
    triggers: migration ``0020_case_scope_departments``) has a GIN index. The case table's
    alias comes from its primary key column, so the condition holds inside a subquery
    (``case__in=cases_for(...)``) whose tables Django has renamed."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, department_id: int, pk: Any = None) -> None:
        super().__init__()
        self.department_id = int(department_id)
        self.pk = pk if pk is not None else F("pk")

    def get_source_expressions(self) -> list[Any]:
        return [self.pk]

    def set_source_expressions(self, exprs: Any) -> None:
        (self.pk,) = exprs

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        pk_sql, params = compiler.compile(self.pk)
        column = pk_sql.rsplit(".", 1)[0] + '."scope_departments"' if "." in pk_sql else '"scope_departments"'
        return f"{column} @> ARRAY[%s]::bigint[]", (*params, self.department_id)


def department_scope(department_id: int) -> Q:
    """The cases a department sees: those it leads or assists. On PostgreSQL one GIN index
    condition (see ``InScope``); elsewhere the lead column or an EXISTS on the assisting
    departments."""
    if connection.vendor == "postgresql":
        return Q(InScope(department_id))
    return Q(lead_department_id=department_id) | Q(_assisting(department_id))


def scoped(actor: Actor) -> bool:
    """Whether ``actor`` sees only part of the ledger (department staff): their lists are
    narrowed by ``cases_for``'s scope condition."""
    return not actor.can(Cap.VIEW_ALL) and not isinstance(actor, ExternalActor)


def cases_for(staff: Actor) -> QuerySet[Case]:
    """The cases this person may see: the whole ledger for roles that need it, otherwise
    their department's (lead or assisting) and the ones they received or handle. A system
    (an API client) sees the cases it registered, or the whole ledger if it was granted it."""
    qs = Case.objects.filter(organization_id=staff.org_id)
    if staff.can(Cap.VIEW_ALL):
        return qs
    if isinstance(staff, ExternalActor):
        return qs.filter(submitter_system_id=staff.system.pk)
    scope = Q(handler_id=staff.pk) | Q(first_contact_id=staff.pk)
    if staff.department_id:
        scope |= department_scope(staff.department_id)
    return qs.filter(scope)


def case_visible_to(staff: Staff, case: Case) -> bool:
    return may_view_case(staff, case)


def case_get_for_actor(*, actor: Staff, case_id: int) -> Case:
    case = (
        Case.objects.select_related(
            "party", "category", "lead_department", "handler", "first_contact", "submitter_system", "organization"
        )
        .filter(pk=case_id, organization_id=actor.org_id)
        .first()
    )
    if case is None:
        raise Http404
    if not case_visible_to(actor, case):
        raise PermissionDeniedError()
    return case


def case_locked(*, actor: Staff, case_id: int) -> Case | None:
    """The case row of the actor's organisation, locked for the rest of the
    transaction (``SELECT ... FOR UPDATE``); None if there is no such case."""
    return Case.objects.select_for_update().filter(pk=case_id, organization_id=actor.org_id).first()


def case_get_by_number(*, actor: Staff, number: str) -> Case | None:
    case = Case.objects.filter(organization_id=actor.org_id, number=number.strip()).first()
    return case if case and case_visible_to(actor, case) else None


def search_filter(qs: QuerySet[Case], keyword: str, *, bitmaps: bool = False) -> QuerySet[Case]:
    """Full-text match on the bigram search document (SQLite FTS5 / PostgreSQL tsvector).
    A keyword is at most KEYWORD_MAX characters: PostgreSQL refuses a query of thousands of
    bigrams ("stack depth limit exceeded")."""
    keyword = keyword[:KEYWORD_MAX]
    if not any(query_phrases(keyword)):
        return qs
    if connection.vendor == "postgresql":
        return _pg_search(qs, tsquery(keyword), bitmaps=bitmaps)[0]
    return keyword_filter(qs, keyword, table="cases_case")  # the FTS5 table, as any searchable table's


def _pg_indexed(query: str) -> RawSQL:
    """The keyword match the GIN index serves."""
    return RawSQL("cases_case.search_vector @@ to_tsquery('simple', %s)", [query], output_field=BooleanField())


def _pg_search(qs: QuerySet[Case], query: str, *, bitmaps: bool = False) -> tuple[QuerySet[Case], int | None]:
    """Newest-first search that does not rely on the planner's guess of how common a term is.

    Left alone, PostgreSQL assumes 0.5 % of rows match a bigram it has no statistics for
    (an absent or rare word) and walks the ledger index newest-first testing every row -
    the whole table when nothing matches; for a phrase it multiplies the bigrams'
    frequencies, expects a handful and fetches and sorts every match. So: ask the GIN
    index for up to SEARCH_CANDIDATES ids (``qs`` carries the other filters and the
    scope). All of them: look those up. More: the term is common, the newest-first walk
    fills a page soon, and ``ts_match_vq`` (the function behind @@, which no index
    serves) keeps the planner on it. See docs/benchmarks.md. ``bitmaps``: the candidates
    are read with bitmap scans only (a department's ledger, ``_scoped_candidates``).
    Also returns how many cases match when all their ids were read (None: more than that).
    """
    indexed = _pg_indexed(query)
    candidates = qs.alias(_match=indexed).filter(_match=True).order_by().values_list("pk", flat=True)
    if bitmaps:
        with bitmap_scans():
            ids = list(candidates[: SEARCH_CANDIDATES + 1])
    else:
        ids = list(candidates[: SEARCH_CANDIDATES + 1])
    if len(ids) <= SEARCH_CANDIDATES:
        return qs.filter(pk__in=ids), len(ids)
    walked = RawSQL(
        "ts_match_vq(cases_case.search_vector, to_tsquery('simple', %s))", [query], output_field=BooleanField()
    )
    return qs.alias(_match=walked).filter(_match=True), None


def category_subtree(org_id: int, category_id: int) -> list[int]:
    """Ids of the organisation's category and the categories under it ([] if it has no
    such category). The ids, not a subquery: PostgreSQL knows how common each category
    is, but not what a LIKE on paths selects, and walks the whole ledger for a small one."""
    category = Category.objects.filter(pk=category_id, organization_id=org_id).first()
    if category is None:
        return []
    return list(
        Category.objects.filter(organization_id=org_id, path__startswith=category.path).values_list("pk", flat=True)
    )


@dataclass
class LedgerFilters:
    channel: str = ""
    nature: str = ""
    category_id: int | None = None
    department_id: int | None = None
    state: str = ""
    date_from: date | None = None
    date_to: date | None = None
    keyword: str = ""
    urgency: str = ""


def _filtered(actor: Staff, filters: LedgerFilters, *, counting: bool = False) -> QuerySet[Case]:
    """The actor's cases that pass ``filters``, unordered. ``counting``: the keyword as the
    plain index match (every match is counted; the page's newest-first walk would not
    stop early there)."""
    return _filtered_found(actor, filters, counting=counting)[0]


def _filtered_found(
    actor: Staff, filters: LedgerFilters, *, counting: bool = False
) -> tuple[QuerySet[Case], int | None]:
    """``_filtered``, and how many cases pass when the ids of all of them were read on the
    way (a keyword's or a department's candidates, PostgreSQL); None when not known."""
    found: int | None = None
    qs = cases_for(actor)
    f = filters
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.nature:
        qs = qs.filter(nature=f.nature)
    if f.urgency:
        qs = qs.filter(urgency=f.urgency)
    if f.state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif f.state:
        qs = qs.filter(state=f.state)
    if f.category_id:
        subtree = category_subtree(actor.org_id, f.category_id)
        if subtree:
            qs = qs.filter(category_id__in=subtree)
    if f.department_id:
        qs = qs.filter(lead_department_id=f.department_id)
    if f.date_from:
        qs = qs.filter(received_at__gte=day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(received_at__lt=day_start(f.date_to + timedelta(days=1)))
    # A department's ledger narrowed by what routes cases to departments (a category, a lead
    # department): the planner multiplies two guesses that are far from independent.
    scoped_pg = connection.vendor == "postgresql" and scoped(actor)
    narrow = scoped_pg and bool(f.category_id or f.department_id)
    if f.keyword:
        keyword = f.keyword.strip()
        if _looks_like_number(keyword):
            qs = qs.filter(number=keyword)
        elif counting and connection.vendor == "postgresql" and any(query_phrases(keyword[:KEYWORD_MAX])):
            qs = qs.alias(_match=_pg_indexed(tsquery(keyword[:KEYWORD_MAX]))).filter(_match=True)
        elif any(query_phrases(keyword[:KEYWORD_MAX])):
            if connection.vendor == "postgresql":
                qs, found = _pg_search(qs, tsquery(keyword[:KEYWORD_MAX]), bitmaps=scoped_pg)
            else:
                qs = search_filter(qs, keyword)
            narrow = False  # the search read its own candidates (or the word is common enough to walk)
    if narrow and not counting:
        # A count reads the filter's bitmaps in any case: the candidates would only be read
        # again (a page with more than SCOPED_CANDIDATES of them is counted after reading them).
        qs, found = _scoped_candidates(qs)
    return qs, found


# A department's ledger (PostgreSQL): at most this many of its matching ids are read through
# bitmaps of the indexes before the page; fewer is all of them.
SCOPED_CANDIDATES = 2000


# The memory a bitmap scan above may use (at least; a server set higher keeps its own). With
# PostgreSQL's default 4 MB, the bitmaps of a department's scope and a category at a million
# cases (about 120,000 rows each) turn lossy: their AND no longer names rows but whole pages,
# and every row of ~30,000 pages is read and rechecked to find the one that matches (395 ms
# where an exact bitmap takes 80 ms; docs/benchmarks.md).
BITMAP_WORK_MEM = "32MB"


@contextmanager
def bitmap_scans() -> Iterator[None]:
    """Plan the statements inside with bitmap index scans only: no sequential scan, no
    ordered index walk (PostgreSQL's ``enable_seqscan`` and ``enable_indexscan``, local to
    a savepoint and restored after it; an error rolls the savepoint back, settings
    included), with at least BITMAP_WORK_MEM for the bitmaps. For a query whose rows the
    planner cannot count well, this bounds its cost by the sizes of the index look-ups it
    combines, whatever it guessed."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'), "
                "current_setting('work_mem'), "
                "set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true), "
                "set_config('work_mem', CASE WHEN pg_size_bytes(current_setting('work_mem')) < pg_size_bytes(%s) "
                "THEN %s ELSE current_setting('work_mem') END, true)",
                [BITMAP_WORK_MEM, BITMAP_WORK_MEM],
            )
            seqscan, indexscan, work_mem, *_set = cursor.fetchone()
        yield
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('enable_seqscan', %s, true), set_config('enable_indexscan', %s, true), "
                "set_config('work_mem', %s, true)",
                [seqscan, indexscan, work_mem],
            )


def _scoped_candidates(qs: QuerySet[Case]) -> tuple[QuerySet[Case], int | None]:
    """A department's ledger filtered by category or lead department without walking the
    organisation's ledger.

    The planner knows how common the department's scope is (the GIN's statistics) and how
    common a category is, and multiplies the two as if independent. They are not: the
    category routes the case to a department. A handler filtering on another
    department's category is told "a few thousand rows match", and PostgreSQL walks the
    whole ledger newest-first looking for 30 of them (2 s at a million cases). So, as for
    a keyword (``_pg_search``): the ids of at most SCOPED_CANDIDATES matching cases are
    read first by bitmap scans only (the scope's GIN and the filter's index, combined:
    their cost is their sizes, never the ledger's). That is all of them: the page looks
    them up by id. More: there are enough for the newest-first walk to fill a page soon.
    Without such a filter the planner's guess is sound (the scope alone, or with a state,
    channel, nature or dates, which do not depend on the department) and the page is left
    to it: the walk stops after a few hundred rows of a department's busy ledger, and a
    small department's few cases are looked up by the bitmap. Also returns how many match
    when that is all of them (None: more)."""
    with bitmap_scans():
        ids = list(qs.order_by().values_list("pk", flat=True)[: SCOPED_CANDIDATES + 1])
    if len(ids) <= SCOPED_CANDIDATES:
        return qs.filter(pk__in=ids), len(ids)
    return qs, None


LEDGER_ORDER = ("-received_at", "-id")


def ledger(*, actor: Staff, filters: LedgerFilters) -> QuerySet[Case]:
    """The filtered ledger in its order. The complainants come by the page's ids in a second
    query: joined, a deep page of a department's ledger (the last of 3,000 cases, numbered
    by offset) would be planned as a hash join reading the whole party table."""
    return _in_ledger_order(_filtered(actor, filters))


def _in_ledger_order(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related("category", "lead_department", "handler").prefetch_related("party").order_by(*LEDGER_ORDER)


@dataclass(frozen=True)
class LedgerTotal:
    """How many cases a filtered ledger holds: ``exact``, or PostgreSQL's estimate."""

    count: int
    exact: bool

    def pages(self, size: int = PAGE_SIZE) -> int:
        return max(1, -(-self.count // size))


def ledger_total(*, actor: Staff, filters: LedgerFilters) -> LedgerTotal:
    """The filtered ledger's size: a COUNT that stops at COUNT_CAP + 1 rows (and, on
    PostgreSQL, at COUNT_TIMEOUT_MS), exact when it finished below the cap; otherwise the
    planner's estimate of the same query, at least what was counted. SQLite (a small
    installation) counts to the end."""
    qs = _filtered(actor, filters, counting=True).order_by()
    if connection.vendor != "postgresql":
        return LedgerTotal(qs.count(), exact=True)
    estimate = _estimated_rows(qs)
    if estimate > ESTIMATE_TRUSTED_FACTOR * COUNT_CAP:
        # Far beyond the cap by the planner's reckoning: the count would stop at the cap (or
        # at the timeout) and give way to this estimate anyway, after building the filter's
        # whole bitmap (200 ms for "closed reports" at a million cases).
        return LedgerTotal(estimate, exact=False)
    counted = _count_within(qs[: COUNT_CAP + 1], COUNT_TIMEOUT_MS)
    if counted is not None and counted <= COUNT_CAP:
        return LedgerTotal(counted, exact=True)
    return LedgerTotal(max(estimate, COUNT_CAP + 1 if counted else 0), exact=False)


def ledger_with_total(*, actor: Staff, filters: LedgerFilters) -> tuple[QuerySet[Case], LedgerTotal]:
    """The filtered ledger in its order and its size, for a page that shows both. Where the
    ids of every match were read on the way (a keyword's or a department's candidates,
    PostgreSQL), they are read once and counted: the size is exact and costs nothing more;
    otherwise ``ledger_total``."""
    qs, found = _filtered_found(actor, filters)
    total = LedgerTotal(found, exact=True) if found is not None else ledger_total(actor=actor, filters=filters)
    return _in_ledger_order(qs), total


def ledger_count_to(*, actor: Staff, filters: LedgerFilters, cap: int) -> int:
    """The filtered ledger's size counted up to ``cap`` + 1 (more: there are more than
    ``cap``), however long that takes: for an export limit set above COUNT_CAP."""
    return _filtered(actor, filters, counting=True).order_by()[: cap + 1].count()


def _count_within(qs: QuerySet, timeout_ms: int) -> int | None:
    """``qs.count()``, or None when PostgreSQL cancels it after ``timeout_ms``. In a
    savepoint: a cancelled statement rolls back only that, and the timeout with it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')")
        (before,) = cursor.fetchone()
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{timeout_ms}ms"])
            counted = qs.count()
            with connection.cursor() as cursor:  # an outer transaction goes on with its own
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [before])
            return counted
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == QUERY_CANCELED:  # slow: the estimate will do
            return None
        raise


def _estimated_rows(qs: QuerySet) -> int:
    """PostgreSQL's estimate of how many rows ``qs`` returns (EXPLAIN, nothing run); 0 for a
    query Django knows to be empty (nothing to send)."""
    try:
        sql, params = qs.values("pk").query.sql_with_params()
    except EmptyResultSet:
        return 0
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        (document,) = cursor.fetchone()
    if isinstance(document, str):
        document = json.loads(document)
    return int(document[0]["Plan"]["Plan Rows"])


def ledger_chunks(qs: QuerySet[Case], size: int | None = None) -> Iterator[list[Case]]:
    """The whole of an ordered ledger query (``ledger``), ``size`` rows a query: each
    query starts where the last one stopped (``received_at``, ``id``: the ledger index),
    so reading a million rows holds one chunk in memory and never scans from the top.
    The chunk's complainants come by their ids in a second query (a join could read the
    party table whole for a thousand rows)."""
    size = size or CHUNK_SIZE
    qs = qs.select_related(None).select_related(*CHUNK_RELATED).prefetch_related("party")
    last: Case | None = None
    while True:
        chunk_qs = qs
        if last is not None:
            chunk_qs = qs.filter(received_at__lte=last.received_at).filter(
                Q(received_at__lt=last.received_at) | Q(pk__lt=last.pk)
            )
        rows = list(chunk_qs[:size])
        if rows:
            yield rows
        if len(rows) < size:
            return
        last = rows[-1]


def ledger_ids(*, actor: Staff, filters: LedgerFilters, limit: int) -> list[int]:
    """Ids of the filtered ledger in ledger order, at most ``limit`` + 1 (so that a caller
    can tell there are more)."""
    return list(ledger(actor=actor, filters=filters).values_list("pk", flat=True)[: limit + 1])


def cases_by_ids(*, actor: Staff, ids: list[int]) -> list[Case]:
    """The actor's cases with these ids, in the order given (a chunk of ``ledger_ids``)."""
    rows = {
        c.pk: c for c in cases_for(actor).filter(pk__in=ids).select_related(*CHUNK_RELATED).prefetch_related("party")
    }
    return [rows[i] for i in ids if i in rows]


def _looks_like_number(keyword: str) -> bool:
    return len(keyword) == 14 and keyword[8] == "-" and keyword.replace("-", "").isdigit()


def page(qs: QuerySet, number: int, size: int = PAGE_SIZE) -> tuple[list, bool]:
    """Rows of page ``number`` (1-based) and whether a next page exists; no COUNT(*)."""
    number = min(max(1, number), PAGE_MAX)
    rows = list(qs[(number - 1) * size : number * size + 1])
    return rows[:size], len(rows) > size


def page_from_end(qs: QuerySet, number: int, size: int = PAGE_SIZE) -> tuple[list, bool]:
    """Page ``number`` counted from the end of ``qs`` (1: the last ``size`` rows), in
    ``qs``'s order, and whether a page before it exists: the ledger's last pages, read
    backwards along the same index instead of skipping a million rows."""
    number = min(max(1, number), PAGE_MAX)
    rows = list(qs.reverse()[(number - 1) * size : number * size + 1])
    return rows[:size][::-1], len(rows) > size


def my_desk(*, actor: Staff) -> dict[str, QuerySet[Case]]:
    """F05: first-contact cases stay here until the complainant is answered and satisfied;
    plus cases I handle, and for a department head the department's open cases."""
    base = Case.objects.filter(organization_id=actor.org_id).select_related("party", "lead_department", "handler")
    order = ("-received_at", "-id")
    desk = {
        "first_contact": base.filter(first_contact=actor)
        .exclude(state__in=[CaseState.CLOSED, CaseState.ARCHIVED])
        .order_by(*order),
        "handling": base.filter(handler=actor, state__in=OPEN_STATES).order_by(*order),
    }
    if actor.is_dept_head and actor.department_id:
        desk["department"] = base.filter(lead_department_id=actor.department_id, state__in=OPEN_STATES).order_by(*order)
    if actor.can(Cap.DECIDE):
        desk["to_decide"] = base.filter(state=CaseState.REGISTERED).order_by(*order)
    # Sections other apps add (huiyin/subscribers.py, DESK_SECTIONS): approvals, dispatch queue.
    for key, section in table().desk_sections:
        rows = section(actor, base)
        if rows is not None:
            desk[key] = rows.order_by(*order)
    if actor.can(Cap.REVIEW):
        desk["review"] = base.filter(state__in=[CaseState.UNDER_REVIEW, CaseState.UNDER_REREVIEW]).order_by(*order)
    return desk


# Finished cases: their desk reminders are stale (the subscriber marks them done; this keeps
# out one written afterwards by a task that ran late).
FINISHED_STATES = (
    CaseState.CLOSED,
    CaseState.ARCHIVED,
    CaseState.NOT_ACCEPTED,
    CaseState.NOT_REACCEPTED,
    CaseState.RETURNED,
    CaseState.TRANSFERRED,
    CaseState.MERGED,
)
REMINDERS_SHOWN = 60  # newest reminders read for the desk, before grouping


@dataclass
class ReminderGroup:
    """The desk's reminders about one case (or one reminder without a case): the newest
    first, one per kind; ``unread`` while any of them is."""

    case: Case | None
    items: list[Notification]

    @property
    def newest(self) -> Notification:
        return self.items[0]

    @property
    def older(self) -> list[Notification]:
        return self.items[1:]

    @property
    def unread(self) -> bool:
        return any(n.read_at is None for n in self.items)


def desk_reminders(*, actor: Staff, limit: int = REMINDERS_SHOWN) -> list[ReminderGroup]:
    """The person's open reminders (not done), grouped by case, newest group first, each
    kind once per case (the newest); none about a finished case, except work that goes on
    after it (``notify.KINDS_AFTER_CLOSING``). One query on the person's open-reminder index."""
    live = Q(case__isnull=True) | ~Q(case__state__in=FINISHED_STATES) | Q(kind__in=KINDS_AFTER_CLOSING)
    rows = (
        Notification.objects.filter(recipient=actor, done_at__isnull=True)
        .filter(live)
        .select_related("case")
        .order_by("-created_at", "-id")[:limit]
    )
    groups: dict[object, ReminderGroup] = {}
    for row in rows:
        key = row.case_id if row.case_id is not None else ("reminder", row.pk)
        group = groups.get(key)
        if group is None:
            groups[key] = ReminderGroup(case=row.case, items=[row])
        elif all(item.kind != row.kind or not row.kind for item in group.items):
            group.items.append(row)
    return list(groups.values())


def parties_matching(org_id: int, party: Party) -> list[int]:
    """Ids of the organisation's parties that are the same person as ``party``: the party
    itself and any with the same ID number or the same phone number.

    One small query on the party table (the primary key and the ``(organization, phone_hash)``
    and ``(organization, id_number_hash)`` indexes: the values are encrypted, so they are
    compared by their keyed look-up hashes), so that the cases can
    then be found by ``party_id IN (...)``: an OR across the case-party join cannot use
    an index and scans the whole case table. The one place that knows how a person's
    phone and ID number are compared.
    """
    return list(Party.objects.filter(organization_id=org_id).same_person_as(party).values_list("pk", flat=True))


def case_knows_email(case: Case, email: str) -> bool:
    """Whether ``email`` is the address of the case's complainant, a co-party or a person
    of one of its contacts: whose mail may be added to the case without a clerk."""
    people = Q(cases=case) | Q(co_cases=case) | Q(contacts__case=case)
    return Party.objects.filter(organization_id=case.organization_id).with_email(email).filter(people).exists()


def caller_history(*, actor: Staff, phone: str, limit: int = 10) -> list[Case]:
    """Cases raised from this phone number (F04), newest first, within what the actor may see.

    Only for those with the personal-data right: to anyone else the list would confirm
    which cases a full phone number belongs to, so they get nothing."""
    if not may_reveal_pii(actor):
        raise PermissionDeniedError(_("您没有查看来电历史的权限。"))
    if len(phone) < 7:
        return []
    party_ids = Party.objects.filter(organization_id=actor.org_id).with_phone(phone).values("pk")
    contact_cases = Contact.objects.filter(party_id__in=party_ids).values("case_id")
    return list(
        cases_for(actor)
        .filter(Q(party_id__in=party_ids) | Q(pk__in=contact_cases))
        .select_related("lead_department")
        .order_by("-received_at")[:limit]
    )


def timeline(case: Case) -> list[tuple[str, datetime, object]]:
    """Contacts and events merged in time order for the case page."""
    items: list[tuple[str, datetime, object]] = [
        ("contact", c.occurred_at, c) for c in case.contacts.select_related("staff", "party", "copied_from__case")
    ]
    items += [("event", e.at, e) for e in case.events.select_related("actor", "actor_system")]
    items.sort(key=lambda item: (item[1], 0 if item[0] == "contact" else 1))
    return items


@dataclass(frozen=True)
class CaseCapabilities:
    """What the actor may do on the case page; the page and the API read these, never the roles."""

    edit: bool  # registration details (the 修改 link)
    reveal_pii: bool  # the full phone / ID number of the parties
    add_contact: bool  # a repeat call or visit on this case
    upload_attachment: bool
    reissue_receipt: bool  # a new query code (the complainant's old one stops working)


def case_capabilities(actor: Staff, case: Case) -> CaseCapabilities:
    """The case page's flags for a case the actor may see (``case_get_for_actor`` has checked);
    the same predicates the services enforce."""
    live = case.state != CaseState.ARCHIVED
    return CaseCapabilities(
        edit=may_edit_case(actor, case),
        reveal_pii=may_reveal_pii(actor),
        add_contact=live and may_register(actor),
        upload_attachment=may_upload_attachment(actor, case),
        reissue_receipt=may_reissue_receipt(actor, case),
    )


def verify_event_chain(case: Case, events: Iterable[Event] | None = None) -> bool:
    """The case's events verify with the audit key, and the last ``huiyin audit verify`` (which
    also checks the anchor log: a removed last event) found nothing wrong with them.
    ``events``: all the case's events where the caller has read them already (the timeline)."""
    rows = sorted(events, key=lambda e: e.pk) if events is not None else Event.objects.filter(case=case).order_by("id")
    if check_chain(rows).reason:
        return False
    return not broken_case_ids([case.pk])


def flag_broken_chains(cases: list[Case]) -> list[Case]:
    """Set ``chain_broken`` on a page of ledger rows (one query): the ledger's red badge."""
    broken = broken_case_ids(case.pk for case in cases)
    for case in cases:
        case.chain_broken = case.pk in broken  # type: ignore[attr-defined]
    return cases


# --- the standard phrases of a call (来电接听标准语言) ---------------------------------------------

ORG_PLACEHOLDER = re.compile(r"\{\{\s*org\s*\}\}")


@dataclass(frozen=True)
class PhoneScript:
    """What the call-taker says: the first sentence, the sentences for the moments between
    (situation, text), and the last sentence, with the organisation's name in them."""

    greeting: str
    phrases: list[tuple[str, str]]
    closing: str


def phone_script(actor: Staff) -> PhoneScript | None:
    """The running policy's standard phrases of a call (``intake.phone_greeting``,
    ``phone_phrases``, ``phone_closing``) with the organisation's name in place of
    ``{{ org }}``; None where it has none."""
    org = actor.organization
    running = current_policy(org) if org is not None else None
    if org is None or running is None:
        return None
    rules = running.preset().intake

    def said(text: str) -> str:
        return ORG_PLACEHOLDER.sub(org.name, text)

    script = PhoneScript(
        greeting=said(rules.phone_greeting),
        phrases=[(p.situation, said(p.text)) for p in rules.phone_phrases],
        closing=said(rules.phone_closing),
    )
    return script if script.greeting or script.phrases or script.closing else None
