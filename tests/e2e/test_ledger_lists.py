"""The ledger in a real browser: its total and page count, the first / previous / numbered /
next / last page links, a filter changing both, the masked CSV download and the print view."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from huiyin.cases import services as cs
from huiyin.cases.models import Case
from huiyin.cases.services import PartyInput
from huiyin.demo.generator import DEMO_PASSWORD, build_organization
from tests.conftest import intake

pytestmark = pytest.mark.e2e

CASES = 65  # 30 a page: three pages, the last with five


@pytest.fixture
def ledger(db):
    demo = build_organization()
    now = timezone.now()
    for n in range(CASES):
        cs.case_register(
            actor=demo.staff["clerk"],
            data=intake(
                text=f"第{n}号路灯不亮。",
                channel="letter" if n % 5 == 0 else "phone",
                party=PartyInput(name="赵强", phone=f"1380000{n:04d}"),
                received_at=now - timedelta(minutes=CASES - n),
            ),
        )
    return demo


def _rows(page):
    return page.locator("table tbody tr")


def _newest_first() -> list[str]:
    return list(Case.objects.order_by("-received_at", "-id").values_list("number", flat=True))


def test_the_total_the_page_count_and_the_page_links(ledger, logged_in_page):
    numbers = _newest_first()
    page = logged_in_page("clerk", DEMO_PASSWORD)
    page.get_by_role("link", name="台账", exact=True).click()
    expect(page.locator("#ledger-total")).to_have_text("共 65 条")
    expect(page.locator("#ledger-pages")).to_have_text("共 3 页")
    expect(_rows(page)).to_have_count(30)
    pager = page.locator("#ledger-pager")
    expect(pager.locator(".active")).to_have_text("1")
    expect(pager.get_by_role("link", name="首页")).to_have_count(0)

    pager.get_by_role("link", name="末页").click()
    expect(pager.locator(".active")).to_have_text("3")
    expect(_rows(page)).to_have_count(5)
    expect(_rows(page).first.locator(".case-number")).to_have_text(numbers[60])
    expect(pager.get_by_role("link", name="下一页")).to_have_count(0)

    pager.get_by_role("link", name="上一页").click()
    expect(pager.locator(".active")).to_have_text("2")
    expect(_rows(page)).to_have_count(30)
    expect(_rows(page).first.locator(".case-number")).to_have_text(numbers[30])

    pager.get_by_role("link", name="首页").click()
    expect(pager.locator(".active")).to_have_text("1")
    pager.get_by_role("link", name="2", exact=True).click()
    expect(pager.locator(".active")).to_have_text("2")
    pager.get_by_role("link", name="下一页").click()
    expect(pager.locator(".active")).to_have_text("3")

    page.get_by_label("渠道").select_option("letter")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#ledger-total")).to_have_text("共 13 条")
    expect(page.locator("#ledger-pages")).to_have_text("共 1 页")
    expect(_rows(page)).to_have_count(13)


def test_the_filtered_list_downloads_masked_and_prints_without_navigation(ledger, logged_in_page):
    page = logged_in_page("clerk", DEMO_PASSWORD)
    page.goto("/cases/?channel=letter")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    letters = list(
        Case.objects.filter(channel="letter").order_by("-received_at", "-id").values_list("number", flat=True)
    )
    assert [r[0] for r in rows[1:]] == letters
    assert "13800000000" not in text and "138****0000" in text

    with page.context.expect_page() as printed:
        page.get_by_role("link", name="打印").click()
    sheet = printed.value
    expect(sheet.locator("#print-criteria")).to_contain_text("渠道：来信")
    expect(sheet.locator("#print-criteria")).to_contain_text("共 13 条")
    expect(sheet.locator("nav.navbar")).to_have_count(0)
    expect(sheet.locator("tbody tr")).to_have_count(13)
    sheet.emulate_media(media="print")
    expect(sheet.get_by_role("button", name="打印")).to_be_hidden()
