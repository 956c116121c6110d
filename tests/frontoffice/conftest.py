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


@pytest.fixture
def company(db) -> Organization:
    org = Organization.objects.create(code="company", name="示范实业有限公司")
    activate(org, "company_front_office")
    return org


@pytest.fixture
def depts(company) -> dict[str, Department]:
    names = {"sales": "市场部", "office": "行政办公室", "finance": "财务部", "tech": "技术部"}
    return {code: Department.objects.create(organization=company, code=code, name=name) for code, name in names.items()}


@pytest.fixture
def people(company, depts) -> dict[str, Staff]:
    p = {
        "desk": make_staff(company, "desk", [Role.RECEPTION]),
        "leader": make_staff(company, "boss", [Role.LEADER]),
        "leader2": make_staff(company, "boss2", [Role.LEADER]),
        "requester": make_staff(company, "sales1", [Role.HANDLER], depts["sales"]),
        "sales_head": make_staff(company, "sales_head", [Role.DEPT_HEAD], depts["sales"]),
        "office_head": make_staff(company, "office_head", [Role.DEPT_HEAD], depts["office"]),
        "office_clerk": make_staff(company, "office1", [Role.HANDLER], depts["office"]),
        "finance": make_staff(company, "accountant", [Role.HANDLER], depts["finance"]),
        "tech_head": make_staff(company, "tech_head", [Role.DEPT_HEAD], depts["tech"]),
        "engineer": make_staff(company, "engineer", [Role.HANDLER], depts["tech"]),
        "admin": make_staff(company, "sysadmin", [Role.ADMIN]),
        "analyst": make_staff(company, "analyst1", [Role.ANALYST]),
    }
    services.setup_save(
        actor=p["admin"], office_department_id=depts["office"].pk, finance_department_id=depts["finance"].pk
    )
    return p


def receipt_png(name: str = "receipt.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color=(255, 255, 255)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def receipt_pdf(name: str = "invoice.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% an invoice\n", content_type="application/pdf")
