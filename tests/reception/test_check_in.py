"""Arrival: the identity check (an ID number validated with its check digit, kept only masked
on the visit) opens a case on the visit channel — which then runs the normal lifecycle —
or adds the visit as a contact to the visitor's open case; a leader reception day and a
joint reception session are scheduled, booked into and run."""

from __future__ import annotations

from datetime import date, time

import pytest
import time_machine

from huiyin.cases import services as cs
from huiyin.cases.models import Case, Channel, Contact
from huiyin.cases.workflow import CaseState
from huiyin.core.errors import ApplicationError, ValidationFailed
from huiyin.core.validators import id_check_digit
from huiyin.deadlines.models import Clock, ClockState
from huiyin.handling import actions as ha
from huiyin.notifications.models import Message
from huiyin.reception import schedule, services
from huiyin.reception.models import AppointmentStatus, SessionStatus, SlotKind
from huiyin.reception.subject import KIND
from tests.conftest import intake
from tests.reception.conftest import at, booking, key

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519800101002" + id_check_digit("11010519800101002")


def arrival(**more) -> services.CheckIn:
    values = dict(
        id_number=ID_NUMBER,
        name="张伟",
        phone="13812345678",
        gender="male",
        age=46,
        affiliation="幸福里小区业主",
        text="小区楼道长期堆放杂物，存在消防隐患，物业不处理。",
        headcount=1,
    )
    values.update(more)
    return services.CheckIn(**values)


@pytest.fixture
def booked(org, room, hours, desk):
    return services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 9, 28, 10)))


def test_check_in_opens_a_visit_case_that_then_runs_the_normal_workflow(
    org, booked, desk, clerk, handler, departments, frozen
):
    frozen.move_to(at(2026, 9, 28, 9, 50))
    appointment, case, code = services.appointment_check_in(
        actor=desk, appointment_id=booked.pk, data=arrival(), version=booked.version
    )
    assert code and case.channel == Channel.VISIT and case.state == CaseState.REGISTERED
    assert case.party.id_number == ID_NUMBER and case.party.gender == "male" and case.party.age == 46
    assert case.text == "小区楼道长期堆放杂物，存在消防隐患，物业不处理。"
    assert appointment.status == AppointmentStatus.CHECKED_IN and appointment.case == case
    assert appointment.id_number_masked == "110105********" + ID_NUMBER[-4:]
    assert appointment.checked_in_at == at(2026, 9, 28, 9, 50)
    assert Clock.objects.get(subject_kind=KIND, subject_id=booked.pk).state == ClockState.STOPPED
    # From here the visit is a case like any other: accepted, dispatched, signed for, answered.
    cs.case_accept(actor=clerk, case_id=case.pk)
    ha.case_dispatch(actor=clerk, case_id=case.pk, department_id=departments["city"].pk)
    ha.case_sign_for(actor=handler, case_id=case.pk, handler_id=handler.pk)
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS and case.lead_department == departments["city"]
    assert list(case.events.values_list("kind", flat=True))[:1] == ["registered"]
    # The receipt (with the query code) went to the visitor as for any registration.
    assert Message.objects.filter(case=case, purpose="receipt").exists()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"id_number": ""}, "id_number", "到访须核验身份证件"),
        ({"id_number": ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")}, "id_number", "校验位错误"),
        ({"id_number": "110105198002300021"}, "id_number", "出生日期无效"),
        ({"id_number": "11010519800101"}, "id_number", "应为18位"),
        # The petition office's visit registration (intake.visit_fields) asks these.
        ({"gender": ""}, "party_gender", "来访登记须填写性别"),
        ({"age": None}, "party_age", "来访登记须填写年龄"),
        ({"affiliation": ""}, "party_affiliation", "来访登记须填写单位"),
        ({"representatives": ["甲", "乙", "丙", "丁", "戊"], "headcount": 20}, "representatives", "代表不超过 5 人"),
    ],
)
def test_a_refused_check_in_leaves_the_visit_booked_and_stores_nothing(org, booked, desk, frozen, change, field, words):
    frozen.move_to(at(2026, 9, 28, 9, 50))
    before = (Case.objects.count(), Contact.objects.count(), booked.log.count())
    with pytest.raises(ValidationFailed) as refusal:
        services.appointment_check_in(actor=desk, appointment_id=booked.pk, data=arrival(**change))
    assert words in " ".join(refusal.value.errors[field])
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED and booked.case is None and not booked.id_number_masked
    assert (Case.objects.count(), Contact.objects.count(), booked.log.count()) == before


