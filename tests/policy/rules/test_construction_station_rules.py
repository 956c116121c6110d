"""The construction-quality station's rules (preset ``construction_station``), one test per
rule, each quoting the seed line it enforces: seeds/000_e82992a73faf22c8.txt lines 2–17,
《人民来信来访来电接待处理工作制度》.

Each refusal is checked for its field (the form shows the message beside it), its words
and for changing nothing.
"""

from __future__ import annotations

import pytest

from huiyin.cases.errors import InvalidTransition
from huiyin.cases.models import Case, Event
from huiyin.cases.services import case_close, case_reply
from huiyin.core.errors import ApplicationError, PermissionDeniedError, ValidationFailed
from huiyin.deadlines.models import Clock, ClockState
from huiyin.followup.models import Callback
from huiyin.handling import actions as ha
from huiyin.handling import services as hs
from huiyin.handling.models import Proposal, Rectification
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.policy.conftest import activate, at, construction_approved, png_signature, signed_interview

pytestmark = pytest.mark.django_db


@pytest.fixture
def station(org):
    return activate(org, "construction_station")


@pytest.fixture
def in_progress(station, drive, departments, handler):
    """A letter about a crack, accepted and handed to the named handler."""
    case = drive.register(at(2026, 3, 2, 9), channel="letter", text="新建住宅楼外墙出现裂缝。")
    drive.do(at(2026, 3, 2, 10), "accept", case)
    drive.do(at(2026, 3, 2, 11), "dispatch", case, department_id=departments["city"].pk, handler_id=handler.pk)
    case.refresh_from_db()
    assert case.state == "in_progress" and case.handler == handler
    return case


def events(case) -> int:
    return Event.objects.filter(case=case).count()


def submit(actor, case, unit="某建筑公司", outcome="resolved"):
    return ha.case_submit_for_approval(
        actor=actor, case_id=case.pk, proposal="责成施工单位限期加固整改。", outcome=outcome, responsible_unit=unit
    )


def test_materials_go_to_the_named_handler_within_24_hours(station, drive, departments, handler):
    """seeds/000_e82992a73faf22c8.txt:5「在台帐上应进行登记并在24小时内将有关材料交市站指定承办人(质量安全)」

    The materials go to a named handler, not just a department, within 24 hours."""
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    handover = Clock.objects.get(case=case, stage="handover")
    assert handover.due_at == at(2026, 3, 3, 9)
    drive.do(at(2026, 3, 2, 10), "accept", case)
    with pytest.raises(ValidationFailed) as info:  # to a named handler, not just a department
        drive.do(at(2026, 3, 2, 11), "dispatch", case, department_id=departments["city"].pk)
    assert info.value.field == "handler" and "指定承办人" in str(info.value)
    assert Case.objects.get(pk=case.pk).state == "accepted"
    drive.do(at(2026, 3, 3, 8), "dispatch", case, department_id=departments["city"].pk, handler_id=handler.pk)
    handover.refresh_from_db()
    assert handover.state == ClockState.STOPPED and handover.met
    assert Case.objects.get(pk=case.pk).handler == handler


def test_assisting_handlers_need_the_station_leaders_consent(in_progress, head, leader, departments):
    """seeds/000_e82992a73faf22c8.txt:8「确需协办人时经主管站长同意可从监督组抽人协办」"""
    helper = make_staff(in_progress.organization, "helper", [Role.HANDLER], departments["city"])
    before = events(in_progress)
    with pytest.raises(ValidationFailed) as info:
        hs.handler_assign(
            actor=head, case_id=in_progress.pk, handler_id=in_progress.handler_id, assisting_ids=[helper.pk]
        )
    assert info.value.field == "assisting_handlers" and "须经领导同意" in str(info.value)
    assert events(in_progress) == before and not in_progress.assisting_handlers.exists()
    hs.handler_assign(  # the head may still name the handler alone
        actor=head, case_id=in_progress.pk, handler_id=in_progress.handler_id
    )
    hs.handler_assign(
        actor=leader, case_id=in_progress.pk, handler_id=in_progress.handler_id, assisting_ids=[helper.pk]
    )
    assert list(in_progress.assisting_handlers.all()) == [helper]


