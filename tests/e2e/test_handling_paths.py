"""The two handling paths of the issue in a real browser, on the demo organisation
(``huiyin demo``'s staff and departments) running under each preset:

* property management: a phone complaint → dispatch → sign for → reply → close with
  the owner's confirmation;
* petition office: a letter → accept → dispatch → investigate (signature drawn on screen)
  → two-level approval → written reply → review requested → review decided.

Generated documents are fetched as PDFs and read back with pdftotext.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from huiyin.cases.models import Case
from huiyin.demo.generator import DEMO_PASSWORD, build_organization
from huiyin.handling.models import Investigation, Review
from tests.e2e.conftest import draw_signature
from tests.e2e.test_deadlines import shoot
from tests.policy.conftest import activate

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo_org(db):
    return build_organization()


@pytest.fixture
def login(logged_in_page):
    return lambda username: logged_in_page(username, DEMO_PASSWORD)


def act(page, action: str, fields: dict[str, str] | None = None, *, expect_ok: bool = True) -> None:
    """Open an action's panel on the case page, fill it and confirm."""
    box = page.locator(f'details[data-action="{action}"]')
    if not box.evaluate("e => e.open"):  # a refused form comes back already open
        box.locator("summary").click()
    for name, value in (fields or {}).items():
        field = box.locator(f'[name="{name}"]')
        tag = field.evaluate("e => e.tagName")
        if tag == "SELECT":
            field.select_option(value)
        elif field.get_attribute("type") == "checkbox":
            field.check()
        else:
            field.fill(value)
    box.locator('button[type="submit"]').click()
    if expect_ok:
        expect(page.get_by_role("alert").filter(has_text="操作成功")).to_be_visible()


def state_is(page, label: str) -> None:
    expect(page.locator(".state-badge").first).to_have_text(label)


def pdf_text(page, url: str) -> str:
    response = page.request.get(url)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        return ""
    out = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True).stdout.decode()
    return re.sub(r"\s+", "", out)


def issue_document(page, label: str, shot: str = "") -> str:
    """Issue a document from the case page; returns the PDF's text (whitespace removed)."""
    page.locator("#document-form select").select_option(label=label)
    page.locator("#document-form button").click()
    expect(page.locator("article.document h1")).to_have_text(label)
    if shot:
        shoot(page, shot)
    href = page.locator("#document-pdf").get_attribute("href")
    text = pdf_text(page, href)
    page.get_by_role("link", name="返回案件").click()
    return text


def register(page, channel: str, **fields: str) -> Case:
    page.goto(f"/cases/new/{channel}/")
    for name, value in fields.items():
        page.fill(f"#id_{name}", value)
    page.click("#submit-intake")
    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))
    return Case.objects.get(number=page.locator("h1 .case-number").inner_text().strip())


def test_property_complaint_from_phone_to_closure_with_confirmation(demo_org, login):
    activate(demo_org.org, "property_management")
    property_dept = demo_org.departments["property"]

    clerk = login("clerk")
    case = register(
        clerk,
        "phone",
        party_phone="13912345678",
        party_name="李秀英",
        text="阳光花园3栋2单元楼道顶棚漏水，墙皮脱落，请尽快维修。",
    )
    # 首问负责: no acceptance decision, the desk dispatches at once.
    assert not clerk.locator('details[data-action="accept"]').count()
    act(clerk, "dispatch", {"department": str(property_dept.pk), "instructions": "请当日上门查看维修"})
    state_is(clerk, "已派遣")
    expect(clerk.locator("#dispatch-panel")).to_contain_text("物业监管科")

    handler = login("handler_property")
    handler.goto(f"/cases/{case.pk}/")
    act(handler, "sign_for")
    state_is(handler, "办理中")
    # The answer states the remedy (seeds/000 行 342): refused beside the field without it.
    act(
        handler,
        "reply",
        {"reply": "维修班已于今日修复楼道顶棚防水层并重新粉刷墙面。", "method": "phone"},
        expect_ok=False,
    )
    expect(handler.locator('[data-field="remedy"]')).to_contain_text("补救措施")
    state_is(handler, "办理中")
    act(
        handler,
        "reply",
        {
            "reply": "维修班已于今日修复楼道顶棚防水层并重新粉刷墙面。",
            "remedy": "更换顶棚防水层，三日内复查渗漏",
            "method": "phone",
        },
    )
    state_is(handler, "已答复")
    text = issue_document(handler, "答复意见书")
    if text:
        assert "答复意见书" in text and case.number in text and "维修班已于今日修复" in text
        assert "李秀英" in text  # the handler may see personal data: the full name, logged
    assert case.events.filter(kind="pii_viewed").exists()

    # Closing needs the callback result and the owner's confirmation (property preset).
    callback = login("callback")
    callback.goto(f"/cases/{case.pk}/")
    act(callback, "close", {"satisfaction": "satisfied"}, expect_ok=False)
    expect(callback.locator('[data-field="confirmed"]')).to_contain_text("反映人确认")
    case.refresh_from_db()
    assert case.state == "replied"
    act(
        callback,
        "close",
        {"satisfaction": "satisfied", "confirmed": "on", "confirmation_note": "业主电话确认已修好，签字单已回收"},
    )
    state_is(callback, "已办结")
    case.refresh_from_db()
    assert case.state == "closed"
    assert case.rounds.get(number=1).confirmed_by_complainant


