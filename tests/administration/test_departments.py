"""Departments of the own organisation: create, rename, move within the tree (never under
itself), switch "handles cases"; delete only one nothing refers to. Each change audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huiyin.administration import services
from huiyin.administration.models import AuditAction, AuditEntry
from huiyin.orgs.models import Department

pytestmark = pytest.mark.django_db


def test_create_rename_move_and_switch(client, org, departments, admin_a):
    client.force_login(admin_a)
    response = client.post(
        reverse("administration:departments"),
        {
            "name": "市容一中队",
            "code": "squad-1",
            "parent": departments["city"].pk,
            "handles_cases": "on",
            "sort_order": 5,
        },
    )
    assert response.status_code == 302
    squad = Department.objects.get(organization=org, code="squad-1")
    assert (squad.name, squad.parent_id, squad.handles_cases, squad.sort_order) == (
        "市容一中队",
        departments["city"].pk,
        True,
        5,
    )
    page = client.get(reverse("administration:departments")).content.decode()
    tree = page[page.index('id="department-table"') :]
    assert tree.index("市容环境科") < tree.index("市容一中队")  # under its parent

    response = client.post(
        reverse("administration:department_detail", args=[squad.pk]),
        {
            "name": "城管一中队",
            "parent": departments["traffic"].pk,
            "sort_order": 5,
            "version": 1,
        },  # handles_cases unticked
    )
    assert response.status_code == 302
    squad.refresh_from_db()
    assert (squad.name, squad.parent_id, squad.handles_cases, squad.code) == (
        "城管一中队",
        departments["traffic"].pk,
        False,
        "squad-1",
    )
    update = AuditEntry.objects.get(action=AuditAction.DEPARTMENT_UPDATED)
    assert {c["field"]: (c["old"], c["new"]) for c in update.changes} == {
        "name": ("市容一中队", "城管一中队"),
        "parent": ("市容环境科", "交通管理科"),
        "handles_cases": (True, False),
    }
    page = client.get(reverse("administration:department_detail", args=[squad.pk])).content.decode()
    assert "市容一中队 → 城管一中队" in page and "新建部门" in page


def test_a_code_is_chosen_when_left_blank(client, org, admin_a):
    client.force_login(admin_a)
    assert client.post(reverse("administration:departments"), {"name": "信访科", "sort_order": 0}).status_code == 302
    dept = Department.objects.get(organization=org, name="信访科")
    assert dept.code.startswith("dept-") and dept.parent_id is None and not dept.handles_cases


def test_a_department_cannot_go_under_itself_or_its_own_child(client, org, departments, admin_a):
    city = departments["city"]
    child = services.department_create(actor=admin_a, data=services.DepartmentInput("一中队", city.pk, True), code="c1")
    grandchild = services.department_create(
        actor=admin_a, data=services.DepartmentInput("一班", child.pk, True), code="c2"
    )
    client.force_login(admin_a)
    for parent in (city.pk, grandchild.pk):
        response = client.post(
            reverse("administration:department_detail", args=[city.pk]),
            {"name": "市容环境科", "parent": parent, "handles_cases": "on", "sort_order": 0, "version": city.version},
        )
        assert response.status_code == 400
        assert "上级部门：" in response.content.decode()
    city.refresh_from_db()
    assert city.parent_id is None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "名称："),
        ({"name": "住房保障科"}, "name", "名称：同一上级下已有"),
        ({"name": "新科", "code": "bad code!"}, "code", "代码："),
        ({"name": "新科", "code": "city"}, "code", "代码：本单位已有"),
        ({"name": "新科", "sort_order": -1}, "sort_order", "排序："),
        ({"name": "新科", "sort_order": "99999999999999999999"}, "sort_order", "排序："),
        ({"name": "新科", "parent": "x"}, "parent", "上级部门："),
    ],
)
def test_bad_department_input_names_the_field(client, org, departments, admin_a, data, field, message):
    client.force_login(admin_a)
    before = Department.objects.count()
    response = client.post(reverse("administration:departments"), {"sort_order": 0, **data})
    assert response.status_code == 400
    text = response.content.decode()
    assert f'data-error-field="{field}"' in text and message in text
    assert Department.objects.count() == before and not AuditEntry.objects.exists()


def test_only_an_unreferenced_department_can_be_deleted(client, org, departments, admin_a, handler):
    client.force_login(admin_a)
    response = client.post(reverse("administration:department_delete", args=[departments["city"].pk]))
    assert response.status_code == 400
    assert "仍被使用" in response.content.decode() and "工作人员" in response.content.decode()
    assert Department.objects.filter(pk=departments["city"].pk).exists()

    mistake = services.department_create(actor=admin_a, data=services.DepartmentInput("误建科", None, True))
    response = client.post(reverse("administration:department_delete", args=[mistake.pk]))
    assert response.status_code == 302
    assert not Department.objects.filter(pk=mistake.pk).exists()
    entries = AuditEntry.objects.filter(target="误建科").order_by("pk")
    assert [e.action for e in entries] == [AuditAction.DEPARTMENT_CREATED, AuditAction.DEPARTMENT_DELETED]
    assert all(e.department_id is None for e in entries)  # the record keeps the name


def test_a_department_with_cases_is_kept(client, org, departments, admin_a, register):
    case = register()
    case.lead_department = departments["housing"]
    case.save(update_fields=["lead_department"])
    client.force_login(admin_a)
    response = client.post(reverse("administration:department_delete", args=[departments["housing"].pk]))
    assert response.status_code == 400
    assert Department.objects.filter(pk=departments["housing"].pk).exists()


def test_audit_entries_are_append_only(admin_a, departments):
    services.department_update(
        actor=admin_a, department_id=departments["city"].pk, data=services.DepartmentInput("市容科", None, True)
    )
    entry = AuditEntry.objects.get()
    entry.target = "tampered"
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
