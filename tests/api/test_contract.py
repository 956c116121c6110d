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
    for deep in ("[" * 100_000 + "]" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000):  # under the size limit
        nested = client.post("/api/v1/cases/", deep, content_type="application/json")
        assert nested.status_code == 400 and error_of(nested)["code"] == "malformed"
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
    # A search changes nothing: it takes its filters in the body and no Idempotency-Key.
    search = document["paths"]["/api/v1/cases/search/"]["post"]
    assert not any(p["name"] == "Idempotency-Key" for p in search.get("parameters", []))
    assert "q" in json.dumps(search["requestBody"])


def test_a_case_from_the_api_open311_and_the_workbench_are_alike_in_the_ledger(client, org, system, clerk, category):
    """The same matter three ways in: the workbench's phone form, the REST API, Open311. Each
    goes through case_register: the same numbering, events, clocks and search; the ledger
    lists them alike (only who submitted it differs)."""
    from huiyin.cases.selectors import LedgerFilters, ledger  # noqa: PLC0415 - read only by this test
    from huiyin.deadlines.models import Clock  # noqa: PLC0415 - read only by this test

    text = "小区东门路灯坏了一个多月，晚上很黑。"
    client.force_login(clerk)
    form = client.post(
        "/cases/new/phone/",
        {
            "party_phone": "13812340001",
            "party_name": "李四",
            "nature": "complaint",
            "urgency": "normal",
            "category": category.pk,
            "text": text,
            "intake_token": "same-matter-1",
        },
    )
    assert form.status_code == 302, form.content.decode()[:500]
    _key, plain = make_key(org, system=system, scopes=("read", "register"))
    api = client_for(plain).post(
        "/api/v1/cases/",
        {
            "channel": "phone",
            "nature": "complaint",
            "text": text,
            "category_id": category.pk,
            "party": {"name": "李四", "phone": "13812340002"},
        },
        format="json",
    )
    assert api.status_code == 201, api.content
    open311 = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": plain,
            "service_code": str(category.pk),
            "description": text,
            "address_string": "幸福路1号",
            "first_name": "四",
            "last_name": "李",
            "phone": "13812340003",
        },
    )
    assert open311.status_code == 201, open311.content
    cases = list(ledger(actor=clerk, filters=LedgerFilters(keyword="路灯")))
    assert len(cases) == 3
    by_way = {c.party.phone[-1]: c for c in cases}
    for case in cases:
        assert case.state == "registered" and case.category == category and case.nature == "complaint"
        assert case.number[:9] == by_way["1"].number[:9]  # one sequence per day, whoever registers
        assert case.promised_due_at is not None and case.stage_switches == by_way["1"].stage_switches
        assert list(case.events.values_list("kind", flat=True)) == ["registered"]
        assert sorted(Clock.objects.filter(case=case).values_list("stage", flat=True)) == sorted(
            Clock.objects.filter(case=by_way["1"]).values_list("stage", flat=True)
        )
        assert case.party.masked_phone.startswith("138") and "*" in case.party.masked_phone
    assert sorted(int(c.number[-5:]) for c in cases) == [1, 2, 3]
    assert (
        by_way["1"].submitter_kind == "staff" and by_way["2"].submitter_kind == by_way["3"].submitter_kind == "system"
    )


def test_registration_errors_name_the_request_bodys_fields(org, system):
    _key, plain = make_key(org, system=system)
    response = client_for(plain).post(
        "/api/v1/cases/", {**BODY, "party": {"name": "李四", "phone": "12"}, "category_id": 99999}, format="json"
    )
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) == {"party.phone", "category_id"}
