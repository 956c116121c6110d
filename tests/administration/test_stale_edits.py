"""Two administrators edit the same account, department or category tags: the first save
is kept, the second — made on a page the first outdated — is refused, nothing stored,
the message above the form and what was typed still in it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from huiyin.administration import services
from huiyin.administration.models import AuditEntry
from huiyin.core.errors import StaleObject
from huiyin.orgs.models import Department, Staff
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.stale import refused_as_stale, two_saves


@pytest.fixture
def admins(org, admin_a) -> tuple[Client, Client]:
    admin_2 = make_staff(org, "admin_2", [Role.ADMIN])
    first, second = Client(), Client()
    first.force_login(admin_a)
    second.force_login(admin_2)
    return first, second


def test_the_second_save_of_an_account_is_refused(admins, handler, departments):
    saves = two_saves(
        *admins,
        page=reverse("administration:staff_detail", args=[handler.pk]),
        data=lambda who: {
            "full_name": "张三" if who == "first" else "李四",
            "department": departments["city"].pk,
            "role": [Role.HANDLER, Role.DEPT_HEAD] if who == "first" else [Role.HANDLER],
        },
    )
    assert saves.first.status_code == 302
    assert refused_as_stale(saves.second)
    page = saves.second.content.decode()
    assert 'value="李四"' in page  # what the second administrator typed is still there
    handler.refresh_from_db()
    assert (handler.full_name, handler.roles, handler.version) == ("张三", [Role.HANDLER, Role.DEPT_HEAD], 2)
    assert AuditEntry.objects.filter(staff=handler).count() == 1


def test_the_second_save_of_a_department_is_refused(admins, departments):
    city = departments["city"]
    saves = two_saves(
        *admins,
        page=reverse("administration:department_detail", args=[city.pk]),
        data=lambda who: {
            "name": "市容科" if who == "first" else "环境科",
            "parent": "",
            "handles_cases": "on",
            "sort_order": 3 if who == "first" else 7,
        },
    )
    assert saves.first.status_code == 302
    assert refused_as_stale(saves.second)
    assert 'value="环境科"' in saves.second.content.decode()
    city = Department.objects.get(pk=city.pk)
    assert (city.name, city.sort_order, city.version) == ("市容科", 3, 2)


def test_the_second_save_of_a_categorys_tags_is_refused(admins, category):
    saves = two_saves(
        *admins,
        page=reverse("administration:categories"),
        post=reverse("administration:category_tags", args=[category.pk]),
        data=lambda who: {"tags": "noise" if who == "first" else "water_leak"},
    )
    assert saves.first.status_code == 302
    assert refused_as_stale(saves.second)
    assert 'value="water_leak"' in saves.second.content.decode()
    category.refresh_from_db()
    assert (category.tags, category.version) == ("noise", 2)


def test_a_form_without_its_version_is_refused(admins, handler):
    first, _second = admins
    response = first.post(
        reverse("administration:staff_detail", args=[handler.pk]),
        {"full_name": "张三", "department": "", "role": [Role.ANALYST]},
    )
    assert response.status_code == 400 and "表单缺少有效的版本号" in response.content.decode()
    assert Staff.objects.get(pk=handler.pk).roles == [Role.HANDLER]


def test_the_service_refuses_a_stale_version(admin_a, handler):
    data = services.StaffInput("张三", handler.department_id, (Role.HANDLER,))
    services.staff_update(actor=admin_a, staff_id=handler.pk, data=data, expected_version=1)
    with pytest.raises(StaleObject):
        services.staff_update(
            actor=admin_a,
            staff_id=handler.pk,
            data=services.StaffInput("李四", None, (Role.ANALYST,)),
            expected_version=1,
        )
    assert Staff.objects.get(pk=handler.pk).full_name == "张三"
