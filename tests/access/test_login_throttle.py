"""Login throttling (django-axes): a username is locked from one address after N failures,
for the cool-off, in the database so every worker process sees the same lock."""

from __future__ import annotations

import os
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from huiyin.administration import services

from .conftest import PASSWORD, run_python

LIMIT = settings.AXES_FAILURE_LIMIT


def login(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return client.get(reverse("cases:desk")).status_code == 200


@pytest.mark.django_db
def test_the_settings_are_the_documented_ones():
    assert LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"


@pytest.mark.django_db
def test_after_n_wrong_passwords_the_right_one_is_refused_until_the_cool_off(client, staff):
    staff("zhou")
    for attempt in range(1, LIMIT):
        response = login(client, "zhou", f"wrong-{attempt}")
        assert response.status_code == 200 and "用户名或密码错误" in response.content.decode()
    response = login(client, "zhou", "wrong-last")
    assert response.status_code == 429
    assert "该账号在本机已被暂时锁定，请 15 分钟后再试" in response.content.decode()

    response = login(client, "zhou", PASSWORD)
    assert response.status_code == 429 and "已被暂时锁定" in response.content.decode()
    assert not logged_in(client)

    # Tries during the lock are not checked and do not extend it: the message counts down.
    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=5), tick=False):
        response = login(client, "zhou", PASSWORD)
        assert response.status_code == 429 and "请 5 分钟后再试" in response.content.decode()
        assert not logged_in(client)

    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=5), tick=False):
        response = login(client, "zhou", PASSWORD)
        assert response.status_code == 302 and response["Location"] == reverse("cases:desk")
        assert logged_in(client)
    # A successful login clears the count.
    assert not AccessAttempt.objects.filter(username="zhou").exists()


@pytest.mark.django_db
def test_the_lock_is_per_username_and_address(client, staff, django_user_model):
    staff("zhou")
    staff("qian")
    for attempt in range(LIMIT):
        login(client, "zhou", f"wrong-{attempt}", address="10.0.0.7")
    assert login(client, "zhou", PASSWORD, address="10.0.0.7").status_code == 429
    # The same person from another address, and another person from the same address, still log in.
    assert login(client, "qian", PASSWORD, address="10.0.0.7").status_code == 302
    client.post(reverse("logout"))
    assert login(client, "zhou", PASSWORD, address="10.0.0.8").status_code == 302


@pytest.mark.django_db
def test_fewer_failures_than_the_limit_do_not_lock(client, staff):
    staff("zhou")
    for attempt in range(LIMIT - 1):
        login(client, "zhou", f"wrong-{attempt}")
    assert login(client, "zhou", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_behind_a_proxy_the_forwarded_address_is_the_one_locked(client, staff, settings):
    settings.HUIYIN_PROXY_COUNT = 1
    staff("zhou")
    for attempt in range(LIMIT):
        client.post(
            reverse("login"),
            {"username": "zhou", "password": f"wrong-{attempt}"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    # Another client behind the same proxy is not locked out; a spoofed left-most entry changes nothing.
    other = client.post(
        reverse("login"),
        {"username": "zhou", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 203.0.113.10",
    )
    assert other.status_code == 302


LOGIN_IN_ANOTHER_PROCESS = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "huiyin.settings"
from django.conf import settings
from django.core.management import call_command
settings.DATABASES["default"]["NAME"] = sys.argv[1]
import django
django.setup()
from django.test import Client
response = Client().post("/login/", {"username": "zhou", "password": sys.argv[2]})
print(response.status_code)
"""


@pytest.mark.django_db(transaction=True)
def test_the_lock_holds_in_another_process(client, staff):
    """Another web worker (a separate process on the same database) refuses the locked login too."""
    staff("zhou")
    for attempt in range(LIMIT):
        login(client, "zhou", f"wrong-{attempt}")
    # The same database server (DATABASE_URL), the test database by name.
    env = {key: value for key, value in os.environ.items() if key.startswith(("HUIYIN_", "DATABASE_URL"))}
    db_name = str(connection.settings_dict["NAME"])
    result = run_python(["-c", LOGIN_IN_ANOTHER_PROCESS, db_name, PASSWORD], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "429"


@pytest.mark.django_db
def test_an_operator_can_lift_a_lock(client, staff):
    staff("zhou")
    for attempt in range(LIMIT):
        login(client, "zhou", f"wrong-{attempt}")
    assert login(client, "zhou", PASSWORD).status_code == 429
    call_command("axes_reset_username", "zhou", stdout=StringIO())
    assert login(client, "zhou", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_a_password_reset_by_an_administrator_lifts_the_lock(client, staff):
    """The locked-out person calls the administrator, who resets the password: the new one
    works at once, from the address that was locked, not after the cool-off."""
    locked = staff("zhou")
    admin = staff("admin_a", roles=["admin"])
    for attempt in range(LIMIT):
        login(client, "zhou", f"wrong-{attempt}")
    assert login(client, "zhou", PASSWORD).status_code == 429

    _, new_password = services.staff_reset_password(actor=admin, staff_id=locked.pk)
    assert not AccessAttempt.objects.filter(username="zhou").exists()
    response = login(client, "zhou", new_password)
    assert response.status_code == 302  # to the forced password change
    assert "_auth_user_id" in client.session
