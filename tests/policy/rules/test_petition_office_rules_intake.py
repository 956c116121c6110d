"""The petition office's intake rules, each quoting the seed line it enforces
(seeds/000_e82992a73faf22c8.txt: 信访接待管理制度 lines 52–66, 接访规章制度 lines 127–137,
接访工作制度 lines 305–314; seeds/002_36bb5ca978e61897.txt: 来电接听来访接待工作准则 lines 1–19)
or, for the five representatives the seeds do not give, the regulation as the policy
reference lists it (../shared/POLICY-REFERENCE.md)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, Event
from huiyin.cases.services import PartyInput, case_register, case_update
from huiyin.core.errors import ApplicationError, ValidationFailed
from huiyin.deadlines.events import DeadlineEvent
from huiyin.deadlines.models import Clock
from huiyin.handling.services import document_issue
from tests.conftest import intake
from tests.policy.conftest import activate, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def petition(org):
    return activate(org, "petition_office")


def visitor(**overrides) -> PartyInput:
    values = dict(name="王芳", phone="13900001111", gender="female", age=46, affiliation="示范市纺织厂")
    values.update(overrides)
    return PartyInput(**values)


def visit(**overrides):
    values = dict(channel="visit", text="要求解决拖欠的安置补偿款。", party=visitor())
    values.update(overrides)
    return intake(**values)


def errors_of(refused) -> dict[str, list[str]]:
    return refused.value.field_errors()


# --- 5. the visit register and group visits -----------------------------------------------------


def test_a_visit_records_name_gender_age_work_unit_purpose_and_contact(petition, clerk):
    """seeds/000_e82992a73faf22c8.txt line 134: 「(一)来访登记:信访人来访时,接待室工作人员应予以登记,
    包括来访人姓名、性别、年龄、单位、来访事由、联系方式等」."""
    bare = PartyInput(name="", anonymous=True)
    with pytest.raises(ValidationFailed) as refused:
        case_register(actor=clerk, data=visit(party=bare, text=""))
    errors = errors_of(refused)
    assert errors["party_name"] == ["来访登记须填写来访人姓名（不能匿名）。"]
    assert errors["party_gender"] == ["来访登记须填写性别。"]
    assert errors["party_age"] == ["来访登记须填写年龄。"]
    assert errors["party_affiliation"] == ["来访登记须填写单位（工作单位）。"]
    assert errors["party_phone"] == ["来访登记须填写联系方式（电话或地址）。"]
    assert "text" in errors  # the purpose (来访事由)
    case, _code = case_register(actor=clerk, data=visit())
    party = case.party
    assert (party.name, party.gender, party.age, party.affiliation, party.phone) == (
        "王芳",
        "female",
        46,
        "示范市纺织厂",
        "13900001111",
    )


def test_a_letter_or_call_is_not_held_to_the_visit_register(petition, clerk):
    """seeds/000_e82992a73faf22c8.txt line 134: 「信访人来访时,接待室工作人员应予以登记」 — the visit register,
    not a letter's."""
    case, _code = case_register(
        actor=clerk, data=intake(channel="letter", party=PartyInput(name="赵强", phone="13700000000"))
    )
    assert case.party.gender == "" and case.party.age is None


def test_a_group_visit_elects_at_most_five_representatives(petition, clerk):
    """../shared/POLICY-REFERENCE.md line 20 (the seeds give no figure): 「| petition office | group visit |
    representatives at most five | 信访工作条例 (2022) |」 — 多人采用走访形式提出同一信访事项的，应当推选代表，
    代表人数不超过 5 人. Refused at registration on the representatives field; headcount and
    representatives recorded."""
    others = [PartyInput(name=f"代表{i}", phone=f"1390000222{i}", gender="male", age=50) for i in range(5)]
    with pytest.raises(ValidationFailed) as refused:
        case_register(actor=clerk, data=visit(group_size=30, representatives=others))
    (message,) = errors_of(refused)["representatives"]
    assert "代表不超过 5 人" in message and "共 6 人" in message
    assert not Case.objects.exists()
    case, _code = case_register(actor=clerk, data=visit(group_size=30, representatives=others[:4]))
    assert case.group_size == 30 and case.co_parties.count() == 4


def test_the_headcount_is_not_below_the_representatives(petition, clerk):
    """../shared/POLICY-REFERENCE.md line 20: 「| petition office | group visit | representatives at most five |」
    — the group is recorded with its size, which the representatives belong to."""
    others = [PartyInput(name="代表甲", phone="13900002220"), PartyInput(name="代表乙", phone="13900002221")]
    with pytest.raises(ValidationFailed) as refused:
        case_register(actor=clerk, data=visit(group_size=2, representatives=others))
    assert "来访人数（2）少于登记的代表人数（3）" in errors_of(refused)["group_size"][0]


def test_a_caller_leaves_a_way_to_be_reached(petition, clerk):
    """seeds/002_36bb5ca978e61897.txt line 9: 「5.做好记录:记录来电号码、姓名、地址、联系方式等一般信息,
    简要记录来电者的意见和要求;」."""
    with pytest.raises(ValidationFailed) as refused:
        case_register(actor=clerk, data=intake(channel="phone", party=PartyInput(name="李明")))
    assert "party_phone" in errors_of(refused)