def test_the_investigation_report_is_the_handlers_not_an_assistants(in_progress, handler, departments, leader):
    """seeds/000_e82992a73faf22c8.txt:8「协办人仅协助调查调查报告由承办人负责」"""
    helper = make_staff(in_progress.organization, "helper", [Role.HANDLER], departments["city"])
    hs.handler_assign(actor=leader, case_id=in_progress.pk, handler_id=handler.pk, assisting_ids=[helper.pk])
    signed_interview(helper, in_progress)  # the helper assists the investigation
    with pytest.raises(ValidationFailed) as info:
        submit(helper, in_progress)
    assert info.value.field == "proposal" and "由承办人handler负责提交" in str(info.value)
    assert not Proposal.objects.filter(case=in_progress).exists()
    submit(handler, in_progress)
    assert Case.objects.get(pk=in_progress.pk).state == "pending_approval"


def test_an_unsigned_investigation_record_cannot_go_to_approval(in_progress, handler):
    """seeds/000_e82992a73faf22c8.txt:9「按照确定的工作方案认真调查(调查材料要有被调查人认可签字)」"""
    with pytest.raises(ValidationFailed) as info:  # no investigation at all
        submit(handler, in_progress)
    assert "investigations" in info.value.errors and "调查笔录" in info.value.errors["investigations"][0]
    record = hs.investigation_add(
        actor=handler, case_id=in_progress.pk, kind="interview", text="询问施工方。", interviewee="李工"
    )
    before = events(in_progress)
    with pytest.raises(ValidationFailed) as info:
        submit(handler, in_progress)
    assert "尚未经被调查人签字确认" in info.value.errors["investigations"][0]
    assert Case.objects.get(pk=in_progress.pk).state == "in_progress" and events(in_progress) == before
    hs.investigation_confirm(actor=handler, investigation_id=record.pk, signature_drawn=png_signature())
    submit(handler, in_progress)
    assert Case.objects.get(pk=in_progress.pk).state == "pending_approval"


def test_the_handling_principle_names_the_responsible_unit(in_progress, handler):
    """seeds/000_e82992a73faf22c8.txt:9「初步确定责任单位提出处理原则报本战领导审批」"""
    signed_interview(handler, in_progress)
    with pytest.raises(ValidationFailed) as info:
        submit(handler, in_progress, unit=" ")
    assert info.value.field == "responsible_unit" and "责任单位" in str(info.value)
    assert not Proposal.objects.filter(case=in_progress).exists()


def test_only_the_station_leader_signs_the_handling_principle(in_progress, handler, head, leader):
    """seeds/000_e82992a73faf22c8.txt:9「提出处理原则报本战领导审批」"""
    signed_interview(handler, in_progress)
    submit(handler, in_progress)
    with pytest.raises(PermissionDeniedError):
        ha.case_approve(actor=head, case_id=in_progress.pk, comments="同意")
    ha.case_approve(actor=leader, case_id=in_progress.pk, comments="同意")
    assert Case.objects.get(pk=in_progress.pk).state == "approved"


def test_the_unit_is_not_notified_before_the_leader_signs_the_principle(in_progress, handler, leader, drive):
    """seeds/000_e82992a73faf22c8.txt:10「站领导签发后承办人应及时将处理原则以文字或电话通知方式送达责任单位」"""
    with pytest.raises(ValidationFailed) as info:  # in progress: no principle yet
        hs.rectification_notify(actor=handler, case_id=in_progress.pk, unit="某建筑公司")
    assert info.value.field == "unit" and "审批签发后" in str(info.value)
    signed_interview(handler, in_progress)
    submit(handler, in_progress)
    with pytest.raises((ValidationFailed, ApplicationError)):  # awaiting the leader's signature
        hs.rectification_notify(actor=handler, case_id=in_progress.pk, unit="某建筑公司")
    assert not Rectification.objects.filter(case=in_progress).exists()
    ha.case_approve(actor=leader, case_id=in_progress.pk, comments="同意")
    row = hs.rectification_notify(actor=handler, case_id=in_progress.pk)
    assert row.unit == "某建筑公司" and row.method == "letter"


