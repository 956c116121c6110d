"""The workbench in English: a department head's and an administrator's pages — every page
of the top navigation, and case pages — have no Chinese left in their chrome (the
navigation, headings, labels, buttons, table headers, card headers). What people typed and
what the organisation named (case titles and texts, names, departments, categories, the
policy's own labels) is data and may be Chinese: those strings are taken out before the
check. Desk reminders written by the sweeper in Chinese read in English too."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from huiyin.cases import services as cs
from huiyin.cases.models import Case, Category, Party
from huiyin.cases.services import PartyInput
from huiyin.core import reminders
from huiyin.core.notify import desk_notify
from huiyin.demo.generator import DEMO_PASSWORD, build_organization
from huiyin.handling import actions as ha
from huiyin.orgs.models import Department, Organization, Staff
from huiyin.policy.models import PolicyVersion
from tests.conftest import intake
from tests.policy.conftest import activate

pytestmark = pytest.mark.e2e

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
CHINESE = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]")
CHROME = (
    ".huiyin-bar .nav-link, .huiyin-bar .dropdown-item, .huiyin-bar .btn:not([name=language]), "
    "main h1, main h2, main h3, main h4, main h5, main h6, main label, main legend, main button, "
    "main th, main .card-header, main dt"
)


def _data(org: Organization) -> list[str]:
    """What the organisation and the people wrote: left out of the check, longest first."""
    words: set[str] = {org.name, *Department.objects.filter(organization=org).values_list("name", flat=True)}
    for category in Category.objects.filter(organization=org):
        words |= {category.name, str(category)}
    for case in Case.objects.filter(organization=org):
        words |= {case.title, case.text[:60], case.location}
    for staff in Staff.objects.filter(organization=org):
        words |= {staff.get_full_name(), str(staff)}
    words |= {p.masked_name for p in Party.objects.filter(organization=org)}
    # The preset's own labels (deadlines, KPIs, shares) are in the catalogue and must show in
    # English; only the version's name, which an administrator may give, is data.
    words |= set(PolicyVersion.objects.filter(organization=org).values_list("label", flat=True))
    return sorted((w for w in words if w), key=len, reverse=True)


def _chinese_chrome(page, data: list[str]) -> list[str]:
    found = []
    for text in page.locator(CHROME).all_inner_texts():
        for word in data:
            text = text.replace(word, "")
        if CHINESE.search(text):
            found.append(" ".join(text.split())[:120])
    return found


def _to_english(page) -> None:
    page.locator("button[name=language][value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_a_department_heads_and_an_administrators_pages_have_no_chinese_chrome_in_english(
    transactional_db, settings, logged_in_page
):
    settings.TASKS = IMMEDIATE
    demo = build_organization()
    activate(demo.org, "city_hotline")
    clerk, handler, head = demo.staff["clerk"], demo.staff["handler_city"], demo.staff["head_city"]
    now = timezone.now()
    dispatched, _code = cs.case_register(actor=clerk, data=intake(text="解放路工地夜间施工，噪音扰民。"))
    cs.case_accept(actor=clerk, case_id=dispatched.pk)
    ha.case_dispatch(actor=clerk, case_id=dispatched.pk, department_id=demo.departments["city"].pk)
    anonymous, _code = cs.case_register(
        actor=clerk, data=intake(text="人民路路灯不亮。", party=PartyInput(anonymous=True), nature="help")
    )
    cs.case_accept(actor=clerk, case_id=anonymous.pk)
    ha.case_dispatch(
        actor=clerk, case_id=anonymous.pk, department_id=demo.departments["city"].pk, handler_id=handler.pk
    )
    ha.case_sign_for(actor=handler, case_id=anonymous.pk)
    cs.case_reply(actor=handler, case_id=anonymous.pk, reply="已修复。")
    dispatched.refresh_from_db()
    desk_notify(  # as the sweeper writes it: in Chinese
        recipients=[head],
        case=dispatched,
        key="clock:1:warn:0",
        text=reminders.CLOCK_WARN(
            number=dispatched.number, title=dispatched.title, stage="签收", due=f"{now + timedelta(hours=2):%H:%M}"
        ),
    )
    data = _data(demo.org)

    page = logged_in_page("head_city", DEMO_PASSWORD)
    _to_english(page)
    expect(page.locator("#desk-reminders")).to_contain_text("[Deadline warning]")
    expect(page.locator("#desk-reminders")).to_contain_text("Sign for")
    problems: dict[str, list[str]] = {}
    pages = page.eval_on_selector_all(
        ".huiyin-bar a.nav-link[href^='/']", "els => els.map(e => e.getAttribute('href'))"
    )
    pages += [f"/cases/{c.pk}/" for c in (dispatched, anonymous)]
    for href in dict.fromkeys(pages):
        response = page.goto(href)
        assert response is not None and response.status == 200, href
        if found := _chinese_chrome(page, data):
            problems[f"head_city {href}"] = found
    page.goto(f"/cases/{anonymous.pk}/")
    expect(page.locator("#callback-panel")).to_contain_text("No callback possible")

    admin = logged_in_page("admin", DEMO_PASSWORD)
    _to_english(admin)
    links = admin.eval_on_selector_all(
        ".huiyin-bar a.nav-link[href^='/']", "els => els.map(e => e.getAttribute('href'))"
    )
    for href in dict.fromkeys(links):
        response = admin.goto(href)
        assert response is not None and response.status == 200, href
        if found := _chinese_chrome(admin, data):
            problems[f"admin {href}"] = found
    assert not problems, f"Chinese left in the English chrome: {problems}"
