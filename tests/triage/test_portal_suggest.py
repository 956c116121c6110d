"""Category suggestions on the portal's submission page: the endpoint answers the public
category names only (no department, confidence words or staff data), is rate-limited per
address, refuses GET; the page works without the script (the box is hidden, no inline script)."""

from __future__ import annotations

import pytest
from django.test import Client

from huiyin.orgs.models import Department
from huiyin.triage.services import train

from .toy import rows, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(org, tree, tmp_path):
    return train(org, [write_csv(tmp_path / "toy.csv", rows(12))]).model


def url(org) -> str:
    return f"/portal/{org.code}/suggest/"


def test_suggestions_name_public_categories_only(org, tree, trained):
    Department.objects.create(organization=org, code="env", name="生态环境保密科")
    response = Client().post(url(org), {"title": "", "text": "饭店油烟噪音扰民，排放废水，电话13912345678"})
    assert response.status_code == 200
    data = response.json()
    assert data["categories"][0] == {"id": tree["环境保护"].pk, "name": "环境保护"}
    assert all(set(c) == {"id", "name"} for c in data["categories"]) and 1 <= len(data["categories"]) <= 3
    body = response.content.decode()
    assert "保密科" not in body and "departments" not in body and "13912345678" not in body
    assert Client().post(url(org), {"text": ""}).json() == {"categories": []}
    assert Client().get(url(org)).status_code == 405


def test_without_a_model_nothing_is_suggested(org, tree):
    assert Client().post(url(org), {"text": "公交车站拥堵，红绿灯坏了"}).json() == {"categories": []}


def test_suggestions_are_rate_limited_per_address(org, tree, trained, settings):
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "suggest_ip": "2/600"}
    browser = Client()
    codes = [browser.post(url(org), {"text": "小区物业不管电梯"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    refused = browser.post(url(org), {"text": "小区物业不管电梯"}).json()
    assert "分钟后再试" in refused["message"]


def test_the_submission_page_works_without_the_script(org, tree, trained):
    page = Client().get(f"/portal/{org.code}/submit/")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="category-suggest" hidden' in body and f'data-url="{url(org)}"' in body
    assert "portal/suggest.js" in body and "<script>" not in body and " style=" not in body
