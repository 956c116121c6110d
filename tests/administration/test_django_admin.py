"""Django's /admin/ is the platform operator's tool: only an active superuser gets in. An
organisation's administrator — even one with ``is_staff`` — is refused at every admin page
and at the admin's own login form."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Role
from tests.conftest import make_staff

from .conftest import sign_in

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "/admin/",
    "/admin/orgs/staff/",
    "/admin/orgs/organization/",
    "/admin/policy/calendarday/",
]


@pytest.fixture
def staff_flagged_admin(org):
    """An organisation administrator made the old way: is_staff, every model permission."""
    from django.contrib.auth.models import Permission

    admin = make_staff(org, "legacy_admin", [Role.ADMIN])
    admin.is_staff = True
    admin.save()
    admin.user_permissions.set(Permission.objects.all())
    return admin


def test_an_org_administrator_is_refused_everywhere_in_django_admin(client, staff_flagged_admin, org_b, admin_b):
    client.force_login(staff_flagged_admin)
    for url in ADMIN_PAGES + [f"/admin/orgs/staff/{admin_b.pk}/change/", f"/admin/orgs/staff/{admin_b.pk}/password/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url
    response = client.post(f"/admin/orgs/staff/{admin_b.pk}/password/", {"password1": "x" * 12, "password2": "x" * 12})
    assert response.status_code == 302
    admin_b.refresh_from_db()
    assert admin_b.check_password("pw-admin_b")


def test_the_admin_login_form_refuses_an_org_administrator(staff_flagged_admin):
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "legacy_admin", "password": "pw-legacy_admin", "next": "/admin/"}
    )
    assert response.status_code == 200
    assert "平台运维后台只供平台运维人员" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_platform_operator_gets_in(client, db):
    operator = Staff.objects.create_superuser("root", password="pw-root-operator")
    login = Client()
    response = login.post("/admin/login/", {"username": "root", "password": "pw-root-operator", "next": "/admin/"})
    assert response.status_code == 302
    assert login.get("/admin/orgs/staff/").status_code == 200
    operator.is_active = False
    operator.save()
    assert login.get("/admin/").status_code == 302  # an inactive superuser is nobody


def test_the_demo_administrator_is_not_a_django_admin(client):
    from huiyin.demo.generator import DEMO_PASSWORD, build_organization

    build_organization()
    admin = Staff.objects.get(username="admin")
    assert not admin.is_superuser and not admin.is_staff
    assert sign_in(client, "admin", DEMO_PASSWORD)
    assert client.get("/admin/").status_code == 302
    assert client.get(reverse("administration:staff")).status_code == 200
