"""Error pages in the site's own frame: translated (Chinese; English with the switch), with
the navigation for a signed-in user, for 400, 403, 404, 500 and a CSRF refusal."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from huiyin.cases import services as cs
from huiyin.handling import actions as ha
from huiyin.orgs.roles import Role
from tests.conftest import intake, make_staff

pytestmark = pytest.mark.django_db


def _signed_in(org, username: str, roles: list[str], **client_kw) -> Client:
    client = Client(**client_kw)
    client.force_login(make_staff(org, username, roles))
    return client


def _english(client: Client) -> None:
    client.post(reverse("set_language"), {"language": "en", "next": "/"})


def test_404_and_403_are_translated_with_the_navigation(org):
    client = _signed_in(org, "handler", [Role.HANDLER])
    response = client.get("/cases/99999999/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "404 · 找不到页面" in html and 'id="error-page"' in html
    assert f'href="{reverse("cases:ledger")}"' in html and "我的工作台" in html and "退出" in html  # the site's bar
    assert "Not Found" not in html and "The requested resource" not in html

    response = client.get(reverse("administration:staff"))
    html = response.content.decode()
    assert response.status_code == 403 and "403 · 没有权限" in html and "退出" in html

    _english(client)
    html = client.get("/cases/99999999/").content.decode()
    assert "404 · Not found" in html and "Back to my desk" in html and "找不到页面" not in html
    html = client.get(reverse("administration:staff")).content.decode()
    assert "403 · Not permitted" in html and "没有权限" not in html


def test_an_anonymous_visitor_gets_the_page_without_the_staff_bar(client):
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404 and "404 · 找不到页面" in html
    assert "退出" not in html and f'href="{reverse("cases:ledger")}"' not in html


def test_a_csrf_refusal_is_a_translated_page(org):
    client = _signed_in(org, "clerk", [Role.INTAKE_CLERK], enforce_csrf_checks=True)
    response = client.post(reverse("logout"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "页面已过期" in html and "刷新后重新提交" in html and "退出" in html
    assert "CSRF verification failed" not in html and "Forbidden" not in html
    client.cookies["django_language"] = "en"  # the language switch's cookie (its form needs the token too)
    html = client.post(reverse("logout")).content.decode()
    assert "Page expired" in html and "页面已过期" not in html


@override_settings(ROOT_URLCONF="tests.core.urls_boom", DEBUG_PROPAGATE_EXCEPTIONS=False)
def test_a_server_error_is_a_translated_page_with_the_navigation(org):
    client = _signed_in(org, "clerk", [Role.INTAKE_CLERK], raise_request_exception=False)
    response = client.get("/boom/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "500 · 系统出错" in html and "退出" in html and "RuntimeError" not in html


def test_an_archived_case_offers_no_edit_form_and_refuses_one_in_words(org, clerk):
    case, _code = cs.case_register(actor=clerk, data=intake())
    ha.case_not_accept(actor=clerk, case_id=case.pk, ground="不属于本单位受理范围", refer_to="区住建局")
    leader = make_staff(org, "leader", [Role.LEADER])
    cs.case_archive(actor=leader, case_id=case.pk)
    client = Client()
    client.force_login(clerk)

    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert reverse("cases:edit", args=[case.pk]) not in page  # no edit link
    assert reverse("cases:add_contact", args=[case.pk]) not in page  # no repeat-call form

    for response in (
        client.get(reverse("cases:edit", args=[case.pk])),
        client.post(reverse("cases:edit", args=[case.pk]), {"title": "改", "text": "改" * 20, "version": case.version}),
    ):
        html = response.content.decode()
        assert response.status_code == 403
        assert "该件已归档，只能查看，不能修改。" in html and 'name="title"' not in html
    case.refresh_from_db()
    assert case.title != "改"

    _english(client)
    html = client.get(reverse("cases:edit", args=[case.pk])).content.decode()
    assert "This case is archived: it can be viewed but not changed." in html
