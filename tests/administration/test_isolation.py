"""An organisation's administrator never sees nor touches another organisation's staff or
departments (404 for their ids), cannot move anyone into another organisation or a foreign
department, and cannot make anyone a Django superuser or staff member."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huiyin.administration import services
from huiyin.administration.models import AuditEntry
from huiyin.core.errors import ValidationFailed
from huiyin.orgs.models import Department, Staff
from huiyin.orgs.roles import Role
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


def foreign_urls(staff_id: int, department_id: int) -> list[tuple[str, str]]:
    """Every administration URL that names a staff member or department, with its method."""
    return [
        ("get", reverse("administration:staff_detail", args=[staff_id])),
        ("post", reverse("administration:staff_detail", args=[staff_id])),
        ("post", reverse("administration:staff_deactivate", args=[staff_id])),
        ("post", reverse("administration:staff_reactivate", args=[staff_id])),
        ("post", reverse("administration:staff_reset_password", args=[staff_id])),
        ("get", reverse("administration:department_detail", args=[department_id])),
        ("post", reverse("administration:department_detail", args=[department_id])),
        ("post", reverse("administration:department_delete", args=[department_id])),
    ]


def test_other_organisations_staff_and_departments_are_404(client, admin_a, admin_b, nurse_b, dept_b):
    client.force_login(admin_a)
    password_before = Staff.objects.get(pk=nurse_b.pk).password
    for method, url in foreign_urls(nurse_b.pk, dept_b.pk):
        data = {"full_name": "改名", "role": [Role.ADMIN], "department": "", "name": "改名", "sort_order": 0}
        response = getattr(client, method)(url, data) if method == "post" else client.get(url)
        assert response.status_code == 404, (method, url, response.status_code)
    for method, url in foreign_urls(admin_b.pk, dept_b.pk)[:5]:  # their administrator too
        response = getattr(client, method)(url, {}) if method == "post" else client.get(url)
        assert response.status_code == 404, (method, url)
    nurse = Staff.objects.get(pk=nurse_b.pk)
    assert (nurse.full_name, nurse.roles, nurse.is_active, nurse.password) == (
        "nurse_b",
        [Role.HANDLER],
        True,
        password_before,
    )
    dept = Department.objects.get(pk=dept_b.pk)
    assert dept.name == "住院部"
    assert not AuditEntry.objects.exists()


def test_the_list_shows_only_the_own_organisation(client, admin_a, handler, nurse_b, admin_b):
    client.force_login(admin_a)
    page = client.get(reverse("administration:staff"), {"status": "all"}).content.decode()
    assert 'data-username="handler"' in page and 'data-username="admin_a"' in page
    assert "nurse_b" not in page and "admin_b" not in page
    departments = client.get(reverse("administration:departments")).content.decode()
    assert "住院部" not in departments


def test_filtering_by_a_foreign_department_is_refused(client, admin_a, dept_b, nurse_b):
    client.force_login(admin_a)
    response = client.get(reverse("administration:staff"), {"department": dept_b.pk})
    assert response.status_code == 400
    assert "nurse_b" not in response.content.decode()


def test_creating_with_a_foreign_department_is_refused_and_nothing_is_saved(client, admin_a, dept_b):
    client.force_login(admin_a)
    response = client.post(
        reverse("administration:staff_create"),
        {
            "username": "mole",
            "full_name": "钱七",
            "department": dept_b.pk,
            "role": [Role.HANDLER],
            "password_mode": "generate",
        },
    )
    assert response.status_code == 400
    assert 'data-error-field="department"' in response.content.decode()
    assert "部门：" in response.content.decode()
    assert not Staff.objects.filter(username="mole").exists()
    # and the service refuses it too, whatever a form lets through
    with pytest.raises(ValidationFailed) as refused:
        services.staff_create(
            actor=admin_a,
            username="mole",
            data=services.StaffInput("钱七", dept_b.pk, (Role.HANDLER,)),
        )
    assert "department" in refused.value.errors
    assert not Staff.objects.filter(username="mole").exists()


def test_moving_someone_to_a_foreign_department_is_refused(client, admin_a, handler, departments, dept_b):
    client.force_login(admin_a)
    response = client.post(
        reverse("administration:staff_detail", args=[handler.pk]),
        {"full_name": "handler", "department": dept_b.pk, "role": [Role.HANDLER]},
    )
    assert response.status_code == 400
    handler.refresh_from_db()
    assert handler.department_id == departments["city"].pk
    with pytest.raises(ValidationFailed):
        services.staff_update(
            actor=admin_a, staff_id=handler.pk, data=services.StaffInput("handler", dept_b.pk, (Role.HANDLER,))
        )
    handler.refresh_from_db()
    assert handler.department_id == departments["city"].pk


def test_no_escalation_to_superuser_staff_or_another_organisation(client, admin_a, handler, org_b):
    """Fields the forms do not have are ignored: posting them changes nothing."""
    client.force_login(admin_a)
    escalation = {"is_superuser": "on", "is_staff": "on", "organization": org_b.pk, "user_permissions": "1"}
    response = client.post(
        reverse("administration:staff_detail", args=[handler.pk]),
        {
            "full_name": "handler",
            "department": handler.department_id,
            "role": [Role.HANDLER],
            "version": 1,
            **escalation,
        },
    )
    assert response.status_code == 302
    response = client.post(
        reverse("administration:staff_create"),
        {
            "username": "newbie",
            "full_name": "新人",
            "role": [Role.ANALYST],
            "password_mode": "generate",
            **escalation,
        },
    )
    assert response.status_code == 200
    for username in ("handler", "newbie"):
        staff = Staff.objects.get(username=username)
        assert (staff.is_superuser, staff.is_staff, staff.organization_id) == (False, False, admin_a.organization_id)
        assert not staff.user_permissions.exists()


def test_an_unknown_role_is_refused(client, admin_a, handler):
    client.force_login(admin_a)
    response = client.post(
        reverse("administration:staff_detail", args=[handler.pk]),
        {"full_name": "handler", "department": handler.department_id, "role": ["superuser"]},
    )
    assert response.status_code == 400 and "角色：" in response.content.decode()
    handler.refresh_from_db()
    assert handler.roles == [Role.HANDLER]
    with pytest.raises(ValidationFailed) as refused:
        services.staff_update(
            actor=admin_a,
            staff_id=handler.pk,
            data=services.StaffInput("handler", handler.department_id, (Role.HANDLER, "superuser")),
        )
    assert "roles" in refused.value.errors


def test_a_platform_superuser_in_the_organisation_is_not_the_org_admins_to_manage(client, org, admin_a):
    """Resetting the operator's password would hand the organisation's administrator all of /admin/."""
    operator = make_staff(org, "operator", [Role.ADMIN])
    operator.is_superuser = operator.is_staff = True
    operator.save()
    client.force_login(admin_a)
    assert client.post(reverse("administration:staff_reset_password", args=[operator.pk])).status_code == 404
    assert client.get(reverse("administration:staff_detail", args=[operator.pk])).status_code == 404
    assert "operator" not in client.get(reverse("administration:staff"), {"status": "all"}).content.decode()
    operator.refresh_from_db()
    assert operator.check_password("pw-operator")


def test_a_parent_department_from_another_organisation_is_refused(client, admin_a, departments, dept_b):
    client.force_login(admin_a)
    response = client.post(
        reverse("administration:departments"), {"name": "新科室", "parent": dept_b.pk, "sort_order": 0}
    )
    assert response.status_code == 400 and "上级部门：" in response.content.decode()
    assert not Department.objects.filter(name="新科室").exists()
    response = client.post(
        reverse("administration:department_detail", args=[departments["city"].pk]),
        {"name": "市容环境科", "parent": dept_b.pk, "sort_order": 0, "handles_cases": "on"},
    )
    assert response.status_code == 400
    assert Department.objects.get(pk=departments["city"].pk).parent_id is None


@pytest.mark.parametrize("bad_id", ["99999999999999999999999", "0"])
def test_huge_or_zero_ids_are_404_not_500(client, admin_a, bad_id):
    client.force_login(admin_a)
    assert client.get(f"/administration/staff/{bad_id}/").status_code == 404
    assert client.post(f"/administration/departments/{bad_id}/delete/").status_code == 404
    response = client.get(reverse("administration:staff"), {"department": bad_id, "page": bad_id})
    assert response.status_code == 400
