"""Time-travel tests of each preset's timers: clocks started by the lifecycle, then the
sweeper run at chosen instants (warnings, overdue notices, escalations, F13)."""

from __future__ import annotations

import pytest

from huiyin.cases.models import Category, Event
from huiyin.core.models import Notification
from huiyin.deadlines.events import DeadlineEvent
from huiyin.deadlines.models import Clock, ClockAction, ClockState, StopReason
from huiyin.handling.services import (
    document_issue,
    investigation_add,
    rectification_notify,
    rectification_plan_receive,
)
from huiyin.orgs.roles import Role
from tests.conftest import make_staff

from .conftest import activate, at, construction_approved

pytestmark = pytest.mark.django_db


def end_of(y, m, d):
    return at(y, m, d, 23, 59, 59).replace(microsecond=999999)


def steps(clock):
    return list(ClockAction.objects.filter(clock=clock).order_by("id").values_list("action", "level", "role"))


def desk(person):
    return list(Notification.objects.filter(recipient=person).order_by("id").values_list("key", flat=True))


# --- 12345 / 96310 hotline -----------------------------------------------------------------


def test_hotline_dispatch_clock_warns_goes_overdue_and_escalates(org, drive, desk_clerk, duty_head, leader):
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 10, 0, 0), channel="phone")
    # the 96310 dispatch clock runs from registration (the answer's 15 working days beside it)
    assert set(Clock.objects.filter(case=case).values_list("stage", flat=True)) == {"dispatch", "reply"}
    drive.do(at(2026, 3, 2, 10, 0, 0), "accept", case)
    clock = Clock.objects.get(case=case, stage="dispatch")
    assert clock.due_at == at(2026, 3, 2, 10, 3, 0)
    assert clock.warn_at == at(2026, 3, 2, 10, 2, 15)
    assert clock.next_action_at == clock.warn_at

    assert drive.sweep(at(2026, 3, 2, 10, 2, 14)).total_actions == 0
    assert drive.sweep(at(2026, 3, 2, 10, 2, 16)).actions == {"warn": 1}
    assert drive.sweep(at(2026, 3, 2, 10, 3, 0)).actions == {"overdue": 1}  # due time reached
    clock.refresh_from_db()
    assert clock.overdue_at == at(2026, 3, 2, 10, 3, 0)
    assert desk(desk_clerk) == [f"clock:{clock.pk}:warn:0", f"clock:{clock.pk}:overdue:0"]

    assert drive.sweep(at(2026, 3, 2, 10, 32, 59)).total_actions == 0
    assert drive.sweep(at(2026, 3, 2, 10, 33, 1)).actions == {"escalate": 1}
    assert desk(duty_head) == [f"clock:{clock.pk}:escalate:2"]  # the intake desk's duty head
    assert desk(leader) == []
    assert drive.sweep(at(2026, 3, 2, 12, 3, 1)).actions == {"escalate": 1}
    assert desk(leader) == [f"clock:{clock.pk}:escalate:3"]
    assert drive.sweep(at(2026, 3, 9)).total_actions == 0

    assert steps(clock) == [
        ("warn", 0, "handler"),
        ("overdue", 0, "handler"),
        ("escalate", 2, "dept_head"),
        ("escalate", 3, "leader"),
    ]
    kinds = list(
        Event.objects.filter(
            case=case,
            kind__in=[DeadlineEvent.DEADLINE_WARNING, DeadlineEvent.DEADLINE_OVERDUE, DeadlineEvent.ESCALATED],
        ).values_list("kind", "data")
    )
    assert [k for k, _ in kinds] == [
        "deadline_warning",
        "deadline_overdue",
        "escalated",
        "escalated",
    ]
    overdue = kinds[1][1]
    assert overdue["stage"] == "dispatch" and overdue["recipients"] == [desk_clerk.pk]
    assert overdue["due_at"].startswith("2026-03-02T10:03:00")
    assert kinds[3][1]["role"] == "leader" and kinds[3][1]["recipients"] == [leader.pk]
    clock.refresh_from_db()
    assert clock.next_action_at is None and clock.escalation_level == 3


def test_hotline_late_sweeper_skips_the_warning_and_catches_up(org, drive, desk_clerk, duty_head, leader):
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 9, 59), channel="phone")
    drive.do(at(2026, 3, 2, 10, 0, 0), "accept", case)
    # the sweeper was down for three hours: overdue and both escalations in one pass, no warning
    result = drive.sweep(at(2026, 3, 2, 13, 0))
    assert result.actions == {"overdue": 1, "escalate": 2}
    assert [a for a, *_ in steps(Clock.objects.get(case=case, stage="dispatch"))] == [
        "overdue",
        "escalate",
        "escalate",
    ]


