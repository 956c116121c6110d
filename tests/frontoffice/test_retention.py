"""The retention rule (F81) for the front office: ``huiyin retention apply`` erases the
visitors' name, phone, work unit and document number once their visit day is past the
preset's period (the company preset: 2 years, attachments deleted), and a finished guest
reception's guest names and receipt files; the rows stay as the record (the figures and the
cost report do not change), and what is newer than the period is kept."""

from __future__ import annotations

import dataclasses
import io
from datetime import date, datetime
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from huiyin.cases.retention import retention_apply
from huiyin.frontoffice import selectors, services
from huiyin.frontoffice.models import Expense, Guest, GuestReception, Visitor, VisitorFeedback, VisitStatus
from huiyin.frontoffice.services import CheckIn
from huiyin.policy.presets import Retention, load_preset
from huiyin.policy.services import policy_activate, presets_dir
from tests.frontoffice.conftest import VALID_ID, receipt_pdf
from tests.policy.conftest import SH

pytestmark = pytest.mark.django_db


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, tzinfo=SH)


def visit(people, day: datetime, name: str) -> Visitor:
    """A visitor announced, checked in and out on ``day``, with the feedback form."""
    with time_machine.travel(day, tick=False) as clock:
        visitor = services.visitor_expect(
            actor=people["engineer"],
            expected_on=day.date(),
            name=name,
            phone="13812345678",
            affiliation="示范机电公司",
            purpose="洽谈设备采购",
        )
        data = CheckIn(id_type="resident_id", id_number=VALID_ID, badge="A1")
        services.visitor_check_in(actor=people["desk"], visitor_id=visitor.pk, data=data)
        clock.move_to(day.replace(hour=day.hour + 1))
        services.visitor_check_out(actor=people["desk"], visitor_id=visitor.pk)
        services.visitor_feedback_record(actor=people["desk"], visitor_id=visitor.pk, overall="satisfied")
    return Visitor.objects.get(pk=visitor.pk)


def reimbursed_reception(people) -> GuestReception:
    """A reception held on 10–11 June 2026, closed and reimbursed, with one receipt."""
    with time_machine.travel(at(2026, 6, 8, 9), tick=False) as clock:
        reception = services.reception_request(
            actor=people["requester"],
            purpose="市住建局调研物业服务",
            guests="张明，示范市住房和城乡建设局，副局长",
            starts_on=date(2026, 6, 10),
            ends_on=date(2026, 6, 11),
            expected_outcome="介绍经验",
            budget={"room": "500"},
        )
        services.reception_decide(actor=people["office_head"], reception_id=reception.pk, decision="approved")
        services.reception_decide(actor=people["leader"], reception_id=reception.pk, decision="approved")
        services.expense_record(
            actor=people["office_clerk"],
            reception_id=reception.pk,
            item="room",
            amount="500",
            spent_on=date(2026, 6, 8),
            description="会议室租用",
            receipt=receipt_pdf(),
        )
        clock.move_to(at(2026, 6, 11, 17))
        services.reception_close(
            actor=people["requester"], reception_id=reception.pk, summary="顺利", feedback="satisfied"
        )
        services.reimbursement_submit(actor=people["requester"], reception_id=reception.pk)
        services.reimbursement_decide(actor=people["finance"], reception_id=reception.pk, decision="reimbursed")
    return GuestReception.objects.get(pk=reception.pk)


