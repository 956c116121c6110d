"""Held-out checks of the 12345 hotline's answer limits by the matter's nature and urgency
(POLICY-REFERENCE.md: 「consultations 2 working days; requests for help 5; complaints and reports
15; urgent matters 24 hours; emergencies (life, property) 2 hours」), registered through the REST
API and corrected on the edit form: the limit follows what the matter is."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.urls import reverse

from huiyin.cases.models import Case
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.policy.conftest import SH, activate, at
from tests.policy.rules.outside import LETTER, api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def hotline(org):
    return activate(org, "city_hotline")


def reply_row(api, case_id, when):
    with time_machine.travel(when, tick=False):
        listed = api.get(f"/api/v1/cases/{case_id}/deadlines/").json()
    (row,) = [d for d in listed if d["stage"] == "reply" and d["state"] != "stopped"]
    return row


@pytest.mark.parametrize(
    ("text", "due", "basis"),
    [
        # 危及生命财产: the preset's major words (伤亡、死亡、爆炸).
        ("路口井盖缺失，夜里有行人掉落，已有伤亡。", "2026-03-02T11:00:00", "2 小时，自收到诉求起"),
        # 紧急: the preset's urgent words (燃气泄漏、受伤…) — a gas leak is "urgent", 24 hours.
        ("小区燃气泄漏，闻到很浓的气味。", "2026-03-03T09:00:00", "24 小时，自收到诉求起"),
    ],
)
def test_a_safety_keyword_gives_the_urgent_limit(org, hotline, text, due, basis):
    clerk = make_staff(org, "clerk", [Role.INTAKE_CLERK])
    api = api_as(org, clerk)
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        created = api.post("/api/v1/cases/", {**LETTER, "channel": "phone", "text": text}, format="json")
    assert created.status_code == 201, created.content
    row = reply_row(api, created.json()["id"], at(2026, 3, 2, 9, 1))
    assert datetime.fromisoformat(row["due_at"]).astimezone(SH).strftime("%Y-%m-%dT%H:%M:%S") == due
    assert row["basis"].startswith(basis), row["basis"]


def test_a_consultation_corrected_to_a_complaint_gets_fifteen_working_days(org, hotline, client):
    clerk = make_staff(org, "clerk", [Role.INTAKE_CLERK])
    api = api_as(org, clerk)
    start = at(2026, 9, 28, 10)
    with time_machine.travel(start, tick=False):
        created = api.post("/api/v1/cases/", {**LETTER, "channel": "phone", "nature": "consultation"}, format="json")
    assert created.status_code == 201, created.content
    case_id = created.json()["id"]
    assert reply_row(api, case_id, start)["basis"].startswith("2 工作日")
    case = Case.objects.get(pk=case_id)
    with time_machine.travel(at(2026, 9, 28, 10, 30), tick=False):
        client.force_login(clerk)
        edited = client.post(
            reverse("cases:edit", args=[case_id]),
            {
                "title": case.title,
                "text": case.text,
                "nature": "complaint",
                "urgency": "normal",
                "location": case.location,
                "version": case.version,
            },
        )
    assert edited.status_code == 302, edited.content.decode()[:2000]
    row = reply_row(api, case_id, at(2026, 9, 28, 10, 31))
    assert row["basis"].startswith("15 工作日"), row["basis"]
    assert datetime.fromisoformat(row["due_at"]).astimezone(SH).strftime("%Y-%m-%d") == "2026-10-23"
