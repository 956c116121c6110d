"""The REST API (/api/v1/) with real requests: keys, cases, actions, errors, idempotency, schema."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from huiyin.api import services as api_services
from huiyin.api.models import ApiKey, IdempotencyRecord
from huiyin.cases.actions import all_specs
from huiyin.cases.events import EventKind
from huiyin.cases.models import Attachment, Case, Contact, Event
from huiyin.orgs.actors import ActorKind
from huiyin.orgs.models import ExternalSystem
from huiyin.orgs.roles import Cap

pytestmark = pytest.mark.django_db

ACTIONS = [spec.name for spec in all_specs()]
BODY = {
    "channel": "forwarded",
    "nature": "complaint",
    "text": "小区路灯不亮已一周。",
    "party": {"name": "李四", "phone": "13812340000"},
    "forwarded_by": "省信访局",
    "forwarded_ref": "X-1",
}


@pytest.fixture
def system(org):
    return ExternalSystem.objects.create(
        organization=org,
        code="province",
        name="省信访信息系统",
        kind=ExternalSystem.Kind.API,
        caps=[Cap.REGISTER, Cap.VIEW_ALL, Cap.VIEW_PII, Cap.DECIDE],
    )


def make_key(org, *, system=None, staff=None, scopes=("read", "register"), days=30, departments=()):
    key, plain = api_services.key_create(
        organization=org,
        name="test",
        scopes=scopes,
        action_names=ACTIONS,
        system=system,
        staff=staff,
        days=days,
        department_ids=[d.pk for d in departments],
    )
    return key, plain


def client_for(plain: str, language: str = "zh-hans") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}", HTTP_ACCEPT_LANGUAGE=language)
    return client


def test_a_system_registers_a_case_recorded_as_the_system(org, system):
    _key, plain = make_key(org, system=system)
    response = client_for(plain).post("/api/v1/cases/", BODY, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    case = Case.objects.get(pk=data["id"])
    assert data["number"] == case.number and len(data["query_code"]) == 8
    assert response["Location"] == f"/api/v1/cases/{case.pk}/"
    assert case.submitter_kind == ActorKind.SYSTEM and case.submitter_system == system
    registered = case.events.get(kind=EventKind.REGISTERED)
    assert registered.actor is None and registered.actor_system == system
    # Masked by default.
    assert data["party"]["masked"] is True and data["party"]["phone"] != "13812340000"


def test_key_is_hashed_at_rest_and_refused_when_wrong_revoked_or_expired(org, system):
    key, plain = make_key(org, system=system)
    assert plain not in key.secret_hash and key.secret_hash == api_services.secret_hash(plain)
    assert client_for(plain).get("/api/v1/cases/").status_code == 200
    wrong = client_for(plain[:-2] + "xx").get("/api/v1/cases/")
    assert wrong.status_code == 401 and wrong.json()["code"] == "key_invalid"
    assert APIClient().get("/api/v1/cases/").json()["code"] == "not_authenticated"
    api_services.key_revoke(organization=org, prefix=key.prefix)
    revoked = client_for(plain).get("/api/v1/cases/")
    assert revoked.status_code == 401 and revoked.json()["code"] == "key_revoked"
    key2, plain2 = make_key(org, system=system)
    ApiKey.objects.filter(pk=key2.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = client_for(plain2).post("/api/v1/cases/", BODY, format="json")
    assert expired.status_code == 401 and expired.json()["code"] == "key_expired"
    assert not Case.objects.exists()


def test_scopes_limit_what_a_key_does(org, system):
    _key, plain = make_key(org, system=system, scopes=("read",))
    refused = client_for(plain).post("/api/v1/cases/", BODY, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "scope_missing", refused.content
    assert not Case.objects.exists()


def test_list_filters_search_and_cursor_pagination(org, system, register, clerk):
    cases = [register(text=f"第{i}号投诉：路灯不亮。") for i in range(5)]
    register(text="噪音扰民，夜间施工。", nature="suggestion")
    _key, plain = make_key(org, system=system)
    client = client_for(plain)
    page1 = client.get("/api/v1/cases/", {"limit": 2, "nature": "complaint"}).json()
    assert [c["id"] for c in page1["results"]] == [cases[4].pk, cases[3].pk]
    page2 = client.get(page1["next"]).json()
    assert [c["id"] for c in page2["results"]] == [cases[2].pk, cases[1].pk]
    page3 = client.get(page2["next"]).json()
    assert [c["id"] for c in page3["results"]] == [cases[0].pk] and page3["next"] is None
    found = client.get("/api/v1/cases/", {"q": "噪音"}).json()["results"]
    assert len(found) == 1 and found[0]["nature"] == "suggestion"
    bad = client.get("/api/v1/cases/", {"cursor": "!!!", "channel": "pigeon"})
    assert bad.status_code == 400 and set(bad.json()["fields"]) >= {"channel"}


def test_search_takes_the_keyword_in_the_body_and_pages_with_a_cursor(org, system, register):
    """POST /cases/search/: a caller's name or number never enters a URL (access logs,
    proxies); the next page is the same body with the answer's cursor."""
    lamps = [register(text=f"第{i}号投诉：路灯不亮。") for i in range(3)]
    register(text="噪音扰民，夜间施工。", nature="suggestion")
    _key, plain = make_key(org, system=system, scopes=("read",))
    client = client_for(plain)
    body = {"q": "路灯", "limit": 2}
    first = client.post("/api/v1/cases/search/", body, format="json")
    assert first.status_code == 200, first.content
    assert [c["id"] for c in first.json()["results"]] == [lamps[2].pk, lamps[1].pk]
    cursor = first.json()["next_cursor"]
    assert cursor and "路灯" not in cursor
    second = client.post("/api/v1/cases/search/", {**body, "cursor": cursor}, format="json").json()
    assert [c["id"] for c in second["results"]] == [lamps[0].pk] and second["next_cursor"] is None
    by_nature = client.post("/api/v1/cases/search/", {"nature": "suggestion"}, format="json").json()
    assert [c["nature"] for c in by_nature["results"]] == ["suggestion"]
    # Wrong input: each field named, nothing about the keyword in the answer's URL.
    for bad, field in (
        ({"q": "路" * 101}, "q"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"channel": "pigeon"}, "channel"),
        ({"date_from": "0001-01-01"}, "date_from"),
        ({"date_to": "2026-02-30"}, "date_to"),
        ({"cursor": "!!!"}, "cursor"),
        ({"category_id": -1}, "category_id"),
        ({"keyword": "路灯"}, "keyword"),
    ):
        refused = client.post("/api/v1/cases/search/", bad, format="json")
        assert refused.status_code == 400 and field in refused.json()["fields"], (bad, refused.content)
    assert client.get("/api/v1/cases/search/").status_code == 405
    # A key without the read scope is refused.
    _key, register_only = make_key(org, system=system, scopes=("register",))
    assert client_for(register_only).post("/api/v1/cases/search/", body, format="json").status_code == 403


