"""The hospital's complaint rules (preset ``hospital``), one test per rule, each quoting the
seed line it enforces: seeds/000_e82992a73faf22c8.txt lines 280–287, 《医院投诉接待制度》."""

from __future__ import annotations

import pytest

from huiyin.cases.models import Case
from huiyin.cases.services import case_reply
from huiyin.core.errors import ApplicationError, PermissionDeniedError, ValidationFailed
from huiyin.deadlines.models import Clock, Extension
from huiyin.deadlines.services import extension_decide, extension_request
from huiyin.handling.services import investigation_add
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.policy.conftest import activate, at

pytestmark = pytest.mark.django_db


def end_of(y, m, d):
    return at(y, m, d, 23, 59, 59).replace(microsecond=999999)


@pytest.fixture
def supervisor(org):
    return make_staff(org, "xingfeng", [Role.SUPERVISOR])  # 院行风办


@pytest.fixture
def dispatched(org, drive, departments, hospital_offices):
    """A complaint about an outpatient doctor, with the 行风办's 通知单 sent to the department."""
    activate(org, "hospital")
    case = drive.register(
        at(2026, 3, 2, 9), channel="visit", text="门诊医生态度恶劣，拒绝解释检查结果。", complainant_kind="outpatient"
    )
    drive.do(at(2026, 3, 2, 10), "dispatch", case, department_id=departments["city"].pk)
    return case


def ask(drive, when, handler, case, stage, amount):
    return drive.call(
        when, extension_request, actor=handler, case_id=case.pk, stage=stage, amount=amount, reason="会诊"
    )


def test_the_department_settles_a_complaint_in_3_to_7_days(dispatched):
    """seeds/000_e82992a73faf22c8.txt:286「投诉处理通常在3-7天内办结」"""
    assert Clock.objects.get(case=dispatched, stage="reply").due_at == end_of(2026, 3, 9)
    assert Clock.objects.get(case=dispatched, stage="overall").due_at == end_of(2026, 3, 16)


def test_the_xingfeng_office_approves_a_late_settlement(dispatched, drive, handler, head, supervisor):
    """seeds/000_e82992a73faf22c8.txt:286「凡不能按时办结的应告知院行风办」"""
    ext = ask(drive, at(2026, 3, 6, 9), handler, dispatched, "reply", 7)
    with pytest.raises(PermissionDeniedError):
        drive.call(at(2026, 3, 6, 10), extension_decide, actor=head, extension_id=ext.pk, approve=True)
    drive.call(at(2026, 3, 6, 10), extension_decide, actor=supervisor, extension_id=ext.pk, approve=True)
    assert Clock.objects.get(case=dispatched, stage="reply").due_at == end_of(2026, 3, 16)


def test_two_weeks_at_the_latest_cannot_be_exceeded_through_another_clock(dispatched, drive, handler, supervisor):
    """seeds/000_e82992a73faf22c8.txt:286「最迟在两周内处理完毕」"""
    overall = Clock.objects.get(case=dispatched, stage="overall")
    with pytest.raises(ApplicationError) as info:  # the last word itself is never postponed
        ask(drive, at(2026, 3, 6, 9), handler, dispatched, "overall", 3)
    assert info.value.field == "stage" and "最迟期限" in str(info.value)
    ext = ask(drive, at(2026, 3, 6, 9), handler, dispatched, "reply", 7)
    drive.call(at(2026, 3, 6, 10), extension_decide, actor=supervisor, extension_id=ext.pk, approve=True)
    reply = Clock.objects.get(case=dispatched, stage="reply")
    assert reply.due_at == overall.due_at == end_of(2026, 3, 16)  # 7 + 7: exactly two weeks, not a day more
    with pytest.raises(ApplicationError) as info:  # and no second postponement, on any clock
        ask(drive, at(2026, 3, 12, 9), handler, dispatched, "overall", 1)
    assert info.value.field == "stage"
    overall.refresh_from_db()
    assert overall.due_at == end_of(2026, 3, 16) and Extension.objects.filter(case=dispatched).count() == 1


def test_a_postponement_never_passes_the_two_weeks(dispatched, drive, handler, supervisor, org):
    """seeds/000_e82992a73faf22c8.txt:286「凡不能按时办结的应告知院行风办,最迟在两周内处理完毕」"""
    from huiyin.deadlines.services import case_resume, case_suspend

    # A suspension pauses both clocks alike; the reply clock is then pushed up to the limit.
    drive.call(at(2026, 3, 3, 9), case_suspend, actor=handler, case_id=dispatched.pk, reason="等待病历复印")
    drive.call(at(2026, 3, 4, 9), case_resume, actor=handler, case_id=dispatched.pk)
    overall = Clock.objects.get(case=dispatched, stage="overall")
    ext = ask(drive, at(2026, 3, 6, 9), handler, dispatched, "reply", 7)
    Clock.objects.filter(pk=overall.pk).update(due_at=end_of(2026, 3, 14))  # a shorter last word (an edited rule)
    with pytest.raises(ApplicationError) as info:
        drive.call(at(2026, 3, 6, 10), extension_decide, actor=supervisor, extension_id=ext.pk, approve=True)
    assert info.value.field == "amount" and "超过“最迟两周内处理完毕”的最迟期限" in str(info.value)
    assert Extension.objects.get(pk=ext.pk).status == "pending"


