"""Suspension (挂起) pauses clocks and resumption excludes the paused time; extensions
(延期) need the preset's approver, move the due time, and a second one is refused."""

from __future__ import annotations

import pytest

from huiyin.cases.models import Event
from huiyin.core.errors import ApplicationError, PermissionDeniedError, ValidationFailed
from huiyin.core.models import Notification
from huiyin.deadlines.events import DeadlineEvent
from huiyin.deadlines.models import (
    Clock,
    ClockAction,
    ClockState,
    Extension,
    ExtensionStatus,
    Suspension,
)
from huiyin.deadlines.services import case_resume, case_suspend, extension_decide, extension_request
from huiyin.handling.services import document_issue
from huiyin.notifications.models import Message, MessageStatus
from huiyin.orgs.roles import Role
from tests.conftest import make_staff

from .conftest import activate, at

pytestmark = pytest.mark.django_db


def end_of(y, m, d):
    return at(y, m, d, 23, 59, 59).replace(microsecond=999999)


# --- suspension ----------------------------------------------------------------------------


def test_pause_and_resume_exclude_the_paused_minutes(org, drive):
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 10, 0), channel="phone")
    drive.do(at(2026, 3, 2, 10, 0), "accept", case)
    drive.call(
        at(2026, 3, 2, 10, 1),
        case_suspend,
        actor=drive.clerk,
        case_id=case.pk,
        reason="等待反映人补充现场照片",
    )
    clock = Clock.objects.get(case=case, stage="dispatch")
    assert (clock.state, clock.next_action_at) == (ClockState.PAUSED, None)
    assert drive.sweep(at(2026, 3, 2, 10, 5)).total_actions == 0  # paused: nothing fires
    drive.call(at(2026, 3, 2, 10, 11), case_resume, actor=drive.clerk, case_id=case.pk, note="照片已收到")
    clock.refresh_from_db()
    assert clock.state == ClockState.RUNNING
    assert (clock.paused_seconds, clock.paused_units) == (600, 600)
    assert clock.due_at == at(2026, 3, 2, 10, 13)
    assert clock.warn_at == at(2026, 3, 2, 10, 12, 15)
    kinds = list(
        Event.objects.filter(case=case, kind__in=[DeadlineEvent.SUSPENDED, DeadlineEvent.RESUMED]).values_list(
            "kind", flat=True
        )
    )
    assert kinds == ["suspended", "resumed"]
    assert drive.sweep(at(2026, 3, 2, 10, 12, 59)).actions == {"warn": 1}
    assert drive.sweep(at(2026, 3, 2, 10, 13)).actions == {"overdue": 1}


def test_suspension_of_a_day_rule_excludes_whole_days(org, drive):
    activate(org, "petition_office")
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    clock = Clock.objects.get(case=case, stage="acceptance")
    assert clock.due_at == end_of(2026, 3, 17)
    drive.call(at(2026, 3, 3, 10), case_suspend, actor=drive.clerk, case_id=case.pk, reason="等待补充材料")
    assert drive.sweep(at(2026, 3, 18, 1)).total_actions == 0  # past the old due time, but paused
    drive.call(at(2026, 3, 18, 15), case_resume, actor=drive.clerk, case_id=case.pk)
    clock.refresh_from_db()
    # paused 03-03 → 03-18: 15 days excluded; 03-02 + 15 + 15 = 04-01 (Wednesday)
    assert clock.due_at == end_of(2026, 4, 1)
    assert clock.paused_seconds == (at(2026, 3, 18, 15) - at(2026, 3, 3, 10)).total_seconds()


def test_clocks_started_while_suspended_start_paused(org, drive):
    activate(org, "petition_office")
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    drive.call(at(2026, 3, 3, 10), case_suspend, actor=drive.clerk, case_id=case.pk, reason="等待补充材料")
    drive.do(at(2026, 3, 4, 10), "accept", case)
    overall = Clock.objects.get(case=case, stage="overall")
    assert overall.state == ClockState.PAUSED
    drive.call(at(2026, 3, 6, 10), case_resume, actor=drive.clerk, case_id=case.pk)
    overall.refresh_from_db()
    # 03-04 + 60 days + 2 paused days = 05-05, still the May Day holiday → 05-06
    assert overall.due_at == end_of(2026, 5, 6)
    assert overall.state == ClockState.RUNNING


def test_leaving_the_open_states_ends_the_suspension(org, drive):
    activate(org, "petition_office")
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    drive.call(at(2026, 3, 3, 10), case_suspend, actor=drive.clerk, case_id=case.pk, reason="等待补充材料")
    drive.do(at(2026, 3, 5, 9), "not_accept", case, ground="legal_procedure", refer_to="court")
    suspension = Suspension.objects.get(case=case)
    assert suspension.ended_at == at(2026, 3, 5, 9) and suspension.end_note == "not_accepted"
    clock = Clock.objects.get(case=case)
    # resumed with its paused time; it runs on until the petitioner is told in writing
    assert clock.state == ClockState.RUNNING and clock.paused_seconds == 2 * 86400 - 3600
    drive.call(at(2026, 3, 5, 10), document_issue, actor=drive.clerk, case_id=case.pk, kind="not_accepted_notice")
    clock.refresh_from_db()
    assert clock.state == ClockState.STOPPED and clock.met


