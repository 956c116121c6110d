"""The statistics in a real browser, on the demo organisation: the analyst opens the
dashboard (ECharts drawn under the strict Content-Security-Policy), clicks a bar of the
volume chart and lands on the ledger list behind it with exactly those cases, exports that
list (streamed, then as a longer export written in the background); asks for a
monthly report, watches it generate, keeps a commentary and exports it to Excel; and the
dashboard reads in English too."""

from __future__ import annotations

import csv
import io
import re
import threading
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from huiyin.demo.generator import DEMO_PASSWORD, build_organization, generate_case_specs
from huiyin.demo.history import populate
from huiyin.reports import rollups
from tests.policy.conftest import activate

pytestmark = pytest.mark.e2e


def _bar_point(page, series: int, index: int) -> tuple[float, float]:
    """The page coordinates of the middle of one bar of the volume chart."""
    canvas = page.locator("#volume-chart canvas").first
    box = canvas.bounding_box()
    assert box is not None
    x, y = page.evaluate(
        """([s, i]) => {
            const chart = echarts.getInstanceByDom(document.getElementById("volume-chart"));
            const option = chart.getOption();
            const value = option.series[s].data[i];
            let below = 0;
            for (let k = 0; k < s; k++) { below += option.series[k].data[i]; }
            return chart.convertToPixel({seriesIndex: s}, [i, below + value / 2]);
        }""",
        [series, index],
    )
    return box["x"] + x, box["y"] + y


def test_dashboard_drill_down_report_and_export(db, logged_in_page, settings):
    from django.utils import timezone
    from openpyxl import load_workbook

    from huiyin.core import export_jobs
    from huiyin.core.models import ExportJob
    from huiyin.reports import services
    from huiyin.reports.models import Report

    demo = build_organization()
    activate(demo.org, "city_hotline")
    now = timezone.now()
    populate(demo, generate_case_specs(40, seed=7, start=now - timedelta(days=20), end=now), now=now)
    rollups.catch_up()

    page = logged_in_page("analyst", DEMO_PASSWORD)
    page.get_by_role("link", name="统计分析").click()
    expect(page.locator("h1")).to_have_text("统计分析")
    expect(page.locator("#volume-chart canvas").first).to_be_visible()
    expect(page.locator('[data-kpi="intake_volume"] [data-figure="current"]')).to_be_visible()

    # The chart's data as drawn: the series of the busiest channel and a day it has matters.
    chart = page.evaluate(
        """() => {
            const o = echarts.getInstanceByDom(document.getElementById("volume-chart")).getOption();
            return {x: o.xAxis[0].data, series: o.series.map(s => ({name: s.name, data: s.data}))};
        }"""
    )
    assert chart["series"], "the volume chart has series"
    series = 0
    index = max(range(len(chart["x"])), key=lambda i: chart["series"][0]["data"][i])
    expected = chart["series"][0]["data"][index]
    assert expected > 0
    x, y = _bar_point(page, series, index)
    page.mouse.click(x, y)

    # The ledger list behind the bar: that day, that channel, and that many cases.
    expect(page).to_have_url(re.compile(r"/cases/\?.*channel="))
    expect(page.locator("#id_channel")).to_have_value(re.compile(r".+"))
    rows = page.locator("table tbody tr:has(a[href*='/cases/'])")
    expect(rows).to_have_count(expected)

    # That list exported as Excel: the same cases in the same order, the complainants masked.
    numbers = page.locator("table tbody td.case-number a").all_inner_texts()
    with page.expect_download() as download:
        page.locator("#ledger-exports").get_by_role("link", name="导出 Excel").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    header = [c.value for c in sheet[1]]
    exported = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in exported] == numbers
    assert all(r[header.index("联系电话")] in (None, "") or "****" in r[header.index("联系电话")] for r in exported)

    # The same list when it is longer than an export streamed in the response: its size is
    # shown, the file is written in the background with its progress on the page, and the
    # page downloads it when the task (run here, as a worker would) has written it.
    settings.HUIYIN_EXPORT_INLINE_ROWS = expected - 1
    page.locator("#ledger-exports").get_by_role("link", name="导出 CSV").click()
    expect(page.locator("#export-count")).to_contain_text(f"{expected} 条")
    page.locator("#export-start").click()
    expect(page.locator("#export-progress")).to_be_visible()
    job = ExportJob.objects.get()
    with page.expect_download() as download:
        worker = threading.Thread(target=export_jobs.job_run, kwargs={"job_id": job.pk})
        worker.start()
        worker.join()
    text = download.value.path().read_bytes().decode().lstrip("\ufeff")
    assert [r[0] for r in list(csv.reader(io.StringIO(text)))[1:]] == numbers
    expect(page.locator("#export-progress")).to_have_attribute("data-status", "done")

    # A monthly report: asked for, generated by the task (run here, as a worker would),
    # the page follows its progress and shows the figures; a commentary is kept.
    page.goto("/reports/periodic/")
    page.get_by_label("报告类型").select_option("month")
    page.get_by_label("所在期间的任一日期").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="生成报告").click()
    expect(page.locator("#report-progress")).to_be_visible()
    report = Report.objects.get()
    worker = threading.Thread(target=services.report_generate, kwargs={"report_id": report.pk})
    worker.start()
    worker.join()
    expect(page.locator('#report-kpis [data-kpi="intake_volume"]')).to_be_visible()
    page.locator("#id_commentary").fill("本月热线诉求平稳，噪音类投诉集中。")
    page.get_by_role("button", name="保存分析意见").click()
    expect(page.get_by_role("alert").filter(has_text="分析意见已保存")).to_be_visible()

    with page.expect_download() as download:
        page.locator("#download-xlsx").click()
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    summary = {r[0].value: r[1].value for r in book["概要"].iter_rows(min_row=2)}
    assert summary["分析意见"] == "本月热线诉求平稳，噪音类投诉集中。"
    kpis = {r[0].value: r[1].value for r in book["关键指标"].iter_rows(min_row=2)}
    report.refresh_from_db()
    intake = next(k for k in report.data["kpis"] if k["code"] == "intake_volume")
    assert kpis["受理量"] == intake["current"]["value"] > 0

    # The same dashboard in English.
    page.goto("/reports/")
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Statistics")
    expect(page.get_by_text("Key figures")).to_be_visible()
    expect(page.locator("#volume-chart canvas").first).to_be_visible()
    page.get_by_role("button", name="中文").click()
    expect(page.locator("h1")).to_have_text("统计分析")