def test_the_written_plan_is_due_two_weeks_after_the_notice(in_progress, handler, leader, drive):
    """seeds/000_e82992a73faf22c8.txt:10「一般要求责任单位在两周内将整改工作方案以书面形式报站」"""
    construction_approved(drive, at(2026, 3, 3, 9), in_progress, handler=handler, leader=leader)
    row = drive.call(at(2026, 3, 5, 15), hs.rectification_notify, actor=handler, case_id=in_progress.pk)
    plan = Clock.objects.get(case=in_progress, stage="rectification_plan")
    assert timezone_date(plan.due_at) == "2026-03-19" and row.plan_due_at == plan.due_at


def timezone_date(moment) -> str:
    from django.utils import timezone

    return timezone.localtime(moment).date().isoformat()


def test_the_complainant_is_told_the_plan_before_the_answer(in_progress, handler, leader, drive):
    """seeds/000_e82992a73faf22c8.txt:11「承办人将整改工作方案及时通知来信来访来电人取得理解与配合」"""
    case = construction_approved(drive, at(2026, 3, 3, 9), in_progress, handler=handler, leader=leader)
    with pytest.raises(ValidationFailed) as info:  # the principle orders a rectification: none notified yet
        case_reply(actor=handler, case_id=case.pk, reply="已责成施工单位整改。", method="letter")
    assert info.value.field == "reply" and "通知责任单位整改" in str(info.value)
    row = hs.rectification_notify(actor=handler, case_id=case.pk)
    hs.rectification_plan_receive(actor=handler, rectification_id=row.pk, plan_text="十日内注浆加固。")
    hs.rectification_plan_check(actor=handler, rectification_id=row.pk, verdict="accepted")
    before = events(case)
    with pytest.raises(ValidationFailed) as info:
        case_reply(actor=handler, case_id=case.pk, reply="已责成施工单位整改。", method="letter")
    assert info.value.field == "reply" and "告知反映人" in str(info.value)
    assert Case.objects.get(pk=case.pk).state == "approved" and events(case) == before
    hs.rectification_inform_complainant(actor=handler, rectification_id=row.pk, method="phone", note="已电话告知")
    case_reply(actor=handler, case_id=case.pk, reply="已责成施工单位整改。", method="letter")
    assert Case.objects.get(pk=case.pk).state == "replied"


def test_a_principle_with_nothing_to_rectify_is_answered_without_a_plan(in_progress, handler, leader, drive):
    """seeds/000_e82992a73faf22c8.txt:11「承办人将整改工作方案及时通知来信来访来电人」: only where there is a plan."""
    case = construction_approved(
        drive, at(2026, 3, 3, 9), in_progress, handler=handler, leader=leader, outcome="not_substantiated"
    )
    case_reply(actor=handler, case_id=case.pk, reply="经核查，裂缝为装饰层收缩缝，不影响结构安全。", method="letter")
    assert Case.objects.get(pk=case.pk).state == "replied"


