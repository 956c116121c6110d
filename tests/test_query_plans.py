"""The workbench's pages never plan a sequential scan of a large table (PostgreSQL).

A case page that read the whole case table on every view (an OR across the case-party
join, which no index serves) went unnoticed until a benchmark at a million cases. This
guard catches that kind of query while the tables are still small: the pages are
requested through Django's test client as the people who use them, every SELECT they
send is captured and planned again with ``enable_seqscan = off``. With sequential scans
disabled PostgreSQL takes an index whenever one can serve the query, so a Seq Scan that
remains on one of LARGE_TABLES means no index can: at a million cases that query reads
the whole table. The failure names the page, the table and the query.

A department's ledger (a handler, a head) filtered by another department's category or by
another department is held to more: no newest-first walk of the organisation's ledger even
under a LIMIT. The planner cannot tell how few of the walked rows the department sees (at a
million cases such a page walked the whole ledger, 2 s); its ids are read by bitmaps of the
department's scope and the filter first (``selectors._scoped_candidates``). The planner
settings a selector sets for a statement (``selectors.bitmap_scans``) are replayed before
the statement is planned again.

Runs on PostgreSQL only; CI's PostgreSQL step sets ``HUIYIN_REQUIRE_POSTGRES=1``, which
turns the skip on another database into a failure.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from huiyin.cases.models import Case, Contact, Event, Party
from huiyin.core import crypto
from huiyin.deadlines.models import Clock
from huiyin.reports.models import RollupCursor
from huiyin.reports.rollups import CURSOR

# The tables that grow with every case: at a million cases, any of these read whole costs
# from hundreds of milliseconds to seconds. (The deadline clocks keep their first table name.)
LARGE_TABLES = frozenset(m._meta.db_table for m in (Case, Event, Contact, Party, Clock))
# Old archived matters added to the demo centre's, so that the planner sees tables with
# a real ledger's proportions: it reads a table of a few dozen rows whole whatever the
# indexes, and a guard on such tables would report noise.
FILLER_CASES = 20_000
DISTINCT_PEOPLE = 500

# Who opens which page (demo usernames): the ledger, the case page, the desk of each
# role, the callback desk and the supervision board.
LEDGER_QUERIES = (
    "",
    "?page=2",
    "?state=in_progress&channel=phone",
    "?state=open",
    "?nature=complaint&state=closed",
    "?q=漏水",
    "?q=火星",  # absent word
    "?q=噪音扰民",  # phrase
    "?date_from=2020-01-01&date_to=2099-12-31",
    "?end=1",  # the last page, read from the end (the total is an estimate here)
    "?state=closed&end=2",
)
# The filtered ledger exported (streamed in chunks: every chunk's query is planned).
EXPORT_QUERIES = ("", "?state=open", "?q=漏水")
# A department's ledger filtered by what routes cases to departments (``{category}``: the
# largest category of another department; ``{department}``: another department): no
# newest-first walk of the organisation's ledger even under a LIMIT, since the planner
# cannot tell how few of the walked rows the department sees (selectors._scoped_candidates).
SCOPED_QUERIES = (
    "?category={category}",
    "?category={category}&channel=phone",
    "?department={department}",
    "?department={department}&state=open",
    "?q=漏水&category={category}",
)
SCOPED_USERS = ("handler_city", "head_city")
CALLBACK_QUERIES = ("", "?sort=oldest", "?due=overdue&channel=phone", "?due=today&sort=oldest")
DESK_USERS = ("clerk", "handler_city", "head_city", "leader", "supervisor", "callback", "analyst")


def _required(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


# Columns that do not narrow a scan: every case of a single-organisation installation
# has the same organisation.
TENANT_COLUMNS = frozenset({"organization_id"})
# Plan nodes through which an ordered index walk still stops early under a LIMIT.
_KEEPS_ORDER = frozenset({"Limit", "Nested Loop", "Merge Join", "Result", "Unique", "Incremental Sort", "Gather Merge"})
_COLUMN = re.compile(r"(?:\b\w+\.)?\b([a-z_][a-z0-9_]*)\b\s*(?:=|<>|<=|>=|<|>|~~|@@|@>|&&|IS\b)", re.IGNORECASE)


def _narrows(cond: str) -> bool:
    """Whether an index condition restricts more than the organisation."""
    return bool({m.group(1).lower() for m in _COLUMN.finditer(cond)} - TENANT_COLUMNS)


def _bitmap_narrows(node: dict) -> bool:
    kind = node.get("Node Type")
    children = node.get("Plans", ())
    if kind == "BitmapAnd":
        return any(_bitmap_narrows(c) for c in children)
    if kind == "BitmapOr":
        return all(_bitmap_narrows(c) for c in children)
    return _narrows(node.get("Index Cond", ""))


def whole_table_reads(plan: dict, *, walk_ok: bool = False, walks: bool = True) -> Iterator[tuple[str, str]]:
    """(table, how) for each scan of a large table in a JSON plan that reads all of it,
    at any depth (subplans included):

    * a Seq Scan (with sequential scans disabled: no index can serve the query);
    * an index or bitmap scan whose condition restricts nothing but the organisation -
      the whole table in a single-organisation installation - unless it is an ordered
      walk that a LIMIT stops early (the ledger's newest-first page) and ``walks`` allows
      that (not for a department's ledger filtered by category or department).
    """
    kind = plan.get("Node Type", "")
    table = plan.get("Relation Name", "")
    if table in LARGE_TABLES:
        if kind == "Seq Scan":
            yield table, "Seq Scan"
        elif kind in ("Index Scan", "Index Only Scan"):
            if not _narrows(plan.get("Index Cond", "")) and not walk_ok:
                yield table, f"{kind} using {plan.get('Index Name')} on the whole organisation"
        elif kind == "Bitmap Heap Scan" and not all(_bitmap_narrows(c) for c in plan.get("Plans", ())):
            yield table, "Bitmap Heap Scan on the whole organisation"
    for child in plan.get("Plans", ()):
        ordered = walks and (kind == "Limit" or (walk_ok and kind in _KEEPS_ORDER))
        if kind in ("Nested Loop", "Merge Join") and child.get("Parent Relationship") != "Outer":
            ordered = False
        if child.get("Parent Relationship") in ("InitPlan", "SubPlan"):
            ordered = False
        yield from whole_table_reads(child, walk_ok=ordered, walks=walks)


def _planned_whole_table_reads(sql: str, *, walks: bool = True) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            (document,) = cursor.fetchone()
        finally:
            cursor.execute("RESET enable_seqscan")
    if isinstance(document, str):
        document = json.loads(document)
    return set(whole_table_reads(document[0]["Plan"], walks=walks))


# A statement that sets the planner's options for the next ones (``selectors.bitmap_scans``):
# replayed, not planned, so that each query is planned as it ran.
_SETTINGS = "set_config("


def _selects(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if response.streaming:  # an export: its queries run as it is read
            b"".join(response.streaming_content)
    assert response.status_code == 200, (url, response.status_code)
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith(("SELECT", "WITH")) or _SETTINGS in q["sql"]
    ]


_WALK = "an ordered page the planner may walk the ledger for (neither ids nor bitmap scans only)"


def _walk_left_to_the_planner(sql: str) -> bool:
    """A page of the case table in the ledger's order that is neither narrowed to ids
    already read nor planned with bitmap scans only: whatever the plan on this small
    database, at a million cases the planner may walk the ledger for it."""
    if 'FROM "cases_case"' not in sql or " ORDER BY " not in sql or " LIMIT " not in sql:
        return False
    if '"cases_case"."id" IN (' in sql:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_indexscan')")
        (indexscan,) = cursor.fetchone()
    return indexscan == "on"


def _scoped_pages(org) -> Iterator[tuple[str, str]]:
    """(username, URL) of a department's ledger filtered by another department's category
    or by another department: the pages whose queries must not walk the ledger."""
    from huiyin.cases.models import Case
    from huiyin.orgs.models import Department

    city = Department.objects.get(organization=org, code="city")
    other = (
        Case.objects.filter(organization=org, category__isnull=False)
        .exclude(lead_department=city)
        .exclude(lead_department__isnull=True)
        .values("category_id", "lead_department_id")
        .order_by()
    )
    counts: dict[tuple[int, int], int] = {}
    for row in other.iterator():
        key = (row["category_id"], row["lead_department_id"])
        counts[key] = counts.get(key, 0) + 1
    (category, department), _n = max(counts.items(), key=lambda item: item[1])
    for username in SCOPED_USERS:
        for query in SCOPED_QUERIES:
            yield username, "/cases/" + query.format(category=category, department=department)
        yield username, "/cases/export.csv?" + f"category={category}"


def _pages(staff: dict, case_ids: list[int]) -> Iterator[tuple[str, str]]:
    """(username, URL) of every page the guard opens."""
    for query in LEDGER_QUERIES:
        yield "clerk", "/cases/" + query
        yield "handler_city", "/cases/" + query  # department-scoped
        yield "head_city", "/cases/" + query  # department-scoped, a head
    for query in EXPORT_QUERIES:
        yield "clerk", "/cases/export.csv" + query
    yield "handler_city", "/cases/export.csv"
    yield "handler_city", "/cases/export.csv?channel=phone&nature=complaint"
    yield "clerk", "/cases/export.xlsx?state=closed"
    yield "clerk", "/cases/print/?state=open"
    for username in DESK_USERS:
        yield username, "/cases/desk/"
    for case_id in case_ids:
        yield "clerk", f"/cases/{case_id}/"
        yield "leader", f"/cases/{case_id}/"
    for query in CALLBACK_QUERIES:
        yield "callback", "/callbacks/" + query
    yield "supervisor", "/supervision/"
    yield "leader", "/supervision/"


def _literal(values: list[str]) -> str:
    """A text array literal of plain ASCII values (tokens and hex digests: no quotes in them)."""
    assert all(v.isascii() and "'" not in v for v in values)
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]::text[]"


def _copy_rows(model, *, template: str, count: int, values: dict[str, str]) -> str:
    """INSERT ... SELECT of ``count`` rows (``g`` = 1..count) copying one template row of
    ``model``'s table (``template``: its WHERE clause), ``values`` overriding columns by
    SQL expression; every concrete column is listed, so the copy follows the model."""
    table = model._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields]
    chosen = ", ".join(values.get(c, f't."{c}"') for c in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    return (
        f'INSERT INTO "{table}" ({names}) SELECT {chosen} FROM generate_series(1, {count}) AS g, '
        f'(SELECT * FROM "{table}" WHERE {template} ORDER BY id LIMIT 1) AS t'
    )


def _grow(org, count: int = FILLER_CASES) -> None:
    """``count`` old archived matters (each a party, a contact, three events and two stopped
    clocks) spread over the demo's departments, clerks and categories, each department's
    cases in its own categories and handled by its own handlers."""
    from huiyin.cases.models import Category
    from huiyin.orgs.models import Staff

    org_id = org.pk
    staff = list(Staff.objects.filter(organization=org))
    clerks = [s.pk for s in staff if "intake_clerk" in s.roles]
    departments = sorted({s.department_id for s in staff if s.department_id and "handler" in s.roles})
    categories = sorted(Category.objects.filter(organization=org, children__isnull=True).values_list("pk", flat=True))

    def pick(ids: list[int]) -> str:
        return f"(ARRAY{sorted(ids)!r})[1 + g % {len(ids)}]"

    # As a real ledger routes them: each department handles its own categories (department
    # i of n the categories i, i + n, i + 2n, ...) by its own handlers. A department's view
    # and a category are then far from independent, as the planner assumes they are.
    n = len(departments)
    per = max(1, len(categories) // n)
    department_of = f"(ARRAY{departments!r})[1 + g % {n}]"
    category_of = f"(ARRAY{categories!r})[1 + g % {n} + {n} * ((g / {n}) % {per})]"
    branches = []
    for i, department in enumerate(departments):
        own = [s.pk for s in staff if s.department_id == department and "handler" in s.roles]
        branches.append(f"WHEN {i} THEN (ARRAY{own!r})[1 + (g / {n}) % {len(own)}]")
    handler_of = f"CASE g % {n} {' '.join(branches)} END"

    def base(model) -> int:
        return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1_000

    # Personal fields are stored encrypted with a keyed look-up hash beside them, which SQL
    # cannot compute: DISTINCT_PEOPLE people, encrypted here, shared out among the parties.
    numbers = [f"139{n:08d}" for n in range(DISTINCT_PEOPLE)]
    id_numbers = [f"3301{n:014d}" for n in range(DISTINCT_PEOPLE)]
    phones, ids = ([crypto.encrypt(v) for v in values] for values in (numbers, id_numbers))
    phone_hashes, id_hashes = ([crypto.lookup_hash(v) for v in values] for values in (numbers, id_numbers))

    def pick_text(values: list[str]) -> str:
        return f"({_literal(values)})[1 + g % {len(values)}]"

    party0, case0, contact0, event0, clock0 = (base(m) for m in (Party, Case, Contact, Event, Clock))
    case_id = f"{case0} + g"
    received = "now() - interval '400 days' - g * interval '17 minutes'"
    with connection.cursor() as cursor:
        cursor.execute(
            _copy_rows(
                Party,
                template=f"organization_id = {org_id}",
                count=count,
                values={
                    "id": f"{party0} + g",
                    "name": f"'{crypto.encrypt('张三')}'",
                    "anonymous": "false",
                    "phone": pick_text(phones),
                    "phone_hash": pick_text(phone_hashes),
                    "id_number": f"CASE WHEN g % 3 = 0 THEN {pick_text(ids)} ELSE '' END",
                    "id_number_hash": f"CASE WHEN g % 3 = 0 THEN {pick_text(id_hashes)} ELSE '' END",
                },
            )
        )
        cursor.execute(
            _copy_rows(
                Case,
                template=f"organization_id = {org_id}",
                count=count,
                values={
                    "id": case_id,
                    "number": "'F' || lpad(g::text, 12, '0')",
                    "received_at": received,
                    "registered_at": received,
                    "party_id": f"{party0} + g",
                    "category_id": category_of,
                    "lead_department_id": department_of,
                    "handler_id": handler_of,
                    "first_contact_id": pick(clerks),
                    "state": "'archived'",
                    "review_concluded": "false",
                    "intake_token": "NULL",
                    "closed_at": f"{received} + interval '5 days'",
                },
            )
        )
        cursor.execute(
            _copy_rows(
                Contact,
                template=f"case_id IN (SELECT id FROM cases_case WHERE organization_id = {org_id})",
                count=count,
                values={
                    "id": f"{contact0} + g",
                    "case_id": case_id,
                    "party_id": f"{party0} + g",
                    "occurred_at": received,
                    "is_initial": "true",
                    "intake_token": "NULL",
                },
            )
        )
        for k in range(3):
            cursor.execute(
                _copy_rows(
                    Event,
                    template=f"case_id IN (SELECT id FROM cases_case WHERE organization_id = {org_id})",
                    count=count,
                    values={"id": f"{event0 + k * count} + g", "case_id": case_id, "at": received},
                )
            )
        for k in range(2):
            cursor.execute(
                _copy_rows(
                    Clock,
                    template=f"organization_id = {org_id} AND subject_kind = 'case'",
                    count=count,
                    values={
                        "id": f"{clock0 + k * count} + g",
                        "case_id": case_id,
                        "subject_id": case_id,
                        "state": "'stopped'",
                        "stopped_at": f"{received} + interval '3 days'",
                        "next_action_at": "NULL",
                    },
                )
            )
        for model in (Party, Case, Contact, Event, Clock):
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def build_centre():
    """The demo centre under the city-hotline preset (cases in every state with their
    clocks, callbacks, supervision notices, repeat callers), behind FILLER_CASES older
    matters: as in a real ledger, the old cases have the low ids and the recent work
    (callbacks, notices, desk entries) the high ones."""
    from huiyin.demo.generator import DEMO_CODE
    from huiyin.orgs.models import Organization, Staff

    call_command("huiyin_demo", cases=5, seed=13, days=2, stdout=StringIO())  # the filler's templates
    org = Organization.objects.get(code=DEMO_CODE)
    _grow(org)
    # The filler is history loaded in bulk, as a migration from an older system is: the
    # roll-ups are rebuilt after such a load (`huiyin reports rebuild`), not caught up event
    # by event. Their figures are not what this test reads; the roll-up consumer starts after it.
    RollupCursor.objects.update_or_create(
        name=CURSOR, defaults={"last_event_id": Event.objects.order_by("-pk").values_list("pk", flat=True).first()}
    )
    call_command("huiyin_demo", cases=80, seed=14, days=60, stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the planner's statistics, as autovacuum keeps them
    return org, {s.username: s for s in Staff.objects.filter(organization=org)}


@pytest.fixture
def demo_centre(db):
    if connection.vendor != "postgresql":
        if _required("HUIYIN_REQUIRE_POSTGRES"):
            pytest.fail(f"HUIYIN_REQUIRE_POSTGRES=1 but the tests run on {connection.vendor}")
        pytest.skip("query plans are checked on PostgreSQL (set DATABASE_URL=postgres://...)")
    return build_centre()


def _case_page_sample(org) -> list[int]:
    """A case of each state, with a party that has a phone and an ID number where there is one."""
    from huiyin.cases.models import Case

    chosen: dict[str, int] = {}
    recent = Case.objects.filter(organization=org).exclude(number__startswith="F")  # not the filler
    for case in recent.select_related("party").order_by("-party__id_number", "-pk"):
        chosen.setdefault(case.state, case.pk)
    return sorted(chosen.values())


@pytest.mark.heavy
@pytest.mark.postgres
def test_workbench_pages_plan_no_sequential_scan_of_large_tables(demo_centre):
    org, staff = demo_centre
    # A complainant known by phone and by ID number whose earlier matter was concluded by
    # re-review: the case page then looks for the same person's concluded matters.
    with_id = (
        Party.objects.filter(organization=org, cases__isnull=False)
        .exclude(id_number="")
        .exclude(phone="")
        .order_by("-pk")
        .first()
    )
    assert with_id is not None, "the demo has parties with an ID number"
    Case.objects.filter(party=with_id).update(review_concluded=True)
    case_ids = _case_page_sample(org)
    case_ids.append(Case.objects.filter(party=with_id).values_list("pk", flat=True).first())
    assert len(case_ids) >= 5

    clients: dict[str, Client] = {}
    offences: dict[tuple[str, str, str], str] = {}  # (table, how, query) -> first page that sent it
    checked = 0
    pages = [(username, url, True) for username, url in _pages(staff, case_ids)]
    pages += [(username, url, False) for username, url in _scoped_pages(org)]
    for username, url, walks in pages:
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(staff[username])
        statements = _selects(clients[username], url)
        with transaction.atomic():  # the replayed planner settings end with it
            for sql in statements:
                if _SETTINGS in sql:
                    with connection.cursor() as cursor:
                        cursor.execute(sql)
                    continue
                checked += 1
                for table, how in _planned_whole_table_reads(sql, walks=walks):
                    offences.setdefault((table, how, sql), f"{url} (as {username})")
                if not walks and _walk_left_to_the_planner(sql):
                    offences.setdefault(("cases_case", _WALK, sql), f"{url} (as {username})")
    assert checked > 100  # the pages really sent their queries
    report = "\n\n".join(f"{how} of {table} — {page}:\n  {sql}" for (table, how, sql), page in sorted(offences.items()))
    assert not offences, f"{len(offences)} queries read a whole large table:\n\n{report}"
