"""An administrator cannot lock the organisation out: not by deactivating themselves, not by
dropping their own administrator role, not with a stale request after another administrator
deactivated or demoted them — so an active administrator always remains."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huiyin.administration import services
from huiyin.administration.errors import AdministrationError
from huiyin.administration.models import AuditEntry
from huiyin.core.errors import ApplicationError, PermissionDeniedError
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Role
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


def active_admins(org) -> set[str]:
    return {s.username for s in Staff.objects.filter(organization=org, is_active=True) if Role.ADMIN in s.roles}


def test_deactivating_oneself_is_refused(client, org, admin_a):
    client.force_login(admin_a)
    response = client.post(reverse("administration:staff_deactivate", args=[admin_a.pk]))
    assert response.status_code == 400
    assert "不能停用您自己的账号" in response.content.decode()
    admin_a.refresh_from_db()
    assert admin_a.is_active
    assert not AuditEntry.objects.exists()
    assert client.get(reverse("administration:staff")).status_code == 200  # still signed in, still admin


def test_dropping_ones_own_admin_role_is_refused(client, org, admin_a):
    client.force_login(admin_a)
    response = client.post(
        reverse("administration:staff_detail", args=[admin_a.pk]),
        {"full_name": "admin_a", "department": "", "role": [Role.ANALYST], "version": admin_a.version},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert 'data-error-field="role"' in text and "不能取消您自己的系统管理员角色" in text
    admin_a.refresh_from_db()
    assert admin_a.roles == [Role.ADMIN]
    # adding a role to oneself, keeping the administrator's, is fine
    response = client.post(
        reverse("administration:staff_detail", args=[admin_a.pk]),
        {"full_name": "admin_a", "department": "", "role": [Role.ADMIN, Role.ANALYST], "version": admin_a.version},
    )
    assert response.status_code == 302
    admin_a.refresh_from_db()
    assert admin_a.roles == [Role.ANALYST, Role.ADMIN]


def test_resetting_ones_own_password_here_is_refused(admin_a):
    with pytest.raises(ApplicationError) as refused:
        services.staff_reset_password(actor=admin_a, staff_id=admin_a.pk)
    assert refused.value.code == AdministrationError.SELF_LOCKOUT
    admin_a.refresh_from_db()
    assert admin_a.check_password("pw-admin_a")


def test_two_administrators_cannot_remove_each_other(org, admin_a):
    """Each request carries the actor as loaded when it began: the second one, by an
    administrator the first just deactivated, is refused under the organisation's lock."""
    admin_2 = make_staff(org, "admin_2", [Role.ADMIN])
    stale_admin_2 = Staff.objects.get(pk=admin_2.pk)
    services.staff_set_active(actor=admin_a, staff_id=admin_2.pk, active=False)
    with pytest.raises(PermissionDeniedError):
        services.staff_set_active(actor=stale_admin_2, staff_id=admin_a.pk, active=False)
    assert active_admins(org) == {"admin_a"}


def test_a_demoted_administrator_cannot_demote_the_other(org, admin_a):
    admin_2 = make_staff(org, "admin_2", [Role.ADMIN])
    stale_admin_2 = Staff.objects.get(pk=admin_2.pk)
    services.staff_update(
        actor=admin_a, staff_id=admin_2.pk, data=services.StaffInput("admin_2", None, (Role.ANALYST,))
    )
    with pytest.raises(PermissionDeniedError):
        services.staff_update(
            actor=stale_admin_2, staff_id=admin_a.pk, data=services.StaffInput("admin_a", None, (Role.ANALYST,))
        )
    assert active_admins(org) == {"admin_a"}


def test_another_administrator_can_be_deactivated_and_demoted(client, org, admin_a):
    admin_2 = make_staff(org, "admin_2", [Role.ADMIN])
    client.force_login(admin_a)
    response = client.post(
        reverse("administration:staff_detail", args=[admin_2.pk]),
        {"full_name": "admin_2", "department": "", "role": [Role.ANALYST], "version": admin_2.version},
    )
    assert response.status_code == 302
    assert client.post(reverse("administration:staff_deactivate", args=[admin_2.pk])).status_code == 302
    assert active_admins(org) == {"admin_a"}