def test_hotline_dispatched_in_time_is_never_overdue(org, drive, departments):
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 9, 59), channel="phone")
    drive.do(at(2026, 3, 2, 10, 0), "accept", case)
    drive.do(at(2026, 3, 2, 10, 1, 50), "dispatch", case, department_id=departments["city"].pk)
    clock = Clock.objects.get(case=case, stage="dispatch")
    assert (clock.state, clock.stop_reason, clock.met) == (
        ClockState.STOPPED,
        StopReason.DONE,
        True,
    )
    assert drive.sweep(at(2026, 3, 2, 11)).total_actions == 0


def test_hotline_dispatch_clock_only_for_phone_cases(org, drive):
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    drive.do(at(2026, 3, 2, 10), "accept", case)
    assert not Clock.objects.filter(case=case, stage="dispatch").exists()


def test_send_back_restarts_the_dispatch_clock(org, drive, departments, head):
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 9), channel="phone")
    drive.do(at(2026, 3, 2, 10), "accept", case)
    drive.do(at(2026, 3, 2, 10, 1), "dispatch", case, department_id=departments["city"].pk)
    drive.do(at(2026, 3, 2, 11), "send_back", case, actor=head, reason="不属于本部门")
    clocks = list(Clock.objects.filter(case=case, stage="dispatch").order_by("id"))
    assert [c.state for c in clocks] == [ClockState.STOPPED, ClockState.RUNNING]
    assert clocks[1].due_at == at(2026, 3, 2, 11, 3)


def test_dispatcher_due_time_becomes_a_reply_clock(org, drive, departments):
    """Earlier than the preset's answer limit (15 working days), the dispatcher's 交办时限
    replaces it; a redispatch without one puts the preset's limit back as it was."""
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 9), channel="phone")
    preset_due = Clock.objects.get(case=case, stage="reply").due_at
    drive.do(at(2026, 3, 2, 10), "accept", case)
    drive.do(
        at(2026, 3, 2, 10, 1),
        "dispatch",
        case,
        department_id=departments["city"].pk,
        due_at=at(2026, 3, 4, 18),
    )
    reply = Clock.objects.get(case=case, stage="reply", state=ClockState.RUNNING)
    assert reply.due_at == at(2026, 3, 4, 18) and reply.label == "交办时限"
    case.refresh_from_db()
    assert case.promised_due_at == at(2026, 3, 4, 18)
    drive.do(at(2026, 3, 2, 11), "redispatch", case, department_id=departments["traffic"].pk)
    reply = Clock.objects.get(case=case, stage="reply", state=ClockState.RUNNING)
    assert reply.due_at == preset_due and reply.rule["source"] != "manual"


def test_a_later_dispatcher_due_time_leaves_the_preset_limit(org, drive, departments):
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 9), channel="phone")
    preset_due = Clock.objects.get(case=case, stage="reply").due_at
    drive.do(at(2026, 3, 2, 10), "accept", case)
    drive.do(at(2026, 3, 2, 10, 1), "dispatch", case, department_id=departments["city"].pk, due_at=at(2026, 5, 4, 18))
    (reply,) = Clock.objects.filter(case=case, stage="reply")
    assert reply.state == ClockState.RUNNING and reply.due_at == preset_due


# --- petition office -----------------------------------------------------------------------


def test_petition_acceptance_before_a_holiday_counts_from_the_next_day(org, drive):
    activate(org, "petition_office")
    case = drive.register(at(2026, 9, 30, 16), channel="letter")
    clock = Clock.objects.get(case=case, stage="acceptance")
    assert clock.due_at == end_of(2026, 10, 15)
    case.refresh_from_db()
    assert case.policy_version == "petition_office:1"
    assert case.stage_switches["acceptance_decision"] is True and case.stage_switches["approval"] is True
    # the receipt promises the 60-day limit (estimated from receipt until the case is accepted)
    assert case.promised_due_at == end_of(2026, 11, 30)


