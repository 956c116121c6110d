"""Second factor (TOTP, django-otp): enrolling an authenticator, the code at login, and the rule
that staff with the personal-data right or administration must enrol (HUIYIN_REQUIRE_2FA_FOR)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.core import checks
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from huiyin.access.checks import second_factor_rule
from huiyin.access.permissions import must_enrol
from huiyin.orgs.roles import Role

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db
PRODUCTION_RULE = ["view_pii", "administer", "admin_site"]


def code_for(device: TOTPDevice) -> str:
    """What the authenticator app shows now (time.time(), which time_machine moves too)."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{value:0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    right = int(code_for(device))
    return f"{(right + 500_000) % 1_000_000:06d}"


@pytest.fixture
def enrolled(staff):
    user = staff("zhou", [Role.HANDLER])
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user, device


def test_enrolment_shows_a_qr_code_and_secret_and_confirms_with_a_real_code(client, staff):
    user = staff("zhou", [Role.HANDLER])
    client.force_login(user)
    page = client.get(reverse("access:enrol"))
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and 'id="otp-secret"' in html
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    # The secret shown is the device's key, in base32 groups.
    from base64 import b32encode

    assert " ".join(b32encode(device.bin_key).decode()[i : i + 4] for i in range(0, 32, 4)) in html
    # Reloading keeps the same secret until it is confirmed.
    client.get(reverse("access:enrol"))
    assert TOTPDevice.objects.filter(user=user).count() == 1

    bad = client.post(reverse("access:enrol"), {"token": wrong_code(device)})
    assert bad.status_code == 200 and "验证码不正确" in bad.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    bad = client.post(reverse("access:enrol"), {"token": "12ab"})
    assert "验证码：验证码须为 6 位数字。" in bad.content.decode()

    device.refresh_from_db()
    with time_machine.travel(timezone.now() + timedelta(seconds=2), tick=False):  # past the throttle's delay
        done = client.post(reverse("access:enrol"), {"token": code_for(device)})
    assert done.status_code == 302 and done["Location"] == reverse("cases:desk")
    device.refresh_from_db()
    assert device.confirmed
    status = client.get(reverse("access:enrol")).content.decode()
    assert 'id="otp-enabled"' in status and "<svg" not in status and 'id="otp-secret"' not in status


def test_login_with_an_authenticator_asks_for_the_code_before_logging_in(client, enrolled):
    user, device = enrolled
    response = client.post(
        reverse("login"), {"username": "zhou", "password": PASSWORD, "next": reverse("cases:ledger")}
    )
    assert response.status_code == 302 and response["Location"].startswith(reverse("access:verify"))
    # The password alone is not a login.
    assert client.get(reverse("cases:desk")).status_code == 302
    assert "_auth_user_id" not in client.session

    page = client.get(response["Location"])
    assert page.status_code == 200 and "两步验证" in page.content.decode()
    bad = client.post(reverse("access:verify"), {"token": wrong_code(device), "next": reverse("cases:ledger")})
    assert bad.status_code == 200 and "验证码不正确" in bad.content.decode()
    assert client.get(reverse("cases:desk")).status_code == 302

    with time_machine.travel(timezone.now() + timedelta(seconds=2), tick=False):
        good = client.post(reverse("access:verify"), {"token": code_for(device), "next": reverse("cases:ledger")})
    assert good.status_code == 302 and good["Location"] == reverse("cases:ledger")
    assert client.get(reverse("cases:desk")).status_code == 200
    assert int(client.session["_auth_user_id"]) == user.pk


def test_a_code_is_accepted_once(client, enrolled):
    user, device = enrolled
    code = code_for(device)
    client.post(reverse("login"), {"username": "zhou", "password": PASSWORD})
    assert client.post(reverse("access:verify"), {"token": code}).status_code == 302
    client.post(reverse("logout"))
    client.post(reverse("login"), {"username": "zhou", "password": PASSWORD})
    replay = client.post(reverse("access:verify"), {"token": code})
    assert replay.status_code == 200 and "验证码不正确" in replay.content.decode()


def test_the_password_step_expires(client, enrolled):
    user, device = enrolled
    client.post(reverse("login"), {"username": "zhou", "password": PASSWORD})
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        late = client.post(reverse("access:verify"), {"token": code_for(device)})
    assert late.status_code == 302 and late["Location"] == reverse("login")
    assert client.get(reverse("cases:desk")).status_code == 302


