"""Two desks at the same moment (real threads, each with its own connection; SQLite
serialises them, PostgreSQL runs them at once): the last of an item's budget is spent
once, a badge is handed to one visitor, and a decision taken on a stale form is refused."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from huiyin.core.errors import ApplicationError
from huiyin.frontoffice import services
from huiyin.frontoffice.models import Approval, Expense, Visitor, VisitStatus
from tests.frontoffice.conftest import VALID_ID, build_company, receipt_png
from tests.race import at_once as race

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_last_of_the_budget_is_spent_once():
    _org, _depts, people = build_company()
    today = timezone.localdate()
    reception = services.reception_request(
        actor=people["requester"],
        purpose="客户来访",
        guests="王五，示范电器公司，经理",
        starts_on=today,
        ends_on=today,
        expected_outcome="签约",
        budget={"meals": "1200"},
    )
    services.reception_decide(actor=people["office_head"], reception_id=reception.pk, decision="approved")
    services.reception_decide(actor=people["leader"], reception_id=reception.pk, decision="approved")

    def spend(who):
        return lambda: services.expense_record(
            actor=people[who],
            reception_id=reception.pk,
            item="meals",
            amount="700",
            spent_on=today,
            description="餐费",
            receipt=receipt_png(),
        )

    results = race(spend("requester"), spend("office_clerk"))
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(refused) == 1 and refused[0].code == "over_budget", results
    assert Expense.objects.count() == 1 and sum(e.amount for e in Expense.objects.all()) == 700


def test_a_badge_goes_to_one_of_two_visitors_checked_in_at_once():
    _org, _depts, people = build_company()
    today = timezone.localdate()
    first, second = (
        services.visitor_expect(actor=people["engineer"], expected_on=today, name=n, purpose="洽谈") for n in "甲乙"
    )

    def check_in(visitor):
        return lambda: services.visitor_check_in(
            actor=people["desk"],
            visitor_id=visitor.pk,
            data=services.CheckIn(id_type="resident_id", id_number=VALID_ID, badge="V-01"),
        )

    results = race(check_in(first), check_in(second))
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(refused) == 1 and refused[0].field == "badge", results
    assert Visitor.objects.filter(status=VisitStatus.IN, badge="V-01").count() == 1


def test_two_leaders_signing_the_same_step_sign_it_once():
    _org, _depts, people = build_company()
    reception = services.reception_request(
        actor=people["requester"],
        purpose="客户来访",
        guests="王五，示范电器公司，经理",
        starts_on=date(2030, 1, 7),
        ends_on=date(2030, 1, 7),
        expected_outcome="签约",
        budget={"meals": "300"},
    )
    reception = services.reception_decide(actor=people["office_head"], reception_id=reception.pk, decision="approved")

    def sign(who):
        return lambda: services.reception_decide(
            actor=people[who], reception_id=reception.pk, decision="approved", expected_version=reception.version
        )

    results = race(sign("leader"), sign("leader2"))
    assert sum(isinstance(r, ApplicationError) for r in results) == 1, results
    assert Approval.objects.filter(reception=reception).count() == 2  # the office's head and one leader
