"""Held-out checks of the extension rules, driven from outside: the actions through the REST
API with staff keys, the extension form and the approver's decision on the case page (Django
test client), never the services. Each refusal must be in Chinese and name the limit."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse

from huiyin.cases.models import Case
from huiyin.deadlines.models import Clock, Extension
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.policy.conftest import activate, at
from tests.policy.rules.outside import LETTER, act, api_as, api_day, errors_in, local_day, on_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(org, departments):
    return {
        "clerk": make_staff(org, "clerk", [Role.INTAKE_CLERK]),
        "handler": make_staff(org, "handler", [Role.HANDLER], departments["city"]),
        "head": make_staff(org, "head", [Role.DEPT_HEAD], departments["city"]),
        "leader": make_staff(org, "leader", [Role.LEADER]),
        "supervisor": make_staff(org, "supervisor", [Role.SUPERVISOR]),
    }


def registered_and_dispatched(org, people, departments, when, **body):
    clerk_api = api_as(org, people["clerk"])
    with time_machine.travel(when, tick=False):
        created = clerk_api.post("/api/v1/cases/", {**LETTER, **body}, format="json")
    assert created.status_code == 201, created.content
    case_id = created.json()["id"]
    accepted = act(clerk_api, case_id, "accept", when)
    assert accepted.status_code == 200, accepted.content
    dispatched = act(
        clerk_api,
        case_id,
        "dispatch",
        when,
        department_id=departments["city"].pk,
        handler_id=people["handler"].pk,
        instructions="请调查处理。",
    )
    assert dispatched.status_code == 200, dispatched.content
    return Case.objects.get(pk=case_id)


def ask_extension(client, case, clock, when, **fields):
    with time_machine.travel(when, tick=False):
        return client.post(
            reverse("deadlines:extension_request", args=[case.pk]),
            {"clock": clock.pk, "unit": "days", "reason": "需现场监测夜间噪音并协调住建部门。", **fields},
        )


def decide(client, extension, when, decision="approve"):
    with time_machine.travel(when, tick=False):
        return client.post(
            reverse("deadlines:extension_decide", args=[extension.pk]),
            {"decision": decision, "note": "同意延期。"},
        )


# --- petition office: 60 days, extension at most 30 days, the office head approves, once -------


def test_petition_extension_at_most_thirty_days_by_the_leader_once(org, departments, people, client):
    """信访工作条例（2022）via POLICY-REFERENCE.md: 「handle an accepted matter | 60 days from acceptance;
    extension at most 30 days, approved by the office head, petitioner told why」."""
    activate(org, "petition_office")
    start = at(2026, 3, 2, 9, 0)
    case = registered_and_dispatched(org, people, departments, start)
    overall = Clock.objects.get(case=case, stage="overall")
    # accepted 03-02, day 1 = 03-03, day 60 = 05-01 (劳动节) → rolled to the next working day.
    assert local_day(overall.due_at) == "2026-05-06"
    # The same through the API, with its basis (what a system reading the case sees).
    with time_machine.travel(at(2026, 3, 2, 9, 5), tick=False):
        listed = api_as(org, people["handler"]).get(f"/api/v1/cases/{case.pk}/deadlines/")
    assert listed.status_code == 200, listed.content
    (row,) = [d for d in listed.json() if d["stage"] == "overall"]
    assert api_day(row["due_at"]) == "2026-05-06" and row["state"] == "running"
    assert row["basis"].startswith("60 自然日，自受理起，次日起算；遇节假日顺延 · 依据：信访工作条例（2022）")
    assert row["calendar_note"] == ""

    with on_page(client, people["handler"], at(2026, 4, 20, 10)) as page:
        refused = ask_extension(page, case, overall, at(2026, 4, 20, 10), amount=31)
    assert refused.status_code == 400
    assert any("30" in e for e in errors_in(refused.content.decode())), errors_in(refused.content.decode())
    assert not Extension.objects.exists()

    with on_page(client, people["handler"], at(2026, 4, 20, 10)) as page:
        asked = ask_extension(page, case, overall, at(2026, 4, 20, 10), amount=30)
    assert asked.status_code == 302, errors_in(asked.content.decode())
    extension = Extension.objects.get()

    with on_page(client, people["head"], at(2026, 4, 20, 11)) as page:
        by_head = decide(page, extension, at(2026, 4, 20, 11))
    assert by_head.status_code in (400, 403)
    extension.refresh_from_db()
    assert extension.status == "pending"

    with on_page(client, people["leader"], at(2026, 4, 20, 12)) as page:
        approved = decide(page, extension, at(2026, 4, 20, 12))
    assert approved.status_code == 302, errors_in(approved.content.decode())
    overall.refresh_from_db()
    # The period grows to 60 + 30 days from acceptance: day 90 is 05-31, a Sunday → 06-01. The 顺延
    # of the first term's last day (05-01 → 05-06) only ever moved where that term ended; the
    # extension lengthens the term itself (民法典 第二百零三条 rolls only the period's last day).
    assert local_day(overall.due_at) == "2026-06-01"

    with on_page(client, people["handler"], at(2026, 5, 20, 10)) as page:
        html = page.get(reverse("cases:detail", args=[case.pk])).content.decode()
        again = ask_extension(page, case, overall, at(2026, 5, 20, 10), amount=5)
    assert 'data-deadline-action="extension"' not in html  # no second request offered
    assert again.status_code == 400
    assert any("不得再次延期" in e for e in errors_in(again.content.decode())), errors_in(again.content.decode())


# --- hospital: 7 days, the 行风办 approves a late settlement, never past two weeks --------------


def test_hospital_late_settlement_approved_by_the_xingfeng_office_and_never_past_two_weeks(
    org, hospital_offices, client
):
    """seeds/000_e82992a73faf22c8.txt line 286: 「投诉处理通常在3-7天内办结…凡不能按时办结的应告知院行风办,
    最迟在两周内处理完毕」. Dispatched 2026-03-02: settled by 03-09, at the latest 03-16; the
    department asks, the 行风办 (supervisor) decides, a department head may not; the two weeks
    themselves are never postponed."""
    activate(org, "hospital")
    office = hospital_offices["outpatient_dept"]
    clerk = make_staff(org, "clerk", [Role.INTAKE_CLERK])
    handler = make_staff(org, "doctor", [Role.HANDLER], office)
    head = make_staff(org, "head", [Role.DEPT_HEAD], office)
    xingfeng = make_staff(org, "xingfeng", [Role.SUPERVISOR])
    clerk_api = api_as(org, clerk)
    start = at(2026, 3, 2, 9, 0)
    with time_machine.travel(start, tick=False):
        created = clerk_api.post(
            "/api/v1/cases/",
            {**LETTER, "channel": "visit", "text": "门诊候诊两小时无人叫号。", "complainant_kind": "outpatient"},
            format="json",
        )
    assert created.status_code == 201, created.content
    case = Case.objects.get(pk=created.json()["id"])
    done = act(clerk_api, case.pk, "dispatch", start, department_id=office.pk, handler_id=handler.pk)
    assert done.status_code == 200, done.content
    reply = Clock.objects.get(case=case, stage="reply")
    overall = Clock.objects.get(case=case, stage="overall")
    assert (local_day(reply.due_at), local_day(overall.due_at)) == ("2026-03-09", "2026-03-16")

    with on_page(client, handler, at(2026, 3, 6, 10)) as page:
        html = page.get(reverse("cases:detail", args=[case.pk])).content.decode()
        choices = re.search(r'<select name="clock"[^>]*>(.*?)</select>', html, re.S)
        assert choices and "科室办结" in choices.group(1) and "两周" not in choices.group(1)
        too_long = ask_extension(page, case, reply, at(2026, 3, 6, 10), amount=8)
        the_latest = ask_extension(page, case, overall, at(2026, 3, 6, 10), amount=1)
    assert too_long.status_code == 400 and any("7" in e for e in errors_in(too_long.content.decode()))
    assert the_latest.status_code == 400, the_latest.status_code
    assert not Extension.objects.exists()

    with on_page(client, handler, at(2026, 3, 6, 10)) as page:
        asked = ask_extension(page, case, reply, at(2026, 3, 6, 10), amount=7)
    assert asked.status_code == 302, errors_in(asked.content.decode())
    extension = Extension.objects.get()
    with on_page(client, head, at(2026, 3, 6, 11)) as page:
        assert decide(page, extension, at(2026, 3, 6, 11)).status_code in (400, 403)
    with on_page(client, xingfeng, at(2026, 3, 6, 12)) as page:
        approved = decide(page, extension, at(2026, 3, 6, 12))
    assert approved.status_code == 302, errors_in(approved.content.decode())
    reply.refresh_from_db()
    overall.refresh_from_db()
    assert local_day(reply.due_at) == "2026-03-16" and local_day(overall.due_at) == "2026-03-16"


# --- property: promised 2 days, postponed at most 5 more, never twice; the 3-day answer fixed ---


def test_property_promise_postponed_once_within_a_week_and_the_three_day_answer_never(org, departments, client):
    """seeds/000_e82992a73faf22c8.txt lines 74–76: 「承诺的时间最好在1-2天内…一般不超过一周…未能在承诺时间内
    处理的应及时通知对方…不得出现同一件事情两次推迟处理」; line 342: 「答复时间最长不应超过三天」."""
    activate(org, "property_management")
    clerk = make_staff(org, "clerk", [Role.INTAKE_CLERK])
    handler = make_staff(org, "repairer", [Role.HANDLER], departments["city"])
    head = make_staff(org, "head", [Role.DEPT_HEAD], departments["city"])
    clerk_api = api_as(org, clerk)
    start = at(2026, 3, 2, 9, 0)
    with time_machine.travel(start, tick=False):
        created = clerk_api.post(
            "/api/v1/cases/", {**LETTER, "channel": "phone", "text": "楼道灯坏了一周没人修。"}, format="json"
        )
    assert created.status_code == 201, created.content
    case = Case.objects.get(pk=created.json()["id"])
    done = act(clerk_api, case.pk, "dispatch", start, department_id=departments["city"].pk, handler_id=handler.pk)
    assert done.status_code == 200, done.content
    overall = Clock.objects.get(case=case, stage="overall")
    reply = Clock.objects.get(case=case, stage="reply")

    with on_page(client, handler, at(2026, 3, 3, 10)) as page:
        fixed = ask_extension(page, case, reply, at(2026, 3, 3, 10), amount=1)
        too_long = ask_extension(page, case, overall, at(2026, 3, 3, 10), amount=6)
        asked = ask_extension(page, case, overall, at(2026, 3, 3, 10), amount=5)
    assert fixed.status_code == 400 and too_long.status_code == 400
    assert any("5" in e for e in errors_in(too_long.content.decode())), errors_in(too_long.content.decode())
    assert asked.status_code == 302, errors_in(asked.content.decode())
    with on_page(client, head, at(2026, 3, 3, 11)) as page:
        assert decide(page, Extension.objects.get(), at(2026, 3, 3, 11)).status_code == 302
    overall.refresh_from_db()
    assert local_day(overall.due_at) == "2026-03-09"  # 2 + 5 = 7 days from 03-02
    with on_page(client, handler, at(2026, 3, 5, 10)) as page:
        twice = ask_extension(page, case, overall, at(2026, 3, 5, 10), amount=1)
    assert twice.status_code == 400
    assert any("不得再次延期" in e or "两次" in e for e in errors_in(twice.content.decode())), errors_in(
        twice.content.decode()
    )
