"""The demo's front office under the company preset: visitors over the past weeks and one
guest reception from request to reimbursement, each step stamped when it happened."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from huiyin.demo.frontoffice import seed_front_office
from huiyin.demo.generator import build_organization
from huiyin.frontoffice.models import Expense, GuestReception, Record, Reimbursement, Visitor, VisitorFeedback
from tests.policy.conftest import SH, activate

pytestmark = [pytest.mark.django_db, pytest.mark.one_engine]

NOW = datetime(2026, 6, 17, 15, 0, tzinfo=SH)  # a Wednesday


def test_visitors_and_a_guest_reception_stamped_truthfully():
    demo = build_organization()
    activate(demo.org, "company_front_office")
    done = seed_front_office(demo.org, demo.staff, now=NOW)
    visitors = list(Visitor.objects.filter(organization=demo.org))
    assert done.visitors == len(visitors) == 7
    for v in visitors:
        assert v.announced_at < v.checked_in_at < v.checked_out_at < NOW
        assert timezone.localtime(v.checked_in_at).date() == v.expected_on and v.expected_on.weekday() < 5
        assert 9 <= timezone.localtime(v.checked_in_at).hour < 18
    assert VisitorFeedback.objects.filter(visitor__organization=demo.org).count() == 6
    reception = GuestReception.objects.get(organization=demo.org)
    assert reception.status == "closed" and reception.reimbursement == Reimbursement.REIMBURSED
    assert reception.requested_at < reception.approved_at < reception.closed_at < reception.reimbursed_at < NOW
    assert sum(e.amount for e in Expense.objects.filter(reception=reception)) == 1720
    trail = list(Record.objects.filter(reception=reception).order_by("pk"))
    assert [r.at for r in trail] == sorted(r.at for r in trail)  # written in the order they happened
    assert trail[-1].action == "reimbursed" and trail[-1].actor.username == "finance"
    again = seed_front_office(demo.org, demo.staff, now=NOW)
    assert again.visitors == 0 and Visitor.objects.filter(organization=demo.org).count() == 7


def test_the_demo_command_under_the_company_preset_has_its_front_office_and_its_reception():
    """`huiyin demo --preset company_front_office` runs to its end, and the front office's own
    visitors and guest reception are there beside the reception's booked visits (a booked
    visit is in the visitor log too: seeded after them, the front office found its log not
    empty and added nothing)."""
    from io import StringIO

    from django.core.management import call_command

    from huiyin.orgs.models import Organization
    from huiyin.reception.models import Appointment

    out = StringIO()
    call_command("huiyin_demo", cases=6, days=20, preset="company_front_office", stdout=out)
    org = Organization.objects.get(code="demo")
    assert GuestReception.objects.filter(organization=org, status="closed").count() == 1
    assert Appointment.objects.filter(organization=org).exists()
    assert Visitor.objects.filter(organization=org, checked_out_at__isnull=False).count() >= 7
    assert "访客登记" in out.getvalue()
