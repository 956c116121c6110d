"""Two administrators edit the same message template (their organisation's own text or the
default one): the first save is kept, the second — made on a page the first outdated — is
refused, nothing stored, the typed text still in the form. A reset made on an outdated page
is refused too (it would throw away the other's text unseen)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from huiyin.core.errors import StaleObject
from huiyin.notifications import rendering, services
from huiyin.notifications.models import MessageTemplate
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.stale import refused_as_stale, two_admins, two_saves, version_on

KEY = ("reply", "email", "zh-hans")
URL = reverse("notifications:template_edit", args=KEY)


@pytest.fixture
def admins(org) -> tuple[Client, Client]:
    return two_admins(org)


def _text(who: str) -> dict[str, str]:
    return {"subject": f"{who}：{{{{ number }}}}", "body": f"{who} 已答复 {{{{ link }}}}"}


@pytest.mark.parametrize("own", [False, True], ids=["default", "own"])
def test_the_second_save_of_a_template_is_refused(org, admins, own):
    if own:
        services.template_save(
            actor=make_staff(org, "admin_0", [Role.ADMIN]),
            purpose=KEY[0],
            medium=KEY[1],
            language=KEY[2],
            subject="旧 {{ number }}",
            body="旧 {{ link }}",
        )
    saves = two_saves(*admins, page=URL, data=_text)
    assert saves.first.status_code == 302
    assert refused_as_stale(saves.second)
    assert "second 已答复" in saves.second.content.decode()  # what was typed is still there
    row = MessageTemplate.objects.get(organization=org, purpose=KEY[0], medium=KEY[1], language=KEY[2])
    assert row.body == "first 已答复 {{ link }}"


def test_a_reset_on_an_outdated_page_is_refused(org, admins):
    first, second = admins
    version = version_on(second.get(URL).content.decode())
    first_version = version_on(first.get(URL).content.decode())
    assert first.post(URL, {**_text("first"), "version": first_version}).status_code == 302
    response = second.post(URL, {**_text("second"), "version": version, "reset": "1"})
    assert refused_as_stale(response)
    assert MessageTemplate.objects.filter(organization=org, body="first 已答复 {{ link }}").exists()


def test_a_save_without_the_pages_version_is_refused(org, admins):
    first, _second = admins
    response = first.post(URL, _text("first"))
    assert response.status_code == 400 and "表单缺少有效的版本号" in response.content.decode()
    assert not MessageTemplate.objects.exists()


def test_the_service_refuses_an_outdated_fingerprint(org):
    admin = make_staff(org, "admin_1", [Role.ADMIN])
    before = rendering.template_fingerprint(org.pk, *KEY)
    services.template_save(actor=admin, purpose=KEY[0], medium=KEY[1], language=KEY[2], expected=before, **_text("a"))
    with pytest.raises(StaleObject):
        services.template_save(
            actor=admin, purpose=KEY[0], medium=KEY[1], language=KEY[2], expected=before, **_text("b")
        )
    with pytest.raises(StaleObject):
        services.template_reset(actor=admin, purpose=KEY[0], medium=KEY[1], language=KEY[2], expected=before)
    assert MessageTemplate.objects.get().body == "a 已答复 {{ link }}"
