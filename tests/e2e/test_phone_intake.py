"""The phone clerk's path in a real browser: register a call keyboard-first, add a repeat
call from the caller-history panel, find the case in the ledger, print its receipt, reveal
the full phone number (logged), and get Chinese errors back on bad input.

Runs in Chromium against the live server; see conftest.py for the browser set-up.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, Contact, Event
from huiyin.cases.services import PartyInput, query_code_matches
from huiyin.core.validators import id_check_digit
from huiyin.orgs.roles import Role
from tests.conftest import make_staff

pytestmark = pytest.mark.e2e

PHONE = "13812345678"
MASKED = "138****5678"
NAME = "张伟"
LEAK_TEXT = "楼上漏水严重，天花板已经发霉，请尽快派人查看。"
NUMBER_RE = re.compile(r"^\d{8}-\d{5}$")
QUERY_CODE_RE = re.compile(r"^[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{8}$")


def _case_url_re(case_id: int | None = None) -> re.Pattern:
    return re.compile(rf"/cases/{case_id}/$" if case_id else r"/cases/\d+/$")


def register_by_phone_form(
    page, *, phone: str = PHONE, name: str = NAME, text: str = LEAK_TEXT, location: str = "幸福路12号"
) -> Case:
    """Fill the phone form (not keyboard-first; that has its own test) and submit it."""
    page.goto("/cases/new/phone/")
    page.fill("#id_party_phone", phone)
    page.fill("#id_party_name", name)
    page.fill("#id_text", text)
    page.fill("#id_location", location)
    page.click("#submit-intake")
    expect(page).to_have_url(_case_url_re())
    number = page.locator("h1 .case-number").inner_text().strip()
    return Case.objects.get(number=number)


def test_register_phone_case_keyboard_first(clerk, departments, logged_in_page):
    page = logged_in_page("clerk")
    page.goto("/cases/new/phone/")

    def tab_to(selector: str):
        page.keyboard.press("Tab")
        expect(page.locator(selector)).to_be_focused()

    # The number comes first: the field has focus on arrival, nothing to click.
    expect(page.locator("#id_party_phone")).to_be_focused()
    page.keyboard.type(PHONE)
    # While the caller talks, the history panel (htmx POST) answers for the number.
    expect(page.locator("#caller-history [data-history=empty]")).to_be_visible()
    tab_to("#id_party_name")
    page.keyboard.type(NAME)
    tab_to("#id_party_anonymous")
    tab_to("#id_nature")
    tab_to("#id_category")
    tab_to("#id_urgency")
    tab_to("#id_text")
    page.keyboard.type(LEAK_TEXT)
    tab_to("#id_title")  # left empty: derived from the first sentence
    tab_to("#id_location")
    page.keyboard.type("幸福路12号3单元")
    page.keyboard.press("Control+Enter")

    expect(page).to_have_url(_case_url_re())
    number_el = page.locator("h1 .case-number")
    expect(number_el).to_have_text(NUMBER_RE)
    number = number_el.inner_text().strip()
    expect(page.locator("h1 ~ .state-badge")).to_have_text("已登记")
    expect(page.get_by_role("alert").filter(has_text="已登记")).to_contain_text(number)

    case = Case.objects.get(number=number)
    assert case.channel == "phone"
    assert case.state == "registered"
    assert case.title == "楼上漏水严重，天花板已经发霉，请尽快派人查看"
    assert case.location == "幸福路12号3单元"
    assert case.party.phone == PHONE and case.party.name == NAME
    assert case.first_contact == clerk
    assert page.url.endswith(f"/cases/{case.pk}/")


def test_repeat_call_is_added_to_the_existing_case(clerk, departments, register, logged_in_page):
    case = register(text=LEAK_TEXT, party=PartyInput(name=NAME, phone=PHONE))
    page = logged_in_page("clerk")
    page.goto("/cases/new/phone/")
    expect(page.locator("#id_party_phone")).to_be_focused()
    page.keyboard.type(PHONE)

    history = page.locator("#caller-history")
    earlier = history.locator(f"[data-case='{case.number}']")
    expect(earlier).to_be_visible()
    expect(history).to_contain_text("该号码有 1 件历史诉求")
    expect(earlier).to_contain_text(case.title)

    page.keyboard.press("Tab")
    page.keyboard.type(NAME)
    repeat_text = "第二次来电：漏水还在继续，物业至今没人上门。"
    page.locator("#id_text").click()
    page.keyboard.type(repeat_text)
    earlier.get_by_role("button", name="作为来电记录添加到此案件").click()

    expect(page).to_have_url(_case_url_re(case.pk))
    expect(page.get_by_role("alert").filter(has_text="已作为来电记录添加到案件")).to_contain_text(case.number)
    repeat = page.locator(".timeline .item.contact").filter(has_text="重复来电")
    expect(repeat).to_have_count(1)
    expect(repeat).to_contain_text(repeat_text)
    first = page.locator(".timeline .item.contact").filter(has_text="首次")
    expect(first).to_contain_text("楼上漏水严重")

    assert Contact.objects.filter(case=case).count() == 2
    assert Case.objects.count() == 1
    added = Contact.objects.get(case=case, is_initial=False)
    assert added.text == repeat_text
    assert added.party_id == case.party_id  # same caller (number and name), not a new party


def test_ledger_finds_the_case_by_a_two_character_word(clerk, register, logged_in_page):
    leak = register(text=LEAK_TEXT)
    noise = register(
        text="广场舞音响噪音太大，晚上十点以后还在放。", party=PartyInput(name="李娜", phone="13900001111")
    )
    page = logged_in_page("clerk")

    page.goto("/cases/?q=漏水")
    rows = page.locator("table tbody")
    expect(rows.get_by_role("link", name=leak.number)).to_be_visible()
    expect(rows.get_by_role("link", name=noise.number)).to_have_count(0)

    # The same through the search form, by keyboard.
    page.goto("/cases/")
    page.locator("#id_q").fill("噪音")
    page.locator("#id_q").press("Enter")
    expect(page).to_have_url(re.compile(r"/cases/\?qx=[^&]+$"))  # the word typed is never readable in the URL
    assert "噪音" not in page.url and "%E5%99%AA" not in page.url
    expect(page.locator("#id_q")).to_have_value("噪音")
    expect(rows.get_by_role("link", name=noise.number)).to_be_visible()
    expect(rows.get_by_role("link", name=leak.number)).to_have_count(0)


def test_receipt_pdf_and_html_with_query_code(clerk, logged_in_page, live_server):
    page = logged_in_page("clerk")
    case = register_by_phone_form(page)

    href = page.locator("#receipt-pdf-link").get_attribute("href")
    response = page.request.get(live_server.url + href)  # same browser context: logged in
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF")
    if shutil.which("pdftotext"):  # poppler-utils: check the text really is in the PDF
        text = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True).stdout.decode()
        assert case.number in text
        assert "受理凭证" in text

    page.click("#receipt-link")
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/receipt/$"))
    expect(page.locator("#receipt-number")).to_have_text(case.number)
    code_el = page.locator("#receipt-code")
    expect(code_el).to_have_text(QUERY_CODE_RE)
    code = code_el.inner_text().strip()
    case.refresh_from_db()
    assert query_code_matches(case, code)


def test_the_page_after_registration_shows_the_query_code_once(clerk, logged_in_page):
    """The clerk reads the code out from the page the registration lands on; a second
    view of the case page no longer shows it (the receipt still does, in this session)."""
    page = logged_in_page("clerk")
    case = register_by_phone_form(page)
    shown = page.locator("#new-query-code")
    expect(shown).to_have_text(QUERY_CODE_RE)
    code = shown.inner_text().strip()
    case.refresh_from_db()
    assert query_code_matches(case, code)

    page.reload()
    expect(page.locator("#query-code-once")).to_have_count(0)
    assert code not in page.content()
    page.click("#receipt-link")
    expect(page.locator("#receipt-code")).to_have_text(code)


def test_phone_is_masked_until_revealed_and_the_reveal_is_logged(clerk, register, logged_in_page):
    case = register(text=LEAK_TEXT, party=PartyInput(name=NAME, phone=PHONE))
    page = logged_in_page("clerk")
    page.goto(f"/cases/{case.pk}/")

    expect(page.locator("#masked-phone")).to_have_text(MASKED)
    assert PHONE not in page.content()
    assert not Event.objects.filter(case=case, kind=EventKind.PII_VIEWED).exists()

    page.click("#reveal-btn")
    expect(page.locator("#revealed-panel")).to_contain_text(PHONE)
    expect(page.locator("#revealed-panel")).to_contain_text("本次查看已记入办理过程")
    viewed = Event.objects.filter(case=case, kind=EventKind.PII_VIEWED)
    assert viewed.count() == 1
    assert viewed.get().actor == clerk


def test_bad_phone_and_id_number_show_chinese_errors_and_keep_the_input(clerk, logged_in_page):
    page = logged_in_page("clerk")
    page.goto("/cases/new/phone/")
    first17 = "11010519491231002"
    good = id_check_digit(first17)
    bad_id = first17 + ("1" if good != "1" else "2")
    text = "小区门口道路积水，老人出行不便。"

    page.fill("#id_party_phone", "12345678901")
    page.fill("#id_party_name", "王芳")
    page.fill("#id_text", text)
    page.locator("summary", has_text="更多信息").click()
    page.fill("#id_party_id_number", bad_id)
    page.keyboard.press("Control+Enter")

    expect(page.locator("#form-errors")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/cases/new/phone/$"))
    expect(page.locator(".invalid-feedback[data-field=party_phone]")).to_contain_text("联系电话格式不正确")
    expect(page.locator(".invalid-feedback[data-field=party_id_number]")).to_contain_text("身份证号码校验位错误")
    # The errors sit next to their fields, and everything typed is still there.
    next_to_phone = page.locator("#id_party_phone ~ .invalid-feedback")
    next_to_id = page.locator("#id_party_id_number ~ .invalid-feedback")
    expect(next_to_phone).to_contain_text("联系电话格式不正确")
    expect(next_to_id).to_contain_text("身份证号码校验位错误")
    expect(page.locator("#id_party_phone")).to_have_value("12345678901")
    expect(page.locator("#id_party_id_number")).to_have_value(bad_id)
    expect(page.locator("#id_party_id_number")).to_be_visible()  # the details panel opened itself
    expect(page.locator("#id_party_name")).to_have_value("王芳")
    expect(page.locator("#id_text")).to_have_value(text)
    expect(page.locator("#id_party_phone")).to_be_focused()  # first error gets the cursor
    assert Case.objects.count() == 0


@pytest.mark.skipif(
    not os.environ.get("HUIYIN_SCREENSHOTS"),
    reason="set HUIYIN_SCREENSHOTS=DIR to save screenshots for the docs (docs/screenshots/)",
)
def test_screenshots(org, departments, clerk, register, logged_in_page):
    out = Path(os.environ["HUIYIN_SCREENSHOTS"]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    make_staff(org, "leader", [Role.LEADER])
    register(
        text="小区东门路灯坏了一个多月，晚上很黑。",
        party=PartyInput(name="李娜", phone="13900001111"),
        location="东湖小区东门",
    )
    register(
        text="广场舞音响噪音太大，晚上十点以后还在放。",
        party=PartyInput(name="赵强", phone="0571-87654321"),
        urgency="urgent",
        location="人民广场",
    )
    register(
        channel="visit",
        nature="suggestion",
        text="建议在公交站增加遮阳棚。",
        party=PartyInput(name="陈静", phone="13700002222"),
    )
    register(text=LEAK_TEXT, party=PartyInput(name=NAME, phone=PHONE))

    page = logged_in_page("clerk")

    def shot(name: str):
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(out / f"{name}.png"), full_page=True)

    page.goto("/cases/desk/")
    shot("desk")
    page.goto("/cases/")
    shot("ledger")
    page.goto("/cases/new/phone/")
    page.keyboard.type(PHONE)
    expect(page.locator("#caller-history [data-case]")).to_have_count(1)
    page.fill("#id_party_name", NAME)
    page.fill("#id_text", "第二次来电：漏水还在继续，物业至今没人上门。")
    shot("phone-intake")
    case = register_by_phone_form(page, phone="13600003333", name="刘洋", text="小区电梯经常停运，老人上下楼困难。")
    shot("case-detail")
    page.goto(f"/cases/{case.pk}/receipt/")
    shot("receipt")
    for name in ("desk", "ledger", "phone-intake", "case-detail", "receipt"):
        assert (out / f"{name}.png").stat().st_size > 10_000
