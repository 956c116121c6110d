"""Held-out check of the petition office's review (复查) limits through the REST API: a letter
asking for review, recorded by the clerk with the day it was written, counts 30 days from the
written answer (day of the answer not counted, a last day in 国庆 rolled to the next working
day); the review is decided within 30 days of the request (信访工作条例 2022, POLICY-REFERENCE.md:
「request review (复查) / re-review (复核) | within 30 days of the written answer」,
「review / re-review decided | within 30 days of the request」)."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse

from huiyin.cases.models import Case
from huiyin.deadlines.models import Clock
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.policy.conftest import activate, at
from tests.policy.rules.outside import LETTER, act, api_as, local_day

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(org, departments):
    """A petition accepted 2026-08-03 and answered in writing on Friday 2026-09-04."""
    activate(org, "petition_office")
    clerk = make_staff(org, "clerk", [Role.INTAKE_CLERK])
    handler = make_staff(org, "handler", [Role.HANDLER], departments["city"])
    head = make_staff(org, "head", [Role.DEPT_HEAD], departments["city"])
    leader = make_staff(org, "leader", [Role.LEADER])
    apis = {
        name: api_as(org, person)
        for name, person in dict(clerk=clerk, handler=handler, head=head, leader=leader).items()
    }
    start = at(2026, 8, 3, 9)
    from time_machine import travel

    with travel(start, tick=False):
        created = apis["clerk"].post("/api/v1/cases/", LETTER, format="json")
    assert created.status_code == 201, created.content
    case_id = created.json()["id"]
    steps = [
        ("clerk", "accept", start, {}),
        ("clerk", "dispatch", start, {"department_id": departments["city"].pk, "handler_id": handler.pk}),
        ("handler", "sign_for", at(2026, 8, 3, 10), {}),
        (
            "handler",
            "submit_for_approval",
            at(2026, 9, 1, 10),
            {"proposal": "责令施工单位夜间停工并安装隔音屏障。", "outcome": "resolved"},
        ),
        ("head", "approve", at(2026, 9, 2, 10), {"comments": "同意"}),
        ("leader", "approve", at(2026, 9, 3, 10), {"comments": "同意"}),
        (
            "handler",
            "reply",
            at(2026, 9, 4, 10),
            {"reply": "经调查，工地已停止夜间施工并安装隔音屏障。", "method": "letter"},
        ),
    ]
    for who, action, when, body in steps:
        done = act(apis[who], case_id, action, when, **body)
        assert done.status_code == 200, (action, done.json())
    return Case.objects.get(pk=case_id), apis


def test_review_may_be_requested_until_the_day_after_national_day_and_not_after(answered, client):
    case, apis = answered
    clerk = Staff.objects.get(username="clerk")
    # answered 09-04; day 30 = 10-04, inside 国庆 (10-01…10-07) → 10-08.
    with time_machine.travel(at(2026, 9, 5, 9), tick=False):
        client.force_login(clerk)
        html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    shown = re.search(r'id="review-window"[^>]*>(.*?)</div></div>', html, re.S)
    assert shown and "反映人不服答复的，可在 2026-10-08 23:59 前请求复查。" in shown.group(1), shown

    late = act(
        apis["clerk"],
        case.pk,
        "request_review",
        at(2026, 10, 12, 9),
        reason="对处理意见不服，请求复查。",
        requested_at=at(2026, 10, 9, 9).isoformat(),
    )
    assert late.status_code == 400, late.json()
    assert "期限" in str(late.json()) and "2026-10-08" in str(late.json()), late.json()
    assert Case.objects.get(pk=case.pk).state == "replied"
    with time_machine.travel(at(2026, 10, 12, 9), tick=False):
        client.force_login(clerk)
        html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "请求复查的期限已于 2026-10-08 23:59 届满" in html

    in_time = act(
        apis["clerk"],
        case.pk,
        "request_review",
        at(2026, 10, 12, 9, 5),
        reason="对处理意见不服，请求复查。",
        requested_at=at(2026, 10, 8, 16).isoformat(),
    )
    assert in_time.status_code == 200, in_time.json()
    decision = Clock.objects.get(case=case, stage="review_decision")
    # 30 days from the request (10-08): day 1 = 10-09, day 30 = 11-07, a Saturday → 11-09.
    assert local_day(decision.due_at) == "2026-11-09"


def test_the_petition_answer_is_reviewed_by_the_department_head_then_signed_by_the_leader(org, departments):
    """presets/petition_office.yaml approval.chain [dept_head, leader] (seeds/000 lines 8–10 「处理原则报
    领导审批」, the two levels Huiyin's default): the leader cannot sign before the head has
    reviewed, nor the handler answer before the leader has signed."""
    activate(org, "petition_office")
    clerk = make_staff(org, "clerk", [Role.INTAKE_CLERK])
    handler = make_staff(org, "handler", [Role.HANDLER], departments["city"])
    head = make_staff(org, "head", [Role.DEPT_HEAD], departments["city"])
    leader = make_staff(org, "leader", [Role.LEADER])
    apis = {n: api_as(org, p) for n, p in dict(clerk=clerk, handler=handler, head=head, leader=leader).items()}
    start = at(2026, 8, 3, 9)
    with time_machine.travel(start, tick=False):
        case_id = apis["clerk"].post("/api/v1/cases/", LETTER, format="json").json()["id"]
    for who, action, body in (
        ("clerk", "accept", {}),
        ("clerk", "dispatch", {"department_id": departments["city"].pk, "handler_id": handler.pk}),
        ("handler", "sign_for", {}),
    ):
        assert act(apis[who], case_id, action, start, **body).status_code == 200
    answer = {"reply": "经调查，工地已停止夜间施工。", "method": "letter"}
    early = act(apis["handler"], case_id, "reply", at(2026, 8, 10, 9), **answer)
    assert early.status_code in (400, 403, 409), early.json()
    submitted = act(
        apis["handler"],
        case_id,
        "submit_for_approval",
        at(2026, 8, 10, 9),
        proposal="责令夜间停工。",
        outcome="resolved",
    )
    assert submitted.status_code == 200, submitted.json()
    out_of_turn = act(apis["leader"], case_id, "approve", at(2026, 8, 10, 10), comments="同意")
    assert out_of_turn.status_code in (400, 403, 409), out_of_turn.json()
    assert Case.objects.get(pk=case_id).state == "pending_approval"
    assert act(apis["head"], case_id, "approve", at(2026, 8, 10, 11), comments="同意").status_code == 200
    assert Case.objects.get(pk=case_id).state == "pending_approval"
    assert act(apis["leader"], case_id, "approve", at(2026, 8, 10, 12), comments="同意").status_code == 200
    assert act(apis["handler"], case_id, "reply", at(2026, 8, 11, 9), **answer).status_code == 200
