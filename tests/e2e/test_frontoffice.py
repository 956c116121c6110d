"""The front office in a real browser: the day's visitor list, check-in with the identity
check (a wrong check digit refused next to its field), check-out, the feedback form and the
printable list; a guest reception requested, approved by the administrative office's head
and then a leader, an expense with its receipt, and the cost report.

Set ``HUIYIN_SCREENSHOTS=/some/dir`` to keep full-page screenshots of the pages
(docs/screenshots/issue-17/).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from huiyin.frontoffice import services
from huiyin.frontoffice.models import Expense, GuestReception, Visitor, VisitorFeedback
from tests.frontoffice.conftest import VALID_ID, build_company

pytestmark = pytest.mark.e2e


@pytest.fixture
def people(db):
    return build_company()[2]


def shoot(page, name: str) -> None:
    directory = os.environ.get("HUIYIN_SCREENSHOTS")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(Path(directory) / name), full_page=True)


def test_the_days_visitor_list_check_in_out_feedback_and_print(people, logged_in_page):
    today = timezone.localdate()
    services.visitor_expect(
        actor=people["engineer"],
        expected_on=today,
        name="李建国",
        affiliation="示范机电公司",
        phone="13812345678",
        purpose="洽谈设备采购",
    )
    services.visitor_expect(actor=people["requester"], expected_on=today, name="王芳", purpose="送样品")
    page = logged_in_page("desk")
    page.get_by_role("link", name="访客登记", exact=True).click()
    rows = page.locator("#visitor-list tbody tr[data-visitor]")
    expect(rows).to_have_count(2)
    expect(page.locator("#day-counts")).to_contain_text("待到访 2 人")
    expect(page.locator("#visitor-list")).not_to_contain_text("李建国")  # masked: 李**

    page.locator("#visitor-list").get_by_role("link", name="李**").click()
    expect(page.locator("#visitor-status")).to_have_text("待到访")
    page.select_option("#c-idtype", "resident_id")
    page.fill("#c-idnumber", VALID_ID[:-1] + "1")  # a wrong check digit
    page.fill("#c-badge", "V-07")
    page.click("#check-in-submit")
    message = page.locator('#check-in-form .invalid-feedback[data-field="id_number"]')
    expect(message).to_contain_text("校验位错误")
    expect(page.locator("#c-badge")).to_have_value("V-07")  # what was typed comes back
    page.fill("#c-idnumber", VALID_ID)
    page.fill("#c-notes", "携带笔记本电脑一台")
    shoot(page, "frontoffice-check-in.png")
    page.click("#check-in-submit")
    expect(page.get_by_role("alert").filter(has_text="已办理到访登记")).to_be_visible()
    expect(page.locator("#visitor-status")).to_have_text("在访")
    expect(page.locator("#visitor-id")).to_have_text("110105********002X")
    expect(page.locator("#visitor-badge")).to_have_text("V-07")
    page.click("#reveal-btn")
    expect(page.locator("#revealed-panel")).to_contain_text(VALID_ID)

    page.click("#check-out-submit")
    expect(page.locator("#visitor-status")).to_have_text("已离开")
    page.locator('#feedback-form input[name="q1"][value="satisfied"]').check()
    page.locator("#overall-basically_satisfied").check()
    page.fill("#f-comment", "等候区可以加几把椅子")
    page.click("#feedback-submit")
    expect(page.locator("#feedback-overall")).to_have_text("基本满意")
    visitor = Visitor.objects.filter(badge="V-07").get()
    assert visitor.status == "checked_out"
    assert VisitorFeedback.objects.get(visitor=visitor).overall == "basically_satisfied"

    page.get_by_role("link", name="返回当日访客").click()
    expect(rows.filter(has_text="已离开")).to_have_count(1)
    expect(page.locator("#feedback-rates")).to_contain_text("100.0%（1/1）")
    shoot(page, "frontoffice-visitors.png")
    page.click("#print-link")
    expect(page.locator("#print-table tbody tr")).to_have_count(2)
    expect(page.locator("#print-table")).to_contain_text("V-07")
    expect(page.locator("#print-table")).not_to_contain_text("李建国")
    expect(page.get_by_role("button", name="打印")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="打印")).to_be_hidden()  # the print stylesheet
    shoot(page, "frontoffice-visitors-print.png")


def _receipt(tmp_path: Path) -> Path:
    path = tmp_path / "发票.png"
    buffer = io.BytesIO()
    Image.new("RGB", (120, 60), color=(250, 250, 250)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_guest_reception_request_through_its_approval_chain(people, logged_in_page, tmp_path):
    today = timezone.localdate().isoformat()
    page = logged_in_page("sales1")
    page.get_by_role("link", name="公司接待", exact=True).click()
    page.click("#new-request")
    expect(page.locator("#chain")).to_contain_text("行政部门负责人 → 公司领导")
    page.fill("#r-purpose", "市住建局调研物业服务标准化工作")
    page.fill("#r-guests", "张明，示范市住房和城乡建设局，副局长\n李华，示范市住房和城乡建设局，科长")
    page.fill("#r-start", today)
    page.fill("#r-end", today)
    page.fill("#r-outcome", "介绍服务标准化做法，争取列入全市试点")
    page.fill("#r-b-room", "300")
    page.fill("#r-b-meals", "-800")  # refused next to its field
    page.click("#request-submit")
    expect(page.locator('#request-form .invalid-feedback[data-field="budget_meals"]')).to_contain_text("不能为负数")
    assert not GuestReception.objects.exists()
    page.fill("#r-b-meals", "800")
    page.fill("#r-b-gifts", "200")
    shoot(page, "guest-reception-request.png")
    page.click("#request-submit")
    expect(page.locator("#reception-status")).to_have_text("审批中")
    expect(page.locator("#approval-chain [data-step='1']")).to_contain_text("待审批")
    expect(page.locator("#decide-form")).to_have_count(0)  # the requester does not approve
    reception = GuestReception.objects.get()

    # The leader's step comes second: no form for the leader yet.
    boss = logged_in_page("boss")
    boss.goto(f"/frontoffice/receptions/{reception.pk}/")
    expect(boss.locator("#decide-form")).to_have_count(0)

    office = logged_in_page("office_head")
    office.get_by_role("link", name="公司接待", exact=True).click()
    office.locator("#awaiting").get_by_role("link", name="市住建局调研物业服务标准化工作").click()
    office.fill("#d-opinion", "同意，注意节约")
    office.click("#approve-btn")
    expect(office.locator("#approval-chain [data-step='1']")).to_contain_text("同意")
    expect(office.locator("#reception-status")).to_have_text("审批中")

    boss.reload()
    boss.click("#approve-btn")
    expect(boss.locator("#reception-status")).to_have_text("已批准")
    expect(boss.locator("#budget-table tfoot")).to_contain_text("¥1,300.00")

    page.reload()
    page.select_option("#e-item", "meals")
    page.fill("#e-amount", "900")
    page.fill("#e-desc", "工作午餐")
    page.set_input_files("#e-receipt", str(_receipt(tmp_path)))
    page.click("#expense-submit")
    expect(page.locator('#expense-form .invalid-feedback[data-field="amount"]')).to_contain_text("超预算报批")
    page.fill("#e-amount", "760")
    page.set_input_files("#e-receipt", str(_receipt(tmp_path)))
    page.click("#expense-submit")
    expect(page.locator("#expense-list")).to_contain_text("¥760.00")
    expect(page.locator('#budget-table tr[data-item="meals"]')).to_contain_text("¥40.00")
    assert Expense.objects.get().receipt_name == "发票.png"
    shoot(page, "guest-reception.png")

    boss.goto("/frontoffice/costs/")
    expect(boss.locator("#cost-total")).to_contain_text("¥760.00")
    shoot(boss, "guest-reception-costs.png")
    assert re.search(r"\d", boss.locator("#cost-total").inner_text())