def test_petition_letter_through_approval_reply_and_review(demo_org, login):
    activate(demo_org.org, "petition_office")
    city = demo_org.departments["city"]

    clerk = login("clerk")
    case = register(
        clerk,
        "letter",
        party_name="王建国",
        party_phone="13700001111",
        text="我小区门前道路施工围挡三个月未拆除，占用人行道，老人孩子只能走机动车道，请求处理。",
    )
    act(clerk, "accept")
    state_is(clerk, "已受理")
    text = issue_document(clerk, "受理告知书")
    if text:
        assert "受理告知书" in text and case.number in text
    act(clerk, "dispatch", {"department": str(city.pk)})
    state_is(clerk, "已派遣")

    handler = login("handler_city")
    handler.goto(f"/cases/{case.pk}/")
    act(handler, "sign_for")
    # Interview with the contractor, confirmed by a signature drawn on screen.
    handler.locator("#investigation-form-wrap summary").click()
    form = handler.locator("#investigation-form")
    form.locator('[name="kind"]').select_option("interview")
    form.locator('[name="interviewee"]').fill("施工单位项目经理 赵某")
    form.locator('[name="place"]').fill("施工现场")
    form.locator('[name="text"]').fill("施工单位称管线迁改延误，承诺本月20日前拆除围挡并恢复人行道。")
    draw_signature(handler, form.locator("canvas"))
    form.locator('button[type="submit"]').click()
    expect(handler.locator("#investigation-panel .investigation")).to_contain_text("已签字确认")
    record = Investigation.objects.get(case=case)
    assert record.confirmation == "drawn" and record.signature.file.read(8) == b"\x89PNG\r\n\x1a\n"

    act(
        handler,
        "submit_for_approval",
        {
            "outcome": "resolved",
            "responsible_unit": "某市政工程公司",
            "proposal": "责成施工单位20日前拆除围挡、恢复人行道，书面答复信访人。",
        },
    )
    state_is(handler, "待审批")

    head = login("head_city")
    head.goto(f"/cases/{case.pk}/")
    act(head, "approve", {"comments": "同意，报领导签发。"})
    state_is(head, "待审批")  # the second signature is the leader's
    expect(head.locator("#approval-panel")).to_contain_text("待 领导 审批")
    assert not head.locator('details[data-action="approve"]').count()

    leader = login("leader")
    leader.goto(f"/cases/{case.pk}/")
    act(leader, "approve", {"comments": "同意。"})
    state_is(leader, "已审批")

    handler.goto(f"/cases/{case.pk}/")
    act(
        handler,
        "reply",
        {"reply": "经调查，施工单位已承诺本月20日前拆除围挡并恢复人行道，我局将跟踪督促。", "method": "letter"},
    )
    state_is(handler, "已答复")
    text = issue_document(handler, "答复意见书", shot="reply-letter.png")
    if text:
        assert "答复意见书" in text and "拆除围挡" in text and "复查" in text  # how to request review

    clerk.goto(f"/cases/{case.pk}/")
    act(clerk, "request_review", {"reason": "围挡至今未拆，对答复意见不服。"})
    state_is(clerk, "复查中")

    leader.goto(f"/cases/{case.pk}/")
    act(leader, "decide_review", {"decision": "changed", "opinion": "责成区城管局5日内督促拆除围挡，并书面答复。"})
    state_is(leader, "已答复")
    expect(leader.locator("#review-panel")).to_contain_text("变更")
    shoot(leader, "handling-petition.png")
    text = issue_document(leader, "复查意见书")
    if text:
        assert "复查意见书" in text and "5日内督促拆除围挡" in text
    review = Review.objects.get(case=case, level=1)
    assert review.decision == "changed" and review.body == "原办理机关、单位的上一级机关、单位"