def test_the_department_investigates_before_it_answers(dispatched, drive, handler):
    """seeds/000_e82992a73faf22c8.txt:286「②对投诉的问题进行调查了解,提出科室处理意见」"""
    with pytest.raises(ValidationFailed) as info:
        drive.call(at(2026, 3, 4, 9), case_reply, actor=handler, case_id=dispatched.pk, reply="已向患者道歉。")
    assert info.value.field == "reply" and "调查了解" in str(info.value)
    assert Case.objects.get(pk=dispatched.pk).state == "in_progress"
    drive.call(
        at(2026, 3, 4, 9),
        investigation_add,
        actor=handler,
        case_id=dispatched.pk,
        kind="interview",
        text="询问当班医生，承认解释不耐心。",
        interviewee="王医生",
    )
    statement(drive, handler, dispatched)
    drive.call(at(2026, 3, 4, 10), case_reply, actor=handler, case_id=dispatched.pk, reply="已向患者道歉并解释。")
    assert Case.objects.get(pk=dispatched.pk).state == "replied"


def statement(drive, handler, case, text="王医生书面说明：当日患者较多，解释不够耐心，今后改进。"):
    return drive.call(
        at(2026, 3, 4, 9),
        investigation_add,
        actor=handler,
        case_id=case.pk,
        kind="statement",
        text=text,
        interviewee="王医生",
    )


def test_the_written_account_of_the_person_complained_about_is_on_file_before_the_answer(dispatched, drive, handler):
    """seeds/000_e82992a73faf22c8.txt:287「应将调查情况、处理意见及被投诉人的书面情况备案」 —
    an investigation alone is not enough: the answer waits for the 被投诉人书面情况 record, and is
    refused naming the field until it is there."""
    drive.call(
        at(2026, 3, 4, 9), investigation_add, actor=handler, case_id=dispatched.pk, kind="phone", text="电话核实。"
    )
    with pytest.raises(ValidationFailed) as info:
        drive.call(at(2026, 3, 4, 10), case_reply, actor=handler, case_id=dispatched.pk, reply="已向患者道歉。")
    assert info.value.field == "reply" and "被投诉人的书面情况须备案" in str(info.value)
    assert Case.objects.get(pk=dispatched.pk).state == "in_progress"
    record = statement(drive, handler, dispatched)
    assert record.get_kind_display() == "被投诉人书面情况"
    drive.call(at(2026, 3, 4, 10), case_reply, actor=handler, case_id=dispatched.pk, reply="已向患者道歉并解释。")
    assert Case.objects.get(pk=dispatched.pk).state == "replied"


def test_other_presets_answer_without_a_written_account(org, drive, departments, handler):
    """seeds/000_e82992a73faf22c8.txt:287「被投诉人的书面情况备案」 is the hospital's rule only: a property
    complaint is answered without it."""
    activate(org, "property_management")
    case = drive.register(at(2026, 3, 2, 9), channel="phone", text="楼道灯坏了。")
    drive.do(at(2026, 3, 2, 10), "dispatch", case, department_id=departments["city"].pk)
    drive.do(at(2026, 3, 2, 11), "sign_for", case, actor=handler)
    drive.call(at(2026, 3, 2, 12), case_reply, actor=handler, case_id=case.pk, reply="已更换灯泡。", remedy="更换灯泡")
    assert Case.objects.get(pk=case.pk).state == "replied"


def test_only_the_deadline_that_may_be_postponed_is_offered(dispatched, drive, handler, client):
    """seeds/000_e82992a73faf22c8.txt:286「最迟在两周内处理完毕」: the form offers the 3–7 days, never the two weeks."""
    from django.urls import reverse

    reply = Clock.objects.get(case=dispatched, stage="reply")
    overall = Clock.objects.get(case=dispatched, stage="overall")
    client.force_login(handler)
    with drive.at(at(2026, 3, 5, 9)):
        html = client.get(reverse("cases:detail", args=[dispatched.pk])).content.decode()
    assert f'<option value="{reply.pk}"' in html and f'<option value="{overall.pk}"' not in html
    assert "“办结”为最迟期限，不得延期或超过" in html