def test_petition_acceptance_ending_on_a_holiday_rolls_forward(org, drive, desk_clerk, duty_head, leader):
    activate(org, "petition_office")
    case = drive.register(at(2026, 9, 16, 9), channel="letter")
    clock = Clock.objects.get(case=case, stage="acceptance")
    assert clock.due_at == end_of(2026, 10, 8)  # day 15 = 10-01, National Day → 10-08
    assert drive.sweep(at(2026, 10, 8, 23)).actions == {"warn": 1}
    assert drive.sweep(at(2026, 10, 9, 0, 0, 1)).actions == {"overdue": 1}
    # dept head one working day after the due date (10-09 is Friday), leader three
    assert drive.sweep(at(2026, 10, 9, 23)).total_actions == 0
    assert drive.sweep(at(2026, 10, 10, 0, 0, 1)).actions == {"escalate": 1}
    assert desk(duty_head)
    # 3 workdays after 10-08: 10-09 (Fri), 10-10 (调休 Saturday), 10-12 (Mon)
    assert drive.sweep(at(2026, 10, 12, 23)).total_actions == 0
    assert drive.sweep(at(2026, 10, 13, 0, 0, 1)).actions == {"escalate": 1}
    assert desk(leader)


def test_petition_accept_starts_the_60_day_clock_and_moves_the_promise(org, drive):
    activate(org, "petition_office")
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    drive.do(at(2026, 3, 10, 11), "accept", case)
    acceptance = Clock.objects.get(case=case, stage="acceptance")
    assert acceptance.state == ClockState.RUNNING  # decided; the petitioner is still to be told in writing
    drive.call(at(2026, 3, 11, 9), document_issue, actor=drive.clerk, case_id=case.pk, kind="acceptance_notice")
    acceptance.refresh_from_db()
    assert acceptance.state == ClockState.STOPPED and acceptance.met
    overall = Clock.objects.get(case=case, stage="overall")
    assert overall.due_at == end_of(2026, 5, 9)  # 03-10 + 60 = 05-09, a 调休 Saturday: a working day
    case.refresh_from_db()
    assert case.promised_due_at == overall.due_at


def test_not_accepted_stops_every_clock_once_the_petitioner_is_told_in_writing(org, drive):
    activate(org, "petition_office")
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    drive.do(at(2026, 3, 5, 9), "not_accept", case, ground="legal_procedure", refer_to="court")
    clock = Clock.objects.get(case=case)
    assert clock.stage == "acceptance" and clock.state == ClockState.RUNNING
    drive.call(at(2026, 3, 6, 9), document_issue, actor=drive.clerk, case_id=case.pk, kind="not_accepted_notice")
    clock.refresh_from_db()
    assert (clock.state, clock.stop_reason) == (ClockState.STOPPED, StopReason.DONE)
    assert drive.sweep(at(2026, 12, 1)).total_actions == 0


def test_reopen_starts_new_round_clocks(org, drive, departments, handler, head, leader):
    activate(org, "petition_office")
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    drive.do(at(2026, 3, 3, 9), "accept", case)
    drive.do(at(2026, 3, 3, 10), "dispatch", case, department_id=departments["city"].pk)
    drive.do(at(2026, 3, 4, 9), "sign_for", case, actor=handler)
    drive.do(at(2026, 3, 5, 9), "submit_for_approval", case, actor=handler, proposal="拟答复", outcome="resolved")
    drive.do(at(2026, 3, 6, 9), "approve", case, actor=head, comments="同意")
    drive.do(at(2026, 3, 6, 10), "approve", case, actor=leader, comments="同意")
    drive.do(at(2026, 3, 6, 11), "reply", case, actor=handler, reply="答复意见", method="letter")
    assert not Clock.objects.filter(case=case, state=ClockState.RUNNING).exists()
    drive.do(at(2026, 3, 20, 9), "reopen", case, actor=leader, reason="反映人不满意")
    assert list(Clock.objects.filter(case=case, state=ClockState.RUNNING).values_list("round", "stage")) == [
        (2, "overall")
    ]
    assert Clock.objects.get(case=case, round=2).due_at == end_of(2026, 5, 19)


# --- construction-quality station ----------------------------------------------------------


def test_construction_handover_within_24_hours(org, drive, departments, duty_head, handler):
    activate(org, "construction_station")
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    clock = Clock.objects.get(case=case, stage="handover")
    assert clock.due_at == at(2026, 3, 3, 9)
    assert drive.sweep(at(2026, 3, 3, 8, 59)).actions == {"warn": 1}
    assert drive.sweep(at(2026, 3, 3, 9, 0, 1)).actions == {"overdue": 1}
    drive.do(at(2026, 3, 3, 10), "accept", case)
    drive.do(at(2026, 3, 3, 10, 30), "dispatch", case, department_id=departments["city"].pk, handler_id=handler.pk)
    clock.refresh_from_db()
    assert (clock.state, clock.met, clock.next_action_at) == (ClockState.STOPPED, False, None)
    assert drive.sweep(at(2026, 3, 10)).total_actions == 0  # handed over: no escalation follows
    assert not desk(duty_head)


