"""The administrator's 数据推送 screen in a real browser: add a receiver (the signing secret is
shown once), see it listed, stop it, open the delivery log. Under the strict CSP: the page
needs no inline script or style.

Runs in Chromium against the live server; see conftest.py for the browser set-up.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from huiyin.api.models import Webhook
from huiyin.orgs.roles import Role
from tests.conftest import make_staff

pytestmark = pytest.mark.e2e


def test_admin_adds_a_receiver_reads_the_secret_once_and_stops_it(org, logged_in_page):
    make_staff(org, "admin_w", [Role.ADMIN])
    page = logged_in_page("admin_w")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.get_by_role("link", name="人员与部门").click()
    page.get_by_role("link", name="数据推送").click()
    expect(page).to_have_url(re.compile(r"/administration/webhooks/$"))
    page.fill("#id_url", "https://receiver.example.org/huiyin")
    page.get_by_label("登记").check()
    page.get_by_label("办结").check()
    page.get_by_role("button", name="添加").click()
    hook = Webhook.objects.get()
    expect(page.locator("[data-webhook-secret]")).to_have_text(hook.secret)
    assert sorted(hook.event_types) == ["closed", "registered"]
    page.get_by_role("link", name="完成").click()
    row = page.locator("#webhooks tbody tr").first
    expect(row).to_contain_text("https://receiver.example.org/huiyin")
    expect(row).to_contain_text("登记、办结")
    expect(page.locator("#webhooks")).not_to_contain_text(hook.secret)
    row.get_by_role("button", name="停止").click()
    expect(page.locator("#webhooks tbody tr").first).to_contain_text("已停止")
    hook.refresh_from_db()
    assert not hook.active
    page.get_by_role("link", name="全部推送记录").click()
    expect(page.locator("#deliveries")).to_contain_text("尚无推送记录")
    assert not [e for e in errors if "Content Security Policy" in e], errors
