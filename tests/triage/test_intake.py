"""Triage on the intake form: the JSON endpoint, the keystroke's record, what the clerk
finally chose recorded against what was suggested, and intake working with triage off."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from huiyin.cases.bus import dispatch_after_commit
from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, Event
from huiyin.cases.services import case_update
from huiyin.triage import store
from huiyin.triage.models import ModelStatus, Suggestion, TriageModel
from huiyin.triage.records import acceptance_rate
from huiyin.triage.services import train

from .toy import rows, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(org, tree, tmp_path):
    return train(org, [write_csv(tmp_path / "toy.csv", rows(12))]).model


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def after_commit_of(case: Case, kind: str) -> None:
    """Run the event's after-commit subscribers, as its task does."""
    dispatch_after_commit(Event.objects.filter(case=case, kind=kind).latest("pk").pk)


def test_the_endpoint_suggests_and_records_without_text(org, tree, clerk, trained):
    token = uuid.uuid4().hex
    response = client_for(clerk).post(
        "/triage/suggest/",
        {"title": "", "text": "饭店油烟噪音扰民，排放废水，电话13912345678", "intake_token": token, "channel": "phone"},
    )
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "ok" and data["categories"][0]["full_name"] == "环境保护"
    assert data["categories"][0]["words"] and "13912345678" not in str(data)
    row = Suggestion.objects.get(intake_token=token)
    assert row.staff == clerk and row.model_version == trained.version
    assert row.categories[0]["id"] == tree["环境保护"].pk
    assert "油烟" not in str(row.categories) and row.case is None
    # Typing on: the same row is updated, not a new one per keystroke.
    client_for(clerk).post("/triage/suggest/", {"text": "公交车站拥堵，红绿灯坏了", "intake_token": token})
    row.refresh_from_db()
    assert Suggestion.objects.count() == 1 and row.categories[0]["id"] == tree["交通运输"].pk


def test_suggestion_endpoint_refuses_get_and_other_roles(org, tree, clerk, handler, trained):
    assert client_for(clerk).get("/triage/suggest/").status_code == 405
    assert client_for(handler).post("/triage/suggest/", {"text": "油烟"}).status_code == 403
    assert Client().post("/triage/suggest/", {"text": "油烟"}).status_code == 302  # to the login page


def test_accept_then_register_records_choice_against_suggestion(org, tree, clerk, trained, departments):
    token = uuid.uuid4().hex
    client = client_for(clerk)
    client.post("/triage/suggest/", {"text": "小区物业不管电梯，楼上漏水", "intake_token": token})
    suggested = Suggestion.objects.get(intake_token=token)
    top = suggested.categories[0]["id"]
    assert client.post("/triage/accept/", {"intake_token": token, "category": str(top)}).status_code == 200
    assert client.post("/triage/accept/", {"intake_token": token, "category": str(tree["商贸旅游"].pk + 999)}).json()[
        "fields"
    ] == {"category": ["所选分类不在建议之中。"]}
    assert client.post("/triage/accept/", {"intake_token": "zz", "category": str(top)}).status_code == 400
    suggested.refresh_from_db()
    assert suggested.accepted_category_id == top

    # The clerk registers the case with another category than suggested: a correction.
    response = client.post(
        "/cases/new/phone/",
        {
            "party_phone": "13912345678",
            "party_name": "张伟",
            "nature": "complaint",
            "text": "小区物业不管电梯，楼上漏水",
            "category": str(tree["城乡建设/物业管理"].pk),
            "urgency": "normal",
            "group_size": "1",
            "intake_token": token,
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(intake_token=token)
    after_commit_of(case, EventKind.REGISTERED)
    suggested.refresh_from_db()
    assert suggested.case == case and suggested.chosen_category_id == tree["城乡建设/物业管理"].pk
    assert suggested.corrected

    # Edited back to the first suggestion later: no longer a correction.
    case_update(actor=clerk, case_id=case.pk, expected_version=case.version, changes={"category_id": top})
    after_commit_of(case, EventKind.UPDATED)
    suggested.refresh_from_db()
    assert suggested.chosen_category_id == top and not suggested.corrected
    assert acceptance_rate(org.pk) == {"total": 1, "top_chosen": 1, "rate": 1.0}
    # A later suggestion request for the same form changes nothing recorded.
    client.post("/triage/suggest/", {"text": "公交车站拥堵", "intake_token": token})
    suggested.refresh_from_db()
    assert suggested.categories[0]["id"] == top


def test_intake_page_shows_the_panel_and_the_notice_when_triage_is_off(org, tree, clerk, trained):
    client = client_for(clerk)
    page = client.get("/cases/new/phone/").content.decode()
    assert 'id="triage-panel"' in page and "triage/suggest.js" in page and 'data-status="ok"' in page
    model = TriageModel.objects.get(status=ModelStatus.IN_SERVICE)
    store.path_of(model).write_bytes(b"broken")
    store.forget()
    page = client.get("/cases/new/visit/").content.decode()
    assert 'data-status="off"' in page and "文件缺失或已损坏" in page and "登记不受影响" in page
    # The endpoint says the same, and intake goes on.
    assert client.post("/triage/suggest/", {"text": "油烟噪音"}).json()["status"] == "off"
    response = client.post(
        "/cases/new/visit/",
        {
            "party_name": "李雷",
            "party_phone": "13912345679",
            "nature": "complaint",
            "text": "油烟噪音扰民",
            "urgency": "normal",
            "group_size": "1",
            "intake_token": uuid.uuid4().hex,
        },
    )
    assert response.status_code == 302 and Case.objects.filter(text="油烟噪音扰民").exists()


def test_no_panel_for_those_who_do_not_register(org, tree, handler):
    assert client_for(handler).get("/cases/new/phone/").status_code == 403


def test_models_page_for_the_administrator(org, tree, trained, clerk):
    from tests.conftest import make_staff  # noqa: PLC0415

    admin = make_staff(org, "admin", ["admin"])
    page = client_for(admin).get("/triage/models/").content.decode()
    assert "v1" in page and "toy.csv" in page and "在用" in page
    assert client_for(clerk).get("/triage/models/").status_code == 403
    response = client_for(admin).post("/triage/models/rollback/")
    assert response.status_code == 302
    assert TriageModel.objects.get(pk=trained.pk).status == ModelStatus.IN_SERVICE


def test_malformed_input_to_the_endpoints(org, tree, clerk, trained):
    client = client_for(clerk)
    huge = client.post("/triage/suggest/", {"text": "油烟\x00\x1b[31m" + "噪" * 100_000, "intake_token": "x" * 500})
    assert huge.status_code == 200 and huge.json()["status"] == "ok"
    assert not Suggestion.objects.exists()  # a garbled token records nothing
    for category in ("abc", "9" * 20, "-1", ""):
        response = client.post("/triage/accept/", {"intake_token": uuid.uuid4().hex, "category": category})
        assert response.status_code == 400
    unknown = client.post("/triage/accept/", {"intake_token": uuid.uuid4().hex, "category": "5"})
    assert unknown.status_code == 404
