"""The desk through a working day, and the pages that say no, in a real browser.

* Reminders on 我的工作台: one entry per case (a case dispatched twice is there once),
  newest first, none for a finished case; opening the case marks its reminders read;
  已处理 takes them off the desk for good.
* 404 and 403 pages in the site's frame with its navigation, in Chinese and, with the
  switch, in English; an archived case offers no edit form, and its edit address answers
  with the translated refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from huiyin.cases import services as cs
from huiyin.core.models import Notification
from huiyin.core.notify import desk_notify
from huiyin.demo.generator import DEMO_PASSWORD, build_organization
from huiyin.handling import actions as ha
from tests.conftest import intake
from tests.policy.conftest import activate

pytestmark = pytest.mark.e2e

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def _dispatched(demo, text: str, at):
    """A case registered and dispatched to the city department's handler at ``at``."""
    clerk, city = demo.staff["clerk"], demo.departments["city"]
    case, _code = cs.case_register(actor=clerk, data=intake(text=text), at=at)
    cs.case_accept(actor=clerk, case_id=case.pk, at=at + timedelta(minutes=1))
    ha.case_dispatch(
        actor=clerk,
        case_id=case.pk,
        department_id=city.pk,
        handler_id=demo.staff["handler_city"].pk,
        at=at + timedelta(minutes=2),
    )
    return case


def test_desk_reminders_are_grouped_read_and_done(transactional_db, settings, logged_in_page):
    settings.TASKS = IMMEDIATE  # the dispatch reminders are written as the worker would, at once
    demo = build_organization()
    activate(demo.org, "city_hotline")
    clerk, handler = demo.staff["clerk"], demo.staff["handler_city"]
    now = timezone.now()

    first = _dispatched(demo, "解放路工地夜间施工，噪音扰民。", now - timedelta(hours=6))
    ha.case_send_back(actor=handler, case_id=first.pk, reason="请核实地址。", at=now - timedelta(hours=5))
    finished = _dispatched(demo, "人民路311号店外经营，占用人行道。", now - timedelta(hours=4))
    ha.case_sign_for(actor=handler, case_id=finished.pk, at=now - timedelta(hours=3, minutes=50))
    cs.case_reply(actor=handler, case_id=finished.pk, reply="已责令整改。", at=now - timedelta(hours=3))
    cs.case_close(
        actor=demo.staff["callback"], case_id=finished.pk, satisfaction="satisfied", at=now - timedelta(hours=2)
    )
    ha.case_dispatch(  # the same case again: its reminder comes back once, not twice
        actor=clerk,
        case_id=first.pk,
        department_id=demo.departments["city"].pk,
        handler_id=handler.pk,
        at=now - timedelta(hours=1),
    )
    second = _dispatched(demo, "滨江花园小广告泛滥。", now - timedelta(minutes=30))
    for n, minutes in ((1, 20), (2, 10)):  # two warnings about the same case: one line
        desk_notify(
            recipients=[handler],
            case=second,
            key=f"clock:{n}:warn:0",
            text=f"时限预警（第 {n} 次）：{second.number}",
            at=now - timedelta(minutes=minutes),
        )
    desk_notify(
        recipients=[handler], case=None, key="note:1", text="本周五前提交整改台账。", at=now - timedelta(minutes=5)
    )
    # The first dispatch's reminder was settled by the send-back; the second is the one open.
    assert Notification.objects.filter(recipient=handler, case=first, done_at__isnull=True).count() == 1
    assert Notification.objects.filter(recipient=handler, case=finished, done_at__isnull=True).count() == 0

    page = logged_in_page("handler_city", DEMO_PASSWORD)
    reminders = page.locator("#desk-reminders .reminder")
    expect(reminders).to_have_count(3)  # the note, the second case, the first case (once); not the closed one
    expect(reminders.nth(0)).to_contain_text("本周五前提交整改台账")
    expect(reminders.nth(1)).to_contain_text("时限预警（第 2 次）")  # the newest of its kinds first
    expect(reminders.nth(1).locator(".reminder-older li")).to_have_count(1)  # then its dispatch, once
    expect(reminders.nth(1)).not_to_contain_text("第 1 次")
    expect(reminders.nth(2)).to_contain_text(first.number)
    expect(page.locator("#desk-reminders")).not_to_contain_text(finished.number)
    expect(page.locator("#desk-reminders .reminder-unread")).to_have_count(3)

    # Opening the case from its reminder marks it read; it stays until dealt with.
    reminders.nth(2).get_by_role("link").click()
    expect(page).to_have_url(f"{page.url.split('/cases/')[0]}/cases/{first.pk}/")
    page.get_by_role("link", name="我的工作台", exact=True).first.click()
    first_reminder = page.locator(f'#desk-reminders .reminder[data-case="{first.pk}"]')
    expect(first_reminder).to_be_visible()
    expect(first_reminder).not_to_have_class("reminder-unread")
    expect(first_reminder.locator(".badge")).to_have_count(0)
    expect(page.locator("#desk-reminders .reminder-unread")).to_have_count(2)

    # 已处理: off the desk, and still off after a reload.
    page.locator(f'#desk-reminders .reminder[data-case="{second.pk}"]').get_by_role("button", name="已处理").click()
    expect(page.locator(f'#desk-reminders .reminder[data-case="{second.pk}"]')).to_have_count(0)
    page.reload()
    expect(page.locator("#desk-reminders .reminder")).to_have_count(2)
    expect(page.locator("#desk-reminders")).not_to_contain_text(second.number)
    assert not Notification.objects.filter(recipient=handler, case=second, done_at__isnull=True).exists()


