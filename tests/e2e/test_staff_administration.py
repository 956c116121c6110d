"""The organisation's administrator in a real browser: open a staff account from the
人员与部门 screen, read the generated password once, and the new colleague signs in with
it, is made to choose their own password, and reaches their desk.

Runs in Chromium against the live server; see conftest.py for the browser set-up.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from huiyin.administration.models import AuditAction, AuditEntry
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Role
from tests.conftest import make_staff

pytestmark = pytest.mark.e2e


def test_admin_creates_an_account_and_it_signs_in(org, departments, logged_in_page, new_page):
    make_staff(org, "admin_a", [Role.ADMIN])
    page = logged_in_page("admin_a")
    page.get_by_role("link", name="人员与部门").click()
    expect(page).to_have_url(re.compile(r"/administration/staff/$"))
    page.click("#staff-create")

    # a mistake first: a handler without a department is refused, naming the field
    page.fill("#id_username", "zhangsan")
    page.fill("#id_full_name", "张三")
    page.get_by_label("承办人").check()
    page.click("#staff-create-submit")
    expect(page.locator("[data-error-field=department]")).to_contain_text("部门：承办人和部门负责人必须属于一个部门")
    assert not Staff.objects.filter(username="zhangsan").exists()

    page.select_option("#id_department", label="市容环境科")
    page.click("#staff-create-submit")
    expect(page.locator("#password-once")).to_contain_text("zhangsan")
    password = page.locator("[data-password]").inner_text().strip()
    assert re.fullmatch(r"\w{4}-\w{4}-\w{4}", password)
    page.get_by_role("link", name="完成").click()
    expect(page.locator("#staff-audit")).to_contain_text("新建账号")
    staff = Staff.objects.get(username="zhangsan")
    assert staff.department_id == departments["city"].pk and staff.roles == [Role.HANDLER]
    assert AuditEntry.objects.filter(action=AuditAction.STAFF_CREATED, staff=staff).exists()

    # the new colleague signs in, must first choose a password, then works
    colleague = new_page()
    colleague.goto("/login/")
    colleague.fill("#id_username", "zhangsan")
    colleague.fill("#id_password", password)
    colleague.get_by_role("button", name="登录", exact=True).click()
    expect(colleague).to_have_url(re.compile(r"/account/password/$"))
    expect(colleague.locator("#password-required")).to_be_visible()
    colleague.goto("/cases/")
    expect(colleague).to_have_url(re.compile(r"/account/password/$"))  # nothing else until then
    colleague.fill("#id_old_password", password)
    colleague.fill("#id_new_password1", "Zhang-own-2026")
    colleague.fill("#id_new_password2", "Zhang-own-2026")
    colleague.click("#own-password-submit")
    expect(colleague).to_have_url(re.compile(r"/cases/desk/$"))
    expect(colleague.get_by_text("密码已修改。")).to_be_visible()
    staff.refresh_from_db()
    assert staff.check_password("Zhang-own-2026")


def test_destructive_buttons_ask_first_and_the_tree_is_indented(org, departments, logged_in_page):
    """The confirmations are a static script (data-confirm), the indentation a class: no inline
    handler or style, so nothing here trips the Content-Security-Policy (see conftest)."""
    from huiyin.orgs.models import Department

    make_staff(org, "admin_a", [Role.ADMIN])
    handler = make_staff(org, "handler_a", [Role.HANDLER], departments["city"])
    Department.objects.create(organization=org, code="city-north", name="北区组", parent=departments["city"])
    page = logged_in_page("admin_a")

    page.goto(f"/administration/staff/{handler.pk}/")
    questions: list[str] = []

    def answer(dialog, accept: bool):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.click("#staff-deactivate")
    expect(page.locator("#staff-deactivate")).to_be_visible()
    assert questions == ["停用后该账号不能登录，经办记录保留。确定停用？"]
    handler.refresh_from_db()
    assert handler.is_active  # declined: nothing was sent

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.click("#staff-deactivate")
    expect(page.locator("#staff-reactivate")).to_be_visible()
    handler.refresh_from_db()
    assert not handler.is_active and len(questions) == 2

    page.goto("/administration/departments/")
    child = page.locator("#department-table tr[data-code=city-north] .tree-indent")
    top = page.locator("#department-table tr[data-code=city] .tree-indent")
    assert child.evaluate("e => getComputedStyle(e).paddingLeft") != top.evaluate(
        "e => getComputedStyle(e).paddingLeft"
    )
    assert top.evaluate("e => getComputedStyle(e).paddingLeft") == "0px"