def test_the_result_report_for_a_superior_is_approved_by_the_station_leader(in_progress, handler, head, leader, clerk):
    """seeds/000_e82992a73faf22c8.txt:12「将处理结果写成文字材料经站领导审批后上报」"""
    from django.utils import timezone

    hs.authority_request_set(
        actor=leader, case_id=in_progress.pk, authority="市住建委", due_at=timezone.now() + timezone.timedelta(days=9)
    )
    report = hs.document_issue(actor=handler, case_id=in_progress.pk, kind="result_report")
    with pytest.raises(ApplicationError):  # not approved: not sent
        hs.document_send(actor=handler, document_id=report.pk)
    with pytest.raises(PermissionDeniedError):
        hs.document_approve(actor=head, document_id=report.pk)
    hs.document_approve(actor=leader, document_id=report.pk)
    hs.document_send(actor=handler, document_id=report.pk)
    report.refresh_from_db()
    assert report.status == "sent" and report.approved_by == leader


def test_group_visits_are_always_called_back_after_rectification(station, drive, departments, handler, leader):
    """seeds/000_e82992a73faf22c8.txt:13「对群访或上级单位要“查处” 的信访函件责任单位整改后必须进行回访」"""
    case = drive.register(at(2026, 3, 2, 9), channel="visit", group_size=8, text="小区多户墙体开裂，集体来访。")
    drive.do(at(2026, 3, 2, 10), "accept", case)
    drive.do(at(2026, 3, 2, 11), "dispatch", case, department_id=departments["city"].pk, handler_id=handler.pk)
    case = construction_approved(drive, at(2026, 3, 3, 9), case, handler=handler, leader=leader)
    row = hs.rectification_notify(actor=handler, case_id=case.pk)
    hs.rectification_plan_receive(actor=handler, rectification_id=row.pk, plan_text="加固。")
    hs.rectification_plan_check(actor=handler, rectification_id=row.pk, verdict="accepted")
    hs.rectification_inform_complainant(actor=handler, rectification_id=row.pk, method="phone")
    case_reply(actor=handler, case_id=case.pk, reply="已责成整改。", method="letter")
    callback = Callback.objects.get(case=case)
    assert callback.reason == "group_visit"
    with pytest.raises(ValidationFailed) as info:  # closing needs the callback's result
        case_close(actor=leader, case_id=case.pk)
    assert info.value.field == "satisfaction"


def test_out_of_scope_letters_are_returned_within_15_days_and_never_forwarded(station, drive, leader):
    """seeds/000_e82992a73faf22c8.txt:16「应自收到之日起15日内申明理由后退还本人或退回原批转单位不得自行转送其他单位」"""
    case = drive.register(at(2026, 3, 2, 9), channel="letter", text="反映邻居装修噪音。")
    with pytest.raises(ApplicationError) as info:
        drive.do(at(2026, 3, 3, 9), "transfer", case, actor=leader, to_body="区城管局")
    assert info.value.field == "to_body" and "不得自行转送" in str(info.value)
    drive.do(at(2026, 3, 3, 9), "return", case, actor=leader, reason="不属于工程质量问题", returned_to="来信人")
    event = Event.objects.filter(case=case, kind="state_changed").order_by("-id").first()
    assert event.data["to"] == "returned" and event.data["within_limit"] is True
    assert timezone_date(event.data["return_due_at"] and _parse(event.data["return_due_at"])) == "2026-03-17"


def _parse(value):
    from django.utils.dateparse import parse_datetime

    return parse_datetime(value)


def test_houses_past_warranty_go_to_the_owner_or_housing_authority(station, drive, leader):
    """seeds/000_e82992a73faf22c8.txt:14「对超过保修期在使用过程中发生问题的房屋提请产权单位或房产管理单位处理」"""
    case = drive.register(at(2026, 3, 2, 9), channel="letter", text="二十年前的老房子屋面渗水。")
    drive.do(at(2026, 3, 2, 10), "not_accept", case, actor=leader, ground="beyond_warranty", refer_to="property_owner")
    event = Event.objects.filter(case=case, kind="state_changed").order_by("-id").first()
    assert (event.data["ground_code"], event.data["refer_to"]) == ("beyond_warranty", "产权单位或房产管理单位")
    with pytest.raises(InvalidTransition):
        drive.do(at(2026, 3, 2, 11), "accept", case)
