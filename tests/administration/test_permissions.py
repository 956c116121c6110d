"""Only the organisation's administrator reaches the administration pages: every other role
gets 403 (nothing written), a visitor the login page; the navigation offers it to them only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huiyin.administration import services
from huiyin.administration.models import AuditEntry
from huiyin.core.errors import PermissionDeniedError
from huiyin.orgs.models import Department, Staff
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.test_navigation import nav_for

pytestmark = pytest.mark.django_db

NOT_ADMINS = [r for r in Role.values if r != Role.ADMIN]


def admin_urls(staff_id: int, department_id: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("administration:staff")),
        ("get", reverse("administration:staff_create")),
        ("post", reverse("administration:staff_create")),
        ("get", reverse("administration:staff_detail", args=[staff_id])),
        ("post", reverse("administration:staff_detail", args=[staff_id])),
        ("post", reverse("administration:staff_deactivate", args=[staff_id])),
        ("post", reverse("administration:staff_reactivate", args=[staff_id])),
        ("post", reverse("administration:staff_reset_password", args=[staff_id])),
        ("get", reverse("administration:departments")),
        ("post", reverse("administration:departments")),
        ("get", reverse("administration:department_detail", args=[department_id])),
        ("post", reverse("administration:department_detail", args=[department_id])),
        ("post", reverse("administration:department_delete", args=[department_id])),
        ("get", reverse("administration:audit")),
    ]


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_every_other_role_is_refused(client, org, departments, handler, role):
    actor = make_staff(org, f"who_{role}", [role], departments["city"])
    client.force_login(actor)
    payload = {
        "username": "sneaky",
        "full_name": "x",
        "role": [Role.ADMIN],
        "password_mode": "generate",
        "name": "x",
        "sort_order": 0,
    }
    for method, url in admin_urls(handler.pk, departments["traffic"].pk):
        response = client.post(url, payload) if method == "post" else client.get(url)
        assert response.status_code == 403, (role, method, url)
    assert not Staff.objects.filter(username="sneaky").exists()
    handler.refresh_from_db()
    assert handler.is_active and handler.roles == [Role.HANDLER] and handler.check_password("pw-handler")
    assert Department.objects.filter(pk=departments["traffic"].pk).exists()
    assert not AuditEntry.objects.exists()
    with pytest.raises(PermissionDeniedError):
        services.staff_set_active(actor=actor, staff_id=handler.pk, active=False)
    assert nav_for(actor).staff_admin is False


def test_a_deactivated_administrator_is_refused(client, org, handler):
    former = make_staff(org, "former_admin", [Role.ADMIN])
    former.is_active = False
    former.save()
    with pytest.raises(PermissionDeniedError):
        services.staff_reset_password(actor=former, staff_id=handler.pk)


def test_a_visitor_is_sent_to_login(client, handler, departments):
    for method, url in admin_urls(handler.pk, departments["city"].pk):
        response = client.post(url) if method == "post" else client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_a_superuser_without_an_organisation_has_no_administration_here(client, handler, departments):
    """The platform operator manages through /admin/; here they have no organisation (403)."""
    operator = Staff.objects.create_superuser("root", password="pw-root")
    client.force_login(operator)
    assert client.get(reverse("administration:staff")).status_code == 403


def test_the_navigation_offers_it_to_the_administrator(client, org):
    admin = make_staff(org, "the_admin", [Role.ADMIN])
    assert nav_for(admin).staff_admin is True
    client.force_login(admin)
    page = client.get(reverse("cases:desk")).content.decode()
    assert reverse("administration:staff") in page and "人员与部门" in page
