"""Session lifetime (idle and absolute), logout, and the password rules with Chinese messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from huiyin.demo.generator import DEMO_PASSWORD
from huiyin.orgs.models import Staff

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def log_in(client, username: str = "zhou", password: str = PASSWORD) -> None:
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302 and response["Location"] == reverse("cases:desk")


def on_desk(client) -> bool:
    return client.get(reverse("cases:desk")).status_code == 200


def test_the_session_settings_are_the_documented_ones():
    assert settings.SESSION_COOKIE_AGE == 2 * 3600
    assert settings.HUIYIN_SESSION_MAX_AGE == 12 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_the_session_cookie_ends_with_the_browser(client, staff):
    staff("zhou")
    client.post(reverse("login"), {"username": "zhou", "password": PASSWORD})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""


def test_an_idle_session_ends_after_two_hours(client, staff):
    staff("zhou")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        log_in(client)
    with time_machine.travel(start + timedelta(hours=1, minutes=50), tick=False):
        assert on_desk(client)  # a request within the idle time renews it
    with time_machine.travel(start + timedelta(hours=3, minutes=40), tick=False):
        assert on_desk(client)
    with time_machine.travel(start + timedelta(hours=5, minutes=41), tick=False):
        response = client.get(reverse("cases:desk"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_requests_renew_the_session_at_most_once_a_minute(client, staff):
    staff("zhou")
    log_in(client)
    key = client.session.session_key
    expiry = Session.objects.get(session_key=key).expire_date
    assert on_desk(client)
    assert Session.objects.get(session_key=key).expire_date == expiry  # no write for a request seconds later
    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=False):
        assert on_desk(client)
    assert Session.objects.get(session_key=key).expire_date >= expiry + timedelta(minutes=5)


def test_a_busy_session_still_ends_twelve_hours_after_the_login(client, staff):
    staff("zhou")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        log_in(client)
    for hour in range(1, 12):
        with time_machine.travel(start + timedelta(hours=hour), tick=False):
            assert on_desk(client), hour
    with time_machine.travel(start + timedelta(hours=12, minutes=30), tick=False):
        response = client.get(reverse("cases:desk"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        login_page = client.get(response["Location"])
        assert "登录时间已到，请重新登录" in login_page.content.decode()
        assert not on_desk(client)


def test_logout_deletes_the_session(client, staff):
    staff("zhou")
    log_in(client)
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()
    # The old cookie is worth nothing.
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    assert not on_desk(client)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab3$xyz", "密码太短，至少需要 10 个字符。"),
        ("83920175361", "密码只包含数字。"),
        ("password123", "这个密码太常见了。"),
        ("zhouxiaoming1", "密码跟 用户名 太相似了。"),
    ],
)
def test_weak_passwords_are_refused_in_chinese(password, message):
    user = Staff(username="zhouxiaoming", full_name="周晓明")
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    assert message in refused.value.messages


def test_a_good_password_passes():
    validate_password("Huiyin-shoulijian-2026", Staff(username="zhou"))


def test_the_demo_password_passes_for_every_demo_login():
    for username in ("clerk", "leader", "head_city", "handler_city", "callback", "admin"):
        validate_password(DEMO_PASSWORD, Staff(username=username))


def test_the_signed_in_member_of_staff_comes_with_their_organisation(staff, client, django_assert_num_queries):
    """Every staff page names the organisation in its top bar: read with the user, not after."""
    from huiyin.access.backends import StaffBackend

    user = StaffBackend().get_user(staff().pk)
    with django_assert_num_queries(0):
        assert user.organization.name
    inactive = staff("wu", is_active=False)
    assert StaffBackend().get_user(inactive.pk) is None and StaffBackend().get_user(10**9) is None
