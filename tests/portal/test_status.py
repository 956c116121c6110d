"""Following a case on the portal: look-up by number and query code (throttled, no hint), the
signed link, and the page as the complainant sees it (a public filter)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from huiyin.cases import services as case_services
from huiyin.cases.models import Case
from huiyin.handling import actions as handling_actions
from huiyin.handling import services as handling_services
from huiyin.portal import links

from .conftest import receipt_of, submit

pytestmark = pytest.mark.django_db


def registered(client, org) -> tuple[Case, str]:
    assert submit(client, org).status_code == 302
    return receipt_of(client, org)


def look_up(client, org, number: str, code: str):
    return client.post(f"/portal/{org.code}/status/", {"number": number, "code": code})


def test_number_and_code_open_the_case_page(client, hotline, org):
    case, code = registered(client, org)
    browser = Client()
    assert browser.get(f"/portal/{org.code}/case/").status_code == 302  # holds nothing yet
    response = look_up(browser, org, case.number, code.lower())  # as typed on a phone
    assert response.status_code == 302 and response["Location"] == f"/portal/{org.code}/case/"
    page = browser.get(response["Location"]).content.decode()
    assert case.number in page and "工作人员正在审核是否受理" in page
    assert code not in page and "13900001111" not in page  # neither the code nor the phone


def test_a_wrong_code_says_nothing_and_locks_the_number(client, hotline, org, settings):
    case, code = registered(client, org)
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "code_number": "3/900"}
    browser = Client()
    wrong = look_up(browser, org, case.number, "AAAAAAAA").content.decode()
    missing = look_up(browser, org, "20200101-09999", "AAAAAAAA").content.decode()

    def message(html: str) -> str:
        return html.split('id="err-code"', 1)[1].split("</div>", 1)[0]

    assert message(wrong) == message(missing) and "编号或查询码不正确" in message(wrong)
    for _ in range(2):
        assert look_up(browser, org, case.number, "AAAAAAAA").status_code == 200
    locked = look_up(browser, org, case.number, code)  # even the right code, while locked
    assert locked.status_code == 429 and "错误次数过多" in locked.content.decode()
    for _ in range(3):
        look_up(browser, org, "20200101-09999", "AAAAAAAA")
    assert message(look_up(browser, org, "20200101-09999", code).content.decode()) == message(locked.content.decode())
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):  # the next window
        assert look_up(browser, org, case.number, code).status_code == 302


def test_wrong_codes_from_one_address_are_limited_across_numbers(client, hotline, org, settings):
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "code_ip": "4/3600"}
    browser = Client()
    for i in range(4):
        assert look_up(browser, org, f"20200101-{i:05d}", "AAAAAAAA").status_code == 200
    assert look_up(browser, org, "20200101-00099", "AAAAAAAA").status_code == 429


def test_the_signed_link_holds_the_case_until_the_code_is_reissued(client, hotline, org, clerk, settings):
    case, _code = registered(client, org)
    link = links.public_case_link(case)
    assert link.startswith(settings.HUIYIN_PUBLIC_URL + "/portal/c/")
    assert "13900001111" not in link and case.number not in link
    browser = Client()
    path = link.removeprefix(settings.HUIYIN_PUBLIC_URL)
    response = browser.get(path)
    assert response.status_code == 302 and case.number in browser.get(response["Location"]).content.decode()
    assert Client().get(path[:-5] + "xxxx/").status_code == 404  # tampered
    with time_machine.travel(timezone.now() + timedelta(days=settings.HUIYIN_PUBLIC_LINK_DAYS + 1)):
        assert Client().get(path).status_code == 404  # expired
    case_services.receipt_issue(actor=clerk, case_id=case.pk)
    gone = Client().get(path)
    assert gone.status_code == 404 and "/cases/" not in gone.content.decode()


def test_the_page_shows_the_answer_and_letters_never_staff_or_notes(client, hotline, org, flow, handler, clerk):
    case, code = registered(client, org)
    handler.full_name = "赵承办"
    handler.save()
    case_services.case_accept(actor=clerk, case_id=case.pk, note="内部备注：此人多次来电")
    flow.in_progress(case)
    case_services.case_reply(actor=handler, case_id=case.pk, reply="路灯已于今日修复。", method="portal")
    browser = Client()
    look_up(browser, org, case.number, code)
    page = browser.get(f"/portal/{org.code}/case/").content.decode()
    assert "路灯已于今日修复。" in page and 'id="answer-text"' in page
    assert "市容环境科" in page  # the department
    assert "赵承办" not in page and "handler" not in page and "内部备注" not in page
    assert "/cases/" not in page and "13900001111" not in page


def test_the_page_of_a_case_not_accepted_names_the_ground_and_where_to_go(client, petition, org, clerk):
    assert submit(client, org).status_code == 302
    case, code = receipt_of(client, org)
    handling_actions.case_not_accept(actor=clerk, case_id=case.pk, ground="legal_procedure", refer_to="court")
    page = client.get(f"/portal/{org.code}/case/").content.decode()
    assert "不予受理" in page and "人民法院" in page and "诉讼、仲裁" in page
    assert "已向您出具的文书" not in page
    notice = handling_services.document_issue(actor=clerk, case_id=case.pk, kind="not_accepted_notice")
    page = client.get(f"/portal/{org.code}/case/").content.decode()
    assert "已向您出具的文书" in page and f"不予受理告知书（{notice.number}）" in page  # the public panel


def test_a_case_of_another_organisation_is_not_found_by_its_number(client, hotline, org):
    from huiyin.orgs.models import Organization  # noqa: I001 - the second organisation of this test

    case, code = registered(client, org)
    other = Organization.objects.create(code="other", name="另一单位")
    response = look_up(Client(), other, case.number, code)
    assert response.status_code == 200 and "编号或查询码不正确" in response.content.decode()
