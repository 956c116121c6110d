"""Measurements for the ledger benchmark.

Pages go through Django's test ``Client`` in this process, logged in as the demo
intake clerk, so each figure is the whole request: middleware, session and user
look-up, view, selector, SQL and template render. The SQL part of each request is
timed separately with ``connection.execute_wrapper``. With ``--http`` the same pages
go over HTTP to a gunicorn (``_http.py``): the figure then includes the server and the
network stack, and the SQL part is not seen.

Registration throughput is in ``_throughput.py``.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

from _common import loadavg, log
from django.db import connection, reset_queries, transaction
from django.test import Client
from django.utils import timezone


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 2),
        "p95": round(percentile(values, 95), 2),
        "max": round(max(values), 2),
        "mean": round(statistics.fmean(values), 2),
    }


class SqlTimer:
    def __init__(self):
        self.total = 0.0
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.total += time.perf_counter() - t
            self.count += 1


def measure_pages(
    client: Client,
    name: str,
    urls: Iterator[tuple[str, str]],
    *,
    requests: int,
    warmup: int,
    check: Callable[[str, object], None] | None = None,
) -> dict:
    """GET ``requests`` URLs (after ``warmup`` unmeasured ones); request and SQL times in ms."""
    for _ in range(warmup):
        label, url = next(urls)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    in_process = isinstance(client, Client)  # over HTTP the SQL runs in the server
    total, sql, queries = [], [], []
    by_label: dict[str, list[float]] = {}
    sql_by_label: dict[str, list[float]] = {}
    load_before = loadavg()
    for _ in range(requests):
        label, url = next(urls)
        timer = SqlTimer()
        with connection.execute_wrapper(timer) if in_process else contextlib.nullcontext():
            t = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - t) * 1000
        assert response.status_code == 200, (url, response.status_code)
        if check:
            check(url, response)
        total.append(elapsed)
        by_label.setdefault(label, []).append(elapsed)
        if in_process:
            sql.append(timer.total * 1000)
            queries.append(timer.count)
            sql_by_label.setdefault(label, []).append(timer.total * 1000)
    result = {
        "page": name,
        "over": "in-process" if in_process else "http",
        "total_ms": summary(total),
        "sql_ms": summary(sql) if sql else None,
        "queries_per_request": {"min": min(queries), "max": max(queries)} if queries else None,
        "variants": {
            label: {"total_ms": summary(v), "sql_ms": summary(sql_by_label[label]) if in_process else None}
            for label, v in by_label.items()
        },
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
    }
    sql_note = (
        f"  (SQL p50 {result['sql_ms']['p50']:.1f} / p95 {result['sql_ms']['p95']:.1f} ms, "
        f"{min(queries)}-{max(queries)} queries)"
        if in_process
        else "  (over HTTP)"
    )
    log(
        f"{name:<22} p50 {result['total_ms']['p50']:7.1f} ms  "
        f"p95 {result['total_ms']['p95']:7.1f} ms  "
        f"max {result['total_ms']['max']:7.1f} ms{sql_note}"
    )
    return result


def _cycle(items: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    return itertools.cycle(items)


def ledger_urls(org, *, seed: int) -> dict[str, list[tuple[str, str]]]:
    """The URL sets for each page, rotating parameters so caches do not flatter a single query."""
    from huiyin.cases.models import Case, Category
    from huiyin.orgs.models import Department

    rng = random.Random(seed)
    default = [(f"page {p}", "/cases/" if p == 1 else f"/cases/?page={p}") for p in range(1, 6)]

    departments = list(Department.objects.filter(organization=org, handles_cases=True).order_by("pk"))
    tops = list(Category.objects.filter(organization=org, parent__isnull=True).order_by("pk"))
    newest = (
        Case.objects.filter(organization=org).order_by("-received_at").values_list("received_at", flat=True).first()
    )
    today = timezone.localtime(newest).date() if newest else timezone.localdate()
    filtered: list[tuple[str, str]] = []
    for i in range(40):
        kind = i % 8
        if kind == 0:
            filtered.append(("state=in_progress&channel=phone", "/cases/?state=in_progress&channel=phone"))
        elif kind == 1:
            d = departments[i % len(departments)]
            filtered.append(("department", f"/cases/?department={d.pk}"))
        elif kind == 2:
            c = tops[i % len(tops)]
            filtered.append(("category subtree", f"/cases/?category={c.pk}"))
        elif kind == 3:
            start = today - timedelta(days=rng.randrange(7, 300))
            filtered.append(
                (
                    "date range (7 days)",
                    f"/cases/?date_from={start:%Y-%m-%d}&date_to={start + timedelta(days=6):%Y-%m-%d}",
                )
            )
        elif kind == 4:
            d = departments[i % len(departments)]
            filtered.append(("department&state=open", f"/cases/?department={d.pk}&state=open"))
        elif kind == 5:
            filtered.append(("nature=report&state=closed", "/cases/?nature=report&state=closed"))
        elif kind == 6:
            c = tops[i % len(tops)]
            filtered.append(("category&channel=online", f"/cases/?category={c.pk}&channel=online"))
        else:
            start = today - timedelta(days=rng.randrange(31, 300))
            filtered.append(
                (
                    "state=closed&date range (30 days)",
                    f"/cases/?state=closed&date_from={start:%Y-%m-%d}&date_to={start + timedelta(days=29):%Y-%m-%d}",
                )
            )

    search = [(w, f"/cases/?q={w}") for w in SEARCH_WORDS] + [(f"{w} (3 chars)", f"/cases/?q={w}") for w in SEARCH_3]
    search_hard = [(w, f"/cases/?q={w}") for w in SEARCH_HARD]
    # A department handler's searches: the visibility filter (handler, first contact, lead
    # or assisting department) on top of the term or category.
    env = next((c for c in tops if c.name == "环境保护"), tops[0])
    empty = _empty_category(org, tops[0])
    scoped_search = [(f"handler: {w}", f"/cases/?q={w}") for w in ["停车", "欠薪", "油烟", "路灯", "物业费"]]
    scoped_search.append(("handler: category 环境保护", f"/cases/?category={env.pk}"))
    scoped_search.append(("handler: a new, empty category", f"/cases/?category={empty.pk}"))

    max_id = Case.objects.filter(organization=org).order_by("-id").values_list("id", flat=True).first() or 1
    detail = [("detail", f"/cases/{rng.randint(1, max_id)}/") for _ in range(2000)]
    return {
        "default": default,
        "filtered": filtered,
        "search": search,
        "detail": detail,
        "search_hard": search_hard,
        "scoped_search": scoped_search,
    }


def _empty_category(org, parent):
    """A leaf category no case has (as an administrator's new one), made once."""
    from huiyin.cases.models import Category

    leaf, created = Category.objects.get_or_create(
        organization=org, parent=parent, name="基准测试新分类", defaults={"full_name": f"{parent.name}/基准测试新分类"}
    )
    if created:
        leaf.path = f"{parent.path}{leaf.pk}/"
        leaf.save(update_fields=["path"])
    return leaf


# (c) of the brief: common two-character words and one three-character term.
SEARCH_WORDS = ["漏水", "噪音", "停车", "欠薪", "油烟", "路灯"]
SEARCH_3 = ["物业费"]
# Extra: what people also type - words that are absent (typos, names), rare words, and
# longer phrases of common bigrams.
SEARCH_HARD = ["火星", "张伟", "王清", "扬渣", "寓燃", "噪音扰民", "学院路"]


def term_counts() -> dict[str, int]:
    """How many cases each search term matches (GIN count), for the report."""
    from huiyin.core.search import tsquery

    out = {}
    with connection.cursor() as cur:
        for term in SEARCH_WORDS + SEARCH_3 + SEARCH_HARD:
            cur.execute(
                "SELECT count(*) FROM cases_case WHERE search_vector @@ to_tsquery('simple', %s)",
                [tsquery(term)],
            )
            out[term] = cur.fetchone()[0]
    return out


def check_detail(url: str, response) -> None:
    body = response.content.decode()
    if "记录校验失败" in body or "chain check failed" in body.lower():
        raise AssertionError(f"event chain broken on {url}")


def in_process_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def run_pages(*, requests: int, warmup: int, seed: int, hard_requests: int, client_for=in_process_client) -> dict:
    """Each page as the clerk (the department-scoped ledger as a handler); ``client_for``
    makes a logged-in client for a staff member (in process, or over HTTP)."""
    from huiyin.demo.generator import DEMO_CODE
    from huiyin.orgs.models import Organization, Staff

    org = Organization.objects.get(code=DEMO_CODE)
    client = client_for(Staff.objects.get(username="clerk"))
    urls = ledger_urls(org, seed=seed)
    results = {}
    results["default"] = measure_pages(
        client, "ledger default list", _cycle(urls["default"]), requests=requests, warmup=warmup
    )
    results["filtered"] = measure_pages(
        client,
        "ledger filtered list",
        _cycle(urls["filtered"]),
        requests=max(requests, len(urls["filtered"])),
        warmup=warmup,
    )
    results["search"] = measure_pages(
        client,
        "keyword search",
        _cycle(urls["search"]),
        requests=max(requests, 7 * 20),
        warmup=warmup,
    )
    results["detail"] = measure_pages(
        client,
        "case detail",
        iter(urls["detail"]),
        requests=requests,
        warmup=warmup,
        check=check_detail,
    )
    # Extras, with fewer requests.
    results["desk"] = measure_pages(
        client,
        "my desk (clerk)",
        _cycle([("desk", "/cases/desk/")]),
        requests=max(20, requests // 4),
        warmup=3,
    )
    handler = client_for(Staff.objects.get(username="handler_city"))
    results["scoped"] = measure_pages(
        handler,
        "ledger as a handler",
        _cycle(urls["default"]),
        requests=max(20, requests // 4),
        warmup=3,
    )
    results["search_hard"] = measure_pages(
        client, "search: rare/absent", _cycle(urls["search_hard"]), requests=hard_requests, warmup=0
    )
    results["scoped_search"] = measure_pages(
        handler,
        "handler: search/category",
        _cycle(urls["scoped_search"]),
        requests=max(hard_requests, len(urls["scoped_search"])),
        warmup=0,
    )
    results["scoped_filtered"] = measure_pages(
        handler,
        "handler: filtered list",
        _cycle(urls["filtered"]),
        requests=max(hard_requests, 40),
        warmup=0,
    )
    head = client_for(Staff.objects.get(username="head_city"))
    results["head"] = measure_pages(
        head,
        "department head: all",
        _cycle(urls["default"][:2] + urls["scoped_search"] + urls["filtered"][:8]),
        requests=max(hard_requests, 30),
        warmup=0,
    )
    results["board"] = measure_pages(
        client_for(Staff.objects.get(username="supervisor")),
        "supervision board",
        _cycle([("board", "/supervision/")]),
        requests=max(20, requests // 10),
        warmup=2,
    )
    results["callbacks"] = measure_pages(
        client_for(Staff.objects.get(username="callback")),
        "callback desk",
        _cycle([("callbacks", "/callbacks/")]),
        requests=max(20, requests // 10),
        warmup=2,
    )
    reset_queries()
    return results


# --- EXPLAIN ANALYZE of the selectors' queries --------------------------------------------------


def explain_queries(*, seed: int) -> dict[str, dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of what the ledger sends for one URL per variant (page 1):
    every SELECT on the case table, captured while the selector builds and reads the page
    (a keyword search first asks the GIN index for candidate ids; when none match, the
    page itself sends no query)."""
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext

    from huiyin.cases import selectors
    from huiyin.cases.forms import LedgerFilterForm
    from huiyin.demo.generator import DEMO_CODE
    from huiyin.orgs.models import Organization, Staff

    org = Organization.objects.get(code=DEMO_CODE)
    clerk = Staff.objects.get(username="clerk")
    handler = Staff.objects.get(username="handler_city")
    urls = ledger_urls(org, seed=seed)
    seen: dict[str, tuple[str, Staff]] = {}
    for group in ("default", "filtered", "search", "search_hard"):
        for label, url in urls[group]:
            seen.setdefault(f"{group}: {label}", (url, clerk))
    # The department-scoped ledger (a handler): the visibility condition on top of each filter.
    for group in ("default", "filtered", "scoped_search"):
        for label, url in urls[group]:
            seen.setdefault(f"scoped {group}: {label}", (url, handler))
    out = {}
    for label, (url, actor) in seen.items():
        query = url.partition("?")[2]
        form = LedgerFilterForm(QueryDict(query) or None, organization_id=org.pk)
        filters, page_number, _end = form.ledger_query()
        with CaptureQueriesContext(connection) as captured:
            selectors.page(selectors.ledger(actor=actor, filters=filters), page_number)
        plans = []
        # Replayed in order in one transaction: the planner settings a selector sets for a
        # statement (``selectors.bitmap_scans``) apply to the EXPLAIN of that statement too.
        with transaction.atomic():
            for sql in (q["sql"] for q in captured.captured_queries):
                if "set_config(" in sql:
                    with connection.cursor() as cur:
                        cur.execute(sql)
                    continue
                if '"cases_case"' not in sql:
                    continue
                with connection.cursor() as cur:
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plan = "\n".join(r[0] for r in cur.fetchall())
                ms = float(plan.rsplit("Execution Time:", 1)[1].split("ms")[0]) if "Execution Time:" in plan else None
                plans.append({"sql": sql, "execution_ms": ms, "plan": plan})
        out[label] = {
            "url": url,
            "statements": len(plans),
            "execution_ms": round(sum(p["execution_ms"] or 0 for p in plans), 3),
            "plans": plans,
        }
    return out
