"""Held-out checks of the seeds' deadlines, driven from outside: the clerk's intake form and
the case page (Django test client), never the services. Working days across 元旦, 春节 and
国庆 with their 调休 Saturdays (chinesecalendar), a calendar-day limit whose last day is a
holiday, and a year the holiday package does not know."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse

from huiyin.cases.models import Case
from huiyin.deadlines.models import Clock
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.policy.conftest import SH, activate, at
from tests.policy.rules.outside import api_as, api_day

pytestmark = pytest.mark.django_db

CALL = {
    "party_name": "张伟",
    "party_phone": "13812345678",
    "nature": "complaint",
    "text": "小区门口占道经营，夜里噪音很大。",
    "urgency": "normal",
    "new_matter": "on",
}


def register_on_form(client, clerk, when, channel="phone", **fields):
    """The clerk types the matter into the intake form at ``when``; the case it made."""
    before = set(Case.objects.values_list("pk", flat=True))
    with time_machine.travel(when, tick=False):
        client.force_login(clerk)
        response = client.post(
            reverse("cases:intake", args=[channel]),
            {**CALL, "received_at": when.strftime("%Y-%m-%dT%H:%M"), **fields},
        )
    assert response.status_code == 302, re.findall(r'class="invalid-feedback[^>]*>([^<]+)<', response.content.decode())
    (pk,) = set(Case.objects.values_list("pk", flat=True)) - before
    return Case.objects.get(pk=pk)


def due_shown(client, case, when, stage) -> str:
    """The due time the case page shows for ``stage``."""
    with time_machine.travel(when, tick=False):
        html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    found = re.search(rf'data-stage="{stage}".*?class="deadline-due">([^<]+)<', html, re.S)
    assert found, f"no {stage} deadline on the case page"
    return found.group(1)


@pytest.fixture
def hotline(org):
    return activate(org, "city_hotline")


@pytest.fixture
def petition(org):
    return activate(org, "petition_office")


def test_fifteen_working_days_across_national_day_count_the_tiaoxiu_saturday(hotline, client, clerk):
    """POLICY-REFERENCE.md: 「complaints and reports 15 [working days]」. Received Monday
    2026-09-28: 9-29, 9-30, (10-01…10-07 国庆), 10-08, 10-09, 10-10 (调休 Saturday), 10-12 … 10-23
    is the fifteenth working day."""
    case = register_on_form(client, clerk, at(2026, 9, 28, 10, 0))
    clock = Clock.objects.get(case=case, stage="reply")
    assert clock.due_at.astimezone(SH).replace(microsecond=0) == at(2026, 10, 23, 23, 59, 59)
    assert due_shown(client, case, at(2026, 9, 28, 10, 5), "reply") == "2026-10-23 23:59"


def test_two_working_days_before_spring_festival_end_on_the_tiaoxiu_saturday(hotline, client, clerk):
    """POLICY-REFERENCE.md: 「consultations 2 working days」. Received Thursday 2026-02-12:
    02-13, then 02-14 — a Saturday worked for 春节 (02-15…02-23)."""
    case = register_on_form(client, clerk, at(2026, 2, 12, 16, 0), nature="consultation")
    assert due_shown(client, case, at(2026, 2, 12, 16, 5), "reply") == "2026-02-14 23:59"
    complaint = register_on_form(client, clerk, at(2026, 2, 12, 16, 10), party_phone="13812345679", party_name="李娜")
    # 02-13, 02-14, 02-24 … 02-27, 02-28 (调休 Saturday), 03-02 … 03-06, 03-09 … 03-11.
    assert due_shown(client, complaint, at(2026, 2, 12, 16, 15), "reply") == "2026-03-11 23:59"


def test_five_working_days_across_new_year_count_the_sunday_worked(hotline, client, clerk):
    """POLICY-REFERENCE.md: 「requests for help 5 [working days]」. Received Wednesday 2025-12-31:
    2026-01-01…01-03 元旦, 01-04 a Sunday worked, 01-05 … 01-08."""
    case = register_on_form(client, clerk, at(2025, 12, 31, 9, 30), nature="help")
    assert due_shown(client, case, at(2025, 12, 31, 9, 35), "reply") == "2026-01-08 23:59"


def test_fifteen_days_to_decide_acceptance_ending_in_spring_festival_roll_to_the_next_working_day(
    petition, client, clerk
):
    """信访工作条例（2022）via POLICY-REFERENCE.md: 「decide acceptance and tell the petitioner in
    writing | 15 days from receipt」; the day of receipt not counted, a last day on a holiday rolls
    to the next working day (民法典 第二百零一条、第二百零三条). Received 2026-02-01: day 15 is
    02-16, inside 春节 (02-15…02-23) → 02-24."""
    case = register_on_form(
        client,
        clerk,
        at(2026, 2, 1, 10, 0),
        channel="letter",
        party_phone="13900001111",
        party_name="王芳",
    )
    assert due_shown(client, case, at(2026, 2, 1, 10, 5), "acceptance") == "2026-02-24 23:59"


def panel_row(client, case, when, stage) -> str:
    """The case page's deadline row for ``stage``, as text."""
    with time_machine.travel(when, tick=False):
        html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    found = re.search(rf'data-stage="{stage}"(.*?)</li>', html, re.S)
    assert found, f"no {stage} deadline on the case page"
    return found.group(1)