def test_construction_rectification_plan_two_weeks_after_notice(org, drive, departments, handler, leader):
    activate(org, "construction_station")
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    drive.do(at(2026, 3, 2, 10), "accept", case)
    drive.do(at(2026, 3, 2, 11), "dispatch", case, department_id=departments["city"].pk, handler_id=handler.pk)
    construction_approved(drive, at(2026, 3, 5, 14), case, handler=handler, leader=leader)
    notice = drive.call(
        at(2026, 3, 5, 15),
        rectification_notify,
        actor=handler,
        case_id=case.pk,
        unit="某建筑公司",
    )
    plan = Clock.objects.get(case=case, stage="rectification_plan")
    assert plan.due_at == end_of(2026, 3, 19)
    assert notice.plan_due_at == plan.due_at  # printed on the 整改通知书
    drive.call(
        at(2026, 3, 18, 10),
        rectification_plan_receive,
        actor=handler,
        rectification_id=notice.pk,
        plan_text="加固方案：三日内进场。",
    )
    plan.refresh_from_db()
    assert plan.state == ClockState.STOPPED and plan.met


# --- hospital ------------------------------------------------------------------------------


def test_hospital_reply_in_7_days_and_never_past_14(org, drive, departments, handler, hospital_offices):
    activate(org, "hospital")
    case = drive.register(at(2026, 3, 2, 9), channel="visit", complainant_kind="outpatient")
    drive.do(at(2026, 3, 2, 10), "dispatch", case, department_id=departments["city"].pk)
    reply = Clock.objects.get(case=case, stage="reply")
    overall = Clock.objects.get(case=case, stage="overall")
    assert reply.due_at == end_of(2026, 3, 9)
    assert overall.due_at == end_of(2026, 3, 16)
    case.refresh_from_db()
    assert case.promised_due_at == overall.due_at
    # reply overdue; its warning (due on 03-08) was never sent by this late sweeper
    assert drive.sweep(at(2026, 3, 10, 0, 0, 1)).actions == {"overdue": 1}
    drive.call(at(2026, 3, 11, 8), investigation_add, actor=handler, case_id=case.pk, kind="phone", text="电话核实。")
    drive.call(
        at(2026, 3, 11, 8), investigation_add, actor=handler, case_id=case.pk, kind="statement", text="书面说明。"
    )
    drive.do(at(2026, 3, 11, 9), "reply", case, actor=handler, reply="已处理")
    assert not Clock.objects.filter(case=case, state=ClockState.RUNNING).exists()  # callback stage off
    overall.refresh_from_db()
    reply.refresh_from_db()
    assert (overall.met, reply.met) == (True, False)


# --- property management -------------------------------------------------------------------


def test_property_urgent_keyword_gives_24_hours_and_water_leak_callback(org, drive, departments, handler):
    activate(org, "property_management")
    leak = Category.objects.create(organization=org, name="water_leak", full_name="water_leak")
    case = drive.register(at(2026, 3, 2, 9), channel="phone", text="小区停水两天了，没人管。", category_id=leak.pk)
    reply = Clock.objects.get(case=case, stage="reply")
    assert reply.rule["context"]["urgency"] == "urgent" and reply.rule["context"]["urgency_keyword"] == "停水"
    assert reply.due_at == at(2026, 3, 3, 9)
    overall = Clock.objects.get(case=case, stage="overall")
    assert overall.due_at == end_of(2026, 3, 4)
    assert overall.warn_at == at(2026, 3, 2, 9) + (overall.due_at - at(2026, 3, 2, 9)) * 0.5
    drive.do(at(2026, 3, 2, 10), "dispatch", case, department_id=departments["city"].pk)
    drive.do(at(2026, 3, 2, 11), "sign_for", case, actor=handler)
    drive.do(at(2026, 3, 2, 17), "reply", case, actor=handler, reply="已恢复供水", remedy="更换破裂水管")
    callback = Clock.objects.get(case=case, stage="callback")
    assert callback.due_at == end_of(2026, 3, 5)  # 漏水：三天内回访


