"""The callback queue in a real browser (property preset): an answered case is on the
callback officer's queue with its script; one key records "not reached" (retry
scheduled), another records dissatisfaction, which visibly reopens the case."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from huiyin.cases import services as cs
from huiyin.demo.generator import DEMO_PASSWORD, build_organization
from huiyin.followup.models import Callback
from tests.conftest import intake
from tests.policy.conftest import activate

pytestmark = pytest.mark.e2e


def test_callback_queue_outcomes_and_reopening(db, logged_in_page):
    demo = build_organization()
    activate(demo.org, "property_management")
    clerk, handler = demo.staff["clerk"], demo.staff["handler_property"]
    case, _code = cs.case_register(actor=clerk, data=intake(text="5栋电梯按钮失灵，已报修两次。"))
    cs.case_dispatch(actor=clerk, case_id=case.pk, department_id=demo.departments["property"].pk)
    cs.case_sign_for(actor=handler, case_id=case.pk)
    cs.case_reply(actor=handler, case_id=case.pk, reply="已更换电梯按钮面板。")
    callback = Callback.objects.get(case=case)
    Callback.objects.filter(pk=callback.pk).update(role="callback_officer")  # the officer's share

    page = logged_in_page("callback", DEMO_PASSWORD)
    page.get_by_role("link", name="回访", exact=True).click()
    row = page.locator(f'.callback[data-case="{case.number}"]')
    expect(row).to_be_visible()
    expect(row.locator(".script")).to_contain_text("5栋电梯按钮失灵")
    expect(page.locator("#quota")).to_contain_text("回访员")

    row.get_by_role("button", name="4 未接通").click()
    expect(page.get_by_role("alert").filter(has_text="已记录回访：未接通")).to_be_visible()
    expect(row).to_contain_text("已拨打 1 次")

    row.locator('[name="findings"]').fill("按钮仍偶尔失灵")
    row.get_by_role("button", name="3 不满意（重办）").click()
    expect(page.get_by_role("alert").filter(has_text="已记录回访：不满意")).to_be_visible()
    expect(row).to_have_count(0)
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator(".state-badge").first).to_have_text("已受理")
    expect(page.get_by_text("第 2 轮办理")).to_be_visible()
    case.refresh_from_db()
    assert case.round == 2 and case.rounds.get(number=2).reason == "回访不满意：按钮仍偶尔失灵"