def test_the_case_page_states_the_limit_and_its_basis(petition, client, clerk):
    """Visible where it matters: the clerk sees not only the date but how it was counted and the
    rule it comes from (信访工作条例: 15 日, receipt day not counted, a holiday last day rolled)."""
    case = register_on_form(client, clerk, at(2026, 2, 1, 10, 0), channel="letter", party_phone="13900001111")
    row = panel_row(client, case, at(2026, 2, 1, 10, 5), "acceptance")
    basis = re.search(r'class="small text-muted deadline-basis">([^<]+)<', row)
    assert basis, row
    assert basis.group(1) == (
        "15 自然日，自收到诉求起，次日起算；遇节假日顺延 · 依据：信访工作条例（2022）："
        "自收到信访事项之日起 15 日内决定是否受理并书面告知信访人；常见地方规定（回音整理）"
    )
    client.cookies["django_language"] = "en"
    row = panel_row(client, case, at(2026, 2, 1, 10, 5), "acceptance")
    english = re.search(r'class="small text-muted deadline-basis">([^<]+)<', row).group(1)
    assert english.startswith(
        "15 calendar days from Case received, counted from the next day; a last day on a holiday moves to the next "
        "working day · Basis: "
    ), english


def test_a_working_day_limit_running_into_an_unknown_year_says_so_until_the_calendar_is_supplied(
    org, hotline, client, clerk, settings, django_capture_on_commit_callbacks
):
    """The holiday package knows no 2027 (chinesecalendar 1.11: 2004–2026). Received Monday
    2026-12-28, five working days for a request for help: counted Monday to Friday the fifth is
    2027-01-04, though 2027-01-01 is 元旦. The case page says the count may be wrong, the
    administrator sees the year warned on their pages, and once they enter 2027-01-01 as a
    holiday on the calendar page the deadline moves to 01-05 and the note goes."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    case = register_on_form(client, clerk, at(2026, 12, 28, 10, 0), nature="help")
    row = panel_row(client, case, at(2026, 12, 28, 10, 5), "reply")
    assert "2027-01-04 23:59" in row
    assert "内置节假日日历未收录 2027 年：此时限暂按周一至周五计算工作日" in row
    with time_machine.travel(at(2026, 12, 28, 10, 5), tick=False):
        listed = api_as(org, clerk).get(f"/api/v1/cases/{case.pk}/deadlines/").json()
    (reply,) = [d for d in listed if d["stage"] == "reply"]
    assert api_day(reply["due_at"]) == "2027-01-04"
    assert reply["calendar_note"].startswith("内置节假日日历未收录 2027 年")
    admin = make_staff(org, "admin", [Role.ADMIN])
    with time_machine.travel(at(2026, 12, 28, 11, 0), tick=False):
        client.force_login(admin)
        page = client.get(reverse("policy:calendar")).content.decode()
        assert "内置节假日日历尚未收录 2027 年" in page or "内置节假日日历未收录 2027 年" in page
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("policy:calendar"),
                {"date": "2027-01-01", "kind": "holiday", "name": "元旦", "scope": "org"},
            )
        assert response.status_code == 302, response.content.decode()[:2000]
    with time_machine.travel(at(2026, 12, 28, 11, 5), tick=False):
        client.force_login(clerk)
    row = panel_row(client, case, at(2026, 12, 28, 11, 5), "reply")
    assert "2027-01-05 23:59" in row
    assert "内置节假日日历未收录" not in row
    with time_machine.travel(at(2026, 12, 28, 11, 5), tick=False):
        listed = api_as(org, clerk).get(f"/api/v1/cases/{case.pk}/deadlines/").json()
    (reply,) = [d for d in listed if d["stage"] == "reply"]
    assert api_day(reply["due_at"]) == "2027-01-05" and reply["calendar_note"] == ""


def test_a_calendar_day_limit_rolled_forward_into_an_unknown_year_is_flagged_too(petition, client, clerk):
    """信访工作条例 15 日 in calendar days: only its last day depends on the calendar (a holiday
    last day rolls forward), and whether 2027-01-12 is a holiday is not known yet."""
    case = register_on_form(client, clerk, at(2026, 12, 28, 10, 0), channel="letter", party_phone="13900001111")
    row = panel_row(client, case, at(2026, 12, 28, 10, 5), "acceptance")
    assert "2027-01-12 23:59" in row and "内置节假日日历未收录 2027 年" in row
