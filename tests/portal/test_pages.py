"""The portal's own pages: errors that never show the workbench, the English switch, the
organisation chooser, and the challenge and limit machinery on their own."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone

from huiyin.core import limits
from huiyin.core.errors import ApplicationError
from huiyin.orgs.models import Organization
from huiyin.portal import challenge

from .conftest import form_data

pytestmark = pytest.mark.django_db


def no_workbench(html: str) -> None:
    for workbench in ("/cases/", "/login/", "我的工作台", "/admin/", "Traceback"):
        assert workbench not in html, workbench


def test_errors_under_the_portal_are_its_own_pages(client, hotline, org):
    for path in ("/portal/no-such-office/", f"/portal/{org.code}/nothing-here/", "/portal/c/abc:def/"):
        response = client.get(path)
        assert response.status_code == 404, path
        html = response.content.decode()
        assert 'href="/portal/"' in html
        no_workbench(html)
    outside = client.get("/cases/999999999/")
    assert outside.status_code in (302, 404)  # the workbench keeps its own answers


def test_a_stale_form_gets_the_portals_page(hotline, org):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(f"/portal/{org.code}/status/", {"number": "20260101-00001", "code": "AAAAAAAA"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "页面已过期" in html
    no_workbench(html)


def test_a_server_error_under_the_portal_is_its_own_page(hotline, org):
    from huiyin.portal import handlers  # noqa: I001 - the handler itself, called as Django would

    request = Client().get("/portal/").wsgi_request
    request.path = f"/portal/{org.code}/submit/"
    response = handlers.handler500(request)
    assert response.status_code == 500
    no_workbench(response.content.decode())


def test_english_switch(client, hotline, org):
    page = client.get(f"/portal/{org.code}/")
    assert "我要反映" in page.content.decode() and 'id="lang-switch"' in page.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": f"/portal/{org.code}/"})
    english = client.get(f"/portal/{org.code}/submit/").content.decode()
    assert 'lang="en"' in english and "Submit" in english and "我要反映" not in english
    # The submit button as a button is written (not "submit"), and the consent's two
    # sentences about the person's rights are spaced (they ran together, "information.You").
    assert 'id="submit-button">Submit</button>' in english
    assert "personal information. You may submit anonymously" in english


def test_the_portal_opens_the_only_organisation_or_lets_one_choose(client, org, settings):
    assert client.get("/portal/")["Location"] == f"/portal/{org.code}/"
    Organization.objects.create(code="second", name="第二单位")
    chooser = client.get("/portal/").content.decode()
    assert "第二单位" in chooser and org.name in chooser
    settings.HUIYIN_PORTAL_ORGANIZATION = "second"
    assert client.get("/portal/")["Location"] == "/portal/second/"


def test_accessible_names_on_the_form(client, hotline, org):
    html = client.get(f"/portal/{org.code}/submit/").content.decode()
    for field in ("id_text", "id_location", "id_name", "id_phone", "id_attachments", "id_consent", "id_category"):
        assert f'for="{field}"' in html, field  # every input has its label
    assert "<legend" in html and 'class="skip-link"' in html and 'role="status"' in html
    refused = client.post(f"/portal/{org.code}/submit/", form_data(text="")).content.decode()
    assert 'aria-invalid="true"' in refused and 'aria-describedby="help-text-text text-count err-text"' in refused
    assert 'id="error-summary"' in refused and 'role="alert"' in refused


# --- the proof of work -----------------------------------------------------------------------------------


def test_a_challenge_needs_its_work_and_is_used_once(settings):
    issued = challenge.issue()
    solution = challenge.solve(issued)
    assert challenge.work(issued, solution) >= settings.HUIYIN_PORTAL_POW_BITS
    checked = challenge.verify(issued, solution)
    challenge.consume(checked)
    with pytest.raises(ApplicationError) as replay:
        challenge.verify(issued, solution)
    assert replay.value.field == "challenge" and replay.value.code == "replayed"
    with pytest.raises(ApplicationError):
        challenge.consume(checked)


def test_a_challenge_is_refused_unsolved_forged_stale_or_too_easy(settings):
    issued = challenge.issue()
    unsolved = next(str(n) for n in range(10_000) if challenge.work(issued, str(n)) < challenge.bits_of(issued))
    for bad_challenge, bad_solution, code in (
        ("", "1", "challenge_missing"),
        (issued, unsolved, "challenge_invalid"),
        (issued.replace(".8.", ".1."), "0", "challenge_invalid"),  # fewer bits asked: the mac no longer fits
        ("1.abcdefghijklmnop.1.8.0123456789abcdef0123456789abcdef", "0", "challenge_invalid"),
        (issued, "1e9", "challenge_invalid"),
    ):
        with pytest.raises(ApplicationError) as refused:
            challenge.verify(bad_challenge, bad_solution)
        assert refused.value.code == code, (bad_challenge, bad_solution)
    easy = challenge.issue(bits=2)
    with pytest.raises(ApplicationError):  # issued easier than the site now asks
        challenge.verify(easy, challenge.solve(easy))
    old = challenge.issue(now=time.time() - settings.HUIYIN_PORTAL_CHALLENGE_SECONDS - 10)
    with pytest.raises(ApplicationError) as stale:
        challenge.verify(old, challenge.solve(old))
    assert stale.value.code == "challenge_expired"


def test_the_browser_and_the_server_count_the_same_zero_bits():
    assert challenge.zero_bits(b"\x00\x00\x80") == 16
    assert challenge.zero_bits(b"\x00\x01") == 15
    assert challenge.zero_bits(b"\x7f") == 1


# --- fixed windows -------------------------------------------------------------------------------------


@override_settings(HUIYIN_PORTAL_LIMITS={"t": "3/60"})
def test_a_fixed_window_counts_and_starts_again():
    start = timezone.now().replace(second=1, microsecond=0)
    with time_machine.travel(start, tick=False):
        assert [limits.hit("t", "1.2.3.4") for _ in range(4)] == [True, True, True, False]
        assert limits.spent("t", "1.2.3.4") and not limits.spent("t", "5.6.7.8")
        assert 1 <= limits.retry_after("t") <= 60
    with time_machine.travel(start + timedelta(seconds=60), tick=False):
        assert limits.hit("t", "1.2.3.4") and not limits.spent("t", "1.2.3.4")


def test_limits_are_count_over_seconds():
    assert limits.Limit.parse("5/900") == limits.Limit(5, 900)
    for bad in ("0/60", "5/0", "five/60"):
        with pytest.raises(ValueError):
            limits.Limit.parse(bad)
