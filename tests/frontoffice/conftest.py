"""A company under the company front office preset: departments (the hosting department
``sales``, the administrative office ``office``, ``finance``), the people the visitor log
and guest reception need, and the setup naming the office and finance departments."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from huiyin.frontoffice import services
from huiyin.orgs.models import Department, Organization, Staff
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.policy.conftest import activate

VALID_ID = "11010519491231002X"  # GB 11643 check digit X
BAD_CHECK_ID = "110105194912310021"  # the same with a wrong check digit


def build_company() -> tuple[Organization, dict[str, Department], dict[str, Staff]]:
    org = Organization.objects.create(code="company", name="示范实业有限公司")
    activate(org, "company_front_office")
    names = {"sales": "市场部", "office": "行政办公室", "finance": "财务部", "tech": "技术部"}
    depts = {code: Department.objects.create(organization=org, code=code, name=name) for code, name in names.items()}
    p = {
        "desk": make_staff(org, "desk", [Role.RECEPTION]),
        "leader": make_staff(org, "boss", [Role.LEADER]),
        "leader2": make_staff(org, "boss2", [Role.LEADER]),
        "requester": make_staff(org, "sales1", [Role.HANDLER], depts["sales"]),
        "sales_head": make_staff(org, "sales_head", [Role.DEPT_HEAD], depts["sales"]),
        "office_head": make_staff(org, "office_head", [Role.DEPT_HEAD], depts["office"]),
        "office_clerk": make_staff(org, "office1", [Role.HANDLER], depts["office"]),
        "finance": make_staff(org, "accountant", [Role.HANDLER], depts["finance"]),
        "tech_head": make_staff(org, "tech_head", [Role.DEPT_HEAD], depts["tech"]),
        "engineer": make_staff(org, "engineer", [Role.HANDLER], depts["tech"]),
        "admin": make_staff(org, "sysadmin", [Role.ADMIN]),
        "analyst": make_staff(org, "analyst1", [Role.ANALYST]),
    }
    services.setup_save(
        actor=p["admin"], office_department_id=depts["office"].pk, finance_department_id=depts["finance"].pk
    )
    return org, depts, p


@pytest.fixture
def _company(db) -> tuple[Organization, dict[str, Department], dict[str, Staff]]:
    return build_company()


@pytest.fixture
def company(_company) -> Organization:
    return _company[0]


@pytest.fixture
def depts(_company) -> dict[str, Department]:
    return _company[1]


@pytest.fixture
def people(_company) -> dict[str, Staff]:
    return _company[2]


def receipt_png(name: str = "receipt.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color=(255, 255, 255)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def receipt_pdf(name: str = "invoice.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% an invoice\n", content_type="application/pdf")
