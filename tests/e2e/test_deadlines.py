"""Deadlines in a real browser: a 12345 phone complaint registered and accepted under the
city_hotline preset shows its 3-minute dispatch clock counting down on the case page and
can be suspended; an administrator loads another preset on the policy page.

Set ``HUIYIN_SCREENSHOTS=/some/dir`` to keep full-page screenshots of both pages.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from huiyin.cases.models import Case
from huiyin.deadlines.models import Clock, ClockState
from huiyin.orgs.roles import Role
from huiyin.policy.services import current_policy
from tests.conftest import make_staff
from tests.policy.conftest import activate

pytestmark = pytest.mark.e2e

COUNTDOWN = re.compile(r"^剩余 (\d分\d+秒|\d分|\d+秒)$")


def shoot(page, name: str) -> None:
    directory = os.environ.get("HUIYIN_SCREENSHOTS")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(directory) / name), full_page=True)


def test_dispatch_countdown_on_the_case_page_and_loading_a_preset(org, clerk, logged_in_page):
    activate(org, "city_hotline")
    make_staff(org, "admin", [Role.ADMIN])

    page = logged_in_page("clerk")
    page.goto("/cases/new/phone/")
    page.fill("#id_party_phone", "13812345678")
    page.fill("#id_party_name", "张伟")
    page.fill("#id_text", "幸福路12号门前井盖缺失，夜间行人容易踩空。")
    page.click("#submit-intake")
    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get(number=page.locator("h1 .case-number").inner_text().strip())

    # Before acceptance no clock runs; accepting starts the 3-minute dispatch clock.
    page.locator('details[data-action="accept"] summary').click()
    page.locator('details[data-action="accept"] button[type="submit"]').click()
    expect(page.get_by_role("alert").filter(has_text="操作成功")).to_be_visible()
    clock = page.locator('#deadline-panel .deadline-clock[data-stage="dispatch"]')
    expect(clock).to_be_visible()
    expect(clock).to_contain_text("96310 电话投诉派遣")
    expect(clock.locator(".deadline-state")).to_have_text("计时中")
    left = clock.locator(".deadline-left")
    expect(left).to_have_text(COUNTDOWN)
    expect(clock.locator(".deadline-waiting")).to_have_text("等待 clerk 派遣")
    # The page keeps counting without a reload.
    shown = left.inner_text()
    expect(left).not_to_have_text(shown, timeout=3_000)
    expect(left).to_have_text(COUNTDOWN)
    shoot(page, "case-deadline-panel.png")

    # Suspending pauses the clock: the countdown stops and the panel says who waits on whom.
    page.locator('details[data-deadline-action="suspend"] summary').click()
    page.fill("#id_reason", "等待反映人补充现场照片")
    page.click("#suspend-submit")
    expect(page.locator("#suspended-badge")).to_be_visible()
    expect(clock.locator(".deadline-state")).to_have_text("已暂停")
    expect(clock.locator(".deadline-waiting")).to_have_text("等待 反映人 补充材料")
    assert Clock.objects.get(case=case, stage="dispatch").state == ClockState.PAUSED

    admin = logged_in_page("admin")
    admin.goto("/policy/")
    expect(admin.locator("#running-label")).to_have_text("12345/96310 城市管理热线")
    expect(admin.locator("#deadline-rules")).to_contain_text("96310 电话投诉派遣")
    admin.select_option("#id_preset", "hospital")
    admin.fill("#id_note", "试运行医院投诉预设")
    admin.click("#load-preset-submit")
    expect(admin.get_by_role("alert").filter(has_text="已启用预设")).to_be_visible()
    expect(admin.locator("#running-version")).to_contain_text("2")
    expect(admin.locator("#policy-history tr[data-version]")).to_have_count(2)
    running = current_policy(org)
    assert (running.version, running.preset_name) == (2, "hospital")
    shoot(admin, "policy-admin.png")
