"""Letters issued to the complainant, downloaded from the portal (issue 15, part 2): only the
documents addressed to the complainant, only in a browser holding the case (number + query
code, or the signed link), and any other id — a document to a department, a draft, another
case's letter, nothing — the same 404."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.test import Client
from django.utils import timezone

from huiyin.cases import services as case_services
from huiyin.handling import services as handling_services
from huiyin.handling.models import Document, DocumentStatus
from huiyin.handling.selectors import complainant_letters
from huiyin.portal import links

from .conftest import receipt_of, submit

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed; CI installs it")
    return subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()


def letter_url(org, document) -> str:
    return f"/portal/{org.code}/case/letters/{document.pk}.pdf"


@pytest.fixture
def held(petition, org, clerk, flow):
    """A case submitted on the portal by this browser, accepted, with the acceptance notice to
    the complainant and the handling notice to the department issued."""
    browser = Client()
    assert submit(browser, org).status_code == 302
    case, code = receipt_of(browser, org)
    case_services.case_accept(actor=clerk, case_id=case.pk)
    notice = handling_services.document_issue(actor=clerk, case_id=case.pk, kind="acceptance_notice")
    flow.in_progress(case)
    internal = handling_services.document_issue(actor=clerk, case_id=case.pk, kind="handling_notice")
    return browser, case, code, notice, internal


def test_the_complainants_letter_is_listed_and_downloads_as_a_pdf(held, org):
    browser, case, _code, notice, internal = held
    assert internal.addressee and notice.to_party_id == case.party_id  # one internal, one to the complainant
    page = browser.get(f"/portal/{org.code}/case/").content.decode()
    assert f'href="{letter_url(org, notice)}"' in page and f"受理告知书（{notice.number}）" in page
    assert internal.title not in page and letter_url(org, internal) not in page
    response = browser.get(letter_url(org, notice))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{notice.number}.pdf"'
    assert "no-store" in response["Cache-Control"]
    text = pdf_text(response.content)
    assert notice.number in text and org.name in text
    assert "李娜" not in text and "李*" in text  # the addressee masked: the link may have been passed on


def test_an_internal_document_is_not_reachable_even_by_guessing_its_id(held, org, clerk):
    browser, case, _code, notice, internal = held
    other_browser = Client()
    assert submit(other_browser, org, phone="13900002222").status_code == 302
    other, _other_code = receipt_of(other_browser, org)
    case_services.case_accept(actor=clerk, case_id=other.pk)
    others_letter = handling_services.document_issue(actor=clerk, case_id=other.pk, kind="acceptance_notice")
    draft = Document.objects.create(  # a draft addressed to the complainant is not issued yet
        case=case,
        round=case.round,
        kind="reply_letter",
        number=f"{case.number}-99",
        title="答复意见书",
        to_party=case.party,
        body="草稿：尚未审定的答复。",
        status=DocumentStatus.DRAFT,
        created_by=clerk,
        created_at=timezone.now(),
    )
    last = Document.objects.order_by("-pk").first().pk
    refused = [browser.get(letter_url(org, d)) for d in (internal, others_letter, draft)]
    refused.append(browser.get(f"/portal/{org.code}/case/letters/{last + 1000}.pdf"))
    assert {r.status_code for r in refused} == {404}
    assert len({r.content for r in refused}) == 1  # the same answer: nothing tells them apart
    assert b"%PDF" not in refused[0].content and b"/cases/" not in refused[0].content
    assert list(complainant_letters(case)) == [notice]
    # The other browser holds its own case only: this case's letter is not found there either.
    assert other_browser.get(letter_url(org, notice)).status_code == 404
    assert other_browser.get(letter_url(org, others_letter)).status_code == 200


def test_a_browser_that_holds_no_case_gets_no_letter_until_it_shows_number_and_code(held, org):
    browser, case, code, notice, _internal = held
    stranger = Client()
    refused = stranger.get(letter_url(org, notice))
    assert refused.status_code == 403 and b"%PDF" not in refused.content
    stranger.post(f"/portal/{org.code}/status/", {"number": case.number, "code": code})
    assert stranger.get(letter_url(org, notice)).status_code == 200
    stranger.post(f"/portal/{org.code}/leave/")  # a shared phone: forgotten on leaving
    assert stranger.get(letter_url(org, notice)).status_code == 403


def test_the_signed_link_from_a_message_lets_the_letter_download(held, org, settings):
    _browser, case, _code, notice, _internal = held
    phone = Client()
    path = links.public_case_link(case).removeprefix(settings.HUIYIN_PUBLIC_URL)
    assert phone.get(path).status_code == 302
    assert phone.get(letter_url(org, notice)).status_code == 200


def test_downloads_are_rate_limited_per_address(held, org, settings):
    browser, _case, _code, notice, _internal = held
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "download_ip": "2/600"}
    assert [browser.get(letter_url(org, notice)).status_code for _ in range(3)] == [200, 200, 429]
