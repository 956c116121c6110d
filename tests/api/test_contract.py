"""The API's contract beyond the happy path: the case's documents, bad input answered with a
precise 4xx and the one error body (oversized bodies, malformed multipart, empty typed
values, unknown paths, media types, methods), the steps a system may not take, and the
OpenAPI document's enums and links."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from huiyin.cases import services as case_services
from huiyin.cases.events import EventKind
from huiyin.cases.models import Attachment, Case, Event
from huiyin.handling import services as handling_services
from huiyin.orgs.models import ExternalSystem
from huiyin.orgs.roles import Cap
from tests.api.test_api import BODY, client_for, make_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def system(org):
    return ExternalSystem.objects.create(
        organization=org,
        code="province",
        name="省信访信息系统",
        kind=ExternalSystem.Kind.API,
        caps=[Cap.REGISTER, Cap.VIEW_ALL, Cap.VIEW_PII, Cap.DECIDE, Cap.DISPATCH, Cap.APPROVE, Cap.REVIEW],
    )


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"code", "message", "fields"}, body
    return body


def test_the_cases_documents_are_listed_and_downloaded_as_the_workbench_prints_them(
    org, system, register, clerk, departments
):
    case = register()
    case_services.case_accept(actor=clerk, case_id=case.pk)
    document = handling_services.document_issue(actor=clerk, case_id=case.pk, kind="acceptance_notice")
    _key, plain = make_key(org, system=system)
    client = client_for(plain)
    listed = client.get(f"/api/v1/cases/{case.pk}/documents/")
    assert listed.status_code == 200
    [row] = listed.json()
    assert row["id"] == document.pk and row["number"] == document.number and row["kind"] == "acceptance_notice"
    assert row["addressee"] == "张*" and row["url"] == f"/api/v1/documents/{document.pk}/"  # masked
    pdf = client.get(row["url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert not case.events.filter(kind=EventKind.PII_VIEWED).exists()
    refused = client.get(row["url"], {"full": "true"})
    assert refused.status_code == 403 and error_of(refused)["code"] == "scope_missing"
    _key, with_pii = make_key(org, system=system, scopes=("read", "pii"))
    named = client_for(with_pii).get(row["url"], {"full": "true"})
    assert named.status_code == 200
    viewed = case.events.get(kind=EventKind.PII_VIEWED)
    assert viewed.actor_system == system and viewed.data["document_id"] == document.pk
    # Another department's key does not see it; a missing document is 404 with the error body.
    _key, narrow = make_key(org, system=system, departments=[departments["traffic"]])
    assert client_for(narrow).get(row["url"]).status_code == 404
    assert error_of(client.get("/api/v1/documents/99999999/"))["code"] == "not_found"
    assert client.get(row["url"], {"full": ""}).status_code == 400


def test_bad_input_is_a_precise_4xx_with_the_error_body(org, system, register, settings):
    case = register()
    _key, plain = make_key(org, system=system, scopes=("read", "register", "attach", "action:*"))
    client = client_for(plain)
    before = (Case.objects.count(), Event.objects.count(), Attachment.objects.count())
    huge = json.dumps({**BODY, "text": "长" * 20, "title": "x" * (1024 * 1024)})
    too_big = client.post("/api/v1/cases/", huge, content_type="application/json")
    assert too_big.status_code == 413 and error_of(too_big)["code"] == "too_large"
    settings.HUIYIN_ATTACHMENT_MAX_BYTES = 1000
    big_file = SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n" + b"0" * (1024 * 1024 + 2000), "image/png")
    file_too_big = client.post(f"/api/v1/cases/{case.pk}/attachments/", {"file": big_file}, format="multipart")
    assert file_too_big.status_code == 413 and error_of(file_too_big)["code"] == "too_large"
    broken = client.post(
        f"/api/v1/cases/{case.pk}/attachments/", b"--x\r\n", content_type="multipart/form-data"
    )  # no boundary: Django's parser refuses it before the view
    assert broken.status_code == 400 and error_of(broken)["code"] == "malformed"
    assert broken["Content-Type"] == "application/json"
    media = client.post("/api/v1/cases/", "channel=phone", content_type="text/plain")
    assert media.status_code == 415 and error_of(media)["code"] == "unsupported_media_type"
    method = client.delete(f"/api/v1/cases/{case.pk}/")
    assert method.status_code == 405 and error_of(method)["code"] == "method_not_allowed"
    nowhere = client.get(f"/api/v1/cases/{case.pk}/nothing/")
    assert nowhere.status_code == 404 and error_of(nowhere)["code"] == "not_found"
    assert client.get("/api/v1/cases/not-a-number/").status_code == 404
    for params in ({"date_to": ""}, {"limit": ""}, {"channel": ""}, {"category_id": ""}):
        empty = client.get("/api/v1/cases/", params)
        assert empty.status_code == 400 and list(error_of(empty)["fields"]) == list(params), params
    enum = client.post("/api/v1/cases/", {**BODY, "channel": "pigeon", "urgency": "asap"}, format="json")
    assert enum.status_code == 400 and set(error_of(enum)["fields"]) == {"channel", "urgency"}
    key = client.post("/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k" * 300)
    assert key.status_code == 400 and error_of(key)["code"] == "idempotency_key_invalid"
    stale = client.post(f"/api/v1/cases/{case.pk}/actions/accept/", {"version": case.version + 5}, format="json")
    assert stale.status_code == 409 and error_of(stale)["code"] == "stale"
    assert (Case.objects.count(), Event.objects.count(), Attachment.objects.count()) == before


def test_a_system_is_refused_the_steps_a_staff_member_signs(org, system, register, clerk, departments):
    case = register()
    case_services.case_accept(actor=clerk, case_id=case.pk)
    _key, plain = make_key(org, system=system, scopes=("read", "action:*"))
    client = client_for(plain)
    allowed = [a["name"] for a in client.get(f"/api/v1/cases/{case.pk}/actions/").json()]
    assert "dispatch" not in allowed  # not offered
    dispatched = client.post(
        f"/api/v1/cases/{case.pk}/actions/dispatch/", {"department_id": departments["city"].pk}, format="json"
    )
    assert dispatched.status_code == 403 and error_of(dispatched)["code"] == "permission_denied"
    case.refresh_from_db()
    assert case.state == "accepted" and not case.dispatches.exists()


def test_the_document_names_every_choice_and_links_a_created_case(client):
    document = json.loads(client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    schemas = document["components"]["schemas"]
    case_in = schemas["CaseInRequest"]["properties"]
    for name in ("channel", "nature", "urgency"):
        assert "$ref" in json.dumps(case_in[name]), name  # an enum component, not a free string
    assert set(schemas["ChannelEnum"]["enum"]) >= {"phone", "online", "letter", "visit"}
    assert "enum" in json.dumps(schemas["CaseOut"]["properties"]["state"]) or "$ref" in json.dumps(
        schemas["CaseOut"]["properties"]["state"]
    )
    assert schemas["MethodEnum"]["enum"] == ["phone", "letter", "sms", "in_person", "portal"]
    create = document["paths"]["/api/v1/cases/"]["post"]
    links = create["responses"]["201"]["links"]
    assert links["cases_read"] == {"operationId": "cases_read", "parameters": {"case_id": "$response.body#/id"}}
    assert "cases_action_accept" in links and "cases_documents" in links
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
