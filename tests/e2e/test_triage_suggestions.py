"""Triage on the phone form in a real browser: the clerk types the complaint, the ranked
suggestions appear with their confidence and the words behind them, Alt+S takes the first
(Enter on another takes that one), and the case is registered with the chosen category,
recorded against what was suggested."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from huiyin.cases.bus import dispatch_after_commit
from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, Event
from huiyin.triage.models import Suggestion
from huiyin.triage.services import train
from tests.triage.conftest import add_category
from tests.triage.toy import CLASSES, rows, write_csv

pytestmark = pytest.mark.e2e

TEXT = "楼下饭店油烟很大，晚上噪音扰民，还往下水道排放废水，气味难闻。"


@pytest.fixture
def trained(org, tmp_path):
    tree = {name: add_category(org, name) for name in CLASSES}
    train(org, [write_csv(tmp_path / "toy.csv", rows(12))])
    return tree


def test_type_a_complaint_and_accept_a_suggestion(clerk, departments, trained, logged_in_page):
    page = logged_in_page("clerk")
    page.goto("/cases/new/phone/")
    page.keyboard.type("13912345678")
    page.fill("#id_party_name", "王五")
    page.locator("#id_text").press_sequentially(TEXT, delay=5)

    first = page.locator("#triage-suggestions .triage-pick").first
    expect(first).to_contain_text("环境保护")
    expect(first.locator(".triage-confidence")).to_have_text(re.compile(r"^\d+%$"))
    expect(first.locator(".triage-words")).to_contain_text("依据：")
    expect(page.locator("#triage-suggestions .triage-pick")).to_have_count(3)
    if os.environ.get("HUIYIN_SCREENSHOTS"):
        page.screenshot(path=os.environ["HUIYIN_SCREENSHOTS"] + "/triage-intake.png", full_page=True)

    page.locator("#id_text").focus()
    page.keyboard.press("Alt+s")  # one keystroke takes the first suggestion
    environment = trained["环境保护"]
    expect(page.locator("select[name=category]")).to_have_value(str(environment.pk))
    expect(page.locator("#id_category")).to_have_value("环境保护")  # the tree picker's box shows it
    expect(first).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#triage-accepted")).to_contain_text("环境保护")
    token = page.locator("input[name=intake_token]").input_value()
    for _ in range(50):  # the keystroke's record is a request of its own
        if Suggestion.objects.filter(intake_token=token, accepted_category=environment).exists():
            break
        page.wait_for_timeout(100)
    assert Suggestion.objects.get(intake_token=token).accepted_category == environment

    page.keyboard.press("Control+Enter")
    expect(page.locator("h1 .case-number")).to_be_visible()
    case = Case.objects.get(intake_token=token)
    assert case.category == environment
    dispatch_after_commit(Event.objects.get(case=case, kind=EventKind.REGISTERED).pk)  # its task, run here
    row = Suggestion.objects.get(intake_token=token)
    assert row.case == case and row.chosen_category == environment and not row.corrected


def test_enter_on_another_suggestion_takes_that_one(clerk, departments, trained, logged_in_page):
    page = logged_in_page("clerk")
    page.goto("/cases/new/visit/")
    page.locator("#id_text").press_sequentially("公交车站附近道路拥堵，停车难，还有小区物业乱收停车费", delay=5)
    picks = page.locator("#triage-suggestions .triage-pick")
    expect(picks).to_have_count(3)
    second = picks.nth(1)
    name = second.locator(".fw-semibold").inner_text().split(". ", 1)[1]
    second.focus()
    page.keyboard.press("Enter")
    expect(second).to_have_attribute("aria-pressed", "true")
    expect(page.locator("select[name=category]")).to_have_value(str(trained[name].pk))
    expect(page.locator("#id_category")).to_have_value(name)


def test_a_repeat_is_shown_and_the_call_added_to_its_case(clerk, departments, trained, register, logged_in_page):
    from huiyin.cases.services import PartyInput  # noqa: PLC0415  (only this test registers a case)

    earlier = register(
        text="幸福小区3号楼旁边的建筑工地每天晚上十点以后还在施工打桩，噪音很大，影响居民休息。",
        party=PartyInput(name="赵六", phone="13700000001"),
    )
    dispatch_after_commit(Event.objects.get(case=earlier, kind=EventKind.REGISTERED).pk)  # its bands
    page = logged_in_page("clerk")
    page.goto("/cases/new/phone/")
    page.keyboard.type("13912340000")
    page.fill("#id_party_name", "钱七")
    page.locator("#id_text").press_sequentially("幸福小区3号楼旁边建筑工地晚上十点以后还在打桩，噪音太大了", delay=5)
    candidate = page.locator(f"#repeat-candidates [data-case='{earlier.number}']")
    expect(candidate).to_be_visible()
    expect(candidate.locator(".repeat-reasons")).to_contain_text("内容相似")
    candidate.locator(".repeat-add").click()
    expect(page).to_have_url(re.compile(rf"/cases/{earlier.pk}/$"))
    assert earlier.contacts.count() == 2 and Case.objects.count() == 1


def test_a_repeat_marked_related_is_linked_to_the_case_registered(
    clerk, departments, trained, register, logged_in_page
):
    from huiyin.cases.services import PartyInput  # noqa: PLC0415  (only these tests register a case)
    from huiyin.triage.models import IntakeLink  # noqa: PLC0415  (only this test reads the marks)

    earlier = register(
        text="幸福小区3号楼旁边的建筑工地每天晚上十点以后还在施工打桩，噪音很大，影响居民休息。",
        party=PartyInput(name="赵六", phone="13700000001"),
    )
    dispatch_after_commit(Event.objects.get(case=earlier, kind=EventKind.REGISTERED).pk)  # its bands
    page = logged_in_page("clerk")
    page.goto("/cases/new/phone/")
    page.locator("#id_text").press_sequentially("幸福小区3号楼旁边建筑工地晚上十点以后还在打桩，噪音太大了", delay=5)
    candidate = page.locator(f"#repeat-candidates [data-case='{earlier.number}']")
    expect(candidate).to_be_visible()
    candidate.locator(".repeat-link").click()
    expect(candidate.locator(".repeat-link")).to_contain_text("已标记")
    expect(candidate.locator(".repeat-link")).to_be_disabled()
    mark = IntakeLink.objects.get()
    assert mark.case_id == earlier.pk and mark.staff_id == clerk.pk
