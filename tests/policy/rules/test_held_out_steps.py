"""Held-out checks of the construction-quality station's mandatory steps and their order
(seeds/000_e82992a73faf22c8.txt lines 4–13), driven from outside: the REST API with staff keys
and the investigation form on the case page. Each refusal names the missing step in Chinese."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from huiyin.cases.models import Case
from huiyin.deadlines.models import Clock
from huiyin.handling.models import Investigation
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.policy.conftest import SH, activate, at, png_signature
from tests.policy.rules.outside import LETTER, act, api_as, on_page

pytestmark = pytest.mark.django_db


def test_the_station_hands_over_investigates_signs_and_has_the_leader_sign_in_that_order(org, departments, client):
    """Line 5 「24小时内将有关材料交市站指定承办人」; line 9 「调查材料要有被调查人认可签字…初步确定责任单位
    提出处理原则报本战领导审批」: a named handler, a signed investigation, a responsible unit, the station
    leader's signature — refused through the API in that order until each is there."""
    activate(org, "construction_station")
    clerk = make_staff(org, "clerk", [Role.INTAKE_CLERK])
    handler = make_staff(org, "inspector", [Role.HANDLER], departments["city"])
    head = make_staff(org, "head", [Role.DEPT_HEAD], departments["city"])
    leader = make_staff(org, "station_leader", [Role.LEADER])
    clerk_api, handler_api = api_as(org, clerk), api_as(org, handler)
    head_api, leader_api = api_as(org, head), api_as(org, leader)
    start = at(2026, 9, 30, 17, 0)  # the 24 hours run through 国庆: elapsed time, not working time
    with time_machine.travel(start, tick=False):
        created = clerk_api.post("/api/v1/cases/", {**LETTER, "text": "新建住宅楼外墙出现裂缝。"}, format="json")
    assert created.status_code == 201, created.content
    case_id = created.json()["id"]
    handover = Clock.objects.get(case_id=case_id, stage="handover")
    assert handover.due_at.astimezone(SH) == at(2026, 10, 1, 17, 0)

    assert act(clerk_api, case_id, "accept", start).status_code == 200
    unnamed = act(clerk_api, case_id, "dispatch", start, department_id=departments["city"].pk)
    assert unnamed.status_code == 400 and "承办人" in unnamed.json()["message"] + str(unnamed.json()["fields"])
    named = act(clerk_api, case_id, "dispatch", start, department_id=departments["city"].pk, handler_id=handler.pk)
    assert named.status_code == 200, named.content

    proposal = {"proposal": "责成施工单位限期加固整改。", "outcome": "resolved", "responsible_unit": "某建筑公司"}
    when = at(2026, 10, 8, 10)
    no_record = act(handler_api, case_id, "submit_for_approval", when, **proposal)
    assert no_record.status_code == 400 and "调查" in str(no_record.json()), no_record.json()

    with on_page(client, handler, when) as page:
        page.post(
            reverse("handling:investigation_add", args=[case_id]),
            {"kind": "interview", "text": "询问施工方项目经理。", "interviewee": "李工", "place": "工地"},
        )
    record = Investigation.objects.get(case_id=case_id)
    unsigned = act(handler_api, case_id, "submit_for_approval", when, **proposal)
    assert unsigned.status_code == 400 and "签字" in str(unsigned.json()), unsigned.json()

    with on_page(client, handler, when) as page:
        page.post(
            reverse("handling:investigation_confirm", args=[case_id, record.pk]),
            {"signature_drawn": png_signature()},
        )
    no_unit = act(handler_api, case_id, "submit_for_approval", when, **{**proposal, "responsible_unit": ""})
    assert no_unit.status_code == 400 and "责任单位" in str(no_unit.json()), no_unit.json()
    submitted = act(handler_api, case_id, "submit_for_approval", when, **proposal)
    assert submitted.status_code == 200, submitted.json()

    by_head = act(head_api, case_id, "approve", when, comments="同意")
    assert by_head.status_code == 403, by_head.json()
    assert Case.objects.get(pk=case_id).state == "pending_approval"
    signed = act(leader_api, case_id, "approve", when, comments="同意")
    assert signed.status_code == 200, signed.json()
    assert Case.objects.get(pk=case_id).state == "approved"