def test_a_visit_about_an_open_matter_is_a_contact_on_its_case(org, booked, desk, clerk, frozen):
    open_case, _code = cs.case_register(actor=clerk, data=intake(channel="phone"))
    frozen.move_to(at(2026, 9, 28, 10, 5))
    # The petition office's rule: an open matter is not registered again...
    with pytest.raises(ValidationFailed) as refusal:
        services.appointment_check_in(actor=desk, appointment_id=booked.pk, data=arrival())
    assert open_case.number in " ".join(refusal.value.errors["party_phone"])
    # ...the visit is recorded on it.
    appointment, case, code = services.appointment_check_in(
        actor=desk, appointment_id=booked.pk, data=arrival(case_id=open_case.pk)
    )
    assert case == open_case and code is None
    contact = appointment.contact
    assert contact.case == open_case and contact.channel == Channel.VISIT
    assert Case.objects.count() == 1
    assert open_case.events.filter(kind="contact_added").exists()


def test_a_new_matter_of_someone_with_an_open_case_is_registered_when_confirmed(org, booked, desk, clerk, frozen):
    cs.case_register(actor=clerk, data=intake(channel="phone"))
    frozen.move_to(at(2026, 9, 28, 10, 5))
    _appointment, case, _code = services.appointment_check_in(
        actor=desk, appointment_id=booked.pk, data=arrival(new_matter=True, text="另一件事：小区门口路灯不亮。")
    )
    assert Case.objects.count() == 2 and case.channel == Channel.VISIT


def test_check_in_waits_for_the_day_and_takes_a_late_visitor(org, booked, desk, frozen):
    with pytest.raises(ApplicationError, match="未到预约日期"):
        frozen.move_to(at(2026, 9, 27, 16))
        services.appointment_check_in(actor=desk, appointment_id=booked.pk, data=arrival())
    frozen.move_to(at(2026, 9, 28, 10, 40))
    services.appointment_no_show(actor=desk, appointment_id=booked.pk)
    frozen.move_to(at(2026, 9, 28, 11, 20))
    appointment, _case, _code = services.appointment_check_in(actor=desk, appointment_id=booked.pk, data=arrival())
    assert appointment.status == AppointmentStatus.CHECKED_IN
    with pytest.raises(ApplicationError):
        services.appointment_check_in(actor=desk, appointment_id=booked.pk, data=arrival())


def test_a_leader_reception_day_is_published_ahead_booked_and_held(
    org, room, hours, admin, leader, desk, departments, frozen
):
    def schedule_on(day: date, **more):
        data = services.SessionInput(
            room_id=room.pk,
            date=day,
            starts=time(14),
            ends=time(16),
            slot_minutes=30,
            capacity=2,
            topic="老旧小区加装电梯",
            department_ids=[departments["housing"].pk],
        )
        return services.leader_day_schedule(actor=admin, leader_id=more.get("leader", leader).pk, data=data)

    # The petition office publishes a leader day at least five days ahead, not on a holiday.
    with pytest.raises(ValidationFailed, match="至少提前 5 天公布：最早可安排在 2026-10-03"):
        schedule_on(date(2026, 9, 30))
    with pytest.raises(ValidationFailed, match="国庆节|National Day"):
        schedule_on(date(2026, 10, 5))
    with pytest.raises(ValidationFailed, match="本单位领导"):
        schedule_on(date(2026, 10, 8), leader=desk)
    day = schedule_on(date(2026, 10, 8))
    assert list(day.departments.all()) == [departments["housing"]]
    with pytest.raises(ValidationFailed, match="已安排“老旧小区加装电梯”"):
        schedule_on(date(2026, 10, 8))
    [first, *_rest] = [s for s in schedule.offered(org.pk, day.date, day.date) if s.kind == SlotKind.LEADER_DAY]
    visit = services.appointment_book(actor=desk, organization=org, data=booking(first.key))
    assert visit.slot.leader_day == day
    frozen.move_to(at(2026, 10, 8, 14, 10))
    services.appointment_check_in(actor=desk, appointment_id=visit.pk, data=arrival())
    with pytest.raises(ApplicationError):
        services.leader_day_record(actor=desk, day_id=day.pk, summary="接待 1 批")  # not the leader's desk
    held = services.leader_day_record(
        actor=leader, day_id=day.pk, summary="接待来访群众 1 批 1 人，当场交办住房保障科。"
    )
    assert held.status == SessionStatus.HELD and held.closed_by == leader


