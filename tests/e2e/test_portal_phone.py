"""The public portal on a phone (Chromium at 360x740): a person submits a matter with a photo,
gets its number and query code, follows it to the reply, rates it and asks for review, and
the staff see all of it in the workbench; bad input gets a message next to the field and
creates nothing.

Set ``HUIYIN_SCREENSHOTS=/some/dir`` to keep phone-size screenshots of the submission form,
the receipt and the status page (portal-*.png).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from huiyin.cases import services as case_services
from huiyin.cases.models import Attachment, Case, CaseRound
from huiyin.cases.workflow import CaseState
from huiyin.followup.models import Callback, CallbackMethod
from huiyin.handling import services as handling_services
from huiyin.handling.models import Review
from tests.e2e.conftest import TIMEOUT_MS
from tests.handling.test_services import Flow
from tests.policy.conftest import activate

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}
NUMBER_RE = re.compile(r"^\d{8}-\d{5}$")
CODE_RE = re.compile(r"^[23456789A-Z]{8}$")
TEXT = "小区东门路灯坏了一个多月，晚上很黑，老人出行不便，请尽快修复。"


def shoot(page, name: str) -> None:
    directory = os.environ.get("HUIYIN_SCREENSHOTS")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(directory) / name), full_page=True)


def jpeg(width: int = 2400, height: int = 1800) -> bytes:
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Phone Maker"
    Image.new("RGB", (width, height), (90, 140, 200)).save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _portal_settings(settings):
    settings.HUIYIN_PORTAL_POW_BITS = 12  # the real script, a few thousand hashes


@pytest.fixture
def petition_office(org, category, departments, clerk, handler, head, leader):
    """The petition office's rules: name and phone required, approval, rating, review."""
    activate(org, "petition_office")
    return Flow(clerk=clerk, handler=handler, head=head, leader=leader)


