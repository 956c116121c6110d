"""The case page and the intake form through a working day, in Chromium (issue 14, part B):

* every refused form shows its Chinese message next to the field it names — a Django form,
  a plain-HTML panel form, and an htmx button alike (core/refusals.py, huiyin/forms.js);
* dispatch and sign-for offer only the chosen (or the lead) department's handlers;
* the category list is a searchable tree: type a name or pinyin initials, arrows and Enter,
  no mouse; without JavaScript it is a grouped list that works as it is;
* what the user can do next is above every panel.

On the demo organisation (its 58 categories and its departments) under the property preset.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from huiyin.cases import services as cs
from huiyin.cases.models import Case
from huiyin.cases.services import PartyInput
from huiyin.demo.generator import DEMO_PASSWORD, build_organization
from huiyin.handling import actions as handling_actions
from huiyin.handling import services as hs
from huiyin.handling.models import Investigation, JointPart
from tests.conftest import intake
from tests.e2e.test_deadlines import shoot
from tests.policy.conftest import activate

pytestmark = pytest.mark.e2e

PHONE = "13912345678"
EMPTY_CONTACT = "来电/来访内容不能为空。"


@pytest.fixture
def demo(db):
    demo = build_organization()
    activate(demo.org, "property_management")
    return demo


@pytest.fixture
def login(logged_in_page):
    return lambda username: logged_in_page(username, DEMO_PASSWORD)


def _registered(demo, text: str = "阳光花园3栋楼道顶棚漏水，墙皮脱落。") -> Case:
    case, _code = cs.case_register(
        actor=demo.staff["clerk"], data=intake(text=text, party=PartyInput(name="李秀英", phone=PHONE))
    )
    return case


def _in_progress(demo) -> Case:
    case = _registered(demo)
    handling_actions.case_dispatch(
        actor=demo.staff["clerk"], case_id=case.pk, department_id=demo.departments["property"].pk
    )
    handling_actions.case_sign_for(actor=demo.staff["handler_property"], case_id=case.pk)
    return case


def _just_below(page, field_selector: str, message) -> None:
    """The message is under its field: below it, within two lines, and overlapping it across
    (both measured at once: the page may scroll to the message)."""
    field, box = message.evaluate(
        """(m, selector) => [document.querySelector(selector), m].map(e => {
            const r = e.getBoundingClientRect();
            return {x: r.x, y: r.y, width: r.width, height: r.height};
        })""",
        field_selector,
    )
    assert 0 <= box["y"] - (field["y"] + field["height"]) < 40, (field, box)
    assert box["x"] < field["x"] + field["width"] and field["x"] < box["x"] + box["width"], (field, box)


# --- 1. refusals next to their fields -----------------------------------------------------------


def test_an_empty_repeat_call_on_the_case_page_is_named_under_its_text_field(demo, login):
    case = _registered(demo)
    page = login("clerk")
    page.goto(f"/cases/{case.pk}/")
    page.get_by_role("button", name="添加记录").click()
    message = page.locator('.invalid-feedback[data-field="text"]')
    expect(message).to_have_text(EMPTY_CONTACT)
    _just_below(page, "#id_text", message)
    assert case.contacts.count() == 1

    page.fill("#id_text", "第二次来电：漏水还在继续。")
    page.get_by_role("button", name="添加记录").click()
    expect(page.get_by_role("alert").filter(has_text="已作为来电记录添加到案件")).to_be_visible()
    expect(page.locator('.invalid-feedback[data-field="text"]')).to_have_count(0)


def test_an_empty_repeat_call_from_the_intake_history_is_named_under_the_text_field(demo, login):
    case = _registered(demo)
    page = login("clerk")
    page.goto("/cases/new/phone/")
    page.keyboard.type(PHONE)
    earlier = page.locator(f"#caller-history [data-case='{case.number}']")
    add = earlier.get_by_role("button", name="作为来电记录添加到此案件")
    add.click()  # nothing typed yet: refused (a 400), and now shown, not silently dropped
    message = page.locator('#intake-form .invalid-feedback[data-field="text"]')
    expect(message).to_have_text(EMPTY_CONTACT)
    _just_below(page, "#id_text", message)
    expect(page.locator("#id_text")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#id_text")).to_be_focused()
    expect(page.locator("#caller-history-msg [role=alert]")).to_contain_text(EMPTY_CONTACT)
    assert case.contacts.count() == 1

    page.keyboard.type("第二次来电：物业至今没人上门。")
    add.click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
    assert case.contacts.count() == 2


def test_an_htmx_request_refused_with_a_whole_page_says_so_instead_of_nothing(demo, login):
    """The clerk lost the right to register while the form was open: the 403 is a whole
    page, not a fragment for the panel; a short message appears by the button."""
    case = _registered(demo)
    page = login("clerk")
    page.goto("/cases/new/phone/")
    page.keyboard.type(PHONE)
    page.fill("#id_text", "又来电了。")
    add = page.locator(f"#caller-history [data-case='{case.number}']").get_by_role(
        "button", name="作为来电记录添加到此案件"
    )
    expect(add).to_be_visible()
    clerk = demo.staff["clerk"]
    clerk.roles = ["analyst"]
    clerk.save(update_fields=["roles"])
    add.click()
    expect(add.locator("xpath=following-sibling::*[1]")).to_have_text("操作未完成，请刷新页面后重试。 (403)")
    assert case.contacts.count() == 1


def test_a_refused_panel_form_is_named_under_its_field_and_keeps_what_was_typed(demo, login):
    case = _in_progress(demo)
    page = login("handler_property")
    page.goto(f"/cases/{case.pk}/")
    page.locator("#investigation-form-wrap summary").click()
    page.select_option("#inv-kind", label="询问笔录")
    page.fill("#inv-place", "3栋2单元楼道")
    page.fill("#inv-text", "现场查看顶棚漏水点，墙面大面积起皮。")
    page.get_by_role("button", name="保存调查记录").click()

    message = page.locator('#investigation-form .invalid-feedback[data-field="interviewee"]')
    expect(message).to_have_text("询问笔录须写明被询问人。")
    _just_below(page, "#inv-who", message)
    expect(page.locator("#investigation-form-wrap")).to_have_attribute("open", "")
    expect(page.locator("#inv-who")).to_be_focused()
    # What was typed is given back: fill in the name and send again.
    expect(page.locator("#inv-text")).to_have_value("现场查看顶棚漏水点，墙面大面积起皮。")
    expect(page.locator("#inv-place")).to_have_value("3栋2单元楼道")
    expect(page.locator("#inv-kind")).to_have_value("interview")
    assert not Investigation.objects.filter(case=case).exists()
    page.keyboard.type("业主李秀英")
    page.get_by_role("button", name="保存调查记录").click()
    expect(page.get_by_role("alert").filter(has_text="调查记录已保存")).to_be_visible()
    assert Investigation.objects.get(case=case).interviewee == "业主李秀英"


def test_of_two_alike_forms_only_the_one_sent_shows_the_message(demo, login):
    """Each department's part of a joint handling is a form to the same address; the hidden
    fields tell which one was sent."""
    case = _in_progress(demo)
    head = demo.staff["head_property"]
    joint = hs.joint_convene(
        actor=head,
        case_id=case.pk,
        topic="楼道漏水责任划分",
        department_ids=[demo.departments["property"].pk, demo.departments["housing"].pk],
    )
    page = login("head_property")
    page.goto(f"/cases/{case.pk}/")
    forms = page.locator(f'#joint-panel form:has(input[name="joint_id"][value="{joint.pk}"]):has(input[name="text"])')
    expect(forms).to_have_count(2)
    housing = page.locator(f'#joint-panel form:has(input[name="department"][value="{demo.departments["housing"].pk}"])')
    housing.get_by_role("button", name="填写").click()

    housing = page.locator(f'#joint-panel form:has(input[name="department"][value="{demo.departments["housing"].pk}"])')
    expect(page.locator('#joint-panel .refusal-feedback[data-field="text"]')).to_have_count(1)
    expect(housing.locator("xpath=following-sibling::*[1]")).to_have_text("请填写本部门的意见和职责。")
    assert not JointPart.objects.filter(joint=joint, recorded_at__isnull=False).exists()


# --- 2. handlers follow the department ---------------------------------------------------------


def test_dispatch_and_sign_for_offer_only_the_departments_handlers(demo, login):
    case = _registered(demo)
    property_people = {"许文涛", "邓丽", "郭美玲"}
    city_people = {"张磊", "黄志强", "李卫东"}

    page = login("clerk")
    page.goto(f"/cases/{case.pk}/")
    box = page.locator('details[data-action="dispatch"]')
    box.locator("summary").click()
    handler = box.locator('select[name="handler"]')
    expect(handler).to_be_disabled()  # no department chosen yet: nobody to choose from
    box.locator('select[name="department"]').select_option(label="城市管理局")
    assert set(handler.locator("option").all_inner_texts()) - {"---------"} == city_people
    box.locator('select[name="department"]').select_option(label="物业监管科")
    offered = set(handler.locator("option").all_inner_texts()) - {"---------"}
    assert offered == property_people
    handler.select_option(label="邓丽")
    box.get_by_role("button", name="确认派遣").click()
    expect(page.get_by_role("alert").filter(has_text="操作成功")).to_be_visible()
    case.refresh_from_db()
    assert case.lead_department == demo.departments["property"] and case.handler == demo.staff["handler_property2"]

    head = login("head_property")
    head.goto(f"/cases/{case.pk}/")
    sign = head.locator('details[data-action="sign_for"]')
    sign.locator("summary").click()
    names = set(sign.locator('select[name="handler"] option').all_inner_texts()) - {"---------"}
    assert names == property_people
    expect(sign.locator('select[name="handler"]')).to_have_value(str(demo.staff["handler_property2"].pk))


# --- 3. the category tree ----------------------------------------------------------------------


def test_the_category_tree_filters_on_typed_pinyin_and_is_picked_by_keyboard(demo, login):
    wages = demo.categories["劳动和社会保障/劳动关系/拖欠工资"]
    page = login("clerk")
    page.goto("/cases/new/phone/")
    page.keyboard.type(PHONE)
    for _field in ("#id_party_name", "#id_party_anonymous", "#id_nature", "#id_category"):
        page.keyboard.press("Tab")
    expect(page.locator("#id_category")).to_be_focused()  # the box took the field's id and label
    expect(page.get_by_label("分类", exact=True)).to_be_focused()

    page.keyboard.type("tqgz")  # 拖欠工资 by its pinyin initials
    listed = page.locator("#id_category-tree [role=option]")
    expect(listed).to_have_text(["劳动和社会保障", "劳动关系", "拖欠工资"])  # the match under its parents
    expect(page.locator("#id_category-tree [role=option].active")).to_have_text("拖欠工资")
    page.keyboard.press("Enter")
    expect(page.locator("#id_category")).to_have_value("劳动和社会保障/劳动关系/拖欠工资")
    expect(page.locator("#id_category-select")).to_have_value(str(wages.pk))
    expect(page.locator("#id_category-tree")).to_be_hidden()

    page.keyboard.press("Control+a")
    page.keyboard.type("漏水")  # by name, too; Escape leaves the choice as it was
    expect(listed.filter(has_text="房屋漏水")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator("#id_category")).to_have_value("劳动和社会保障/劳动关系/拖欠工资")
    page.keyboard.press("Control+a")
    page.keyboard.type("wy")  # each entry by its own name: 物业管理 and 网约车, not every child of 物业
    expect(listed.filter(has_text="物业管理")).to_have_count(1)
    expect(listed.filter(has_text="出租车和网约车")).to_have_count(1)
    expect(listed.filter(has_text="住房公积金")).to_have_count(0)
    page.keyboard.press("Escape")

    page.keyboard.press("Tab")  # on to the next field, the choice kept
    page.fill("#id_text", "工地拖欠三个月工资，包工头联系不上。")
    page.keyboard.press("Control+Enter")
    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))
    assert Case.objects.get(number=page.locator("h1 .case-number").inner_text().strip()).category == wages


def test_without_javascript_the_category_list_is_grouped_and_works(demo, browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login/")
        page.fill("#id_username", "clerk")
        page.fill("#id_password", DEMO_PASSWORD)
        page.get_by_role("button", name="登录", exact=True).click()
        page.goto("/cases/new/phone/")
        category = page.locator("#id_category")
        expect(category).to_be_visible()
        assert category.evaluate("e => e.tagName") == "SELECT"
        assert "劳动和社会保障" in category.locator("optgroup").evaluate_all("gs => gs.map(g => g.label)")
        category.select_option(label="劳动关系/拖欠工资")
        page.fill("#id_party_phone", PHONE)
        page.fill("#id_text", "工地拖欠三个月工资。")
        page.click("#submit-intake")
        expect(page).to_have_url(re.compile(r"/cases/\d+/$"))
        case = Case.objects.get(number=page.locator("h1 .case-number").inner_text().strip())
        assert case.category == demo.categories["劳动和社会保障/劳动关系/拖欠工资"]
    finally:
        context.close()


# --- 4. next actions first -----------------------------------------------------------------------


def test_the_next_actions_are_above_the_first_panel(demo, login):
    case = _registered(demo)
    handling_actions.case_dispatch(
        actor=demo.staff["clerk"], case_id=case.pk, department_id=demo.departments["property"].pk
    )
    page = login("handler_property")
    page.goto(f"/cases/{case.pk}/")
    first_action = page.locator("#next-actions summary").first
    expect(first_action).to_have_text("签收")
    panels = page.locator(".card:not(#next-actions)")
    top_of_panels = min(box["y"] for box in (p.bounding_box() for p in panels.all()) if box)
    action = first_action.bounding_box()
    assert action["y"] + action["height"] <= top_of_panels
    assert action["y"] < 900  # on the first screen, without scrolling
    shoot(page, "case-next-actions.png")