def test_cancelling_a_leader_day_cancels_its_visits_and_tells_the_visitors(
    org, room, hours, admin, leader, desk, frozen
):
    day = services.leader_day_schedule(
        actor=admin,
        leader_id=leader.pk,
        data=services.SessionInput(
            room_id=room.pk,
            date=date(2026, 10, 9),
            starts=time(9),
            ends=time(10),
            slot_minutes=60,
            capacity=3,
            topic="征地拆迁",
        ),
    )
    [period] = [s for s in schedule.offered(org.pk, day.date, day.date) if s.kind == SlotKind.LEADER_DAY]
    visit = services.appointment_book(actor=desk, organization=org, data=booking(period.key))
    services.leader_day_cancel(actor=admin, day_id=day.pk, reason="领导临时公出，改期另行公布")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED and visit.slot.booked == 0
    assert Message.objects.filter(key__startswith=f"appointment:{visit.pk}:", purpose="visit_cancelled").exists()
    with pytest.raises(ApplicationError, match="不在公布的接待时间内"):  # withdrawn with the day
        services.appointment_book(actor=desk, organization=org, data=booking(period.key))


def test_a_joint_session_brings_the_cases_departments_together_and_receives_their_complainants(
    org, room, hours, clerk, desk, handler, departments, frozen
):
    first, _ = cs.case_register(actor=clerk, data=intake(party=cs.PartyInput(name="李娜", phone="13900001111")))
    second, _ = cs.case_register(actor=clerk, data=intake(party=cs.PartyInput(name="王芳", phone="13900002222")))
    for case, lead, assisting in ((first, "city", ["housing"]), (second, "housing", [])):
        cs.case_accept(actor=clerk, case_id=case.pk)
        ha.case_dispatch(
            actor=clerk,
            case_id=case.pk,
            department_id=departments[lead].pk,
            assisting_ids=[departments[d].pk for d in assisting],
        )
    data = services.SessionInput(
        room_id=room.pk,
        date=date(2026, 9, 30),
        starts=time(14),
        ends=time(15),
        slot_minutes=60,
        capacity=4,
        topic="幸福里小区消防通道占用",
        department_ids=[departments["traffic"].pk],
    )
    with pytest.raises(ValidationFailed, match="请至少选择一件案件"):
        services.joint_convene(actor=clerk, case_ids=[], data=data)
    with pytest.raises(Exception):  # noqa: B017 - the desk does not convene: only those who decide on cases
        services.joint_convene(actor=desk, case_ids=[first.pk], data=data)
    session = services.joint_convene(actor=clerk, case_ids=[first.pk, second.pk], data=data)
    assert {d.code for d in session.departments.all()} == {"city", "housing", "traffic"}
    [period] = [s for s in schedule.offered(org.pk, session.date, session.date) if s.kind == SlotKind.JOINT]
    # Only the cases' complainants are received there.
    with pytest.raises(ValidationFailed, match="联合接访只接待相关案件的反映人"):
        services.appointment_book(actor=desk, organization=org, data=booking(period.key))
    visit = services.appointment_book(
        actor=desk, organization=org, data=booking(period.key, name="李娜", phone="13900001111", case_id=first.pk)
    )
    frozen.move_to(at(2026, 9, 30, 14, 5))
    appointment, case, code = services.appointment_check_in(
        actor=desk,
        appointment_id=visit.pk,
        data=arrival(name="李娜", phone="13900001111", case_id=first.pk),
    )
    assert case == first and code is None and appointment.contact.case == first
    held = services.joint_record(
        actor=clerk, session_id=session.pk, summary="市容环境科、住房保障科、交通管理科共同接待，约定一周内清理通道。"
    )
    assert held.status == SessionStatus.HELD
    with time_machine.travel(at(2026, 9, 30, 16), tick=False), pytest.raises(ApplicationError):
        services.joint_cancel(actor=clerk, session_id=session.pk, reason="已举行，不能取消")


def test_the_retention_rule_erases_the_visitors_of_erased_cases(org, booked, desk, frozen):
    from huiyin.cases import bus

    frozen.move_to(at(2026, 9, 28, 9, 50))
    appointment, case, _code = services.appointment_check_in(actor=desk, appointment_id=booked.pk, data=arrival())
    assert ("reception.visitors", services.erase_visitors) in bus.table().erasers
    cases = Case.objects.filter(pk=case.pk)
    assert services.erase_visitors(cases, dry_run=True) == 1
    assert services.erase_visitors(cases, dry_run=False) == 1
    appointment.refresh_from_db()
    assert (appointment.name, appointment.phone, appointment.representatives) == ("", "", "")
    assert appointment.status == AppointmentStatus.CHECKED_IN and appointment.id_number_masked
    assert services.erase_visitors(cases, dry_run=True) == 0