def test_404_and_403_pages_are_translated_and_keep_the_navigation(db, logged_in_page):
    build_organization()
    page = logged_in_page("handler_city", DEMO_PASSWORD)

    response = page.goto("/cases/99999999/")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("404 · 找不到页面")
    nav = page.locator("nav.navbar")
    expect(nav.get_by_role("link", name="我的工作台")).to_be_visible()
    expect(nav.get_by_role("link", name="台账")).to_be_visible()
    expect(nav.get_by_role("button", name="退出")).to_be_visible()

    response = page.goto("/administration/staff/")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("403 · 没有权限")
    expect(nav.get_by_role("link", name="我的工作台")).to_be_visible()

    nav.get_by_role("button", name="English").click()  # the switch, from the error page itself
    expect(page.locator("h1")).to_have_text("403 · Not permitted")
    expect(page.locator("#error-back")).to_have_text("Back to my desk")
    page.goto("/cases/99999999/")
    expect(page.locator("h1")).to_have_text("404 · Not found")
    expect(nav.get_by_role("link", name="My desk")).to_be_visible()
    page.locator("#error-back").click()
    expect(page.locator("h1")).to_have_text("My desk")


def test_an_archived_case_offers_no_edit_form(db, logged_in_page):
    demo = build_organization()
    activate(demo.org, "city_hotline")
    clerk = demo.staff["clerk"]
    case, _code = cs.case_register(actor=clerk, data=intake(text="咨询解放路停水时间。"))
    ha.case_not_accept(actor=clerk, case_id=case.pk, ground="out_of_scope", refer_to="其他相关职能部门")
    cs.case_archive(actor=demo.staff["leader"], case_id=case.pk)

    page = logged_in_page("clerk", DEMO_PASSWORD)
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator(".state-badge").first).to_have_text("已归档")
    expect(page.get_by_role("link", name="修改", exact=True)).to_have_count(0)
    expect(page.locator('form[action$="/contacts/"]')).to_have_count(0)

    response = page.goto(f"/cases/{case.pk}/edit/")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("403 · 没有权限")
    expect(page.locator("#error-reason")).to_have_text("该件已归档，只能查看，不能修改。")
    expect(page.locator('[name="title"]')).to_have_count(0)
    expect(page.locator("nav.navbar").get_by_role("link", name="台账")).to_be_visible()

    page.locator("nav.navbar").get_by_role("button", name="English").click()
    expect(page.locator("#error-reason")).to_have_text("This case is archived: it can be viewed but not changed.")


# Each entry of the top bar on one line: no label broken inside its words (台/账, 退/出).
_WRAPPED_BAR_ENTRIES = """() => [...document.querySelectorAll(
  'nav.navbar .nav-link, nav.navbar .navbar-text, nav.navbar .btn')].filter((el) => {
    const s = getComputedStyle(el);
    const inner = el.getBoundingClientRect().height - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom)
      - parseFloat(s.borderTopWidth) - parseFloat(s.borderBottomWidth);
    return el.offsetParent !== null && inner > 1.5 * parseFloat(s.lineHeight);
  }).map((el) => el.textContent.trim())"""


@pytest.mark.parametrize("username", ["admin", "leader", "clerk"])
def test_the_top_bar_keeps_every_label_on_one_line_at_desktop_width(db, logged_in_page, username):
    build_organization()
    page = logged_in_page(username, DEMO_PASSWORD)  # 1366 x 900, the most entries an account has
    expect(page.locator("nav.navbar").get_by_role("button", name="退出")).to_be_visible()
    assert page.evaluate(_WRAPPED_BAR_ENTRIES) == []

    page.locator("nav.navbar").get_by_role("button", name="English").click()
    expect(page.locator("nav.navbar").get_by_role("button", name="Log out")).to_be_visible()
    assert page.evaluate(_WRAPPED_BAR_ENTRIES) == []
