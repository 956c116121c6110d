"""The visitor log (F70): a host announces, the front desk checks the visitor in with the
identity document (an ID number checked by its digit), badge and escort, checks them out
and enters the feedback form; what the form says feeds the satisfaction figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from huiyin.core.errors import PermissionDeniedError, StaleObject, ValidationFailed
from huiyin.core.rates import Rate
from huiyin.evaluation.selectors import BY_DEPARTMENT, BY_STAFF, evaluation
from huiyin.frontoffice import selectors, services
from huiyin.frontoffice.models import Record, RecordAction, Visitor, VisitorFeedback, VisitStatus
from huiyin.frontoffice.services import CheckIn
from tests.frontoffice.conftest import BAD_CHECK_ID, VALID_ID
from tests.policy.conftest import SH

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 10, 9, 30, tzinfo=SH)
TODAY = date(2026, 6, 10)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def expect(people, who="engineer", **more):
    data = {"expected_on": TODAY, "name": "李建国", "purpose": "洽谈设备采购", "affiliation": "示范机电公司"}
    data.update(more)
    return services.visitor_expect(actor=people[who], **data)


def test_a_host_announces_their_own_visitor_and_the_front_desk_for_anyone(people):
    visitor = expect(people, phone="13812345678")
    assert visitor.host == people["engineer"] and visitor.host_department.code == "tech"
    assert visitor.status == VisitStatus.EXPECTED
    assert Record.objects.get(visitor=visitor).action == RecordAction.VISITOR_EXPECTED
    with pytest.raises(PermissionDeniedError):
        expect(people, host_id=people["requester"].pk)  # a host announces only their own visitors
    for_sales = expect(people, who="desk", host_id=people["requester"].pk)
    assert for_sales.host == people["requester"] and for_sales.announced_by == people["desk"]


def test_personal_fields_are_encrypted_at_rest_and_masked(people):
    visitor = expect(people, phone="13812345678")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, phone FROM frontoffice_visitor WHERE id = %s", [visitor.pk])
        name, phone = cursor.fetchone()
    assert "李建国" not in name and "13812345678" not in phone  # Fernet tokens
    fresh = Visitor.objects.get(pk=visitor.pk)
    assert fresh.name == "李建国" and fresh.masked_name == "李**" and fresh.masked_phone == "138****5678"
    assert Visitor.objects.filter(phone_hash__gt="").count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("expected_on", TODAY - timedelta(days=1), "来访日期不能早于今天"),
        ("expected_on", date(2100, 1, 1), "来访日期不能晚于"),
        ("name", "", "请填写访客姓名"),
        ("phone", "1381234", "联系电话格式不正确"),
        ("purpose", "x" * 201, "来访事由过长"),
    ],
)
def test_bad_announcements_are_refused_naming_the_field(people, field, value, message):
    with pytest.raises(ValidationFailed) as refused:
        expect(people, **{field: value})
    assert message in refused.value.errors[field][0]
    assert not Visitor.objects.exists() and not Record.objects.filter(visitor__isnull=False).exists()


def test_check_in_checks_the_id_number_by_its_check_digit_and_records_badge_and_escort(people):
    visitor = expect(people)
    desk = people["desk"]
    with pytest.raises(ValidationFailed) as refused:
        services.visitor_check_in(
            actor=desk, visitor_id=visitor.pk, data=CheckIn(id_type="resident_id", id_number=BAD_CHECK_ID)
        )
    assert "校验位错误" in refused.value.errors["id_number"][0]
    with pytest.raises(ValidationFailed) as refused:
        services.visitor_check_in(actor=desk, visitor_id=visitor.pk, data=CheckIn())  # the preset: id_check
    assert set(refused.value.errors) == {"id_type", "id_number"}
    assert Visitor.objects.get(pk=visitor.pk).status == VisitStatus.EXPECTED  # nothing half-saved

    services.visitor_check_in(
        actor=desk,
        visitor_id=visitor.pk,
        data=CheckIn(id_type="resident_id", id_number=VALID_ID.lower(), badge="V-07", security_notes="携带笔记本电脑"),
        expected_version=visitor.version,
    )
    visitor = Visitor.objects.get(pk=visitor.pk)
    assert visitor.status == VisitStatus.IN and visitor.id_number == VALID_ID  # stored upper-case
    assert visitor.masked_id_number == "110105********002X"
    assert visitor.escort == people["engineer"]  # the host, when nobody else is named
    assert visitor.checked_in_by == desk and visitor.checked_in_at == timezone.now()
    assert Visitor.objects.with_id_number(VALID_ID).get() == visitor
    passport = expect(people, name="John Smith")
    with pytest.raises(ValidationFailed):
        services.visitor_check_in(actor=desk, visitor_id=passport.pk, data=CheckIn(id_type="passport", id_number="E1"))
    services.visitor_check_in(
        actor=desk, visitor_id=passport.pk, data=CheckIn(id_type="passport", id_number="E12345678")
    )


def test_only_the_front_desk_checks_in_and_not_on_another_day(people):
    visitor = expect(people)
    data = CheckIn(id_type="resident_id", id_number=VALID_ID)
    with pytest.raises(PermissionDeniedError):
        services.visitor_check_in(actor=people["engineer"], visitor_id=visitor.pk, data=data)
    tomorrow = expect(people, expected_on=TODAY + timedelta(days=1))
    with pytest.raises(Exception, match="不是今天"):
        services.visitor_check_in(actor=people["desk"], visitor_id=tomorrow.pk, data=data)


def test_a_badge_is_unique_among_the_visitors_inside_and_free_again_after_check_out(people):
    desk = people["desk"]
    first, second = expect(people), expect(people, name="王芳")
    services.visitor_check_in(
        actor=desk, visitor_id=first.pk, data=CheckIn(id_type="resident_id", id_number=VALID_ID, badge="A1")
    )
    with pytest.raises(Exception) as refused:
        services.visitor_check_in(
            actor=desk, visitor_id=second.pk, data=CheckIn(id_type="resident_id", id_number=VALID_ID, badge="A1")
        )
    assert refused.value.field == "badge" and "A1" in str(refused.value)
    assert Visitor.objects.get(pk=second.pk).status == VisitStatus.EXPECTED
    services.visitor_check_out(actor=desk, visitor_id=first.pk)
    services.visitor_check_in(
        actor=desk, visitor_id=second.pk, data=CheckIn(id_type="resident_id", id_number=VALID_ID, badge="A1")
    )
    assert Visitor.objects.get(pk=second.pk).badge == "A1"


def test_the_database_refuses_a_second_badge_in_use_too(people):
    """The partial unique index backs the check when two desks hand out a badge at once."""
    from django.db import IntegrityError, transaction  # only this test writes around the service

    desk = people["desk"]
    first, second = expect(people), expect(people, name="王芳")
    services.visitor_check_in(
        actor=desk, visitor_id=first.pk, data=CheckIn(id_type="resident_id", id_number=VALID_ID, badge="B2")
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Visitor.objects.filter(pk=second.pk).update(status=VisitStatus.IN, badge="B2")


def test_a_stale_form_is_refused_and_a_visitor_moves_only_forward(people):
    desk = people["desk"]
    visitor = expect(people)
    data = CheckIn(id_type="resident_id", id_number=VALID_ID)
    services.visitor_check_in(actor=desk, visitor_id=visitor.pk, data=data, expected_version=visitor.version)
    with pytest.raises(StaleObject):  # a second desk with the same form
        services.visitor_check_in(actor=desk, visitor_id=visitor.pk, data=data, expected_version=visitor.version)
    fresh = Visitor.objects.get(pk=visitor.pk)
    services.visitor_check_out(actor=desk, visitor_id=visitor.pk, expected_version=fresh.version)
    with pytest.raises(Exception, match="已离开"):
        services.visitor_check_out(actor=desk, visitor_id=visitor.pk)


def test_a_walk_in_is_registered_and_checked_in_at_once(people):
    visitor = services.visitor_walk_in(
        actor=people["desk"],
        host_id=people["requester"].pk,
        name="赵强",
        purpose="送样品",
        data=CheckIn(id_type="resident_id", id_number=VALID_ID, badge="W1", escort_id=people["office_clerk"].pk),
    )
    assert visitor.status == VisitStatus.IN and visitor.origin == "walk_in" and visitor.escort == people["office_clerk"]
    assert [r.action for r in Record.objects.filter(visitor=visitor)] == ["visitor_expected", "visitor_checked_in"]
    with pytest.raises(ValidationFailed) as refused:
        services.visitor_walk_in(actor=people["desk"], host_id=None, name="", purpose="", data=CheckIn())
    assert {"host", "name", "purpose", "id_type", "id_number"} <= set(refused.value.errors)
    assert Visitor.objects.count() == 1


def test_the_full_view_is_for_the_front_desk_and_logged(people):
    visitor = expect(people, phone="13812345678")
    with pytest.raises(PermissionDeniedError):
        services.visitor_reveal(actor=people["engineer"], visitor_id=visitor.pk)  # the host: masked only
    shown = services.visitor_reveal(actor=people["desk"], visitor_id=visitor.pk)
    assert shown["name"] == "李建国" and shown["phone"] == "13812345678"
    viewed = Record.objects.get(visitor=visitor, action=RecordAction.VISITOR_VIEWED)
    assert viewed.actor == people["desk"] and viewed.data == {}  # nothing personal in the trail


def _visit(people, name, *, host="engineer", overall=None, answers=()):
    visitor = expect(people, who=host, name=name)
    desk = people["desk"]
    services.visitor_check_in(
        actor=desk, visitor_id=visitor.pk, data=CheckIn(id_type="resident_id", id_number=VALID_ID)
    )
    services.visitor_check_out(actor=desk, visitor_id=visitor.pk)
    if overall:
        services.visitor_feedback_record(actor=desk, visitor_id=visitor.pk, overall=overall, answers=answers)
    return visitor


def test_the_feedback_form_after_check_out_with_the_presets_questions(people):
    questions = selectors.questions(people["desk"].org_id)
    assert questions[0] == "接待人员是否热情、礼貌" and len(questions) == 5  # company_front_office.yaml
    visitor = expect(people)
    with pytest.raises(Exception, match="离开时才填写"):
        services.visitor_feedback_record(actor=people["desk"], visitor_id=visitor.pk, overall="satisfied")
    visitor = _visit(people, "王芳")
    with pytest.raises(ValidationFailed) as refused:
        services.visitor_feedback_record(actor=people["desk"], visitor_id=visitor.pk, overall="great")
    assert "overall" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        services.visitor_feedback_record(
            actor=people["desk"], visitor_id=visitor.pk, overall="satisfied", answers=["satisfied", "wow"]
        )
    assert "q2" in refused.value.errors
    services.visitor_feedback_record(
        actor=people["desk"],
        visitor_id=visitor.pk,
        overall="basically_satisfied",
        answers=["satisfied", "", "dissatisfied"],
        comment="等候区可以加几把椅子",
    )
    form = VisitorFeedback.objects.get(visitor=visitor)
    assert form.answers == [
        {"question": "接待人员是否热情、礼貌", "rating": "satisfied"},
        {"question": "陪同访问的安排是否周到", "rating": "dissatisfied"},
    ]
    with pytest.raises(Exception, match="已经录入"):
        services.visitor_feedback_record(actor=people["desk"], visitor_id=visitor.pk, overall="satisfied")


def test_feedback_feeds_the_satisfaction_figures(people, depts):
    _visit(people, "甲", overall="satisfied")
    _visit(people, "乙", overall="basically_satisfied")
    _visit(people, "丙", overall="dissatisfied")
    _visit(people, "丁")  # left without a form
    _visit(people, "戊", host="requester", overall="dissatisfied")
    start = datetime(2026, 6, 1, tzinfo=SH)
    end = datetime(2026, 7, 1, tzinfo=SH)

    counts = selectors.feedback_counts(people["desk"].org_id, start, end, BY_STAFF)
    assert counts[people["engineer"].pk] == selectors.FeedbackCount(rated=3, satisfied=2)

    by_staff = {row.unit_id: row for row in evaluation(people["desk"].org_id, start, end, BY_STAFF).rows}
    assert by_staff[people["engineer"].pk].satisfaction == Rate(2, 3)
    assert by_staff[people["requester"].pk].satisfaction == Rate(0, 1)
    by_department = {row.unit_id: row for row in evaluation(people["desk"].org_id, start, end, BY_DEPARTMENT).rows}
    assert by_department[depts["tech"].pk].satisfaction == Rate(2, 3)
    assert by_department[depts["sales"].pk].satisfaction == Rate(0, 1)

    rates = selectors.feedback_rates(people["desk"].org_id, start, end)
    assert rates.collected == Rate(4, 5) and rates.satisfaction == Rate(2, 4)
    # Another month counts nothing.
    later = selectors.feedback_counts(people["desk"].org_id, end, end + timedelta(days=30), BY_STAFF)
    assert later == {}


def test_the_days_list_is_the_front_desks_whole_and_a_hosts_own(people):
    expect(people)
    expect(people, who="requester", name="王芳")
    expect(people, expected_on=TODAY + timedelta(days=1), name="孙丽")
    assert len(selectors.visitors_of_day(actor=people["desk"], day=TODAY)) == 2
    assert [v.name for v in selectors.visitors_of_day(actor=people["engineer"], day=TODAY)] == ["李建国"]
    assert [v.name for v in selectors.visitors_of_day(actor=people["engineer"], day=TODAY + timedelta(days=1))] == [
        "孙丽"
    ]
