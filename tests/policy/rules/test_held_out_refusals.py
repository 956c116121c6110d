"""Held-out checks of what must be refused, through the REST API with staff keys, each refusal
in Chinese naming the rule: 首诉负责 (no complaint refused at a hospital or a property office),
the station's 「不得自行转送」, the hotline's efficiency complaint returned only with its reasons,
and the petition office's not-accepted notice naming the body to turn to."""

from __future__ import annotations

import pytest
import time_machine

from huiyin.cases.models import Case
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.policy.conftest import activate, at
from tests.policy.rules.outside import LETTER, act, api_as

pytestmark = pytest.mark.django_db


def registered(org, staff, when, **body):
    api = api_as(org, staff)
    with time_machine.travel(when, tick=False):
        created = api.post("/api/v1/cases/", {**LETTER, **body}, format="json")
    assert created.status_code == 201, created.content
    return api, created.json()["id"]


def refusal(response) -> str:
    assert response.status_code in (400, 403, 409), (response.status_code, response.json())
    body = response.json()
    return body["message"] + " " + " ".join(m for ms in body["fields"].values() for m in ms)


@pytest.mark.parametrize(
    ("preset", "extra"),
    [("hospital", {"complainant_kind": "outpatient"}), ("property_management", {})],
)
def test_first_contact_responsibility_refuses_every_refusal(org, hospital_offices, preset, extra):
    """seeds/000 line 282 「实行首诉负责制…不得推诿」; lines 71–72 「实行首问负责制…不得推托、无理拒绝」."""
    activate(org, preset)
    leader = make_staff(org, "leader", [Role.LEADER, Role.INTAKE_CLERK])
    api, case_id = registered(org, leader, at(2026, 3, 2, 9), **extra)
    listed = api.get(f"/api/v1/cases/{case_id}/actions/").json()
    assert "not_accept" not in [a["name"] for a in listed]
    refused = act(api, case_id, "not_accept", at(2026, 3, 2, 10), ground="out_of_scope", note="不归我们管。")
    message = refusal(refused)
    assert "首" in message and ("负责" in message or "不得" in message), message
    assert Case.objects.get(pk=case_id).state == "registered"


def test_the_station_never_forwards_a_letter_itself(org):
    """seeds/000 line 16 「应自收到之日起15日内申明理由后退还本人或退回原批转单位不得自行转送其他单位」."""
    activate(org, "construction_station")
    leader = make_staff(org, "leader", [Role.LEADER, Role.INTAKE_CLERK])
    api, case_id = registered(org, leader, at(2026, 3, 2, 9), text="反映邻居装修噪音。")
    message = refusal(act(api, case_id, "transfer", at(2026, 3, 3, 9), to_body="区城管局"))
    assert "不得自行转送" in message, message
    unreasoned = refusal(act(api, case_id, "return", at(2026, 3, 3, 9), reason="", returned_to="来信人"))
    assert "理由" in unreasoned, unreasoned
    done = act(api, case_id, "return", at(2026, 3, 3, 9), reason="不属于工程质量问题。", returned_to="来信人")
    assert done.status_code == 200, done.json()


def test_an_efficiency_complaint_goes_back_only_with_the_reasons(org):
    """seeds/000 line 26 「其中效能信访投诉的,应回退上一级信访派发机构,说明不属于我局办理的理由」."""
    activate(org, "city_hotline")
    clerk = make_staff(org, "clerk", [Role.INTAKE_CLERK])
    api, case_id = registered(org, clerk, at(2026, 3, 2, 9), channel="phone")
    body = {"ground": "efficiency_petition_returned", "refer_to": "superior_petition_office"}
    message = refusal(act(api, case_id, "not_accept", at(2026, 3, 2, 9, 1), **body, note=""))
    assert "理由" in message, message
    done = act(api, case_id, "not_accept", at(2026, 3, 2, 9, 1), **body, note="属区效能办职责，建议分流至区效能办。")
    assert done.status_code == 200, done.json()


def test_a_petition_not_accepted_names_the_body_to_turn_to(org):
    """seeds/002 line 17 「对于我委不予受理的信访事项,应告知来访人该信访事项的责任归属单位」."""
    activate(org, "petition_office")
    clerk = make_staff(org, "clerk", [Role.INTAKE_CLERK])
    api, case_id = registered(org, clerk, at(2026, 3, 2, 9))
    message = refusal(act(api, case_id, "not_accept", at(2026, 3, 2, 10), ground="legal_procedure"))
    assert "人民法院" in message or "归属" in message or "告知" in message, message
    done = act(api, case_id, "not_accept", at(2026, 3, 2, 10), ground="legal_procedure", refer_to="court")
    assert done.status_code == 200, done.json()
