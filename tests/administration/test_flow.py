"""The administrator's everyday work through the pages: open an account (generated password
shown once, changed by its owner at the first sign-in), edit it, deactivate it (no more
sign-in, open sessions end), reactivate it, reset its password — each change audited,
with no password anywhere in the record."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from huiyin.administration import services
from huiyin.administration.models import AuditAction, AuditEntry, PasswordChangeRequired
from huiyin.core.errors import ValidationFailed
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Role

from .conftest import sign_in

pytestmark = pytest.mark.django_db


def shown_password(response) -> str:
    match = re.search(r"data-password>([^<]+)<", response.content.decode())
    assert match, "no password on the page"
    return match.group(1).strip()


def audit_text() -> str:
    return json.dumps([[e.action, e.target, e.changes] for e in AuditEntry.objects.all()], ensure_ascii=False)


def create_handler(client, departments, **extra):
    data = {
        "username": "zhangsan",
        "full_name": "张三",
        "department": departments["city"].pk,
        "role": [Role.HANDLER],
        "password_mode": "generate",
        "must_change_password": "on",
    }
    data.update(extra)
    return client.post(reverse("administration:staff_create"), data)


def test_create_edit_deactivate_reactivate_reset(client, org, departments, admin_a):
    client.force_login(admin_a)

    # create: the generated password is in the answer, never cached, and works
    response = create_handler(client, departments)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = shown_password(response)
    assert re.fullmatch(r"[A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}", password)
    staff = Staff.objects.get(username="zhangsan")
    assert (staff.full_name, staff.department_id, staff.roles) == ("张三", departments["city"].pk, [Role.HANDLER])
    assert staff.organization_id == org.pk and not staff.is_superuser and not staff.is_staff
    assert staff.check_password(password)
    assert PasswordChangeRequired.objects.filter(staff=staff).exists()
    # shown once: the account's page does not show it again
    assert password not in client.get(reverse("administration:staff_detail", args=[staff.pk])).content.decode()

    # edit: name, department and roles
    response = client.post(
        reverse("administration:staff_detail", args=[staff.pk]),
        {
            "full_name": "张叁",
            "department": departments["traffic"].pk,
            "role": [Role.HANDLER, Role.DEPT_HEAD],
            "version": 1,
        },
    )
    assert response.status_code == 302
    staff.refresh_from_db()
    assert (staff.full_name, staff.department_id, staff.roles) == (
        "张叁",
        departments["traffic"].pk,
        [Role.HANDLER, Role.DEPT_HEAD],
    )

    # the owner signs in and must first choose their own password
    owner = Client()
    assert sign_in(owner, "zhangsan", password)
    response = owner.get(reverse("cases:desk"))
    assert response.status_code == 302 and response["Location"] == reverse("account:password")
    response = owner.post(
        reverse("account:password"),
        {"old_password": password, "new_password1": "Mine-2026-pass", "new_password2": "Mine-2026-pass"},
    )
    assert response.status_code == 302
    assert owner.get(reverse("cases:desk")).status_code == 200
    assert not PasswordChangeRequired.objects.filter(staff=staff).exists()

    # deactivate: no sign-in, the open session ends
    assert client.post(reverse("administration:staff_deactivate", args=[staff.pk])).status_code == 302
    staff.refresh_from_db()
    assert not staff.is_active
    assert not sign_in(Client(), "zhangsan", "Mine-2026-pass")
    response = owner.get(reverse("cases:desk"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    stranger = Client()
    login_page = stranger.post(reverse("login"), {"username": "zhangsan", "password": "Mine-2026-pass"})
    assert login_page.status_code == 200 and "_auth_user_id" not in stranger.session
    listed = client.get(reverse("administration:staff"), {"status": "inactive"}).content.decode()
    assert 'data-username="zhangsan"' in listed
    assert 'data-username="zhangsan"' not in client.get(reverse("administration:staff")).content.decode()

    # reactivate: signs in again
    assert client.post(reverse("administration:staff_reactivate", args=[staff.pk])).status_code == 302
    assert sign_in(Client(), "zhangsan", "Mine-2026-pass")

    # reset: the old password stops working, the new one is shown once and must be changed
    signed_in = Client()
    assert sign_in(signed_in, "zhangsan", "Mine-2026-pass")
    response = client.post(reverse("administration:staff_reset_password", args=[staff.pk]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    new_password = shown_password(response)
    staff.refresh_from_db()
    assert staff.check_password(new_password) and not staff.check_password("Mine-2026-pass")
    assert PasswordChangeRequired.objects.filter(staff=staff).exists()
    response = signed_in.get(reverse("cases:desk"))  # the session under the old password ended
    assert response.status_code == 302 and response["Location"].startswith("/login/")

    # the record: who, what, in order; never a password
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", "actor__username"))
    assert actions == [
        (AuditAction.STAFF_CREATED, "admin_a"),
        (AuditAction.STAFF_UPDATED, "admin_a"),
        (AuditAction.PASSWORD_CHANGED, "zhangsan"),
        (AuditAction.STAFF_DEACTIVATED, "admin_a"),
        (AuditAction.STAFF_REACTIVATED, "admin_a"),
        (AuditAction.PASSWORD_RESET, "admin_a"),
    ]
    update = AuditEntry.objects.get(action=AuditAction.STAFF_UPDATED)
    assert update.staff_id == staff.pk and update.organization_id == org.pk
    assert {c["field"]: (c["old"], c["new"]) for c in update.changes} == {
        "full_name": ("张三", "张叁"),
        "department": ("市容环境科", "交通管理科"),
        "roles": ([Role.HANDLER], [Role.HANDLER, Role.DEPT_HEAD]),
    }
    recorded = audit_text()
    for secret in (password, new_password, "Mine-2026-pass", staff.password):
        assert secret not in recorded

    # and it is on the account's page and the organisation's record
    page = client.get(reverse("administration:staff_detail", args=[staff.pk])).content.decode()
    assert "修改账号" in page and "张三 → 张叁" in page and "市容环境科 → 交通管理科" in page
    assert "承办人 → 承办人、部门负责人" in page and "停用账号" in page and "重置密码" in page
    log = client.get(reverse("administration:audit")).content.decode()
    assert log.count('data-action="') == 6


def test_the_administrator_may_set_the_initial_password(client, departments, admin_a):
    client.force_login(admin_a)
    response = create_handler(
        client,
        departments,
        password_mode="set",
        password1="Chosen-pass-2026",
        password2="Chosen-pass-2026",
        must_change_password="",
    )
    assert response.status_code == 302
    staff = Staff.objects.get(username="zhangsan")
    assert staff.check_password("Chosen-pass-2026")
    assert not PasswordChangeRequired.objects.filter(staff=staff).exists()
    assert "Chosen-pass-2026" not in audit_text()
    owner = Client()
    assert sign_in(owner, "zhangsan", "Chosen-pass-2026")
    assert owner.get(reverse("cases:desk")).status_code == 200


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"username": ""}, "username", "用户名："),
        ({"username": "有 空格"}, "username", "用户名：2–40 个字符"),
        ({"username": "admin_a"}, "username", "已被使用"),
        ({"username": "ADMIN_A"}, "username", "已被使用"),
        ({"full_name": ""}, "full_name", "姓名："),
        ({"full_name": "张" * 61}, "full_name", "姓名："),
        ({"role": []}, "role", "角色：请至少选择一个角色"),
        ({"department": ""}, "department", "部门：承办人和部门负责人必须属于一个部门"),
        ({"department": "abc"}, "department", "部门："),
        ({"password_mode": "set", "password1": ""}, "password1", "密码：选择“由我设置”时请填写密码"),
        ({"password_mode": "set", "password1": "Abcdef-123", "password2": "x"}, "password2", "确认密码："),
        ({"password_mode": "set", "password1": "abc", "password2": "abc"}, "password1", "密码：太短，至少需要"),
        ({"password_mode": "other"}, "password_mode", "初始密码："),
    ],
)
def test_bad_input_is_refused_naming_the_field(client, departments, admin_a, changes, field, message):
    client.force_login(admin_a)
    response = create_handler(client, departments, **changes)
    assert response.status_code == 400
    text = response.content.decode()
    assert f'data-error-field="{field}"' in text and message in text
    assert Staff.objects.count() == 1  # only admin_a
    assert not AuditEntry.objects.exists() and not PasswordChangeRequired.objects.exists()


@pytest.mark.parametrize("typed", ["张\x00三", "张\x1b[31m三\x1b[0m"])
def test_control_characters_are_removed_at_the_boundary(client, departments, admin_a, typed):
    """The request middleware removes what nobody types before the form sees it (issue 13);
    the service itself still refuses a name that reaches it with one."""
    client.force_login(admin_a)
    assert create_handler(client, departments, full_name=typed).status_code == 200
    assert Staff.objects.get(username="zhangsan").full_name == "张三"
    data = services.StaffInput(full_name=typed, department_id=departments["city"].pk, roles=(Role.HANDLER,))
    with pytest.raises(ValidationFailed) as refused:
        services.staff_create(actor=admin_a, username="lisi", data=data)
    assert "姓名：不能包含控制字符" in str(refused.value.errors["full_name"][0])
    assert not Staff.objects.filter(username="lisi").exists()


def test_generated_passwords_differ_and_pass_the_validators(admin_a):
    from django.contrib.auth.password_validation import validate_password

    passwords = {services.generate_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        validate_password(password)


def test_search_and_department_filter(client, departments, admin_a, handler, other_handler, head):
    client.force_login(admin_a)

    def listed(**params) -> set[str]:
        text = client.get(reverse("administration:staff"), params).content.decode()
        return set(re.findall(r'data-username="([^"]+)"', text))

    assert listed() == {"admin_a", "handler", "other", "head"}
    assert listed(department=departments["city"].pk) == {"handler", "head"}
    assert listed(q="oth") == {"other"}
    assert listed(q="HEAD") == {"head"}