def test_a_group_visit_is_not_closed_without_the_callback_after_rectification(org, departments, client):
    """Line 10 「站领导签发后…通知责任单位…两周内将整改工作方案以书面形式报站」, line 11 「将整改工作方案及时通知
    来信来访来电人」, line 13 「对群访…的信访函件责任单位整改后必须进行回访」: through the API and the
    rectification forms, the unit is notified after the leader signs, the plan is due two weeks
    after the notice, the complainant is told before the answer, and closing waits for the callback."""
    from huiyin.handling.models import Rectification

    activate(org, "construction_station")
    clerk = make_staff(org, "clerk", [Role.INTAKE_CLERK])
    handler = make_staff(org, "inspector", [Role.HANDLER], departments["city"])
    leader = make_staff(org, "station_leader", [Role.LEADER])
    clerk_api, handler_api, leader_api = api_as(org, clerk), api_as(org, handler), api_as(org, leader)
    start = at(2026, 3, 2, 9)
    with time_machine.travel(start, tick=False):
        created = clerk_api.post(
            "/api/v1/cases/",
            {**LETTER, "channel": "visit", "group_size": 8, "text": "小区多户墙体开裂，集体来访。"},
            format="json",
        )
    assert created.status_code == 201, created.content
    case_id = created.json()["id"]
    assert act(clerk_api, case_id, "accept", start).status_code == 200
    body = {"department_id": departments["city"].pk, "handler_id": handler.pk}
    assert act(clerk_api, case_id, "dispatch", start, **body).status_code == 200

    when = at(2026, 3, 3, 9)
    with on_page(client, handler, when) as page:
        early = page.post(reverse("handling:rectification", args=[case_id, "notify"]), {"unit": "某建筑公司"})
    assert early.status_code == 400 and not Rectification.objects.exists()
    with on_page(client, handler, when) as page:
        page.post(
            reverse("handling:investigation_add", args=[case_id]),
            {"kind": "interview", "text": "询问施工方。", "interviewee": "李工"},
        )
        record = Investigation.objects.get(case_id=case_id)
        page.post(
            reverse("handling:investigation_confirm", args=[case_id, record.pk]), {"signature_drawn": png_signature()}
        )
    proposal = {"proposal": "责成施工单位加固。", "outcome": "resolved", "responsible_unit": "某建筑公司"}
    assert act(handler_api, case_id, "submit_for_approval", when, **proposal).status_code == 200
    assert act(leader_api, case_id, "approve", when, comments="同意").status_code == 200
    with on_page(client, handler, when) as page:
        notified = page.post(
            reverse("handling:rectification", args=[case_id, "notify"]), {"unit": "某建筑公司", "method": "letter"}
        )
    assert notified.status_code == 302
    plan_clock = Clock.objects.get(case_id=case_id, stage="rectification_plan")
    assert plan_clock.due_at.astimezone(SH).strftime("%Y-%m-%d") == "2026-03-17"  # two weeks after 03-03
    answer = {"reply": "已责成施工单位加固整改。", "method": "letter"}
    untold = act(handler_api, case_id, "reply", at(2026, 3, 10, 9), **answer)
    assert untold.status_code == 400, untold.json()
    rid = Rectification.objects.get(case_id=case_id).pk
    with on_page(client, handler, at(2026, 3, 10, 9)) as page:
        for step, data in (
            ("plan", {"plan_text": "外墙加固。"}),
            ("check", {"verdict": "accepted"}),
            ("inform", {"method": "phone"}),
        ):
            done = page.post(reverse("handling:rectification", args=[case_id, step]), {"rectification_id": rid, **data})
            assert done.status_code == 302, (step, done.status_code)
    assert act(handler_api, case_id, "reply", at(2026, 3, 10, 10), **answer).status_code == 200
    closing = act(leader_api, case_id, "close", at(2026, 3, 11, 9))
    assert closing.status_code == 400 and "回访" in str(closing.json()), closing.json()
    assert Case.objects.get(pk=case_id).state == "replied"
