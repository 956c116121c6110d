"""Two organisations, each with its own administrator, departments and staff: what one
organisation's administrator may do to the other's is the point of most tests here."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huiyin.orgs.models import Department, Organization
from huiyin.orgs.roles import Role
from tests.conftest import make_staff


@pytest.fixture
def admin_a(org):
    return make_staff(org, "admin_a", [Role.ADMIN])


@pytest.fixture
def org_b(db) -> Organization:
    return Organization.objects.create(code="hospital", name="示范医院")


@pytest.fixture
def dept_b(org_b) -> Department:
    return Department.objects.create(organization=org_b, code="wards", name="住院部")


@pytest.fixture
def admin_b(org_b):
    return make_staff(org_b, "admin_b", [Role.ADMIN])


@pytest.fixture
def nurse_b(org_b, dept_b):
    return make_staff(org_b, "nurse_b", [Role.HANDLER], dept_b)


def sign_in(client, username: str, password: str) -> bool:
    """Sign in through the login page, as a person does (the login throttle needs the request)."""
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302
