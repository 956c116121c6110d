"""Intake rules a person sees, in Chromium: a safety keyword marks the case urgent with its
reason on the ledger, the desk and the case page (and a reason is asked to lower it); a
group visit with more than five representatives is refused next to the field; the
calendar warns of a year the holiday package does not know."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from playwright.sync_api import expect

from huiyin.cases.models import Case
from huiyin.orgs.roles import Role
from huiyin.policy.calendar import statutory_year_known
from tests.conftest import make_staff
from tests.policy.conftest import activate

pytestmark = pytest.mark.e2e


def test_a_safety_keyword_shows_urgent_with_its_reason_on_ledger_desk_and_case_page(org, clerk, logged_in_page):
    activate(org, "city_hotline")
    page = logged_in_page("clerk")
    page.goto("/cases/new/phone/")
    page.fill("#id_party_phone", "13812345678")
    page.fill("#id_party_name", "张伟")
    page.fill("#id_text", "幸福路小区燃气泄漏，楼道里气味很大。")
    page.click("#submit-intake")
    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get()
    assert (case.urgency, case.urgency_keyword) == ("urgent", "燃气泄漏")

    header = page.locator("#case-urgency")
    expect(header.locator(".urgency-badge")).to_have_text("紧急")
    expect(header.locator(".urgency-reason")).to_have_text("自动：含“燃气泄漏”")
    expect(page.locator(".urgency-raised")).to_contain_text("系统自动将紧急程度提高为紧急")

    for url in ("/cases/", "/cases/desk/"):
        page.goto(url)
        row = page.locator("tr", has=page.locator(f"a:text-is('{case.number}')")).first
        expect(row.locator(".urgency-badge")).to_have_text("紧急")
        expect(row.locator(".urgency-reason")).to_have_text("自动：含“燃气泄漏”")

    # Lowering it asks for the reason, next to the field; with one, the mark goes.
    page.goto(f"/cases/{case.pk}/edit/")
    page.select_option("#id_urgency", "normal")
    page.get_by_role("button", name="保存").click()
    expect(page.locator('.invalid-feedback[data-field="urgency_reason"]')).to_contain_text("燃气泄漏")
    page.fill("#id_urgency_reason", "已核实为邻居做饭的油烟味。")
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
    expect(page.locator("#case-urgency")).to_have_count(0)
    expect(page.locator(".timeline")).to_contain_text("已核实为邻居做饭的油烟味。")


def test_a_group_visit_with_six_representatives_is_refused_next_to_the_field(org, logged_in_page):
    activate(org, "petition_office")
    make_staff(org, "reception", [Role.RECEPTION])
    page = logged_in_page("reception")
    page.goto("/cases/new/visit/")
    page.fill("#id_party_phone", "13900001111")
    page.fill("#id_party_name", "王芳")
    page.fill("#id_text", "三十名住户要求解决拖欠的安置补偿款。")
    page.select_option("#id_party_gender", "female")
    page.fill("#id_party_age", "46")
    page.fill("#id_party_affiliation", "示范市纺织厂")
    page.fill("#id_group_size", "30")
    page.fill("#id_representatives", "\n".join(f"代表{i} 1390000222{i}" for i in range(5)))
    page.click("#submit-intake")

    error = page.locator('.invalid-feedback[data-field="representatives"]')
    expect(error).to_be_visible()
    expect(error).to_contain_text("代表不超过 5 人")
    expect(page.locator("#id_representatives")).to_have_class(re.compile(r"is-invalid"))
    assert not Case.objects.exists()

    # Four others and the complainant: five representatives of a group of thirty.
    page.fill("#id_representatives", "\n".join(f"代表{i} 1390000222{i}" for i in range(4)))
    page.click("#submit-intake")
    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))
    expect(page.locator("#party-register")).to_contain_text("性别：女")
    expect(page.locator("#party-register")).to_contain_text("年龄：46")
    expect(page.locator("#party-register")).to_contain_text("工作单位：示范市纺织厂")
    case = Case.objects.get()
    assert case.group_size == 30 and case.co_parties.count() == 4
    assert (case.party.gender, case.party.age, case.party.affiliation) == ("female", 46, "示范市纺织厂")


def test_the_calendar_warns_of_a_year_the_holiday_package_does_not_know(org, logged_in_page):
    make_staff(org, "admin", [Role.ADMIN])
    year = next(y for y in range(2024, 2100) if not statutory_year_known(y))
    page = logged_in_page("admin")
    with time_machine.travel(date(year - 1, 10, 2), tick=True):
        page.goto("/policy/calendar/")
        warning = page.locator(f'.calendar-year-warning[data-year="{year}"]')
        expect(warning).to_contain_text(f"尚未收录 {year} 年")
        expect(page.locator("#calendar-known-years")).to_contain_text(f"–{year - 1} 年")
        expect(page.locator(f'a[href="?year={year}"]')).to_contain_text("未收录")
        page.goto("/cases/desk/")
        expect(page.locator(f'.calendar-year-warning[data-year="{year}"]')).to_be_visible()
