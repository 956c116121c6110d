"""Anyone signed in changes their own password; errors name the field; the session that
changed it stays signed in, the others end; the change is in the organisation's record."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from huiyin.administration import services
from huiyin.administration.models import AuditAction, AuditEntry

from .conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"old_password": "wrong"}, "old_password", "原密码：不正确"),
        ({"old_password": ""}, "old_password", "原密码："),
        ({"new_password2": "different-1234"}, "new_password2", "确认新密码：两次输入的新密码不一致"),
        ({"new_password1": "short", "new_password2": "short"}, "new_password1", "新密码：太短，至少需要 10 个字符"),
        ({"new_password1": "83920175361", "new_password2": "83920175361"}, "new_password1", "新密码：只包含数字"),
        ({"new_password1": "pw-handler", "new_password2": "pw-handler"}, "new_password1", "不能与原密码相同"),
    ],
)
def test_bad_input_names_the_field(client, handler, data, field, message):
    client.force_login(handler)
    values = {"old_password": "pw-handler", "new_password1": "Better-2026-pw", "new_password2": "Better-2026-pw"}
    response = client.post(reverse("account:password"), {**values, **data})
    assert response.status_code == 400
    text = response.content.decode()
    assert f'data-error-field="{field}"' in text and message in text
    assert "密码：密码" not in text and "：原密码：" not in text
    handler.refresh_from_db()
    assert handler.check_password("pw-handler")


def test_changing_keeps_this_session_and_ends_the_others(client, handler):
    other = Client()
    assert sign_in(other, "handler", "pw-handler")
    client.force_login(handler)
    response = client.post(
        reverse("account:password"),
        {"old_password": "pw-handler", "new_password1": "Better-2026-pw", "new_password2": "Better-2026-pw"},
    )
    assert response.status_code == 302
    assert client.get(reverse("cases:desk")).status_code == 200
    assert other.get(reverse("cases:desk")).status_code == 302
    handler.refresh_from_db()
    assert handler.check_password("Better-2026-pw")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_id, entry.staff_id) == (AuditAction.PASSWORD_CHANGED, handler.pk, handler.pk)
    assert "Better-2026-pw" not in str(entry.changes) and entry.changes == []


def test_the_page_is_linked_from_the_bar(client, handler):
    client.force_login(handler)
    assert reverse("account:password") in client.get(reverse("cases:desk")).content.decode()


def test_a_required_change_comes_first_but_sign_out_and_language_still_work(client, handler, admin_a):
    services.staff_reset_password(actor=admin_a, staff_id=handler.pk)
    handler.refresh_from_db()
    client.force_login(handler)  # signing in marks the session
    for url in (reverse("cases:desk"), reverse("cases:ledger"), "/handling/templates/", "/no/such/page/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("account:password"), url
    page = client.get(reverse("account:password"))
    assert page.status_code == 200 and 'id="password-required"' in page.content.decode()
    assert client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"}).status_code == 302
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")


def test_no_change_is_asked_of_an_account_whose_password_nobody_else_set(client, handler):
    client.force_login(handler)
    assert client.get(reverse("cases:desk")).status_code == 200
    assert 'id="password-required"' not in client.get(reverse("account:password")).content.decode()
