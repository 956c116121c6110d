"""The retention rule (F81) for visits that never became a case: ``huiyin retention apply``
erases the visitor's name, phone, e-mail and representatives once the visit's time is past
the preset's period (the petition office: 10 years), and the messages about it lose their
recipient and texts; the rows stay as the record, newer visits and visits that became a case
(erased with their case) are untouched."""

from __future__ import annotations

import pytest
import time_machine

from huiyin.cases.retention import retention_apply
from huiyin.notifications.models import Message
from huiyin.reception import services
from huiyin.reception.models import Appointment, AppointmentLog, AppointmentStatus
from tests.reception.conftest import at, booking, key
from tests.reception.test_check_in import arrival

pytestmark = pytest.mark.django_db


def test_bookings_that_never_became_a_case_are_erased_after_the_period(org, room, hours, desk, frozen):
    data = booking(key(room, 2026, 9, 30, 10), email="zhang.wei@example.org", representatives=["李娜"], headcount=2)
    cancelled = services.appointment_book(actor=desk, organization=org, data=data)
    services.appointment_cancel(actor=desk, appointment_id=cancelled.pk, reason="来访人有事")
    came = services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 9, 28, 10)))
    later = services.appointment_book(
        actor=desk, organization=org, data=booking(key(room, 2026, 10, 12, 9), name="王芳", phone="13900001111")
    )
    frozen.move_to(at(2026, 9, 28, 9, 50))
    _came, case, _code = services.appointment_check_in(actor=desk, appointment_id=came.pk, data=arrival())
    assert Message.objects.filter(key__startswith=f"appointment:{cancelled.pk}:").exclude(body="").exists()

    # Ten years after 1 October 2026 at noon: the visit of 30 September is past, 12 October is not.
    with time_machine.travel(at(2036, 10, 1, 12), tick=False):
        assert retention_apply(dry_run=True)[0][0].others["reception.bookings_without_case"] == 1
        assert Appointment.objects.get(pk=cancelled.pk).name == "张伟"
        report = retention_apply()[0][0]
    assert report.others["reception.bookings_without_case"] == 1
    erased = Appointment.objects.get(pk=cancelled.pk)
    assert (erased.name, erased.phone, erased.email, erased.representatives) == ("", "", "", "")
    assert erased.erased_at == at(2036, 10, 1, 12)
    # The row stays as the record: its time, room, status, headcount and log.
    assert erased.status == AppointmentStatus.CANCELLED and erased.headcount == 2 and erased.code == cancelled.code
    assert AppointmentLog.objects.filter(appointment=erased).count() == 2
    for message in Message.objects.filter(key__startswith=f"appointment:{cancelled.pk}:"):
        assert (message.recipient, message.body, message.subject) == ("", "", "")
    assert Message.objects.filter(key__startswith=f"appointment:{later.pk}:").exclude(body="").exists()
    kept = Appointment.objects.get(pk=later.pk)
    assert (kept.name, kept.phone, kept.erased_at) == ("王芳", "13900001111", None)
    # The visit that became a case goes with its case (still open here), not by this rule.
    checked_in = Appointment.objects.get(pk=came.pk)
    assert checked_in.case == case and checked_in.name == "张伟" and checked_in.erased_at is None