def test_a_system_without_the_whole_ledger_sees_only_its_own_cases(org, register):
    own = ExternalSystem.objects.create(
        organization=org, code="app", name="城市App", kind=ExternalSystem.Kind.API, caps=[Cap.REGISTER]
    )
    staff_case = register()
    _key, plain = make_key(org, system=own)
    client = client_for(plain)
    created = client.post("/api/v1/cases/", {**BODY, "channel": "online"}, format="json").json()
    assert [c["id"] for c in client.get("/api/v1/cases/").json()["results"]] == [created["id"]]
    assert client.get(f"/api/v1/cases/{staff_case.pk}/").status_code == 403
    assert client.get(f"/api/v1/cases/{created['id']}/events/").status_code == 200


def test_department_scoped_key_sees_only_those_departments_cases(org, system, register, departments):
    register()
    _key, plain = make_key(org, system=system, departments=[departments["city"]])
    assert client_for(plain).get("/api/v1/cases/").json()["results"] == []


def test_full_view_needs_the_scope_and_is_logged_like_the_workbench(org, system, register):
    case = register()
    _key, plain = make_key(org, system=system)
    refused = client_for(plain).get(f"/api/v1/cases/{case.pk}/", {"full": "true"})
    assert refused.status_code == 403
    assert not case.events.filter(kind=EventKind.PII_VIEWED).exists()
    _key, plain = make_key(org, system=system, scopes=("read", "pii"))
    full = client_for(plain).get(f"/api/v1/cases/{case.pk}/", {"full": "true"}).json()
    assert full["party"] == {**full["party"], "name": "张伟", "phone": "13812345678", "masked": False}
    viewed = case.events.get(kind=EventKind.PII_VIEWED)
    assert viewed.actor_system == system and viewed.data["party_ids"] == [case.party_id]


