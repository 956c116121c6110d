"""A satisfaction survey in a real browser (property preset): the office creates a
campaign with the eight areas, types in a paper questionnaire (an empty one is refused
with the reason), an owner answers through a one-use link, the figures follow, and the
report downloads as Excel for the owners' committee."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from huiyin.demo.generator import DEMO_PASSWORD, build_organization
from huiyin.surveys.models import SurveyResponse
from tests.policy.conftest import activate

pytestmark = pytest.mark.e2e


def test_survey_campaign_paper_and_online_answers_and_report(db, logged_in_page):
    from django.utils import timezone
    from openpyxl import load_workbook

    demo = build_organization()
    activate(demo.org, "property_management")
    page = logged_in_page("leader", DEMO_PASSWORD)
    page.get_by_role("link", name="调查走访").click()
    expect(page.locator("#activity-progress")).to_contain_text("住户座谈会")

    form = page.locator("#campaign-form")
    today = timezone.localdate()
    form.get_by_label("调查名称").fill("年度业主意见调查")
    form.get_by_label("开始日期").fill(today.isoformat())
    form.get_by_label("截止日期").fill(today.replace(day=28).isoformat() if today.day < 28 else today.isoformat())
    form.get_by_label("调查对象").fill("全体业主")
    form.get_by_label("发放份数").fill("50")
    form.get_by_role("button", name="创建调查").click()
    expect(page.locator("h1")).to_have_text("年度业主意见调查")
    expect(page.locator("#area-stats")).to_contain_text("消防治安管理")

    paper = page.locator("#paper-form")
    paper.get_by_label("问卷编号").fill("P001")
    paper.get_by_role("button", name="录入").click()
    expect(page.locator('[data-error-for="answers"]')).to_have_text("问卷是空的：请至少回答一项或填写意见。")
    assert not SurveyResponse.objects.exists()

    paper = page.locator("#paper-form")
    expect(paper.get_by_label("问卷编号")).to_have_value("P001")  # what was typed is kept
    for code, value in (("power", "satisfied"), ("water", "dissatisfied"), ("repair", "basically_satisfied")):
        paper.locator(f'input[name="area_{code}"][value="{value}"]').check()
    paper.get_by_label("意见和建议").fill("电梯经常坏")
    paper.get_by_role("button", name="录入").click()
    expect(page.get_by_role("alert").filter(has_text="已录入问卷 P001")).to_be_visible()
    expect(page.locator("#responses")).to_contain_text("1 / 50")
    expect(page.locator('[data-area="water"] .rate')).to_have_text("0.0%（0/1）")

    campaign_url = page.url
    page.get_by_label("生成网上问卷链接（每户一个，只能填写一次）").fill("1")
    page.get_by_role("button", name="生成").click()
    from urllib.parse import urlsplit

    link = urlsplit(page.locator("#survey-links code").first.inner_text()).path  # the public site's address
    page.goto(link)
    page.get_by_label("供水管理 满意", exact=True).check()
    page.get_by_label("意见和建议（可不填）").fill("电梯经常坏，希望尽快修好")
    page.get_by_role("button", name="提交问卷").click()
    expect(page.locator("#survey-done")).to_be_visible()
    page.goto(link)
    expect(page.locator("#survey-error")).to_contain_text("只能填写一次")

    page.goto(campaign_url)
    expect(page.locator("#responses")).to_contain_text("2 / 50（网上 1，纸质 1）")
    expect(page.locator('[data-area="water"] .rate')).to_have_text("50.0%（1/2）")
    expect(page.locator("#common-opinions")).to_contain_text("电梯经常坏")
    with page.expect_download() as download:
        page.locator("#report-xlsx").click()
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    areas = {r[0]: r[1:] for r in book["分项满意率"].iter_rows(min_row=2, values_only=True)}
    assert areas["供水管理"] == (1, 0, 1, 2, 0.5)
