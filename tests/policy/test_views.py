"""The deadline panel on the case page and on "my desk", suspension and extensions from
the case page, and the policy administration pages, through Django's test client."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from huiyin.deadlines.models import (
    Clock,
    ClockState,
    Extension,
    ExtensionStatus,
    Suspension,
)
from huiyin.deadlines.views.common import humanize, time_left_text
from huiyin.orgs.models import Department
from huiyin.orgs.roles import Role
from huiyin.policy.models import CalendarDay, PolicyVersion
from huiyin.policy.services import current_policy
from huiyin.policy.views.admin import snapshot_yaml
from tests.conftest import intake, make_staff
from tests.stale import refused_as_stale, two_saves

from .conftest import activate, at

pytestmark = pytest.mark.django_db


def page(client, user, url, when=None, *, data=None):
    """GET (or POST ``data``) ``url`` as ``user``, at ``when`` if given (time stands still)."""

    def go():
        client.force_login(user)
        return client.post(url, data) if data is not None else client.get(url)

    if when is None:
        return go()
    with time_machine.travel(when, tick=False):
        return go()


def text(response) -> str:
    return response.content.decode()


def panel(response) -> str:
    html = text(response)
    start = html.index('id="deadline-panel"')
    return html[start : html.index("</ul>", start)]


def clock_item(html: str, stage: str) -> str:
    start = html.rindex("<li", 0, html.index(f'data-stage="{stage}"'))
    return html[start : html.index("</li>", start)]


def detail(case) -> str:
    return reverse("cases:detail", args=[case.pk])


@pytest.fixture
def admin(org):
    return make_staff(org, "admin", [Role.ADMIN])


@pytest.fixture
def hotline_case(org, drive):
    """A 12345 phone complaint registered and accepted at 10:00: its dispatch clock runs 3
    minutes from registration."""
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 10, 0), channel="phone")
    return drive.do(at(2026, 3, 2, 10, 0), "accept", case)


# --- the panel --------------------------------------------------------------------------------


def test_units_are_humanised_in_chinese():
    from datetime import timedelta

    assert humanize(timedelta(hours=2, minutes=15, seconds=7)) == "2小时15分"
    assert humanize(timedelta(days=1, hours=3, minutes=59)) == "1天3小时"
    assert humanize(timedelta(days=2)) == "2天"
    assert humanize(timedelta(minutes=2, seconds=5)) == "2分5秒"
    assert humanize(timedelta(seconds=9)) == "9秒"
    assert time_left_text(timedelta(minutes=-90)) == "已超期 1小时30分"
    assert time_left_text(timedelta(minutes=3)) == "剩余 3分"


def test_hotline_case_page_counts_the_dispatch_minutes_down(client, hotline_case, desk_clerk):
    response = page(client, desk_clerk, detail(hotline_case), at(2026, 3, 2, 10, 0, 45))
    item = clock_item(panel(response), "dispatch")
    assert "派遣" in item and "96310 电话投诉派遣" in item
    assert "剩余 2分15秒" in item and 'data-tone="ok"' in item and "tone-ok" in item
    assert "计时中" in item and "2026-03-02 10:03:00" in item
    assert "等待 desk_clerk 派遣" in item  # before dispatch it waits on the first contact
    assert 'id="deadline-formats"' in text(response)  # the page keeps counting
    assert 'id="raised-urgency"' not in text(response)


def test_an_urgency_keyword_is_named_on_the_panel(client, org, drive, desk_clerk):
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 9, 59), channel="phone", text="幸福路井盖缺失，有人踩空。")
    drive.do(at(2026, 3, 2, 10, 0), "accept", case)
    html = text(page(client, desk_clerk, detail(case), at(2026, 3, 2, 10, 1)))
    assert "含关键词“井盖缺失”，按紧急事项计时" in html


def test_warning_then_overdue_as_time_passes(client, hotline_case, desk_clerk):
    warned = clock_item(panel(page(client, desk_clerk, detail(hotline_case), at(2026, 3, 2, 10, 2, 30))), "dispatch")
    assert 'data-tone="warned"' in warned and "剩余 30秒" in warned  # 75 % of 3 minutes passed
    overdue = clock_item(panel(page(client, desk_clerk, detail(hotline_case), at(2026, 3, 2, 11, 4, 30))), "dispatch")
    assert 'data-tone="overdue"' in overdue and "tone-overdue" in overdue
    assert "已超期 1小时1分" in overdue


def test_stopped_clock_shows_whether_it_was_met(client, hotline_case, drive, departments, desk_clerk):
    drive.do(at(2026, 3, 2, 10, 2), "dispatch", hotline_case, department_id=departments["city"].pk)
    response = page(client, desk_clerk, detail(hotline_case), at(2026, 3, 2, 10, 5))
    assert "按时完成" in clock_item(panel(response), "dispatch")


@pytest.fixture
def petition_case(org, drive, departments):
    """A letter accepted on 03-03 and dispatched to 市容环境科: 60 days to finish."""
    activate(org, "petition_office")
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    drive.do(at(2026, 3, 3, 9), "accept", case)
    return drive.do(at(2026, 3, 3, 10), "dispatch", case, department_id=departments["city"].pk)


def test_who_is_waiting_follows_the_case(client, petition_case, drive, desk_clerk, handler):
    item = clock_item(panel(page(client, desk_clerk, detail(petition_case), at(2026, 3, 3, 11))), "overall")
    assert "等待 市容环境科 办结" in item  # dispatched, nobody has signed for it yet
    drive.do(at(2026, 3, 4, 9), "sign_for", petition_case, actor=handler)
    item = clock_item(panel(page(client, desk_clerk, detail(petition_case), at(2026, 3, 4, 10))), "overall")
    assert "等待 handler 办结" in item and re.search(r"剩余 \d+天\d+小时", item)


def test_no_policy_no_panel_and_older_cases_say_why(client, org, register, clerk):
    case = register()
    assert 'id="deadline-panel"' not in text(page(client, clerk, detail(case)))
    activate(org, "city_hotline")  # cases keep the policy they were registered under: none
    html = text(page(client, clerk, detail(case)))
    assert "未启用时限政策" in html and "deadline-clock" not in html


# --- suspension -------------------------------------------------------------------------------


def test_suspension_needs_a_reason_named_on_the_page(client, hotline_case, desk_clerk):
    url = reverse("deadlines:suspend", args=[hotline_case.pk])
    response = page(client, desk_clerk, url, at(2026, 3, 2, 10, 1), data={"reason": " "})
    assert response.status_code == 400
    assert "挂起原因：请填写挂起原因" in text(response)
    assert re.search(r'data-deadline-action="suspend"\s+open', text(response))
    assert not Suspension.objects.exists()


def test_suspend_and_resume_from_the_case_page(client, hotline_case, desk_clerk):
    case = hotline_case
    html = text(page(client, desk_clerk, detail(case), at(2026, 3, 2, 10, 1)))
    assert reverse("deadlines:suspend", args=[case.pk]) in html
    assert reverse("deadlines:resume", args=[case.pk]) not in html
    response = page(
        client,
        desk_clerk,
        reverse("deadlines:suspend", args=[case.pk]),
        at(2026, 3, 2, 10, 1),
        data={"reason": "等待反映人补充现场照片"},
    )
    assert response.status_code == 302 and response["Location"] == detail(case)
    assert Clock.objects.get(case=case, stage="dispatch").state == ClockState.PAUSED

    paused = page(client, desk_clerk, detail(case), at(2026, 3, 2, 10, 11))
    item = clock_item(panel(paused), "dispatch")
    assert "已挂起" in panel(paused) and "等待反映人补充现场照片" in panel(paused)
    assert "已暂停" in item and "累计暂停 10分" in item and "剩余 2分" in item
    assert "等待 反映人 补充材料" in item
    assert reverse("deadlines:resume", args=[case.pk]) in text(paused)

    response = page(
        client,
        desk_clerk,
        reverse("deadlines:resume", args=[case.pk]),
        at(2026, 3, 2, 10, 11),
        data={"note": "照片已收到"},
    )
    assert response.status_code == 302
    clock = Clock.objects.get(case=case, stage="dispatch")
    assert clock.state == ClockState.RUNNING and clock.due_at == at(2026, 3, 2, 10, 13)
    item = clock_item(panel(page(client, desk_clerk, detail(case), at(2026, 3, 2, 10, 11))), "dispatch")
    assert "计时中" in item and "累计暂停 10分" in item and "剩余 2分" in item


def test_staff_who_cannot_work_on_the_case_get_no_buttons(client, hotline_case, analyst):
    html = text(page(client, analyst, detail(hotline_case), at(2026, 3, 2, 10, 1)))
    assert 'id="deadline-panel"' in html
    assert reverse("deadlines:suspend", args=[hotline_case.pk]) not in html
    response = page(
        client,
        analyst,
        reverse("deadlines:suspend", args=[hotline_case.pk]),
        at(2026, 3, 2, 10, 1),
        data={"reason": "试图挂起"},
    )
    assert response.status_code == 403 and not Suspension.objects.exists()


# --- extensions -------------------------------------------------------------------------------


@pytest.fixture
def hospital_case(org, drive, departments, handler, hospital_offices):
    activate(org, "hospital")
    case = drive.register(at(2026, 3, 2, 9), channel="visit", complainant_kind="outpatient")
    # 首诉负责, no sign-for: the department has it on dispatch
    return drive.do(at(2026, 3, 2, 10), "dispatch", case, department_id=departments["city"].pk)


def test_extension_request_approval_and_no_second_one(client, hospital_case, handler, head, supervisor):
    case = hospital_case
    reply = Clock.objects.get(case=case, stage="reply")
    html = text(page(client, handler, detail(case), at(2026, 3, 6, 10)))
    assert reverse("deadlines:extension_request", args=[case.pk]) in html
    assert "最长延长 7 自然日，由督办员审批；同一事项不得再次延期" in html

    url = reverse("deadlines:extension_request", args=[case.pk])
    too_long = {"clock": reply.pk, "amount": 8, "unit": "days", "reason": "需调取病历"}
    response = page(client, handler, url, at(2026, 3, 6, 10), data=too_long)
    assert response.status_code == 400 and "延长：延期最长 7" in text(response)
    no_reason = {**too_long, "amount": 7, "reason": ""}
    response = page(client, handler, url, at(2026, 3, 6, 10), data=no_reason)
    assert response.status_code == 400 and "延期理由：请填写延期理由" in text(response)
    assert not Extension.objects.exists()

    good = {**too_long, "amount": 7, "reason": "需调取病历并组织专家讨论"}
    response = page(client, handler, url, at(2026, 3, 6, 10), data=good)
    assert response.status_code == 302 and response["Location"] == detail(case)
    ext = Extension.objects.get()
    assert (ext.status, ext.amount, ext.clock_id) == (ExtensionStatus.PENDING, 7, reply.pk)

    # only the preset's approver (the hospital's 行风办: supervisor) is offered the decision
    decide = reverse("deadlines:extension_decide", args=[ext.pk])
    assert decide not in text(page(client, head, detail(case), at(2026, 3, 6, 11)))
    assert decide not in text(page(client, handler, detail(case), at(2026, 3, 6, 11)))
    html = text(page(client, supervisor, detail(case), at(2026, 3, 6, 11)))
    assert decide in html and "需调取病历并组织专家讨论" in html and "延期待审批" in html
    response = page(client, head, decide, at(2026, 3, 6, 11), data={"decision": "approve"})
    ext.refresh_from_db()
    assert ext.status == ExtensionStatus.PENDING  # refused: not the approver

    response = page(
        client,
        supervisor,
        decide,
        at(2026, 3, 7, 9),
        data={"decision": "approve", f"x{ext.pk}-note": "同意"},
    )
    assert response.status_code == 302
    ext.refresh_from_db()
    assert ext.status == ExtensionStatus.APPROVED and ext.decision_note == "同意"
    item = clock_item(panel(page(client, handler, detail(case), at(2026, 3, 7, 9))), "reply")
    assert "已延期 1 次" in item and "延至 2026-03-16" in item and "已批准" in item

    # the hospital forbids a second postponement of the same matter
    html = text(page(client, handler, detail(case), at(2026, 3, 10, 10)))
    assert "当前没有可以申请延期的时限" in html or f'value="{reply.pk}"' not in html
    again = {**good, "amount": 1, "reason": "还需要时间"}
    response = page(client, handler, url, at(2026, 3, 10, 10), data=again)
    assert response.status_code == 400 and "同一事项已延期一次，不得再次延期" in text(response)
    assert Extension.objects.count() == 1


def test_extension_by_new_due_date_and_rejection(client, hospital_case, handler, supervisor):
    case = hospital_case
    reply = Clock.objects.get(case=case, stage="reply")
    assert reply.due_at.date().isoformat() == "2026-03-09"
    response = page(
        client,
        handler,
        reverse("deadlines:extension_request", args=[case.pk]),
        at(2026, 3, 3, 9),
        data={"clock": reply.pk, "unit": "days", "new_due": "2026-03-12", "reason": "等待检验结果"},
    )
    assert response.status_code == 302
    ext = Extension.objects.get()
    assert ext.amount == 3
    response = page(
        client,
        supervisor,
        reverse("deadlines:extension_decide", args=[ext.pk]),
        at(2026, 3, 3, 10),
        data={"decision": "reject", f"x{ext.pk}-note": "理由不足"},
    )
    assert response.status_code == 302
    ext.refresh_from_db()
    reply.refresh_from_db()
    assert ext.status == ExtensionStatus.REJECTED and reply.due_at.date().isoformat() == "2026-03-09"
    item = clock_item(panel(page(client, handler, detail(case), at(2026, 3, 3, 10))), "reply")
    assert "未批准" in item and "理由不足" in item


def test_extension_needs_an_amount_or_a_new_due_time(client, hospital_case, handler):
    reply = Clock.objects.get(case=hospital_case, stage="reply")
    response = page(
        client,
        handler,
        reverse("deadlines:extension_request", args=[hospital_case.pk]),
        at(2026, 3, 3, 9),
        data={"clock": reply.pk, "unit": "days", "reason": "等待检验结果"},
    )
    assert response.status_code == 400 and "延长：请填写延长多少" in text(response)


# --- my desk ----------------------------------------------------------------------------------


def test_desk_lists_my_warned_and_overdue_clocks(client, hotline_case, desk_clerk, other_handler):
    quiet = text(page(client, desk_clerk, reverse("cases:desk"), at(2026, 3, 2, 10, 0, 30)))
    assert "时限提醒" in quiet and 'id="deadline-alert-count">0<' in quiet
    html = text(page(client, desk_clerk, reverse("cases:desk"), at(2026, 3, 2, 10, 5)))
    section = html[html.index('id="desk-deadlines"') :]
    section = section[: section.index("</table>")]
    assert hotline_case.number in section and "已超期 2分" in section
    assert 'id="deadline-alert-count">1<' in section and "其中 1 项已超期" in section
    other = text(page(client, other_handler, reverse("cases:desk"), at(2026, 3, 2, 10, 5)))
    assert hotline_case.number not in other


def test_department_heads_see_their_departments_overdue_cases(client, petition_case, head, other_handler):
    when = at(2026, 5, 20)  # past the 60 days counted from 03-04 (the day after acceptance)
    html = text(page(client, head, reverse("cases:desk"), when))
    section = html[html.index('id="desk-deadlines"') :]
    assert petition_case.number in section and "已超期" in section and "等待 市容环境科 办结" in section
    assert petition_case.number not in text(page(client, other_handler, reverse("cases:desk"), when))


def test_desk_shows_a_warning_before_it_is_overdue(client, hotline_case, desk_clerk):
    html = text(page(client, desk_clerk, reverse("cases:desk"), at(2026, 3, 2, 10, 2, 30)))
    section = html[html.index('id="desk-deadlines"') :]
    assert 'data-tone="warned"' in section and "剩余 30秒" in section


# --- policy administration --------------------------------------------------------------------


def test_policy_page_shows_the_running_policy(client, org, admin):
    activate(org, "city_hotline")
    response = page(client, admin, reverse("policy:index"))
    html = text(response)
    assert response.status_code == 200
    assert "12345/96310 城市管理热线" in html and "city_hotline:1" in html
    assert "96310 电话投诉派遣" in html and "3 分钟" in html and "自收到诉求起" in html
    assert "办案负责人（值班负责人）" in html  # the escalation chain
    assert 'value="hospital"' in html  # the shipped presets to load


def test_policy_page_names_the_departments_the_policy_needs_and_lacks(client, org, admin):
    """The city hotline's online complaints are accepted only by the department coded office
    (办公室网络维护工作人员): without one, nobody could accept them — the page says so."""
    activate(org, "city_hotline")
    html = text(page(client, admin, reverse("policy:index")))
    warning = html[
        html.index('id="missing-departments"') : html.index("</div>", html.index('id="missing-departments"'))
    ]
    assert (
        "<code>office</code>（办公室网络维护工作人员）" in warning and reverse("administration:departments") in warning
    )
    Department.objects.create(organization=org, code="office", name="办公室")
    assert 'id="missing-departments"' not in text(page(client, admin, reverse("policy:index")))
    activate(org, "hospital")  # its receiving offices for outpatients and inpatients
    warning = text(page(client, admin, reverse("policy:index")))
    assert "<code>outpatient_dept</code>（门诊部）" in warning and "<code>medical_affairs</code>（医务科）" in warning


def test_only_administrators_manage_policies(client, org, clerk, leader):
    activate(org, "city_hotline")
    for user in (clerk, leader):
        assert page(client, user, reverse("policy:index")).status_code == 403
        assert page(client, user, reverse("policy:edit")).status_code == 403
        assert page(client, user, reverse("policy:calendar")).status_code == 403
        response = page(client, user, reverse("policy:load"), data={"preset": "hospital"})
        assert response.status_code == 403
    assert PolicyVersion.objects.count() == 1


def test_loading_a_preset_activates_a_new_version(client, org, admin):
    activate(org, "city_hotline")
    response = page(client, admin, reverse("policy:load"), data={"preset": "hospital", "note": "试运行"})
    assert response.status_code == 302
    running = current_policy(org)
    assert (running.version, running.preset_name, running.created_by) == (2, "hospital", admin)
    assert running.note == "试运行" and running.source == "hospital.yaml"
    org.refresh_from_db()
    assert org.preset == "hospital"
    html = text(page(client, admin, reverse("policy:index")))
    assert "已启用预设" in html or "医院" in html
    # the same preset again changes nothing
    response = page(client, admin, reverse("policy:load"), data={"preset": "hospital"})
    assert PolicyVersion.objects.count() == 2
    # an unknown preset name is refused by the form
    response = page(client, admin, reverse("policy:load"), data={"preset": "../etc/passwd"})
    assert response.status_code == 400 and "预设：" in text(response)
    assert PolicyVersion.objects.count() == 2


def test_invalid_policy_edit_names_line_and_key_and_changes_nothing(client, org, admin):
    activate(org, "city_hotline")
    initial = page(client, admin, reverse("policy:edit")).context["form"].initial
    form_text, version = initial["text"], initial["version"]
    assert "name: city_hotline" in form_text
    broken = form_text.replace("unit: minutes", "unit: minute", 1)
    line = broken.splitlines().index(next(x for x in broken.splitlines() if x.strip() == "unit: minute")) + 1
    response = page(client, admin, reverse("policy:edit"), data={"text": broken, "note": "改单位", "version": version})
    html = text(response)
    assert response.status_code == 400
    assert "现行政策没有改变" in html
    assert f"第 {line} 行" in html and "city_hotline.yaml" in html
    # In the Chinese interface the problem is in Chinese (preset_messages), not the loader's English.
    assert "deadlines[0].unit" in html and "unit的取值“minute”无效" in html and "unknown unit" not in html
    assert "unit: minute" in html  # the administrator's text is kept
    assert PolicyVersion.objects.count() == 1 and current_policy(org).version == 1

    unitless = form_text.replace("amount: 3", "amount: 3 minutes", 1)
    response = page(client, admin, reverse("policy:edit"), data={"text": unitless, "version": version})
    assert response.status_code == 400 and "deadlines[0].amount" in text(response)
    assert PolicyVersion.objects.count() == 1


def test_valid_policy_edit_activates_a_new_version(client, org, admin):
    activate(org, "city_hotline")
    initial = page(client, admin, reverse("policy:edit")).context["form"].initial
    edited = initial["text"].replace("amount: 3", "amount: 5", 1)
    data = {"text": edited, "note": "放宽派遣时限", "version": initial["version"]}
    response = page(client, admin, reverse("policy:edit"), data=data)
    assert response.status_code == 302
    running = current_policy(org)
    assert running.version == 2 and running.note == "放宽派遣时限"
    assert running.preset().deadlines[0].amount == 5
    # saving the unchanged text makes no new version
    initial = page(client, admin, reverse("policy:edit")).context["form"].initial
    page(client, admin, reverse("policy:edit"), data={"text": initial["text"], "version": initial["version"]})
    assert PolicyVersion.objects.count() == 2


def test_generated_yaml_loads_back_to_the_same_policy(org):
    from huiyin.policy.presets import load_preset_text

    for name in ("city_hotline", "hospital", "petition_office", "property_management"):
        version = activate(org, name)
        assert load_preset_text(snapshot_yaml(version.snapshot), "x.yaml").to_dict() == version.snapshot


def test_roll_back_to_an_earlier_version(client, org, admin):
    activate(org, "city_hotline")
    page(client, admin, reverse("policy:load"), data={"preset": "hospital"})
    response = page(client, admin, reverse("policy:withdraw", args=[2]), data={})
    assert response.status_code == 302
    assert current_policy(org).version == 1
    assert not PolicyVersion.objects.get(organization=org, version=2).active
    # the only active version cannot be withdrawn
    page(client, admin, reverse("policy:withdraw", args=[1]), data={})
    assert current_policy(org).version == 1
    # an older version can be made the running one again (as a new version)
    page(client, admin, reverse("policy:reactivate", args=[2]), data={})
    running = current_policy(org)
    assert (running.version, running.preset_name) == (3, "hospital")


# --- calendar ---------------------------------------------------------------------------------


def test_calendar_days_are_added_and_removed_with_named_errors(client, org, admin):
    url = reverse("policy:calendar")
    response = page(
        client,
        admin,
        url,
        data={"date": "2027-10-09", "kind": "workday", "name": "", "scope": "org"},
    )
    assert response.status_code == 400 and "名称：请填写名称" in text(response)
    response = page(
        client,
        admin,
        url,
        data={"date": "2027-13-01", "kind": "workday", "name": "x", "scope": "org"},
    )
    assert response.status_code == 400 and "日期：" in text(response)
    response = page(
        client,
        admin,
        url,
        data={"date": "2027-10-09", "kind": "workday", "name": "调休上班", "scope": "global"},
    )
    assert response.status_code == 400 and "适用范围：" in text(response)  # only superusers: global
    assert not CalendarDay.objects.exists()

    data = {"date": "2027-10-09", "kind": "workday", "name": "调休上班", "scope": "org"}
    assert page(client, admin, url, data=data).status_code == 302
    response = page(client, admin, url, data={**data, "kind": "holiday", "name": "闭馆"})
    assert response.status_code == 400 and "日期：2027-10-09 已设为" in text(response)
    CalendarDay.objects.create(organization=None, date="2027-10-01", kind="holiday", name="国庆节")
    html = text(page(client, admin, f"{url}?year=2027"))
    assert 'data-date="2027-10-09" data-scope="org"' in html and "调休上班" in html
    assert 'data-date="2027-10-01" data-scope="global"' in html and "国庆节" in html

    remove = reverse("policy:calendar_remove")
    assert page(client, admin, remove, data={"date": "2027-10-09", "scope": "org"}).status_code == 302
    assert not CalendarDay.objects.filter(organization=org).exists()
    page(client, admin, remove, data={"date": "2027-10-01", "scope": "global"})
    assert CalendarDay.objects.filter(organization=None).exists()  # not theirs to remove


def test_a_refused_action_the_page_no_longer_offers_comes_back_as_a_message(client, org, drive, desk_clerk):
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 9, 59), channel="phone")
    drive.do(at(2026, 3, 2, 10, 1), "not_accept", case, ground="out_of_scope", refer_to="区住建局")
    response = page(
        client,
        desk_clerk,
        reverse("deadlines:suspend", args=[case.pk]),
        at(2026, 3, 2, 10, 2),
        data={"reason": "等待材料"},
    )
    assert response.status_code == 302
    html = text(page(client, desk_clerk, detail(case), at(2026, 3, 2, 10, 2)))
    assert "不在办理中" in html and not Suspension.objects.exists()


# --- the public status page (the panel seam with a public filter) ------------------------------


def test_public_status_page_shows_next_steps_and_own_letters_but_no_staff(client, org, drive, desk_clerk):
    from huiyin.cases import services as case_services
    from huiyin.handling.models import Document, DocumentStatus

    activate(org, "city_hotline")
    with time_machine.travel(at(2026, 3, 2, 10, 0), tick=False):
        case, code = case_services.case_register(actor=desk_clerk, data=intake())
    drive.do(at(2026, 3, 2, 10, 0), "accept", case)
    Document.objects.create(
        case=case,
        round=1,
        kind="acceptance_notice",
        number=f"{case.number}-1",
        title="受理告知书",
        to_party=case.party,
        body="内部正文",
        status=DocumentStatus.ISSUED,
        created_by=desk_clerk,
        created_at=at(2026, 3, 2, 10, 1),
    )
    Document.objects.create(
        case=case,
        round=1,
        kind="result_report",
        number=f"{case.number}-2",
        title="查处结果报告",
        addressee="上级机关",
        body="内部",
        status=DocumentStatus.DRAFT,
        created_by=desk_clerk,
        created_at=at(2026, 3, 2, 10, 2),
    )
    with time_machine.travel(at(2026, 3, 2, 10, 1), tick=False):
        html = text(client.post(reverse("public:status"), {"number": case.number, "code": code}))
    assert "下一步" in html and "2026-03-02 10:03" in html  # the dispatch due in plain words
    assert "受理告知书" in html and f"{case.number}-1" in html
    assert "查处结果报告" not in html and "内部正文" not in html
    assert str(desk_clerk) not in html and desk_clerk.username not in html


def _next_steps(client, case, code, when, language="zh-hans") -> str:
    client.cookies["django_language"] = language
    with time_machine.travel(when, tick=False):
        html = text(client.post(reverse("public:status"), {"number": case.number, "code": code}))
    return html[html.index("public-next-steps") :]


def test_the_next_steps_say_what_each_running_time_limit_promises_before_and_after_acceptance(
    client, org, drive, desk_clerk
):
    """Before the case is accepted nothing is "being handled": a hotline call's running
    limits are its dispatch and its answer; once dispatched, the department's sign-for and
    the answer; a petition's first limit is being told whether it is accepted. In both
    languages."""
    from huiyin.cases import services as case_services

    activate(org, "city_hotline")
    with time_machine.travel(at(2026, 3, 2, 10, 0), tick=False):
        case, code = case_services.case_register(actor=desk_clerk, data=intake())
    steps = _next_steps(client, case, code, at(2026, 3, 2, 10, 1))
    assert "交承办部门办理，预计 2026-03-02 10:03 前" in steps and "答复您，预计" in steps
    assert "正在办理" not in steps
    late = _next_steps(client, case, code, at(2026, 3, 2, 10, 5))  # past its due time: said so
    assert "交承办部门办理，原定 2026-03-02 10:03 前，已超时" in late and "预计 2026-03-02 10:03" not in late
    english = _next_steps(client, case, code, at(2026, 3, 2, 10, 1), "en")
    assert "Passed to the department that handles it, expected by 2026-03-02 10:03" in english
    assert "You receive an answer, expected by" in english

    department = Department.objects.create(organization=org, code="city", name="城管")
    drive.do(at(2026, 3, 2, 10, 2), "accept", case)
    drive.do(at(2026, 3, 2, 10, 2), "dispatch", case, department_id=department.pk)
    steps = _next_steps(client, case, code, at(2026, 3, 2, 10, 3))
    assert "承办部门签收，预计" in steps and "答复您" in steps and "交承办部门办理" not in steps

    activate(org, "petition_office")
    with time_machine.travel(at(2026, 3, 3, 10, 0), tick=False):
        petition, petition_code = case_services.case_register(actor=desk_clerk, data=intake(channel="letter"))
    steps = _next_steps(client, petition, petition_code, at(2026, 3, 3, 10, 1))
    assert "告知您是否受理，预计" in steps and "正在办理" not in steps


def test_every_stage_a_preset_may_time_has_its_own_public_next_step():
    from huiyin.deadlines.panels import PUBLIC_OWN_STAGE_TEXT, PUBLIC_STAGE_TEXT
    from huiyin.policy.labels import STAGE_LABELS
    from huiyin.policy.services import presets_dir

    stages = set(STAGE_LABELS)
    for preset in presets_dir().glob("*.yaml"):
        stages |= set(re.findall(r"^\s*- stage: (\w+)", preset.read_text(encoding="utf-8"), re.M))
    assert stages - set(PUBLIC_STAGE_TEXT) - set(PUBLIC_OWN_STAGE_TEXT) == set()


def test_the_second_of_two_policy_edits_is_refused(org, admin):
    """Two administrators open the policy editor; the first saves a new version. The second's
    save, made on the page of the version it replaced, is refused: the first's policy runs."""
    activate(org, "city_hotline")
    admin_2 = make_staff(org, "admin_2", [Role.ADMIN])
    first, second = Client(), Client()
    first.force_login(admin)
    second.force_login(admin_2)
    url = reverse("policy:edit")
    text = first.get(url).context["form"].initial["text"]
    amounts = {"first": "amount: 5", "second": "amount: 7"}
    saves = two_saves(
        first,
        second,
        page=url,
        data=lambda who: {"text": text.replace("amount: 3", amounts[who], 1), "note": who},
    )
    assert saves.first.status_code == 302
    assert refused_as_stale(saves.second)
    assert "amount: 7" in saves.second.content.decode()  # the second's text is kept to compare
    running = current_policy(org)
    assert (running.version, running.note, running.preset().deadlines[0].amount) == (2, "first", 5)
    assert PolicyVersion.objects.count() == 2
