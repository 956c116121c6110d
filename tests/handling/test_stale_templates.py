"""Two administrators edit the same document template: the first save is kept, the second —
made on a page the first outdated — is refused, nothing stored, the typed text still there;
a reset on an outdated page is refused too."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from huiyin.handling.models import DocumentTemplate
from tests.stale import refused_as_stale, two_admins, two_saves, version_on

URL = reverse("handling:template_edit", args=["handling_notice"])


@pytest.fixture
def admins(org) -> tuple[Client, Client]:
    return two_admins(org)


def _text(who: str) -> dict[str, str]:
    return {"title": f"交办通知（{who}）", "body": f"{who}：请办理 {{{{ number }}}}。"}


def test_the_second_save_of_a_document_template_is_refused(org, admins):
    saves = two_saves(*admins, page=URL, data=_text)
    assert saves.first.status_code == 302
    assert refused_as_stale(saves.second)
    assert "交办通知（second）" in saves.second.content.decode()
    assert DocumentTemplate.objects.get(organization=org, kind="handling_notice").title == "交办通知（first）"
    # saved again from a fresh page, the second administrator's text is taken
    page = admins[1].get(URL).content.decode()
    response = admins[1].post(URL, {**_text("second"), "version": version_on(page)})
    assert response.status_code == 302
    assert DocumentTemplate.objects.get(organization=org, kind="handling_notice").title == "交办通知（second）"


def test_a_reset_on_an_outdated_page_is_refused(org, admins):
    first, second = admins
    stale = version_on(second.get(URL).content.decode())
    assert (
        first.post(URL, {**_text("first"), "version": version_on(first.get(URL).content.decode())}).status_code == 302
    )
    assert refused_as_stale(second.post(URL, {**_text("second"), "version": stale, "reset": "1"}))
    assert DocumentTemplate.objects.filter(organization=org, kind="handling_notice").exists()


def test_a_save_without_the_pages_version_is_refused(org, admins):
    response = admins[0].post(URL, _text("first"))
    assert response.status_code == 400 and "表单缺少有效的版本号" in response.content.decode()
    assert not DocumentTemplate.objects.exists()
