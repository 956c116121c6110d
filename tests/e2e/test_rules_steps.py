"""Mandatory steps as a person meets them (issue 14): the refusal stands beside the field
it is about, and what is not yet allowed is not offered.

* construction station (seeds/000 行 9–10): an investigation record the interviewee has not
  signed is marked, submitting the proposal is refused with the reason in the form, the
  responsible unit cannot be notified before the leader signs;
* property company (行 394): the administrator tags categories; taking the last tag a rule
  needs off a category is refused beside the tag field.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from huiyin.cases.models import Case, Category
from huiyin.handling.models import Investigation
from tests.e2e.conftest import draw_signature
from tests.e2e.test_deadlines import shoot
from tests.e2e.test_handling_paths import act, demo_org, login, register, state_is  # noqa: F401 - fixtures
from tests.policy.conftest import activate

pytestmark = pytest.mark.e2e


def test_an_unsigned_interview_is_refused_beside_the_proposal_until_signed(demo_org, login):  # noqa: F811
    activate(demo_org.org, "construction_station")
    housing = demo_org.departments["housing"]
    clerk = login("clerk")
    case = register(
        clerk, "letter", party_name="周建华", party_phone="13700002222", text="新建住宅楼外墙出现贯通裂缝。"
    )
    act(clerk, "accept")
    handler_user = demo_org.staff["handler_housing"]
    act(clerk, "dispatch", {"department": str(housing.pk), "handler": str(handler_user.pk)})
    state_is(clerk, "办理中")

    handler = login("handler_housing")
    handler.goto(f"/cases/{case.pk}/")
    # The unit is not notified before the station leader signs the handling principle (行 10).
    expect(handler.locator('[data-step-hint="notice"]')).to_contain_text("审批签发后")
    assert not handler.locator("#rectification-form").count()

    handler.locator("#investigation-form-wrap summary").click()
    form = handler.locator("#investigation-form")
    form.locator('[name="kind"]').select_option("interview")
    form.locator('[name="interviewee"]').fill("施工单位项目经理 钱某")
    form.locator('[name="text"]').fill("项目经理称裂缝系温度应力所致，同意委托检测。")
    form.locator('button[type="submit"]').click()
    record = Investigation.objects.get(case=case)
    expect(handler.locator(f'[data-unsigned="{record.pk}"]')).to_contain_text("未经被调查人签字确认")
    expect(handler.locator('[data-step-hint="investigations"]')).to_contain_text("尚未经被调查人签字确认")

    proposal = {"outcome": "resolved", "responsible_unit": "某建筑公司", "proposal": "责成施工单位委托检测并加固。"}
    act(handler, "submit_for_approval", proposal, expect_ok=False)
    box = handler.locator('details[data-action="submit_for_approval"]')
    expect(box).to_have_attribute("open", "")
    expect(handler.locator(".alert-danger").first).to_contain_text("尚未经被调查人签字确认")
    shoot(handler, "rule-unsigned-interview.png")
    assert Case.objects.get(pk=case.pk).state == "in_progress"

    signature = handler.locator(f'form[action$="/investigations/{record.pk}/confirm/"]')
    draw_signature(handler, signature.locator("canvas"))
    signature.locator('button[type="submit"]').click()
    expect(handler.locator("#investigation-panel .investigation")).to_contain_text("已签字确认")
    act(handler, "submit_for_approval", proposal)
    state_is(handler, "待审批")


def test_the_last_tag_a_rule_needs_is_kept_and_said_beside_the_field(demo_org, logged_in_page):  # noqa: F811
    activate(demo_org.org, "property_management")
    admin = logged_in_page("admin", "huiyin2026")
    admin.goto("/administration/categories/")
    leak = Category.objects.get(organization=demo_org.org, tags="water_leak")
    rules = admin.locator("#category-rules")
    expect(rules.locator('[data-rule-value="water_leak"]')).to_contain_text(leak.full_name)
    row = admin.locator(f'tr[data-category="{leak.pk}"]')
    row.locator('[name="tags"]').fill("")
    row.locator('button[type="submit"]').click()
    row = admin.locator(f'tr[data-category="{leak.pk}"]')
    expect(row.locator('[data-error-field="tags"]')).to_contain_text("漏水项目维修三天内回访")
    shoot(admin, "rule-category-tags.png")
    leak.refresh_from_db()
    assert leak.tags == "water_leak"
    # Another category may take the tag too; then the first may give it up.
    paint = Category.objects.get(organization=demo_org.org, full_name="城乡建设/住房保障与物业/物业管理")
    other = admin.locator(f'tr[data-category="{paint.pk}"]')
    other.locator('[name="tags"]').fill("water_leak")
    other.locator('button[type="submit"]').click()
    expect(admin.get_by_role("alert").filter(has_text="已保存分类")).to_be_visible()
    paint.refresh_from_db()
    assert paint.tags == "water_leak"