@pytest.fixture
def phone_page(browser, live_server) -> Iterator[Callable]:
    """Pages in fresh phone-sized contexts; JS errors and CSP violations fail the test."""
    contexts, errors = [], []

    def make(*, javascript: bool = True):
        context = browser.new_context(
            java_script_enabled=javascript,
            base_url=live_server.url,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        page.on(
            "console",
            lambda msg: (
                errors.append(f"{page.url}: {msg.text}")
                if msg.type == "error" and "Content Security Policy" in msg.text
                else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors or CSP violations in the page: {errors}"


def fill_submission(page, org, *, text: str = TEXT, files=None) -> None:
    page.goto(f"/portal/{org.code}/submit/")
    page.get_by_label("投诉").check()
    page.fill("#category-filter", "物业")  # the tree searched by typing
    expect(page.locator("#category-count")).to_have_text("找到 1 个分类")
    page.fill("#id_location", "幸福路12号小区东门")
    page.fill("#id_text", text)
    if files:
        page.set_input_files("#id_attachments", files=files)
    page.fill("#id_name", "李娜")
    page.fill("#id_phone", "13900001111")
    page.get_by_label("我已阅读并同意上面的个人信息处理说明").check()
    expect(page.locator("#pow-status")).to_have_text("安全验证已完成，可以提交。")


def test_a_person_on_a_phone_submits_follows_rates_and_asks_for_review(
    org, category, petition_office, phone_page, logged_in_page
):
    page = phone_page()
    page.goto(f"/portal/{org.code}/")
    page.get_by_role("link", name="我要反映").click()
    expect(page).to_have_url(re.compile(r"/submit/$"))
    fill_submission(page, org, files=[{"name": "路灯.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    expect(page.locator("#text-count")).to_contain_text(f"已输入 {len(TEXT)} / 5000 字")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    shoot(page, "portal-submit.png")
    page.get_by_role("button", name="提交", exact=True).click()

    # The receipt: number, the code shown this once, the promised time.
    expect(page).to_have_url(re.compile(r"/receipt/$"))
    number = page.locator("#receipt-number").inner_text().strip()
    code = page.locator("#receipt-code").inner_text().strip()
    assert NUMBER_RE.match(number) and CODE_RE.match(code)
    expect(page.locator("#receipt-due")).to_contain_text("前答复")
    shoot(page, "portal-receipt.png")
    with page.expect_download() as download:
        page.locator("#receipt-pdf").click()
    assert download.value.suggested_filename == f"receipt-{number}.pdf"
    case = Case.objects.get(number=number, organization=org)
    assert case.category_id == category.pk and case.attachments.count() == 1
    page.reload()
    expect(page.locator("#receipt-code-hidden")).to_be_visible()  # shown once

    # Staff handle and answer it in the workbench (through the services).
    petition_office.replied(case, reply="经调查，路灯属于物业管理范围，已责成物业三日内修复。")

    # Another phone (or days later): the number and code open the case, with the answer.
    later = phone_page()
    later.goto(f"/portal/{org.code}/status/")
    later.fill("#id_number", number)
    later.fill("#id_code", code.lower())
    later.get_by_role("button", name="查询").click()
    expect(later).to_have_url(re.compile(r"/case/$"))
    expect(later.locator("#case-state")).to_have_text("已答复")
    expect(later.locator("#answer-text")).to_have_text("经调查，路灯属于物业管理范围，已责成物业三日内修复。")
    expect(later.locator('.portal-steps li[aria-current="step"]')).to_have_text("答复")
    shoot(later, "portal-status.png")

    # Rate the answer, then ask for review within the limit.
    later.get_by_label("不满意").check()
    later.fill("#id_comment", "物业没有修，灯还是不亮。")
    later.get_by_role("button", name="提交评价").click()
    expect(later.get_by_role("status").filter(has_text="感谢您的评价")).to_be_visible()
    expect(later.locator("#rating-done")).to_contain_text("不满意")
    later.fill("#id_reason", "答复没有解决问题，请求上一级复查。")
    later.get_by_role("button", name="提交复查请求").click()
    expect(later.locator("#case-state")).to_have_text("复查中")
    expect(later.locator("#reviews")).to_contain_text("复查")

    case.refresh_from_db()
    assert case.state == CaseState.UNDER_REVIEW
    callback = Callback.objects.get(case=case, round=case.round)
    assert (callback.satisfaction, callback.method) == ("dissatisfied", CallbackMethod.ONLINE)
    assert Review.objects.get(case=case, level=1).on_behalf is False

    # The staff see all of it on the case page.
    staff = logged_in_page("leader")
    staff.goto(f"/cases/{case.pk}/")
    expect(staff.locator("#review-panel [data-review-online]")).to_be_visible()
    expect(staff.locator(".timeline")).to_contain_text("反映人网上评价：不满意（物业没有修，灯还是不亮。）")
    expect(staff.locator(".timeline")).to_contain_text("公众（网上平台）")
    expect(staff.locator("#review-panel")).to_contain_text("答复没有解决问题，请求上一级复查。")


def message(page, field: str):
    return page.locator(f"#err-{field}")


def test_bad_input_on_a_phone_gets_a_message_next_to_the_field(org, petition_office, phone_page, settings):
    settings.HUIYIN_PORTAL_FILE_MAX_BYTES = 300_000
    settings.HUIYIN_PORTAL_TEXT_MAX_CHARS = 60
    page = phone_page()
    before = (Case.objects.count(), Attachment.objects.count())

    fill_submission(
        page, org, files=[{"name": "big.jpg", "mimeType": "image/jpeg", "buffer": jpeg() + b"\0" * 400_000}]
    )
    page.get_by_role("button", name="提交", exact=True).click()
    expect(message(page, "attachments")).to_contain_text("过大")
    expect(page.locator("#error-summary")).to_be_focused()

    fill_submission(
        page, org, files=[{"name": "tool.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ\x90"}]
    )
    page.get_by_role("button", name="提交", exact=True).click()
    expect(message(page, "attachments")).to_contain_text("类型不能上传")

    fill_submission(page, org, files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": b"%PDF-1.4 fake"}])
    page.get_by_role("button", name="提交", exact=True).click()
    expect(message(page, "attachments")).to_contain_text("内容与文件名不符")

    fill_submission(page, org, text="字" * 61)
    expect(page.locator("#text-count")).to_contain_text("已超出 1 字")
    page.get_by_role("button", name="提交", exact=True).click()
    expect(message(page, "text")).to_contain_text("最多 60 字")
    assert (Case.objects.count(), Attachment.objects.count()) == before

    # A replayed submission: the same solved challenge posted a second time.
    fill_submission(page, org)
    solved = page.evaluate(
        "[document.querySelector('[data-pow-challenge]').value, document.querySelector('[data-pow-solution]').value]"
    )
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page).to_have_url(re.compile(r"/receipt/$"))
    number = page.locator("#receipt-number").inner_text().strip()
    count = Case.objects.count()
    fill_submission(page, org)
    page.evaluate(
        "([c, s]) => { document.querySelector('[data-pow-challenge]').value = c;"
        " document.querySelector('[data-pow-solution]').value = s; }",
        solved,
    )
    page.get_by_role("button", name="提交", exact=True).click()
    expect(message(page, "challenge")).to_contain_text("已经提交过")
    assert Case.objects.count() == count

    # A wrong code: the same message whether the number exists; then the number locks.
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "code_number": "2/900"}
    lookup = phone_page()
    for _ in range(2):
        lookup.goto(f"/portal/{org.code}/status/")
        lookup.fill("#id_number", number)
        lookup.fill("#id_code", "AAAAAAAA")
        lookup.get_by_role("button", name="查询").click()
        expect(message(lookup, "code")).to_have_text("编号或查询码不正确，请核对受理凭证。")
    lookup.goto(f"/portal/{org.code}/status/")
    lookup.fill("#id_number", number)
    lookup.fill("#id_code", "BBBBBBBB")
    lookup.get_by_role("button", name="查询").click()
    expect(message(lookup, "code")).to_contain_text("错误次数过多")


def test_rating_and_review_after_their_limits_are_refused_naming_the_date(org, petition_office, phone_page):
    page = phone_page()
    fill_submission(page, org)
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page).to_have_url(re.compile(r"/receipt/$"))
    case = Case.objects.get(number=page.locator("#receipt-number").inner_text().strip(), organization=org)
    petition_office.replied(case)
    page.goto(f"/portal/{org.code}/case/")
    expect(page.locator("#rate")).to_be_visible()
    second = page.context.new_page()  # a second tab of the same browser, also left open
    second.goto(f"/portal/{org.code}/case/")
    expect(second.locator("#review")).to_be_visible()
    # The pages stay open for weeks: the answer is now 40 days old.
    replied_at = timezone.now() - timedelta(days=40)
    CaseRound.objects.filter(case=case, number=case.round).update(replied_at=replied_at)

    page.get_by_label("满意", exact=True).check()
    page.get_by_role("button", name="提交评价").click()
    expect(message(page, "satisfaction")).to_contain_text("评价期限已过")
    due = timezone.localtime(replied_at + timedelta(days=7))
    expect(message(page, "satisfaction")).to_contain_text(f"{due:%Y-%m-%d}")

    second.fill("#id_reason", "不服答复，请求复查。")
    second.get_by_role("button", name="提交复查请求").click()
    expect(message(second, "reason")).to_contain_text("已超过请求期限")
    case.refresh_from_db()
    assert case.state == CaseState.REPLIED and not Review.objects.filter(case=case).exists()


def test_a_pin_on_the_map_where_tiles_are_configured(org, petition_office, phone_page, live_server, settings):
    settings.HUIYIN_PORTAL_TILE_URL = live_server.url + "/static/portal/tiles/{z}/{x}/{y}.png"  # same origin
    page = phone_page()
    fill_submission(page, org)
    view = page.locator("[data-map] .portal-map")
    expect(view.locator("img.portal-tile").first).to_be_attached()
    view.click(position={"x": 100, "y": 80})
    expect(page.locator("[data-map-state]")).to_have_text("已在地图上标记位置")
    expect(page.locator(".portal-pin")).to_be_visible()
    latitude = float(page.locator("#id_latitude").input_value())
    assert 29 < latitude < 31
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page).to_have_url(re.compile(r"/receipt/$"))
    case = Case.objects.get(number=page.locator("#receipt-number").inner_text().strip(), organization=org)
    assert "（地图位置 " in case.location


def test_a_letter_issued_to_the_complainant_downloads_on_the_phone_and_an_internal_one_does_not(
    org, petition_office, phone_page, clerk
):
    page = phone_page()
    fill_submission(page, org)
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page).to_have_url(re.compile(r"/receipt/$"))
    case = Case.objects.get(number=page.locator("#receipt-number").inner_text().strip(), organization=org)
    case_services.case_accept(actor=clerk, case_id=case.pk)
    notice = handling_services.document_issue(actor=clerk, case_id=case.pk, kind="acceptance_notice")
    petition_office.in_progress(case)
    internal = handling_services.document_issue(actor=clerk, case_id=case.pk, kind="handling_notice")

    page.goto(f"/portal/{org.code}/case/")
    letters = page.locator("#letters")
    expect(letters).to_contain_text(f"受理告知书（{notice.number}）")
    expect(letters).not_to_contain_text(internal.title)
    assert letters.locator("a").count() == 1
    shoot(page, "portal-letters.png")
    with page.expect_download() as download:
        letters.get_by_role("link", name=re.compile("受理告知书")).click()
    assert download.value.suggested_filename == f"{notice.number}.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    # The internal document's address, guessed: the portal's own 404, no PDF, nothing of the workbench.
    response = page.goto(f"/portal/{org.code}/case/letters/{internal.pk}.pdf")
    assert response.status == 404 and response.headers["content-type"].startswith("text/html")
    expect(page.locator("body")).to_contain_text("找不到该文书")
    assert "/cases/" not in page.content()
    # Another phone that never showed the number and code gets nothing either.
    stranger = phone_page()
    response = stranger.goto(f"/portal/{org.code}/case/letters/{notice.pk}.pdf")
    assert response.status == 403


def test_a_phone_without_javascript_submits_by_answering_the_question(org, category, petition_office, phone_page):
    page = phone_page(javascript=False)
    page.goto(f"/portal/{org.code}/submit/")
    expect(page.locator("#nojs-note")).to_be_visible()
    expect(page.locator("#category-filter")).to_be_hidden()  # the search box needs the script; the list does not
    page.get_by_label("投诉").check()
    page.select_option("#id_category", label=category.name)
    page.fill("#id_location", "幸福路12号小区东门")
    page.fill("#id_text", TEXT)
    page.fill("#id_name", "李娜")
    page.fill("#id_phone", "13900001111")
    page.get_by_label("我已阅读并同意上面的个人信息处理说明").check()
    question = page.locator("#question-text").inner_text()
    a, op, b = re.fullmatch(r"(\d+) ([加减]) (\d+) 等于几？", question).groups()
    right = int(a) + int(b) if op == "加" else int(a) - int(b)

    page.get_by_label(re.compile("^验证问题")).fill(str(right + 1))  # a slip: named next to the question
    page.get_by_role("button", name="提交", exact=True).click()
    expect(message(page, "answer")).to_contain_text("答案不正确")
    expect(page.locator("#id_text")).to_have_value(TEXT)  # what was typed is kept
    assert not Case.objects.exists()
    shoot(page, "portal-submit-nojs.png")

    question = page.locator("#question-text").inner_text()  # a new question
    a, op, b = re.fullmatch(r"(\d+) ([加减]) (\d+) 等于几？", question).groups()
    page.get_by_label(re.compile("^验证问题")).fill(str(int(a) + int(b) if op == "加" else int(a) - int(b)))
    page.get_by_label("我已阅读并同意上面的个人信息处理说明").check()
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page).to_have_url(re.compile(r"/receipt/$"))
    number = page.locator("#receipt-number").inner_text().strip()
    assert NUMBER_RE.match(number) and CODE_RE.match(page.locator("#receipt-code").inner_text().strip())
    case = Case.objects.get(number=number, organization=org)
    assert case.category_id == category.pk and case.party.phone == "13900001111"
