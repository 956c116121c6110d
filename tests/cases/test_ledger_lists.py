"""The ledger's total, pages, exports (Excel, CSV) and print view.

An export is read back (openpyxl, csv) and compared with the filtered ledger; personal
data is masked as on the screen unless a person with the personal-data right asks for a
full export, which logs every exported case as a full view first.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from huiyin.cases import export, selectors, services, views
from huiyin.cases.audit import check_chain
from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, Event
from huiyin.cases.selectors import LedgerFilters, LedgerTotal
from huiyin.cases.services import PartyInput, party_export_log
from huiyin.core.errors import PermissionDeniedError
from huiyin.core.privacy import mask_id_number, mask_phone
from huiyin.handling import actions as handling_actions

pytestmark = pytest.mark.django_db

PHONES = [f"1391234{n:04d}" for n in range(7)]


@pytest.fixture
def seven(register):
    """Seven cases an hour apart: four by phone, three by letter; newest first in the ledger."""
    now = timezone.now()
    cases = []
    for n, phone in enumerate(PHONES):
        cases.append(
            register(
                channel="phone" if n % 2 == 0 else "letter",
                text=f"第{n}号楼电梯故障，已经停运三天。",
                party=PartyInput(name=f"李{n}明", phone=phone, id_number="110101199003074514"),
                received_at=now - timedelta(hours=7 - n),
            )
        )
    return cases


def _login(client, user):
    client.force_login(user)
    return client


def _body(response) -> bytes:
    assert response.streaming, "an export is streamed"
    return b"".join(response.streaming_content)


def _csv_rows(response) -> list[list[str]]:
    text = _body(response).decode("utf-8")
    assert text.startswith("\ufeff"), "Excel needs the byte order mark to read UTF-8"
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def _xlsx_rows(response) -> list[list[object]]:
    book = load_workbook(io.BytesIO(_body(response)), read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def _ledger_numbers(actor, **filters) -> list[str]:
    return [c.number for c in selectors.ledger(actor=actor, filters=LedgerFilters(**filters))]


# --- total and pages ------------------------------------------------------------------------------


def test_the_ledger_shows_its_total_and_page_count(client, clerk, register):
    for n in range(5):
        register(text=f"第{n}件：路灯不亮。")
    html = _login(client, clerk).get(reverse("cases:ledger")).content.decode()
    assert "共 5 条" in html and "共 1 页" in html
    total = selectors.ledger_total(actor=clerk, filters=LedgerFilters())
    assert total == LedgerTotal(5, exact=True) and total.pages(size=2) == 3


def test_a_filtered_total_counts_the_filtered_list(client, clerk, seven):
    html = _login(client, clerk).get(reverse("cases:ledger"), {"channel": "letter"}).content.decode()
    assert "共 3 条" in html and "共 1 页" in html


def test_beyond_the_cap_the_total_is_the_planners_estimate_and_says_so(client, clerk, seven, monkeypatch):
    """Counting stops at COUNT_CAP rows: past it PostgreSQL's estimate is shown as "约"
    (SQLite, a small installation, counts to the end)."""
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    before = _statement_timeout() if connection.vendor == "postgresql" else None
    total = selectors.ledger_total(actor=clerk, filters=LedgerFilters())
    if before is not None:
        assert _statement_timeout() == before  # the count's own timeout ends with it
    html = _login(client, clerk).get(reverse("cases:ledger")).content.decode()
    if connection.vendor == "postgresql":
        assert not total.exact and total.count >= 4
        assert f"约 {total.count:,} 条" in html and "（估算）" in html
    else:
        assert total == LedgerTotal(7, exact=True) and "共 7 条" in html


def test_a_slow_count_gives_way_to_the_estimate(clerk, seven, monkeypatch):
    """On PostgreSQL the exact count has COUNT_TIMEOUT_MS; a cancelled one leaves the
    transaction usable and the estimate in its place."""
    if connection.vendor != "postgresql":
        pytest.skip("statement timeouts are PostgreSQL's")
    real = selectors._filtered

    def slow(actor, filters, counting=False):  # 20 ms a row
        return real(actor, filters, counting=counting).extra(where=["pg_sleep(0.02) IS NOT NULL"])

    monkeypatch.setattr(selectors, "_filtered", slow)
    monkeypatch.setattr(selectors, "COUNT_TIMEOUT_MS", 50)
    before = _statement_timeout()
    total = selectors.ledger_total(actor=clerk, filters=LedgerFilters())
    assert not total.exact and total.count >= 1
    assert Case.objects.count() == 7  # the transaction goes on, with its own timeout
    assert _statement_timeout() == before


def test_an_estimate_far_beyond_the_cap_is_shown_without_counting(clerk, seven, monkeypatch):
    """Where the planner reckons the filter holds many times COUNT_CAP rows, no COUNT runs: it
    would stop at the cap and give way to the same estimate, after reading the filter's whole
    bitmap (at a million cases, "closed reports" cost 200 ms this way). Below that the count runs."""
    if connection.vendor != "postgresql":
        pytest.skip("the planner's estimate is PostgreSQL's (SQLite counts to the end)")
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    monkeypatch.setattr(selectors, "_estimated_rows", lambda qs: 16)  # above 5 x 3
    with CaptureQueriesContext(connection) as queries:
        total = selectors.ledger_total(actor=clerk, filters=LedgerFilters())
    assert total == LedgerTotal(16, exact=False)
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)

    monkeypatch.setattr(selectors, "COUNT_CAP", 10)
    monkeypatch.setattr(selectors, "_estimated_rows", lambda qs: 50)  # within 5 x 10: counted
    assert selectors.ledger_total(actor=clerk, filters=LedgerFilters()) == LedgerTotal(7, exact=True)


def test_a_keyword_page_counts_the_matches_it_read_instead_of_counting_them_again(clerk, seven, monkeypatch):
    """On PostgreSQL a keyword's matches are read as ids first (at most SEARCH_CANDIDATES): the
    page's total is how many were read, exact, and no COUNT of the same match follows. More
    matches than that: the total is counted as before."""
    filters = LedgerFilters(keyword="电梯")
    with CaptureQueriesContext(connection) as queries:
        qs, total = selectors.ledger_with_total(actor=clerk, filters=filters)
        rows = list(qs)
    assert total == LedgerTotal(7, exact=True) == selectors.ledger_total(actor=clerk, filters=filters)
    assert [c.pk for c in rows] == [c.pk for c in sorted(seven, key=lambda c: c.received_at, reverse=True)]
    if connection.vendor == "postgresql":
        assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    monkeypatch.setattr(selectors, "SEARCH_CANDIDATES", 3)
    qs, total = selectors.ledger_with_total(actor=clerk, filters=filters)
    assert total == LedgerTotal(7, exact=True) and len(list(qs)) == 7


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


def test_bitmap_scans_get_memory_for_exact_bitmaps_and_give_it_back():
    """Bitmaps of ~120,000 rows turn lossy in PostgreSQL's default 4 MB, and a lossy AND reads
    every row of its pages (395 ms instead of 80 ms at a million cases): inside
    ``bitmap_scans`` work_mem is at least BITMAP_WORK_MEM; a server set higher keeps its own;
    after it, everything is as it was."""
    if connection.vendor != "postgresql":
        pytest.skip("planner settings are PostgreSQL's")
    with transaction.atomic():
        before = (_setting("work_mem"), _setting("enable_seqscan"), _setting("enable_indexscan"))
        with selectors.bitmap_scans():
            assert (_setting("enable_seqscan"), _setting("enable_indexscan")) == ("off", "off")
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_size_bytes(current_setting('work_mem')) >= pg_size_bytes(%s)", ["32MB"])
                assert cursor.fetchone()[0] is True
        assert (_setting("work_mem"), _setting("enable_seqscan"), _setting("enable_indexscan")) == before
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
        with selectors.bitmap_scans():
            assert _setting("work_mem") == "256MB"


def _statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


def test_the_last_page_is_read_from_the_end(clerk, seven):
    qs = selectors.ledger(actor=clerk, filters=LedgerFilters())
    numbers = [c.number for c in qs]
    rows, has_previous = selectors.page_from_end(qs, 1, size=3)
    assert [c.number for c in rows] == numbers[-3:] and has_previous
    rows, has_previous = selectors.page_from_end(qs, 3, size=3)
    assert [c.number for c in rows] == numbers[:1] and not has_previous


def _pager(number, end, count, exact, has_previous, has_next):
    return views.Pager(number, end, LedgerTotal(count, exact), has_previous=has_previous, has_next=has_next)


def test_page_links_first_previous_numbers_next_last():
    links = _pager(3, None, 300, True, True, True).links()
    assert [(link["label"], link["param"]) for link in links] == [
        ("首页", "page=1"),
        ("上一页", "page=2"),
        ("1", "page=1"),
        ("2", "page=2"),
        ("3", "page=3"),
        ("4", "page=4"),
        ("5", "page=5"),
        ("下一页", "page=4"),
        ("末页", "page=10"),
    ]
    assert [link["label"] for link in links if link["current"]] == ["3"]


def test_an_estimated_ledgers_last_page_is_counted_from_the_end():
    first = _pager(1, None, 1_000_000, False, False, True).links()
    assert [(link["label"], link["param"]) for link in first] == [
        ("1", "page=1"),
        ("2", "page=2"),
        ("下一页", "page=2"),
        ("末页", "end=1"),
    ]
    last = _pager(None, 1, 1_000_000, False, True, False).links()
    assert [(link["label"], link["param"]) for link in last] == [
        ("首页", "page=1"),
        ("上一页", "end=2"),
        ("倒数第 1 页", None),
    ]


def test_the_last_page_of_a_counted_ledger_is_numbered(client, clerk, seven):
    html = _login(client, clerk).get(reverse("cases:ledger"), {"end": "1"}).content.decode()
    assert 'aria-current="page"><span class="page-link">1</span>' in html  # 7 rows: one page


# --- exports --------------------------------------------------------------------------------------


def test_csv_export_is_the_filtered_list_masked(client, clerk, seven):
    rows = _csv_rows(_login(client, clerk).get(reverse("cases:ledger_csv"), {"channel": "phone"}))
    header, body = rows[0], rows[1:]
    assert header == export.header()
    assert [r[0] for r in body] == _ledger_numbers(clerk, channel="phone")
    assert len(body) == 4
    by_number = {c.number: c for c in seven}
    for row in body:
        record = dict(zip(header, row, strict=True))
        party = by_number[record["编号"]].party
        assert record["渠道"] == "电话"
        assert record["反映人"] == party.display_name == f"李{'*' * 2}"
        assert record["联系电话"] == mask_phone(party.phone) != party.phone
        assert record["身份证号码"] == mask_id_number(party.id_number)
    assert not any(phone in ",".join(",".join(r) for r in rows) for phone in PHONES)


def test_excel_export_is_the_filtered_list_masked(client, clerk, seven):
    rows = _xlsx_rows(_login(client, clerk).get(reverse("cases:ledger_xlsx"), {"channel": "letter"}))
    header, body = rows[0], rows[1:]
    assert header == export.header()
    assert [r[0] for r in body] == _ledger_numbers(clerk, channel="letter")
    assert len(body) == 3
    for row in body:
        record = dict(zip(header, row, strict=True))
        assert record["联系电话"] in {mask_phone(p) for p in PHONES}
        received = timezone.localtime(Case.objects.get(number=record["编号"]).received_at).replace(tzinfo=None)
        assert abs(record["受理时间"] - received) < timedelta(seconds=1)  # a date cell, in local time


def test_an_export_reads_the_list_in_chunks_from_where_the_last_stopped(client, clerk, seven, monkeypatch):
    """Three rows a query: seven rows are three chunk queries, each starting after the
    last row of the one before, none repeated, none missed."""
    monkeypatch.setattr(selectors, "CHUNK_SIZE", 3)
    chunks = list(selectors.ledger_chunks(selectors.ledger(actor=clerk, filters=LedgerFilters())))
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert [c.number for chunk in chunks for c in chunk] == _ledger_numbers(clerk)
    rows = _csv_rows(_login(client, clerk).get(reverse("cases:ledger_csv")))
    assert [r[0] for r in rows[1:]] == _ledger_numbers(clerk)


def test_a_keyword_filter_is_exported_too(client, clerk, register, seven):
    noise = register(text="小区门口噪音扰民，夜间施工。")
    rows = _csv_rows(_login(client, clerk).get(reverse("cases:ledger_csv"), {"q": "噪音"}))
    assert [r[0] for r in rows[1:]] == [noise.number]


def test_a_department_sees_only_its_cases_in_the_export(client, handler, clerk, register, departments):
    ours = register(text="人行道破损。")
    register(text="另一件：公交站牌倒了。")
    services.case_accept(actor=clerk, case_id=ours.pk)
    handling_actions.case_dispatch(actor=clerk, case_id=ours.pk, department_id=departments["city"].pk)
    rows = _csv_rows(_login(client, handler).get(reverse("cases:ledger_csv")))
    assert [r[0] for r in rows[1:]] == [ours.number]


def test_a_typed_formula_stays_text_in_both_exports(client, clerk, register):
    case = register(title='=HYPERLINK("http://example.com","查看")', text="标题像公式的诉求。")
    client = _login(client, clerk)
    csv_rows = _csv_rows(client.get(reverse("cases:ledger_csv")))
    assert csv_rows[1][1] == "'" + case.title  # Excel shows it, does not run it
    book = load_workbook(io.BytesIO(_body(client.get(reverse("cases:ledger_xlsx")))))
    cell = book.active["B2"]
    assert cell.value == case.title and cell.data_type == "s"


def test_a_bad_filter_exports_nothing(client, clerk, seven):
    response = _login(client, clerk).get(reverse("cases:ledger_csv"), {"date_from": "2026-02-30"})
    assert response.status_code == 400 and "起" in response.content.decode()


# --- full exports: the personal-data right, logged ------------------------------------------------


def _viewed(case: Case) -> list[Event]:
    return list(Event.objects.filter(case=case, kind=EventKind.PII_VIEWED).order_by("id"))


def test_a_full_export_is_in_clear_and_logs_every_case_as_a_full_view(client, clerk, seven):
    response = _login(client, clerk).post(reverse("cases:ledger_csv") + "?channel=phone")
    rows = _csv_rows(response)
    header, body = rows[0], rows[1:]
    exported = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    phone_cases = [c for c in seven if c.channel == "phone"]
    assert set(exported) == {c.number for c in phone_cases}
    for case in phone_cases:
        record = exported[case.number]
        assert (record["反映人"], record["联系电话"]) == (case.party.name, case.party.phone)
        assert record["身份证号码"] == "110101199003074514"
        (event,) = _viewed(case)  # logged as the case page's reveal logs it
        assert event.actor == clerk and event.data == {"party_ids": [case.party_id], "export": "csv"}
        assert not check_chain(Event.objects.filter(case=case).order_by("id")).reason
    assert all(not _viewed(c) for c in seven if c.channel != "phone")


def test_a_full_excel_export_is_logged_too(client, clerk, seven):
    rows = _xlsx_rows(_login(client, clerk).post(reverse("cases:ledger_xlsx")))
    assert {r[header_index("联系电话")] for r in rows[1:]} == set(PHONES)
    assert all(_viewed(c)[0].data["export"] == "xlsx" for c in seven)


def header_index(label: str) -> int:
    return export.header().index(label)


def test_without_the_personal_data_right_there_is_no_full_export(client, analyst, seven):
    client = _login(client, analyst)
    assert client.post(reverse("cases:ledger_csv")).status_code == 403
    assert not Event.objects.filter(kind=EventKind.PII_VIEWED).exists()
    html = client.get(reverse("cases:ledger")).content.decode()
    assert "完整导出" not in html and "导出 Excel" in html
    rows = _csv_rows(client.get(reverse("cases:ledger_csv")))  # the masked one
    assert len(rows) == 8 and not any(p in ",".join(rows[1]) for p in PHONES)


def test_a_full_export_over_the_limit_is_refused_before_anything_is_logged(client, clerk, seven, monkeypatch):
    monkeypatch.setattr(export, "FULL_EXPORT_MAX", 6)
    response = _login(client, clerk).post(reverse("cases:ledger_csv"))
    assert response.status_code == 400 and "最多 6 件" in response.content.decode()
    assert not Event.objects.filter(kind=EventKind.PII_VIEWED).exists()
    assert client.post(reverse("cases:ledger_csv") + "?channel=letter").status_code == 200


def test_the_export_log_refuses_a_case_the_actor_may_not_see(handler, seven):
    with pytest.raises(PermissionDeniedError):
        party_export_log(actor=handler, case_ids=[seven[0].pk], export="csv")
    assert not Event.objects.filter(kind=EventKind.PII_VIEWED).exists()


# --- print ----------------------------------------------------------------------------------------


def test_the_print_view_is_the_filtered_list_masked_without_navigation(client, clerk, seven):
    html = _login(client, clerk).get(reverse("cases:ledger_print"), {"channel": "letter"}).content.decode()
    assert "navbar" not in html and "ledger-print.css" in html
    assert "渠道：来信" in html and "共 3 条" in html
    for case in seven:
        assert (case.number in html) == (case.channel == "letter")
        assert case.party.phone not in html
    assert mask_phone(seven[1].party.phone) in html


def test_the_print_view_says_where_it_stops(client, clerk, seven, monkeypatch):
    monkeypatch.setattr(views, "PRINT_MAX", 5)
    html = _login(client, clerk).get(reverse("cases:ledger_print")).content.decode()
    assert "仅打印前 5 条" in html
    assert sum(case.number in html for case in seven) == 5


def test_the_csv_leaves_chunk_by_chunk(client, clerk, seven, monkeypatch):
    """Streamed: the first rows are sent after the first chunk's query, before the next
    chunk is read - a long export never holds the list in memory."""
    monkeypatch.setattr(selectors, "CHUNK_SIZE", 3)
    response = _login(client, clerk).get(reverse("cases:ledger_csv"))
    blocks = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as before_first_rows:
        next(blocks)  # the header
        first = next(blocks).decode()
    with CaptureQueriesContext(connection) as the_rest:
        rest = b"".join(blocks).decode()
    case_reads = [q["sql"] for q in before_first_rows.captured_queries if 'FROM "cases_case"' in q["sql"]]
    assert len(case_reads) == 1 and first.count("\r\n") == 3
    assert sum('FROM "cases_case"' in q["sql"] for q in the_rest.captured_queries) == 2
    assert rest.count("\r\n") == 4