def test_old_visitors_lose_their_personal_data_newer_ones_keep_it(people, company):
    old = visit(people, at(2026, 6, 10), "李建国")
    new = visit(people, at(2027, 3, 10), "王大明")
    period = (datetime(2026, 6, 1, tzinfo=SH), datetime(2028, 1, 1, tzinfo=SH))
    figures = selectors.feedback_rates(company.pk, *period)

    # 2 years after 1 July 2026: the June 2026 visit is past the period, March 2027 is not.
    with time_machine.travel(at(2028, 7, 1), tick=False):
        reports, _messages = retention_apply(dry_run=True)
        assert reports[0].others["frontoffice.visitors"] == 1
        assert Visitor.objects.get(pk=old.pk).name == "李建国"  # a dry run changes nothing
        reports, _messages = retention_apply()
    assert reports[0].others["frontoffice.visitors"] == 1
    erased = Visitor.objects.get(pk=old.pk)
    assert (erased.name, erased.phone, erased.affiliation, erased.id_number) == ("", "", "", "")
    assert erased.phone_hash == "" and erased.id_number_hash == ""
    assert erased.erased_at == at(2028, 7, 1)
    # The row stays as the record: its day, times, host, badge, status and feedback form.
    assert erased.expected_on == date(2026, 6, 10) and erased.status == VisitStatus.OUT
    assert erased.host == people["engineer"] and erased.badge == "A1"
    assert VisitorFeedback.objects.filter(visitor=erased).exists()
    assert selectors.feedback_rates(company.pk, *period) == figures
    kept = Visitor.objects.get(pk=new.pk)
    assert (kept.name, kept.phone, kept.id_number) == ("王大明", "13812345678", VALID_ID)
    assert not Visitor.objects.with_id_number(VALID_ID).filter(pk=old.pk).exists()
    # A second run finds nothing more.
    with time_machine.travel(at(2028, 7, 2), tick=False):
        assert retention_apply()[0][0].others["frontoffice.visitors"] == 0


def test_a_finished_guest_receptions_guests_and_receipt_files_go_by_the_rule(
    people, company, django_capture_on_commit_callbacks
):
    reception = reimbursed_reception(people)
    expense = Expense.objects.get(reception=reception)
    path = Path(expense.receipt.path)
    assert path.exists()
    costs_before = selectors.cost_report(company.pk, date(2026, 1, 1), date(2026, 12, 31))

    with time_machine.travel(at(2028, 6, 1), tick=False):  # within the period: kept
        assert retention_apply()[0][0].others["frontoffice.guests_and_receipts"] == 0
    assert Guest.objects.get(reception=reception).name == "张明" and path.exists()

    out = io.StringIO()
    # The files go once the rows are committed.
    with time_machine.travel(at(2028, 7, 1), tick=False), django_capture_on_commit_callbacks(execute=True):
        call_command("huiyin_retention", "apply", stdout=out)
    guest = Guest.objects.get(reception=reception)
    assert guest.name == "" and guest.erased_at == at(2028, 7, 1) and guest.organization_name
    expense = Expense.objects.get(pk=expense.pk)
    assert expense.receipt.name == "" and expense.receipt_name == "" and expense.erased_at is not None
    assert expense.amount == 500 and expense.receipt_size  # the row stays as the record
    assert not path.exists()
    assert GuestReception.objects.get(pk=reception.pk).summary == "顺利"
    assert selectors.cost_report(company.pk, date(2026, 1, 1), date(2026, 12, 31)) == costs_before


def test_receipts_are_kept_where_the_rule_keeps_attachments_and_open_receptions_are_untouched(people, company):
    reception = reimbursed_reception(people)
    with time_machine.travel(at(2026, 6, 8, 9), tick=False):
        pending = services.reception_request(
            actor=people["requester"],
            purpose="客户来访",
            guests="赵磊，示范银行，经理",
            starts_on=date(2026, 6, 20),
            ends_on=date(2026, 6, 20),
            expected_outcome="签约",
            budget={"meals": "300"},
        )
    preset = load_preset(presets_dir() / "company_front_office.yaml")
    keep = dataclasses.replace(preset, retention=Retention(keep_for=1, unit="years", attachments="keep"))
    policy_activate(organization=company, preset=keep, actor=None)
    with time_machine.travel(at(2028, 7, 1), tick=False):
        report = retention_apply()[0][0]
    assert report.others["frontoffice.guests_and_receipts"] == 1  # the guest's name only
    assert Guest.objects.get(reception=reception).name == ""
    assert Expense.objects.get(reception=reception).receipt.name != ""
    assert Guest.objects.get(reception=pending).name == "赵磊"  # still waiting for its approval