def test_actions_listed_and_performed_through_the_registry(org, system, register):
    case = register()
    _key, plain = make_key(org, system=system, scopes=("read", "action:accept"))
    client = client_for(plain)
    allowed = client.get(f"/api/v1/cases/{case.pk}/actions/").json()
    assert "accept" in [a["name"] for a in allowed]
    assert all(a["name"] == "accept" for a in allowed)  # the key's scope narrows the list
    stale = client.post(f"/api/v1/cases/{case.pk}/actions/accept/", {"note": "受理", "version": 99}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    done = client.post(
        f"/api/v1/cases/{case.pk}/actions/accept/", {"note": "受理", "version": case.version}, format="json"
    )
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "accepted"
    event = case.events.filter(kind=EventKind.STATE_CHANGED).get()
    assert event.actor_system == system and event.data["action"] == "accept"
    again = client.post(f"/api/v1/cases/{case.pk}/actions/accept/", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    other = client.post(f"/api/v1/cases/{case.pk}/actions/close/", {}, format="json")
    assert other.status_code == 403 and other.json()["code"] == "scope_missing"


def test_staff_token_acts_as_the_staff_member_with_their_permissions(org, register, clerk, analyst):
    case = register()
    _key, plain = make_key(org, staff=analyst, scopes=("read", "action:*"))
    refused = client_for(plain).post(f"/api/v1/cases/{case.pk}/actions/accept/", {}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    _key, plain = make_key(org, staff=clerk, scopes=("read", "action:*", "contact"))
    client = client_for(plain)
    assert client.post(f"/api/v1/cases/{case.pk}/actions/accept/", {}, format="json").status_code == 200
    assert case.events.filter(kind=EventKind.STATE_CHANGED, actor=clerk).exists()
    contact = client.post(
        f"/api/v1/cases/{case.pk}/contacts/", {"channel": "phone", "text": "再次来电催办"}, format="json"
    )
    assert contact.status_code == 201 and Contact.objects.filter(pk=contact.json()["id"], staff=clerk).exists()


def test_one_error_body_in_the_requests_language(org, system):
    _key, plain = make_key(org, system=system)
    for language in ("zh-hans", "en"):
        response = client_for(plain, language).post("/api/v1/cases/", {**BODY, "text": ""}, format="json")
        assert response.status_code == 400
        body = response.json()
        assert set(body) == {"code", "message", "fields"} and "text" in body["fields"]
    malformed = client_for(plain).post("/api/v1/cases/", "{not json", content_type="application/json")
    assert malformed.status_code == 400 and malformed.json()["code"] == "malformed"
    wrong_type = client_for(plain).post("/api/v1/cases/", {**BODY, "group_size": "many"}, format="json")
    assert wrong_type.status_code == 400 and "group_size" in wrong_type.json()["fields"]
    unknown = client_for(plain).post("/api/v1/cases/", {**BODY, "colour": "red"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_field"
    missing = client_for(plain).get("/api/v1/cases/999999/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert not Case.objects.exists()


def test_english_message_when_asked(org, system):
    _key, plain = make_key(org, system=system)
    zh = client_for(plain).get("/api/v1/cases/999999/").json()["message"]
    en = client_for(plain, "en").get("/api/v1/cases/999999/").json()["message"]
    assert zh != en


def test_idempotency_key_replays_and_refuses_another_body(org, system, settings):
    _key, plain = make_key(org, system=system)
    client = client_for(plain)
    first = client.post("/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    again = client.post("/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1
    # The answer kept for the replay carries the query code: stored encrypted, like a personal field.
    code = first.json()["query_code"]
    assert again.json()["query_code"] == code and code.encode() not in bytes(IdempotencyRecord.objects.get().body)
    other = client.post("/api/v1/cases/", {**BODY, "text": "另一件事"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1
    # A refusal is replayed as well (nothing is run twice).
    bad = client.post("/api/v1/cases/", {**BODY, "text": ""}, format="json", HTTP_IDEMPOTENCY_KEY="abc-2")
    assert (
        client.post("/api/v1/cases/", {**BODY, "text": ""}, format="json", HTTP_IDEMPOTENCY_KEY="abc-2").json()
        == bad.json()
    )
    # Expired records are forgotten.
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("api_cleanup")
    assert not IdempotencyRecord.objects.exists()
    third = client.post("/api/v1/cases/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert third.status_code == 201 and Case.objects.count() == 2


def test_rate_limit_per_key(org, system, settings, monkeypatch):
    from django.core.cache import cache  # noqa: PLC0415 - the throttle's counters, cleared for this test

    cache.clear()
    settings.HUIYIN_API_RATE = "3/min"
    now = time.time()
    monkeypatch.setattr("huiyin.core.limits.time.time", lambda: now)  # one window throughout
    try:
        _key, plain = make_key(org, system=system)
        _key2, plain2 = make_key(org, system=system)
        statuses = [client_for(plain).get("/api/v1/categories/").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert client_for(plain2).get("/api/v1/categories/").status_code == 200  # per key
        throttled = client_for(plain).get("/api/v1/categories/")
        assert throttled.json()["code"] == "throttled" and int(throttled["Retry-After"]) > 0
    finally:
        cache.clear()


def test_the_rate_is_one_counter_per_key_and_window(org, system, settings, monkeypatch):
    """A key allowed many requests a minute is counted by one number, not a list of times."""
    from django.core.cache import cache  # noqa: PLC0415 - the throttle's counters, read by this test

    from huiyin.api.auth import parse_rate  # noqa: PLC0415
    from huiyin.core import limits  # noqa: PLC0415

    cache.clear()
    settings.HUIYIN_API_RATE = "100000/min"
    key, plain = make_key(org, system=system)
    limit = parse_rate(settings.HUIYIN_API_RATE)
    now = time.time()
    monkeypatch.setattr("huiyin.core.limits.time.time", lambda: now)  # one window throughout
    for _ in range(5):
        assert client_for(plain).get("/api/v1/categories/").status_code == 200
    assert cache.get(limits._key("api_key", f"key:{key.pk}", limit)) == 5
    assert parse_rate("20/s") == limits.Limit(20, 1) and parse_rate("5/hour") == limits.Limit(5, 3600)


def test_attachments_upload_and_download_with_the_workbench_checks(org, register, clerk, analyst):
    case = register()
    _key, plain = make_key(org, staff=clerk, scopes=("read", "attach"))
    client = client_for(plain)
    upload = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, content_type="image/png")
    response = client.post(f"/api/v1/cases/{case.pk}/attachments/", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get(pk=response.json()["id"])
    download = client.get(f"/api/v1/attachments/{attachment.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"\x89PNG")
    listed = client.get(f"/api/v1/cases/{case.pk}/attachments/").json()
    assert [a["id"] for a in listed] == [attachment.pk]
    bad = client.post(
        f"/api/v1/cases/{case.pk}/attachments/",
        {"file": SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")},
        format="multipart",
    )
    assert bad.status_code == 400 and Attachment.objects.count() == 1
    _key, plain = make_key(org, staff=analyst, scopes=("read", "attach"))
    upload = SimpleUploadedFile("b.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
    denied = client_for(plain).post(f"/api/v1/cases/{case.pk}/attachments/", {"file": upload}, format="multipart")
    assert denied.status_code == 403 and Attachment.objects.count() == 1


def test_categories_departments_and_events(org, system, register, category, departments):
    case = register(category_id=category.pk)
    _key, plain = make_key(org, system=system)
    client = client_for(plain)
    assert category.pk in [c["id"] for c in client.get("/api/v1/categories/").json()]
    assert {d["code"] for d in client.get("/api/v1/departments/").json()} == set(departments)
    events = client.get(f"/api/v1/cases/{case.pk}/events/").json()
    assert events[0]["kind"] == EventKind.REGISTERED
    contacts = client.get(f"/api/v1/cases/{case.pk}/contacts/").json()
    assert contacts[0]["is_initial"] is True


def test_staff_session_uses_the_api_with_the_workbench_rights(client, org, register, clerk):
    case = register()
    client.force_login(clerk)
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 200


def test_openapi_document_and_doc_page(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = json.loads(schema.content)
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    assert "/api/v1/cases/" in paths
    for name in ACTIONS:
        assert f"/api/v1/cases/{{case_id}}/actions/{name}/" in paths
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>" not in html and "swagger-ui-bundle.js" in html and "api/docs.js" in html


def test_apikey_command_creates_lists_and_revokes(org, capsys):
    call_command(
        "apikey",
        "create",
        "--org",
        org.code,
        "--system",
        "telephony",
        "--name",
        "话务系统",
        "--scope",
        "read",
        "--caps",
        "register",
    )
    plain = capsys.readouterr().out.strip()
    key = ApiKey.objects.get()
    assert plain.startswith(f"hy_{key.prefix}_") and key.secret_hash == api_services.secret_hash(plain)
    call_command("apikey", "revoke", "--org", org.code, key.prefix)
    key.refresh_from_db()
    assert key.revoked_at is not None


GARBAGE = [
    "{not json",
    "[]",
    "null",
    '"text"',
    '{"version": "x", "department_id": 99999999999999999999, "assisting_ids": "a", "due_at": "2026-02-30T00:00"}',
    '{"channel": null, "nature": [], "text": {"a": 1}, "party": "x", "category_id": -5, "received_at": "1800-01-01"}',
    '{"party": {"phone": 12, "anonymous": "maybe"}, "representatives": [1, 2], "group_size": 1e99}',
    '{"replied_at": "yesterday", "confirmed": "perhaps", "requested_at": 5, "handler_id": 2147483648000}',
]


def test_bad_input_on_every_post_endpoint_is_a_4xx_and_stores_nothing(org, system, register):
    """Every API POST (the actions too) with malformed JSON, wrong types and out-of-range values."""
    case = register()
    _key, plain = make_key(org, system=system, scopes=("read", "register", "contact", "attach", "action:*"))
    client = client_for(plain)
    paths = ["/api/v1/cases/", f"/api/v1/cases/{case.pk}/contacts/", f"/api/v1/cases/{case.pk}/attachments/"]
    paths += [f"/api/v1/cases/{case.pk}/actions/{name}/" for name in ACTIONS]
    before = (Case.objects.count(), Event.objects.count(), Contact.objects.count(), Attachment.objects.count())
    for path in paths:
        for body in GARBAGE:
            response = client.post(path, body, content_type="application/json")
            assert 400 <= response.status_code < 500, (path, body, response.status_code, response.content[:300])
            assert set(response.json()) == {"code", "message", "fields"}, (path, body)
    after = (Case.objects.count(), Event.objects.count(), Contact.objects.count(), Attachment.objects.count())
    assert after == before


def test_bad_query_values_on_every_get_endpoint_are_4xx(org, system, register):
    case = register()
    _key, plain = make_key(org, system=system, scopes=("read",))
    client = client_for(plain)
    for params in (
        {"limit": "0"},
        {"limit": "99999999999999999999"},
        {"category_id": "-1"},
        {"department_id": "abc"},
        {"date_from": "2026-02-30"},
        {"date_to": "1800-01-01"},
        {"state": "nowhere"},
        {"q": "x" * 500},
        {"cursor": "MjAyNi0wMi0zMHwx"},
    ):
        response = client.get("/api/v1/cases/", params)
        assert response.status_code == 400, (params, response.content[:200])
    assert client.get(f"/api/v1/cases/{case.pk}/", {"full": "maybe"}).status_code == 400
    assert client.get("/api/v1/attachments/99999999/").status_code == 404


def test_administrator_creates_a_key_shown_once_and_revokes_it(client, org, clerk):
    from tests.conftest import make_staff  # noqa: PLC0415 - the administrator only this test needs

    admin = make_staff(org, "admin", ["admin"])
    client.force_login(admin)
    page = client.get("/administration/api-keys/")
    assert page.status_code == 200
    response = client.post(
        "/administration/api-keys/",
        {"name": "话务系统", "staff": clerk.pk, "scopes": ["read"], "actions": "accept, reply", "days": 30},
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    key = ApiKey.objects.get()
    assert key.scopes == ["read", "action:accept", "action:reply"] and key.created_by == admin
    plain = response.content.decode().split("data-api-key>")[1].split("<")[0]
    assert api_services.secret_hash(plain) == key.secret_hash
    assert plain not in client.get("/administration/api-keys/").content.decode()  # shown once
    assert client_for(plain).get("/api/v1/categories/").status_code == 200
    refused = client.post("/administration/api-keys/", {"name": "x", "days": 30, "actions": "fly"})
    assert refused.status_code == 400 and ApiKey.objects.count() == 1
    assert client.post(f"/administration/api-keys/{key.prefix}/revoke/").status_code == 302
    assert client_for(plain).get("/api/v1/categories/").status_code == 401
    client.force_login(clerk)
    assert client.get("/administration/api-keys/").status_code == 403
