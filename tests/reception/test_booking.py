"""Booking a visit: the confirmation by SMS and e-mail through the notification backends, the
reminder and the not-come mark timed by the visit's deadline clock (the one sweeper), a
cancellation and a new time giving places back, group visits capped by the preset's
representatives rule, and bad input refused naming the field with nothing stored."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine

from huiyin.core.errors import ApplicationError, InvalidStatus, ValidationFailed
from huiyin.deadlines.models import Clock, ClockState
from huiyin.deadlines.sweeper import sweep_until_idle
from huiyin.notifications.models import Message, MessageStatus
from huiyin.reception import services
from huiyin.reception.models import Appointment, AppointmentLog, AppointmentStatus, BookedVia, Slot
from huiyin.reception.subject import KIND
from tests.reception.conftest import at, booking, key

pytestmark = pytest.mark.django_db


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def sms_lines(tmp_path) -> list[dict]:
    outbox = tmp_path / "outbox" / "sms.jsonl"
    return [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()] if outbox.exists() else []


def counts() -> tuple[int, ...]:
    return (
        Appointment.objects.count(),
        Slot.objects.filter(booked__gt=0).count(),
        Message.objects.count(),
        Clock.objects.filter(subject_kind=KIND).count(),
        AppointmentLog.objects.count(),
    )


def test_a_booking_is_confirmed_by_sms_and_email_and_its_clock_set(
    org, room, hours, desk, immediate_tasks, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = services.appointment_book(
            actor=desk,
            organization=org,
            data=booking(key(room, 2026, 9, 30, 10, 30), email="zhang.wei@example.org", via=BookedVia.PHONE),
        )
    [sms] = sms_lines(tmp_path)
    assert sms["phone"] == "13812345678"
    assert appointment.code in sms["body"] and "2026-09-30（星期三）10:30" in sms["body"]
    assert "信访接待室（市民中心一楼）" in sms["body"]
    sent = {m.medium: m for m in Message.objects.filter(key__startswith=f"appointment:{appointment.pk}:")}
    assert set(sent) == {"sms", "email"} and all(m.status == MessageStatus.SENT for m in sent.values())
    assert sent["sms"].recipient_masked == "138****5678" and sent["sms"].purpose == "visit_booked"
    assert sent["sms"].case is None and sent["sms"].organization_id == org.pk
    clock = Clock.objects.get(subject_kind=KIND, subject_id=appointment.pk)
    # The reminder a day before, the not-come mark half an hour after the start (the preset's).
    assert clock.warn_at == at(2026, 9, 29, 10, 30) and clock.due_at == at(2026, 9, 30, 11, 0)
    assert clock.case is None and clock.state == ClockState.RUNNING
    slot = appointment.slot
    assert (slot.booked, slot.capacity) == (1, 2)
    assert [entry.kind for entry in appointment.log.all()] == ["booked"]


def test_the_sweeper_sends_the_reminder_then_marks_a_visit_not_come(
    org, room, hours, desk, frozen, immediate_tasks, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 9, 30, 9)))
    frozen.move_to(at(2026, 9, 29, 9, 5))
    with django_capture_on_commit_callbacks(execute=True):
        sweep_until_idle(now=at(2026, 9, 29, 9, 5), worker_id="test")
    reminder = sms_lines(tmp_path)[-1]
    assert "提醒" in reminder["body"] and appointment.code in reminder["body"]
    reminders = Message.objects.filter(key__startswith=f"appointment:{appointment.pk}:", purpose="visit_reminder")
    assert reminders.count() == 1
    # A second sweep sends nothing again.
    with django_capture_on_commit_callbacks(execute=True):
        sweep_until_idle(now=at(2026, 9, 29, 10), worker_id="test")
    assert len(sms_lines(tmp_path)) == 2
    frozen.move_to(at(2026, 9, 30, 9, 31))
    sweep_until_idle(now=at(2026, 9, 30, 9, 31), worker_id="test")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NO_SHOW and appointment.no_show_at == at(2026, 9, 30, 9, 31)
    assert appointment.slot.booked == 1  # a visit not come still held its place
    assert [e.kind for e in appointment.log.all()] == ["booked", "reminded", "no_show"]


def test_no_reminder_for_a_visit_booked_later_than_the_reminder_time(org, room, hours, desk, frozen):
    appointment = services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 9, 28, 11)))
    assert Clock.objects.get(subject_kind=KIND, subject_id=appointment.pk).warn_at is None


def test_cancelling_gives_the_places_back_and_tells_the_visitor(org, room, hours, desk, frozen):
    slot_key = key(room, 2026, 9, 29, 9)
    first = services.appointment_book(actor=desk, organization=org, data=booking(slot_key))
    services.appointment_book(actor=desk, organization=org, data=booking(slot_key, name="李娜", phone="13900001111"))
    with pytest.raises(ApplicationError, match="已约满"):
        services.appointment_book(actor=desk, organization=org, data=booking(slot_key, name="王芳"))
    services.appointment_cancel(actor=desk, appointment_id=first.pk, reason="来访人来电取消")
    first.refresh_from_db()
    assert first.status == AppointmentStatus.CANCELLED and first.slot.booked == 1
    assert Message.objects.filter(key__startswith=f"appointment:{first.pk}:", purpose="visit_cancelled").exists()
    assert Clock.objects.get(subject_kind=KIND, subject_id=first.pk).state == ClockState.STOPPED
    services.appointment_book(actor=desk, organization=org, data=booking(slot_key, name="王芳"))
    with pytest.raises(InvalidStatus):
        services.appointment_cancel(actor=desk, appointment_id=first.pk, reason="再次取消")


def test_a_new_time_takes_the_new_places_before_giving_the_old_ones_back(org, room, hours, desk, frozen):
    appointment = services.appointment_book(
        actor=desk, organization=org, data=booking(key(room, 2026, 9, 29, 9), representatives=["李娜"], headcount=8)
    )
    assert appointment.places == 2
    full = key(room, 2026, 9, 29, 10)
    services.appointment_book(actor=desk, organization=org, data=booking(full, name="王芳"))
    before = counts()
    with pytest.raises(ApplicationError) as refusal:
        services.appointment_reschedule(actor=desk, appointment_id=appointment.pk, slot=full)
    assert refusal.value.field == "slot" and "只剩 1 个名额" in str(refusal.value.message)
    assert counts() == before
    appointment.refresh_from_db()
    assert appointment.slot.key == key(room, 2026, 9, 29, 9) and appointment.slot.booked == 2
    old_clock = Clock.objects.get(subject_kind=KIND, subject_id=appointment.pk)
    services.appointment_reschedule(actor=desk, appointment_id=appointment.pk, slot=key(room, 2026, 9, 30, 11))
    appointment.refresh_from_db()
    assert appointment.slot.starts_at == at(2026, 9, 30, 11) and appointment.slot.booked == 2
    assert Slot.objects.get(key=key(room, 2026, 9, 29, 9)).booked == 0
    old_clock.refresh_from_db()
    assert old_clock.state == ClockState.STOPPED
    new_clock = Clock.objects.get(subject_kind=KIND, subject_id=appointment.pk, state=ClockState.RUNNING)
    assert new_clock.due_at == at(2026, 9, 30, 11, 30)
    moved = Message.objects.get(key__startswith=f"appointment:{appointment.pk}:", purpose="visit_moved")
    assert "2026-09-30（星期三）11:00" in moved.body
    assert [e.kind for e in appointment.log.all()] == ["booked", "moved"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"name": ""}, "name", "请填写来访人姓名"),
        ({"phone": ""}, "phone", "请填写联系电话"),
        ({"phone": "12345678901234"}, "phone", "联系电话格式不正确"),
        ({"email": "not-an-address"}, "email", "电子邮箱格式不正确"),
        ({"purpose": "  "}, "purpose", "请简要填写来访事由"),
        ({"headcount": 0}, "headcount", "来访人数应在 1 到 10000 之间"),
        # The petition office's rule (intake.representatives_max: 5), as for the visit's registration.
        ({"representatives": ["甲", "乙", "丙", "丁", "戊"], "headcount": 30}, "representatives", "代表不超过 5 人"),
        ({"representatives": ["甲", "乙"], "headcount": 2}, "headcount", "来访人数（2）少于登记的代表人数（3）"),
    ],
)
def test_bad_visitor_details_are_refused_naming_the_field(org, room, hours, desk, frozen, change, field, words):
    before = counts()
    with pytest.raises(ValidationFailed) as refusal:
        services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 9, 29, 9), **change))
    assert words in " ".join(refusal.value.errors[field])
    assert counts() == before


def test_a_group_of_five_representatives_is_booked_with_its_headcount(org, room, admin, desk, frozen):
    from datetime import time

    from huiyin.reception.models import Weekday

    services.hours_add(
        actor=admin,
        room_id=room.pk,
        weekdays=[Weekday.THURSDAY],
        starts=time(14),
        ends=time(16),
        slot_minutes=60,
        capacity=5,
        valid_from=at(2026, 9, 28).date(),
    )
    group = services.appointment_book(
        actor=desk,
        organization=org,
        data=booking(key(room, 2026, 10, 8, 14), representatives=["李娜", "王芳", "赵强", "孙丽"], headcount=40),
    )
    assert (group.places, group.headcount, group.slot.booked) == (5, 40, 5)
    assert group.representative_names == ["李娜", "王芳", "赵强", "孙丽"]


def test_a_period_in_the_past_or_beyond_the_booking_window_is_refused(org, room, hours, desk, frozen):
    before = counts()
    frozen.move_to(at(2026, 9, 29, 10, 1))
    for slot_key, words in (
        (key(room, 2026, 9, 29, 10), "所选时段已过"),
        (key(room, 2026, 9, 28, 9), "所选时段已过"),
        (key(room, 2026, 10, 16, 9), "最多可提前 14 天预约（最晚 2026-10-13）"),
    ):
        with pytest.raises(ApplicationError) as refusal:
            services.appointment_book(actor=desk, organization=org, data=booking(slot_key))
        assert refusal.value.field == "slot" and words in str(refusal.value.message)
    assert counts() == before


def test_not_come_is_recorded_only_once_the_visit_has_begun(org, room, hours, desk, frozen):
    appointment = services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 9, 28, 10)))
    with pytest.raises(ApplicationError, match="还未到"):
        services.appointment_no_show(actor=desk, appointment_id=appointment.pk)
    with time_machine.travel(at(2026, 9, 28, 10, 5), tick=False):
        services.appointment_no_show(actor=desk, appointment_id=appointment.pk, version=appointment.version)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NO_SHOW
    assert Clock.objects.get(subject_kind=KIND, subject_id=appointment.pk).state == ClockState.STOPPED


def test_a_stale_form_changes_nothing(org, room, hours, desk, frozen):
    appointment = services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 9, 28, 10)))
    services.appointment_reschedule(
        actor=desk, appointment_id=appointment.pk, slot=key(room, 2026, 9, 29, 10), version=appointment.version
    )
    before = counts()
    with pytest.raises(ApplicationError, match="该预约已被他人更改"):
        services.appointment_cancel(
            actor=desk, appointment_id=appointment.pk, reason="取消", version=appointment.version
        )
    assert counts() == before


def test_only_the_desk_books_and_only_in_its_own_organisation(org, room, hours, handler, frozen):
    from huiyin.core.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        services.appointment_book(actor=handler, organization=org, data=booking(key(room, 2026, 9, 28, 10)))
    assert Appointment.objects.count() == 0


def test_demo_history_may_book_in_the_past_with_at(org, room, hours, desk, frozen):
    """Recreated history: a booking stamped at its own moment is checked against that moment."""
    frozen.move_to(at(2026, 10, 20, 12))
    appointment = services.appointment_book(
        actor=desk, organization=org, data=booking(key(room, 2026, 9, 30, 9)), at=at(2026, 9, 28, 8, 30)
    )
    assert appointment.booked_at == at(2026, 9, 28, 8, 30)
    assert appointment.log.get().at == at(2026, 9, 28, 8, 30)
    assert timedelta(0) < appointment.slot.starts_at - appointment.booked_at
