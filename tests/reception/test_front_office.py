"""A booked visit feeds the front office's expected visitors (F70) where the organisation runs
a front office (its preset has a ``front_office`` section): booking announces it on its day
and time (origin 预约系统), a new time moves it, a cancellation cancels it; without a front
office nothing is announced."""

from __future__ import annotations

import dataclasses

import pytest

from huiyin.frontoffice import selectors as fo_selectors
from huiyin.frontoffice.models import Record, RecordAction, Visitor, VisitOrigin, VisitStatus
from huiyin.policy.presets import FrontOffice
from huiyin.policy.services import current_policy, policy_activate
from huiyin.reception import services
from huiyin.reception.models import Appointment
from tests.reception.conftest import booking, key

pytestmark = pytest.mark.django_db


@pytest.fixture
def front_office(org, petition):
    """The petition office's rules plus a front office (the visitor log's section)."""
    preset = dataclasses.replace(current_policy(org).preset(), front_office=FrontOffice())
    return policy_activate(organization=org, preset=preset, actor=None)


def test_a_booking_is_expected_at_the_front_office_and_follows_its_moves(org, front_office, room, hours, desk, frozen):
    appointment = services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 9, 30, 10, 30)))
    visitor = Visitor.objects.get(pk=appointment.visitor_id)
    assert visitor.origin == VisitOrigin.APPOINTMENT and visitor.status == VisitStatus.EXPECTED
    assert (str(visitor.expected_on), visitor.expected_time.strftime("%H:%M")) == ("2026-09-30", "10:30")
    assert visitor.name == "张伟" and visitor.phone == "13812345678" and visitor.host == desk
    assert appointment.code in visitor.purpose
    assert list(fo_selectors.visitors_of_day(actor=desk, day=visitor.expected_on)) == [visitor]

    moved = services.appointment_reschedule(
        actor=desk, appointment_id=appointment.pk, slot=key(room, 2026, 10, 9, 9), version=appointment.version
    )
    assert Visitor.objects.get(pk=visitor.pk).status == VisitStatus.CANCELLED
    again = Visitor.objects.get(pk=moved.visitor_id)
    assert again.pk != visitor.pk and str(again.expected_on) == "2026-10-09" and again.status == VisitStatus.EXPECTED
    cancelled = Record.objects.filter(visitor=visitor, action=RecordAction.VISITOR_CANCELLED)
    assert [r.data["reason"] for r in cancelled] == ["来访预约已改期"]

    services.appointment_cancel(actor=desk, appointment_id=appointment.pk, reason="来访人有事")
    assert Visitor.objects.get(pk=again.pk).status == VisitStatus.CANCELLED
    assert Visitor.objects.filter(status=VisitStatus.EXPECTED).count() == 0


def test_a_portal_booking_is_hosted_by_the_reception_desk(org, front_office, room, hours, desk, frozen):
    appointment = services.appointment_book(actor=None, organization=org, data=booking(key(room, 2026, 9, 29, 9)))
    visitor = Visitor.objects.get(pk=appointment.visitor_id)
    assert visitor.host == desk and visitor.announced_by == desk


def test_without_a_front_office_nothing_is_announced(org, room, hours, desk, frozen):
    appointment = services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 9, 30, 10)))
    assert Appointment.objects.get(pk=appointment.pk).visitor_id is None
    assert not Visitor.objects.exists()