# --- 3. urgency raised by safety keywords, visibly and explained ---------------------------------


def test_a_safety_keyword_raises_the_urgency_visibly_with_its_reason(petition, clerk, client):
    """seeds/000_e82992a73faf22c8.txt line 61: 「2.初步筛选:接待人员根据来访信访人员的情况,进行初步筛选,
    判断诉求性质和紧急程度,对紧急问题要及时进行处理,对一般问题进行统一存档,安排后续处理。」 — the
    preset's safety words (urgency_keywords) raise the case's own urgency: the ledger, the desk
    and the case page say 紧急 and why, and an event records it as the system's."""
    case, _code = case_register(actor=clerk, data=intake(channel="letter", text="小区燃气泄漏，已闻到气味。"))
    case.refresh_from_db()
    assert (case.urgency, case.urgency_keyword) == ("urgent", "燃气泄漏")
    event = Event.objects.get(case=case, kind=EventKind.URGENCY_RAISED)
    assert event.actor_id is None and event.data == {
        "from": "normal",
        "to": "urgent",
        "keyword": "燃气泄漏",
        "automatic": True,
    }
    client.force_login(clerk)
    for url in (reverse("cases:ledger"), reverse("cases:desk"), reverse("cases:detail", args=[case.pk])):
        html = client.get(url).content.decode()
        assert 'data-urgency="urgent"' in html and "自动：含“燃气泄漏”" in html, url
    assert "系统自动将紧急程度提高为紧急" in client.get(reverse("cases:detail", args=[case.pk])).content.decode()


def test_a_major_keyword_raises_to_major_and_reports_to_the_leader(petition, clerk, leader):
    """seeds/002_36bb5ca978e61897.txt line 18: 「对于反映较多、影响较大、涉及群众切身利益的重要问题,应尽快以书面形式
    报告有关领导。」 — and 000 line 61 「判断诉求性质和紧急程度」."""
    case, _code = case_register(actor=clerk, data=intake(text="工地发生坍塌，有人员死亡。"))
    case.refresh_from_db()
    assert (case.urgency, case.urgency_keyword) == ("major", "死亡")
    escalated = Event.objects.get(case=case, kind=DeadlineEvent.ESCALATED)
    assert escalated.data["reason"] == "major" and escalated.data["recipients"] == [leader.pk]


def test_staff_lower_a_raised_urgency_only_with_a_reason(petition, clerk):
    """seeds/000_e82992a73faf22c8.txt line 61: 「判断诉求性质和紧急程度」 — a person judges it in the end: a
    raised urgency is lowered with a reason, recorded, and the keywords no longer raise it."""
    case, _code = case_register(actor=clerk, data=intake(text="楼道有人受伤后留下的血迹，物业不清理。"))
    case.refresh_from_db()
    assert case.urgency == "urgent"
    with pytest.raises(ValidationFailed) as refused:
        case_update(actor=clerk, case_id=case.pk, expected_version=case.version, changes={"urgency": "normal"})
    assert "受伤" in errors_of(refused)["urgency_reason"][0]
    case_update(
        actor=clerk,
        case_id=case.pk,
        expected_version=case.version,
        changes={"urgency": "normal"},
        urgency_reason="并非人身安全问题，是保洁问题。",
    )
    case.refresh_from_db()
    assert (case.urgency, case.urgency_keyword, case.urgency_overridden) == ("normal", "", True)
    updated = Event.objects.filter(case=case, kind=EventKind.UPDATED).latest("id")
    assert (
        updated.data["urgency_reason"] == "并非人身安全问题，是保洁问题。" and updated.data["urgency_keyword"] == "受伤"
    )
    case_update(
        actor=clerk, case_id=case.pk, expected_version=case.version, changes={"text": "楼道有人受伤，血迹未清理。"}
    )
    case.refresh_from_db()
    assert case.urgency == "normal"  # staff decided; the keyword does not raise it again


def test_an_edit_that_adds_a_safety_keyword_raises_the_urgency(petition, clerk):
    """seeds/000_e82992a73faf22c8.txt line 61: 「对紧急问题要及时进行处理」."""
    case, _code = case_register(actor=clerk, data=intake(text="小区路灯不亮。"))
    case.refresh_from_db()
    assert case.urgency == "normal"
    case_update(
        actor=clerk, case_id=case.pk, expected_version=case.version, changes={"text": "小区路灯不亮，有老人触电。"}
    )
    case.refresh_from_db()
    assert (case.urgency, case.urgency_keyword) == ("urgent", "触电")


# --- acceptance: time limits told, grounds, bodies and reasons ------------------------------------


def test_the_receipt_tells_the_time_limit(petition, clerk):
    """seeds/000_e82992a73faf22c8.txt line 62: 「3.受理工作:……并向来访信访人员出示受理凭证和办理时间限制等信息。」;
    seeds/002_36bb5ca978e61897.txt line 17: 「(2)对于应由我委受理的信访事项,不能当场答复的,应告知来访人办理时限。」"""
    from huiyin.cases.receipts import _lines, receipt_context

    case, code = case_register(actor=clerk, data=visit())
    lines = dict(_lines(case, receipt_context(case, code)))
    assert lines["承诺时限"].endswith("前答复")
    assert Clock.objects.get(case=case, stage="acceptance")  # 15 days to decide and tell