def test_suspend_rules(org, drive, analyst):
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 9), channel="phone")
    with pytest.raises(ValidationFailed):
        case_suspend(actor=drive.clerk, case_id=case.pk, reason=" ")
    with pytest.raises(PermissionDeniedError):
        case_suspend(actor=analyst, case_id=case.pk, reason="等待材料")
    with pytest.raises(ApplicationError, match="未挂起"):
        case_resume(actor=drive.clerk, case_id=case.pk)
    case_suspend(actor=drive.clerk, case_id=case.pk, reason="等待材料")
    with pytest.raises(ApplicationError, match="已挂起"):
        case_suspend(actor=drive.clerk, case_id=case.pk, reason="等待材料")
    assert Event.objects.filter(case=case, kind=DeadlineEvent.SUSPENDED).count() == 1


# --- extensions ----------------------------------------------------------------------------


@pytest.fixture
def hospital_case(org, drive, departments, handler, hospital_offices):
    activate(org, "hospital")
    case = drive.register(at(2026, 3, 2, 9), channel="visit", complainant_kind="outpatient")
    drive.do(at(2026, 3, 2, 10), "dispatch", case, department_id=departments["city"].pk)
    return case


def test_extension_needs_the_presets_approver_and_moves_the_due_time(
    hospital_case, drive, handler, head, supervisor, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    case = hospital_case
    ext = drive.call(
        at(2026, 3, 6, 10),
        extension_request,
        actor=handler,
        case_id=case.pk,
        stage="reply",
        amount=7,
        reason="需调取病历并组织专家讨论",
    )
    assert ext.status == ExtensionStatus.PENDING and ext.unit == "days"
    assert Notification.objects.filter(recipient=supervisor, key=f"extension:{ext.pk}:request").exists()
    with pytest.raises(PermissionDeniedError):
        extension_decide(actor=head, extension_id=ext.pk, approve=True)  # approver is the 行风办 (supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        drive.call(
            at(2026, 3, 7, 9),
            extension_decide,
            actor=supervisor,
            extension_id=ext.pk,
            approve=True,
            note="同意",
        )
    ext.refresh_from_db()
    reply = Clock.objects.get(case=case, stage="reply")
    assert ext.status == ExtensionStatus.APPROVED
    assert (ext.previous_due_at, ext.new_due_at) == (end_of(2026, 3, 9), end_of(2026, 3, 16))
    assert reply.due_at == end_of(2026, 3, 16) and reply.generation == 1
    assert Event.objects.filter(case=case, kind=DeadlineEvent.EXTENSION_DECIDED, data__approved=True).exists()
    decided = Event.objects.get(case=case, kind=DeadlineEvent.EXTENSION_DECIDED)
    (sms,) = Message.objects.filter(case=case, purpose="extension")  # the notifications app's message
    assert (sms.medium, sms.status, sms.key) == (
        "sms",
        MessageStatus.SENT,
        f"event:{decided.pk}:extension:sms:p{case.party_id}",
    )
    assert sms.recipient == "13812345678" and "2026-03-16" in sms.body and "需调取病历并组织专家讨论" in sms.body
    # a second postponement of the same matter is forbidden by the hospital preset
    with pytest.raises(ApplicationError) as info:
        drive.call(
            at(2026, 3, 10, 10),
            extension_request,
            actor=handler,
            case_id=case.pk,
            stage="reply",
            amount=1,
            reason="还需要时间",
        )
    assert info.value.code == "second_extension_forbidden"


def test_extension_warns_again_before_the_new_due_time(hospital_case, drive, handler, supervisor):
    case = hospital_case
    assert drive.sweep(at(2026, 3, 8, 12)).actions == {"warn": 1}  # reply warning (75 % of 7 days)
    ext = drive.call(
        at(2026, 3, 8, 13),
        extension_request,
        actor=handler,
        case_id=case.pk,
        stage="reply",
        amount=3,
        reason="等待检验结果",
    )
    drive.call(at(2026, 3, 8, 14), extension_decide, actor=supervisor, extension_id=ext.pk, approve=True)
    reply = Clock.objects.get(case=case, stage="reply")
    assert reply.due_at == end_of(2026, 3, 12) and reply.warned_at is None
    assert drive.sweep(at(2026, 3, 10, 0, 0, 1)).total_actions == 0  # the old due time passes quietly
    result = drive.sweep(at(2026, 3, 12, 12))
    assert result.actions["warn"] == 1
    assert ClockAction.objects.filter(clock=reply, action="warn").count() == 2  # levels 0 and 1


