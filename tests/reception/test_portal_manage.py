"""The visitor cancels or moves their own booking on the portal: the booking number and the
code the confirmation carried (kept only as a keyed hash; hidden in the staff's copy of the
message), limited like the portal's case look-up; only into periods published for the
public; refused once the visit has begun, the message naming its time."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from huiyin.core.errors import ApplicationError
from huiyin.notifications.models import Message
from huiyin.notifications.purposes import Purpose
from huiyin.portal.errors import TooManyRequests
from huiyin.reception import public, services
from huiyin.reception.models import Appointment, AppointmentStatus, LogKind, Slot
from tests.reception.conftest import at, booking, key

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(org, room, hours, frozen) -> Appointment:
    """Booked on the portal for Tuesday 29 September 10:00."""
    return services.appointment_book(actor=None, organization=org, data=booking(key(room, 2026, 9, 29, 10)))


def test_the_confirmation_carries_the_code_and_only_its_hash_is_kept(booked):
    code = booked.manage_code
    assert len(code) == 6 and code not in Appointment.objects.get(pk=booked.pk).manage_code_hash
    [sms] = Message.objects.filter(purpose=Purpose.VISIT_BOOKED, medium="sms")
    assert f"管理码{code}" in sms.body and code not in sms.shown_body
    assert services.manage_code_matches(Appointment.objects.get(pk=booked.pk), code.lower())
    assert not services.manage_code_matches(Appointment.objects.get(pk=booked.pk), "AAAAAA")


def test_a_wrong_code_is_refused_alike_and_locks_the_number_after_five(org, booked):
    for code, manage_code in [(booked.code, "AAAAAA"), ("NOSUCH12", booked.manage_code)]:
        with pytest.raises(ApplicationError) as refused:
            public.lookup(organization=org, code=code, manage_code=manage_code, client="10.0.0.1")
        assert refused.value.field == "manage_code" and "预约号或管理码不正确" in str(refused.value)
    for _i in range(4):
        with pytest.raises(ApplicationError):
            public.lookup(organization=org, code=booked.code, manage_code="BBBBBB", client="10.0.0.2")
    with pytest.raises(TooManyRequests, match="管理码错误次数过多"):  # even with the right code now
        public.lookup(organization=org, code=booked.code, manage_code=booked.manage_code, client="10.0.0.3")


def _manage(client, org, **data):
    return client.post(reverse("reception_portal:manage", args=[org.code]), data)


def test_the_visitor_moves_then_cancels_the_booking_online(client, org, room, booked, frozen):
    url = reverse("reception_portal:manage", args=[org.code])
    assert 'name="manage_code"' in client.get(url).content.decode()
    refused = _manage(client, org, action="cancel")  # nothing held yet
    assert refused.status_code == 400 and "请先输入预约号和管理码" in refused.content.decode()
    wrong = _manage(client, org, action="lookup", code=booked.code, manage_code="AAAAAA")
    assert wrong.status_code == 200  # said next to the field, as the case look-up does
    assert re.search(r'data-field="manage_code">[^<]*预约号或管理码不正确', wrong.content.decode())
    found = _manage(client, org, action="lookup", code=booked.code.lower(), manage_code=booked.manage_code)
    assert found.status_code == 302
    page = client.get(url, {"day": "2026-09-30"}).content.decode()
    assert booked.code in page and "2026-09-29（星期二）10:00" in page and "张*<" in page
    assert key(room, 2026, 9, 30, 11) in page

    outside = _manage(client, org, action="reschedule", slot=key(room, 2026, 10, 1, 9))  # National Day: closed
    assert outside.status_code == 400 and "不在公布的接待时间内" in outside.content.decode()
    assert _manage(client, org, action="reschedule", slot=key(room, 2026, 9, 30, 11)).status_code == 302
    moved = Appointment.objects.get(pk=booked.pk)
    assert moved.slot.key == key(room, 2026, 9, 30, 11) and moved.status == AppointmentStatus.BOOKED
    assert Slot.objects.get(key=key(room, 2026, 9, 29, 10)).booked == 0
    assert moved.log.filter(kind=LogKind.MOVED, staff=None).count() == 1
    assert Message.objects.filter(purpose=Purpose.VISIT_MOVED).exists()
    assert "预约已改期" in client.get(url).content.decode()

    assert _manage(client, org, action="cancel", reason="已自行解决").status_code == 302
    cancelled = Appointment.objects.get(pk=booked.pk)
    assert cancelled.status == AppointmentStatus.CANCELLED and cancelled.cancel_reason == "已自行解决"
    assert Slot.objects.get(key=key(room, 2026, 9, 30, 11)).booked == 0
    again = _manage(client, org, action="cancel")
    assert again.status_code == 400 and "该预约已取消，不能再取消" in again.content.decode()
    other = client.__class__()  # another browser holds nothing
    assert "booking-code" not in other.get(url).content.decode()


def test_no_change_online_once_the_visit_has_begun(client, org, room, hours, frozen):
    booked = services.appointment_book(actor=None, organization=org, data=booking(key(room, 2026, 9, 28, 10)))
    frozen.move_to(at(2026, 9, 28, 9, 55))
    _manage(client, org, action="lookup", code=booked.code, manage_code=booked.manage_code)
    frozen.move_to(at(2026, 9, 28, 10, 5))
    page = client.get(reverse("reception_portal:manage", args=[org.code])).content.decode()
    assert "已开始，不能在网上改期或取消" in page
    refused = _manage(client, org, action="cancel")
    assert refused.status_code == 400
    assert "预约的来访时间 2026-09-28（星期一）10:00 已开始，不能在网上取消" in refused.content.decode()
    assert Appointment.objects.get(pk=booked.pk).status == AppointmentStatus.BOOKED
    with pytest.raises(ApplicationError, match="已开始，不能在网上改期"):
        services.appointment_reschedule_online(organization=org, appointment_id=booked.pk, slot="x")