def test_a_matter_not_accepted_names_the_body_it_belongs_to(petition, drive):
    """seeds/002_36bb5ca978e61897.txt line 17: 「(3)对于我委不予受理的信访事项,应告知来访人该信访事项的责任归属单位」;
    seeds/000_e82992a73faf22c8.txt line 309: 「1、属于各级人民代表大会、县级以上人民代表大会常务委员会、人民法院、
    人民检察院职权范围内的」."""
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    with pytest.raises(ValidationFailed) as refused:
        drive.do(at(2026, 3, 3, 9), "not_accept", case, ground="congress_court_procuratorate")
    assert "refer_to" in errors_of(refused)
    with pytest.raises(ValidationFailed) as refused:
        drive.do(at(2026, 3, 3, 9), "not_accept", case, ground="不想办")
    assert errors_of(refused)["ground"] == ["请从本单位政策列明的理由中选择。"]
    drive.do(at(2026, 3, 3, 9), "not_accept", case, ground="congress_court_procuratorate", refer_to="court")
    event = Event.objects.filter(case=case, kind=EventKind.STATE_CHANGED).latest("id")
    assert event.data["refer_to"] == "人民法院"


def test_a_matter_not_reaccepted_says_why(petition, drive):
    """seeds/002_36bb5ca978e61897.txt line 17: 「(4)对于我委不再受理的信访事项,应告知其不再受理的原因」;
    seeds/000_e82992a73faf22c8.txt line 310: 「1、有权处理的党政机关已经复核终结的」."""
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    with pytest.raises(ValidationFailed):
        drive.do(at(2026, 3, 3, 9), "not_reaccept", case, ground="")
    drive.do(at(2026, 3, 3, 9), "not_reaccept", case, ground="review_concluded")
    event = Event.objects.filter(case=case, kind=EventKind.STATE_CHANGED).latest("id")
    assert event.data["ground"] == "有权处理的党政机关已经复核终结的"


def test_a_group_visit_refusal_is_never_half_saved(petition, clerk):
    """../shared/POLICY-REFERENCE.md line 20: 「representatives at most five」 — nothing stays of a refused
    registration (no case, no number, no party)."""
    from huiyin.cases.models import CaseSequence, Party

    others = [PartyInput(name=f"代表{i}", phone=f"1390000333{i}") for i in range(6)]
    with pytest.raises(ApplicationError):
        case_register(actor=clerk, data=visit(group_size=40, representatives=others))
    assert not Case.objects.exists() and not CaseSequence.objects.exists() and not Party.objects.exists()


# --- 7. rules found reading the seeds: the decision told in writing, one matter one case ----------


def test_the_acceptance_limit_is_met_when_the_petitioner_is_told_in_writing(petition, drive, desk_clerk):
    """seeds/002_36bb5ca978e61897.txt line 17: 「(3)对于我委不予受理的信访事项,应告知来访人该信访事项的责任归属单位,
    来访人要求书面答复的,应在规定时间内出具书面意见。」 with 信访工作条例（2022）, as the preset's source cites it:
    自收到信访事项之日起 15 日内决定是否受理并书面告知信访人 — deciding is not enough: the 15-day clock
    runs until the 受理告知书 is issued, and goes overdue to the desk if it is not."""
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    drive.do(at(2026, 3, 4, 9), "accept", case)
    clock = Clock.objects.get(case=case, stage="acceptance")
    assert clock.state == "running" and clock.due_at.date().isoformat() == "2026-03-17"
    assert drive.sweep(at(2026, 3, 18, 0, 0, 1)).actions["overdue"] == 1
    drive.call(at(2026, 3, 18, 9), document_issue, actor=desk_clerk, case_id=case.pk, kind="acceptance_notice")
    clock.refresh_from_db()
    assert clock.state == "stopped" and clock.met is False  # told a day late


def test_a_petitioner_with_a_matter_being_handled_does_not_get_a_second_case(petition, clerk):
    """seeds/000_e82992a73faf22c8.txt line 309: 「(二)不予受理对以下信访事项不予受理……3、有权处理的党政机关已经受理或
    正在办理的」 — a new registration from the same phone or ID number while their matter is open is
    refused, naming that case, unless the clerk confirms it is a new matter (another day too)."""
    id_number = "110101199003077571"
    first, _code = case_register(actor=clerk, data=visit(party=visitor(id_number=id_number)))
    again = visitor(phone="13500009999", id_number=id_number)  # a new phone, the same person
    with pytest.raises(ValidationFailed) as refused:
        case_register(actor=clerk, data=visit(party=again, new_matter=False))
    (message,) = errors_of(refused)["party_id_number"]
    assert first.number in message and "不另立新件" in message
    second, _code = case_register(actor=clerk, data=visit(party=again, new_matter=True, text="另一件事。"))
    assert second.pk != first.pk