def test_property_normal_reply_counts_from_dispatch(org, drive, departments):
    activate(org, "property_management")
    case = drive.register(at(2026, 3, 2, 9), channel="phone", text="楼道灯坏了。")
    assert not Clock.objects.filter(case=case, stage="reply").exists()
    drive.do(at(2026, 3, 2, 15), "dispatch", case, department_id=departments["city"].pk)
    assert Clock.objects.get(case=case, stage="reply").due_at == end_of(2026, 3, 5)


def test_raising_urgency_by_edit_moves_the_reply_clock(org, drive, departments):
    from huiyin.cases.services import case_update

    activate(org, "property_management")
    case = drive.register(at(2026, 3, 2, 9), channel="phone", text="楼道灯坏了。")
    drive.do(at(2026, 3, 2, 15), "dispatch", case, department_id=departments["city"].pk)
    drive.call(
        at(2026, 3, 2, 16),
        case_update,
        actor=drive.clerk,
        case_id=case.pk,
        expected_version=case.version,
        changes={"urgency": "urgent"},
    )
    reply = Clock.objects.get(case=case, stage="reply", state=ClockState.RUNNING)
    assert reply.due_at == at(2026, 3, 3, 9)  # 24 hours from receipt, as the urgent rule says


# --- major matters (F13) -------------------------------------------------------------------


def test_major_matter_goes_to_the_leader_at_registration(org, drive, leader):
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 9), channel="phone", text="工地发生坍塌，有人员死亡。")
    event = Event.objects.get(case=case, kind=DeadlineEvent.ESCALATED)
    assert event.data["reason"] == "major" and event.data["keyword"] == "死亡"
    assert event.data["recipients"] == [leader.pk]
    assert desk(leader) == [f"major:{case.pk}"]


def test_major_by_urgency_field_without_a_preset_and_only_once(org, register, leader):
    from huiyin.cases.services import case_update

    case = register(urgency="major")
    assert Event.objects.filter(case=case, kind=DeadlineEvent.ESCALATED).count() == 1
    case.refresh_from_db()
    case_update(actor=leader, case_id=case.pk, expected_version=case.version, changes={"title": "重大事项"})
    assert Event.objects.filter(case=case, kind=DeadlineEvent.ESCALATED).count() == 1
    assert not Clock.objects.filter(case=case).exists()


def test_no_leader_falls_back_and_says_so(org, drive):
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 9), channel="phone", text="发生爆炸")
    event = Event.objects.get(case=case, kind=DeadlineEvent.ESCALATED)
    assert event.data.get("fallback") is True and event.data["recipients"] == [drive.clerk.pk]


def test_escalation_falls_back_to_leaders_when_the_level_is_empty(org, clerk, leader):
    """Without an intake department, the dispatch clock's dept-head level goes to the leader."""
    from tests.policy.conftest import Driver

    activate(org, "city_hotline")
    drive = Driver(clerk)
    case = drive.register(at(2026, 3, 2, 9), channel="phone")
    drive.do(at(2026, 3, 2, 10), "accept", case)
    drive.sweep(at(2026, 3, 2, 10, 33, 1))
    event = Event.objects.filter(case=case, kind=DeadlineEvent.ESCALATED).get()
    assert event.data["role"] == "dept_head" and event.data["fallback"] is True
    assert event.data["recipients"] == [leader.pk]


def test_callback_clock_goes_to_callback_officers(org, drive, departments, handler):
    activate(org, "property_management")
    officer = make_staff(org, "officer", [Role.CALLBACK_OFFICER])
    case = drive.register(at(2026, 3, 2, 9), channel="phone", text="楼道灯坏了。")
    drive.do(at(2026, 3, 2, 10), "dispatch", case, department_id=departments["city"].pk)
    drive.do(at(2026, 3, 2, 11), "sign_for", case, actor=handler)
    drive.do(at(2026, 3, 2, 12), "reply", case, actor=handler, reply="已修好", remedy="已更换灯泡")
    callback = Clock.objects.get(case=case, stage="callback")
    assert callback.due_at == end_of(2026, 3, 9)
    drive.sweep(at(2026, 3, 10, 0, 0, 1))
    assert f"clock:{callback.pk}:overdue:0" in desk(officer)
    drive.do(at(2026, 3, 10, 9), "close", case, satisfaction="satisfied", confirmed=True)
    callback.refresh_from_db()
    assert callback.state == ClockState.STOPPED and callback.met is False