def test_extension_limits(hospital_case, drive, handler, supervisor, org, departments):
    case = hospital_case
    with pytest.raises(ValidationFailed):
        extension_request(actor=handler, case_id=case.pk, stage="reply", amount=8, reason="太久")
    with pytest.raises(ValidationFailed):
        extension_request(actor=handler, case_id=case.pk, stage="reply", amount=2, unit="hours", reason="单位不对")
    with pytest.raises(ValidationFailed):
        extension_request(actor=handler, case_id=case.pk, stage="reply", amount=2, reason="")
    ext = drive.call(
        at(2026, 3, 3, 9),
        extension_request,
        actor=handler,
        case_id=case.pk,
        stage="reply",
        amount=2,
        reason="等待检验结果",
    )
    with pytest.raises(ApplicationError, match="待审批"):
        drive.call(
            at(2026, 3, 3, 9),
            extension_request,
            actor=handler,
            case_id=case.pk,
            stage="reply",
            amount=2,
            reason="再来一次",
        )
    drive.call(
        at(2026, 3, 3, 10),
        extension_decide,
        actor=supervisor,
        extension_id=ext.pk,
        approve=False,
        note="理由不足",
    )
    ext.refresh_from_db()
    assert ext.status == ExtensionStatus.REJECTED and ext.new_due_at is None
    assert Clock.objects.get(case=case, stage="reply").due_at == end_of(2026, 3, 9)
    with pytest.raises(ApplicationError, match="已经处理"):
        extension_decide(actor=supervisor, extension_id=ext.pk, approve=True)
    # a refused request does not count as a postponement: asking again is allowed
    again = drive.call(
        at(2026, 3, 4, 9),
        extension_request,
        actor=handler,
        case_id=case.pk,
        stage="reply",
        amount=1,
        reason="补充理由",
    )
    # the approver may not decide a request too late
    with pytest.raises(ApplicationError) as info:
        drive.call(
            at(2026, 3, 10, 9),
            extension_decide,
            actor=supervisor,
            extension_id=again.pk,
            approve=True,
        )
    assert info.value.code == "extension_too_late"
    # nor may anyone ask once the deadline has passed
    with pytest.raises(ApplicationError) as info:
        drive.call(
            at(2026, 3, 10, 9),
            extension_request,
            actor=handler,
            case_id=case.pk,
            stage="reply",
            amount=1,
            reason="逾期后申请",
        )
    assert info.value.code == "extension_too_late"
    assert Extension.objects.filter(case=case).count() == 2


def test_nobody_approves_their_own_extension(hospital_case, drive, org, departments):
    both = make_staff(org, "both", [Role.SUPERVISOR, Role.HANDLER], departments["city"])
    ext = drive.call(
        at(2026, 3, 3, 9),
        extension_request,
        actor=both,
        case_id=hospital_case.pk,
        stage="reply",
        amount=2,
        reason="等待检验结果",
    )
    with pytest.raises(PermissionDeniedError):
        extension_decide(actor=both, extension_id=ext.pk, approve=True)


def test_petition_overall_extension_moves_the_promise(org, drive, departments, handler, leader):
    activate(org, "petition_office")
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    drive.do(at(2026, 3, 3, 9), "accept", case)
    drive.do(at(2026, 3, 3, 10), "dispatch", case, department_id=departments["city"].pk)
    drive.do(at(2026, 3, 4, 9), "sign_for", case, actor=handler)
    ext = drive.call(
        at(2026, 4, 20, 9),
        extension_request,
        actor=handler,
        case_id=case.pk,
        stage="overall",
        amount=30,
        reason="情况复杂，需多部门会商",
    )
    drive.call(at(2026, 4, 21, 9), extension_decide, actor=leader, extension_id=ext.pk, approve=True)
    case.refresh_from_db()
    overall = Clock.objects.get(case=case, stage="overall")
    assert overall.due_at == end_of(2026, 6, 1)  # 03-03 + 90 days = 06-01
    assert case.promised_due_at == overall.due_at


def test_no_extension_rule_no_extension(org, drive):
    activate(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 9), channel="phone")
    drive.do(at(2026, 3, 2, 10), "accept", case)
    with pytest.raises(ApplicationError, match="未规定延期"):
        drive.call(
            at(2026, 3, 2, 10, 1),
            extension_request,
            actor=drive.clerk,
            case_id=case.pk,
            stage="dispatch",
            amount=1,
            reason="忙",
        )


def test_no_sms_when_the_organisation_does_not_text_complainants(
    hospital_case, drive, org, handler, supervisor, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    org.notify_complainants = False
    org.save(update_fields=["notify_complainants"])
    ext = drive.call(
        at(2026, 3, 3, 9),
        extension_request,
        actor=handler,
        case_id=hospital_case.pk,
        stage="reply",
        amount=2,
        reason="等待检验结果",
    )
    with django_capture_on_commit_callbacks(execute=True):
        drive.call(
            at(2026, 3, 3, 10),
            extension_decide,
            actor=supervisor,
            extension_id=ext.pk,
            approve=True,
        )
    assert not Message.objects.filter(case=hospital_case, purpose="extension").exists()
