"""The callback queue in a real browser (property preset): an answered case is on the
callback officer's queue with its script; one key records "not reached" (retry
scheduled), another records dissatisfaction, which visibly reopens the case."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from huiyin.cases import services as cs
from huiyin.demo.generator import DEMO_PASSWORD, build_organization
from huiyin.followup.models import Callback
from huiyin.handling import actions as handling_actions
from tests.conftest import intake
from tests.e2e.conftest import draw_signature
from tests.policy.conftest import activate

pytestmark = pytest.mark.e2e


def test_callback_queue_outcomes_and_reopening(db, logged_in_page):
    demo = build_organization()
    activate(demo.org, "property_management")
    clerk, handler = demo.staff["clerk"], demo.staff["handler_property"]
    case, _code = cs.case_register(actor=clerk, data=intake(text="5栋电梯按钮失灵，已报修两次。"))
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=demo.departments["property"].pk)
    handling_actions.case_sign_for(actor=handler, case_id=case.pk)
    cs.case_reply(actor=handler, case_id=case.pk, reply="已更换电梯按钮面板。", remedy="更换按钮面板")
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


def test_an_on_site_callback_is_signed_on_screen(db, logged_in_page):
    """The repair lead calls on the owner: 上门回访, the owner signs on the screen, 满意
    closes the case and the signature is kept with it."""
    demo = build_organization()
    activate(demo.org, "property_management")
    clerk, handler = demo.staff["clerk"], demo.staff["handler_property"]
    case, _code = cs.case_register(actor=clerk, data=intake(text="3栋2单元楼道窗户玻璃破损。"))
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=demo.departments["property"].pk)
    handling_actions.case_sign_for(actor=handler, case_id=case.pk)
    cs.case_reply(actor=handler, case_id=case.pk, reply="已更换玻璃。", remedy="更换玻璃")
    Callback.objects.filter(case=case).update(role="callback_officer")

    page = logged_in_page("callback", DEMO_PASSWORD)
    page.goto("/callbacks/")
    row = page.locator(f'.callback[data-case="{case.number}"]')
    row.get_by_label("回访方式").select_option("on_site")
    row.locator('[name="findings"]').fill("现场查看，玻璃已更换")
    # Without the signature, the charges check and the repairer's service (seeds/000 行 397–400):
    # refused, each said beside that callback's fields, the case still open.
    row.get_by_role("button", name="1 满意").click()
    row = page.locator(f'.callback[data-case="{case.number}"]')
    expect(row.locator('[data-field="signature"]')).to_contain_text("请被回访人签名")
    expect(row.locator('[data-field="charges_checked"]')).to_contain_text("核对收费情况")
    expect(row.locator('[data-field="attitude"]')).to_contain_text("维修人员服务情况")
    expect(row.get_by_label("回访方式")).to_have_value("on_site")
    case.refresh_from_db()
    assert case.state == "replied"
    row.locator('[name="findings"]').fill("现场查看，玻璃已更换")
    row.get_by_label("服务态度").select_option("good")
    row.get_by_label("收费核实").select_option("yes")
    draw_signature(page, row.locator("canvas"))
    row.get_by_role("button", name="1 满意").click()
    expect(page.get_by_role("alert").filter(has_text="已记录回访：满意")).to_be_visible()
    callback = Callback.objects.get(case=case)
    assert (callback.method, callback.satisfaction) == ("on_site", "satisfied")
    assert callback.signature.file.read(8) == b"\x89PNG\r\n\x1a\n"
    case.refresh_from_db()
    assert case.state == "closed"