def test_a_password_changed_after_the_password_step_ends_it(client, enrolled):
    # The password was right, then an administrator reset it (or the person changed it on
    # another computer) before the code was typed: the code alone no longer logs in.
    user, device = enrolled
    client.post(reverse("login"), {"username": "zhou", "password": PASSWORD})
    user.set_password("Another-Pass-2026")
    user.save()
    stale = client.post(reverse("access:verify"), {"token": code_for(device)})
    assert stale.status_code == 302 and stale["Location"] == reverse("login")
    assert client.get(reverse("cases:desk")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_wrong_codes_count_towards_the_login_lock(client, enrolled, settings):
    user, device = enrolled
    client.post(reverse("login"), {"username": "zhou", "password": PASSWORD})
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        device.throttling_failure_count = 0  # the device's own back-off is tested elsewhere
        device.save()
        assert client.post(reverse("access:verify"), {"token": wrong_code(device)}).status_code == 200
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    locked = client.post(reverse("access:verify"), {"token": wrong_code(device)})
    assert locked.status_code == 429 and "已被暂时锁定" in locked.content.decode()
    # The pending password step is gone, and the password is refused from here for the cool-off.
    assert client.post(reverse("access:verify"), {"token": code_for(device)})["Location"] == reverse("login")
    assert client.post(reverse("login"), {"username": "zhou", "password": PASSWORD}).status_code == 429


def test_the_device_backs_off_after_a_wrong_code(client, enrolled):
    user, device = enrolled
    client.post(reverse("login"), {"username": "zhou", "password": PASSWORD})
    client.post(reverse("access:verify"), {"token": wrong_code(device)})
    # Right away, even the right code is refused: the device waits 1 s, then 2, 4, 8...
    too_soon = client.post(reverse("access:verify"), {"token": code_for(device)})
    assert too_soon.status_code == 200 and "验证码输错次数过多" in too_soon.content.decode()


def test_a_session_logged_in_by_password_alone_must_give_the_code(client, enrolled):
    """E.g. through Django admin's own login page: every page sends it to the code first."""
    user, device = enrolled
    client.force_login(user)
    response = client.get(reverse("cases:ledger"))
    ledger = reverse("cases:ledger")
    assert (
        response.status_code == 302
        and response["Location"] == f"{reverse('access:verify')}?{urlencode({'next': ledger})}"
    )
    htmx = client.get(reverse("cases:ledger"), HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"].startswith(reverse("access:verify"))
    with time_machine.travel(timezone.now() + timedelta(seconds=1), tick=False):
        done = client.post(reverse("access:verify"), {"token": code_for(device), "next": ledger})
    assert done["Location"] == ledger
    assert client.get(ledger).status_code == 200


def test_by_default_outside_production_nobody_must_enrol(client, staff, settings):
    """`make run` and the demo: staff with the personal-data right log in with a password only."""
    assert settings.HUIYIN_REQUIRE_2FA_FOR == []
    staff("clerk2", [Role.INTAKE_CLERK])
    response = client.post(reverse("login"), {"username": "clerk2", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("cases:desk")
    assert client.get(reverse("cases:desk")).status_code == 200


@pytest.mark.parametrize(
    ("roles", "extra", "must"),
    [
        ([Role.INTAKE_CLERK], {}, True),  # personal-data right
        ([Role.HANDLER], {}, True),
        ([Role.ADMIN], {}, True),  # administers the organisation
        ([Role.ANALYST], {}, False),
        ([Role.SUPERVISOR], {}, False),
        ([], {"is_staff": True}, True),  # enters Django's admin
    ],
)
def test_the_production_rule_names_personal_data_and_administration(staff, settings, roles, extra, must):
    settings.HUIYIN_REQUIRE_2FA_FOR = PRODUCTION_RULE
    assert must_enrol(staff("zhou", roles, **extra)) is must


def test_a_user_the_rule_names_must_enrol_before_anything_else(client, staff, settings):
    settings.HUIYIN_REQUIRE_2FA_FOR = PRODUCTION_RULE
    user = staff("clerk2", [Role.INTAKE_CLERK])
    response = client.post(reverse("login"), {"username": "clerk2", "password": PASSWORD})
    desk = client.get(response["Location"])
    assert desk.status_code == 302 and desk["Location"].startswith(reverse("access:enrol"))
    page = client.get(desk["Location"])
    assert 'id="otp-required"' in page.content.decode()
    assert client.get(reverse("cases:intake", args=["phone"])).status_code == 302

    device = TOTPDevice.objects.get(user=user)
    with time_machine.travel(timezone.now() + timedelta(seconds=1), tick=False):
        done = client.post(reverse("access:enrol"), {"token": code_for(device), "next": reverse("cases:ledger")})
    assert done["Location"] == reverse("cases:ledger")
    assert client.get(reverse("cases:intake", args=["phone"])).status_code == 200


def test_an_analyst_is_not_held_up_by_the_rule(client, staff, settings):
    settings.HUIYIN_REQUIRE_2FA_FOR = PRODUCTION_RULE
    client.post(reverse("login"), {"username": staff("an", [Role.ANALYST]).username, "password": PASSWORD})
    assert client.get(reverse("cases:desk")).status_code == 200


def test_an_unknown_word_in_the_rule_is_a_check_error(settings):
    settings.HUIYIN_REQUIRE_2FA_FOR = ["view_pii", "viewpii"]
    [error] = second_factor_rule(None)
    assert error.level == checks.ERROR and error.id == "huiyin.access.E001" and "viewpii" in error.msg
    settings.HUIYIN_REQUIRE_2FA_FOR = PRODUCTION_RULE
    assert second_factor_rule(None) == []
