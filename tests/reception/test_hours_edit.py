"""Published hours changed in place: times, slot length, places and last day of one row. A
change that would leave periods already booked outside the hours is refused, naming how
many, on which days; fewer places leave the booked visits theirs; days before today stay as
they were published (the row in force is ended yesterday and the change starts today)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from huiyin.core.errors import StaleObject, ValidationFailed
from huiyin.orgs.roles import Role
from huiyin.reception import services
from huiyin.reception.models import OpeningHours, Slot, Weekday
from tests.conftest import make_staff
from tests.reception.conftest import MONDAY, at, booking, key
from tests.reception.test_schedule import days_open
from tests.stale import refused_as_stale, two_saves

pytestmark = pytest.mark.django_db


def monday_rule(hours) -> OpeningHours:
    return next(h for h in hours if h.weekday == Weekday.MONDAY)


def edit(admin, rule, **more):
    values = dict(starts=time(9), ends=time(11), slot_minutes=30, capacity=3, valid_until=None)
    values.update(more)
    return services.hours_edit(actor=admin, hours_id=rule.pk, **values)


def test_a_row_not_yet_in_force_before_today_changes_in_place(org, room, hours, admin, desk, frozen):
    services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 10, 12, 9)))
    rule = monday_rule(hours)
    changed = edit(admin, rule, valid_until=date(2026, 12, 31))
    assert changed.pk == rule.pk and OpeningHours.objects.count() == len(hours)
    assert (changed.starts, changed.ends, changed.capacity, changed.valid_until) == (
        time(9),
        time(11),
        3,
        date(2026, 12, 31),
    )
    assert days_open(org, date(2026, 10, 12), date(2026, 10, 12))[date(2026, 10, 12)] == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
    ]
    assert date(2027, 1, 4) not in days_open(org, date(2027, 1, 4), date(2027, 1, 4))


def test_a_change_stranding_booked_visits_is_refused_naming_how_many_and_which_day(
    org, room, hours, admin, desk, frozen
):
    services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 10, 12, 11, 30)))
    services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 10, 12, 11, 30)))
    rule = monday_rule(hours)
    with pytest.raises(ValidationFailed) as refused:
        edit(admin, rule)
    [message] = refused.value.errors["starts"]
    assert "2026-10-12" in message and "1 个时段（2 个预约）" in message
    with pytest.raises(ValidationFailed) as refused:  # a new length moves the periods' starts: 09:30 no longer is one
        services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 9, 28, 9, 30)))
        edit(admin, rule, ends=time(12), slot_minutes=60)
    assert "2026-09-28、2026-10-12" in refused.value.errors["starts"][0]
    assert OpeningHours.objects.get(pk=rule.pk).ends == time(12)  # nothing changed
    # Fewer places than are taken is no stranding: the booked visits keep theirs.
    edit(admin, rule, ends=time(12), capacity=1)
    assert Slot.objects.get(key=key(room, 2026, 10, 12, 11, 30)).booked == 2


def test_a_row_in_force_before_today_keeps_its_past_and_changes_from_today(org, room, hours, admin, frozen):
    rule = monday_rule(hours)
    frozen.move_to(at(2026, 10, 8, 8))
    new = edit(admin, rule, starts=time(14), ends=time(16))
    old = OpeningHours.objects.get(pk=rule.pk)
    assert new.pk != rule.pk and old.valid_until == date(2026, 10, 7) and new.valid_from == date(2026, 10, 8)
    assert (old.starts, old.ends) == (time(9), time(12))  # 28 September was published as it was
    assert days_open(org, MONDAY, MONDAY)[MONDAY][0] == "09:00"
    assert days_open(org, date(2026, 10, 12), date(2026, 10, 12))[date(2026, 10, 12)][0] == "14:00"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"ends": time(8)}, "ends", "结束时间应晚于开始时间"),
        ({"slot_minutes": 3}, "slot_minutes", "每段分钟数应在"),
        ({"capacity": 0}, "capacity", "每段名额应在"),
        ({"valid_until": MONDAY - timedelta(days=1)}, "valid_until", "截止日期不能早于今天"),
        ({"starts": time(13), "ends": time(15), "weekday_clash": True}, "starts", "重叠"),
    ],
)
def test_bad_changes_are_refused_naming_the_field(org, room, hours, admin, frozen, change, field, words):
    rule = monday_rule(hours)
    if change.pop("weekday_clash", False):
        services.hours_add(
            actor=admin,
            room_id=room.pk,
            weekdays=[Weekday.MONDAY],
            starts=time(14),
            ends=time(17),
            slot_minutes=30,
            capacity=2,
            valid_from=MONDAY,
        )
    before = list(OpeningHours.objects.order_by("pk").values_list("starts", "ends", "slot_minutes", "capacity"))
    with pytest.raises(ValidationFailed) as refused:
        edit(admin, rule, **change)
    assert words in refused.value.errors[field][0]
    assert list(OpeningHours.objects.order_by("pk").values_list("starts", "ends", "slot_minutes", "capacity")) == before


def test_the_edit_page(client, org, room, hours, admin, desk, frozen):
    rule = monday_rule(hours)
    url = reverse("reception:hours_edit", args=[rule.pk])
    client.force_login(desk)
    assert client.get(url).status_code == 403
    client.force_login(admin)
    page = client.get(url)
    assert page.status_code == 200 and 'value="12:00"' in page.content.decode()
    assert url in client.get(reverse("reception:schedule")).content.decode()
    refused = client.post(
        url, {"starts": "10:00", "ends": "09:00", "slot_minutes": "30", "capacity": "2", "version": "1"}
    )
    assert refused.status_code == 400 and "结束时间应晚于开始时间" in refused.content.decode()
    garbled = client.post(url, {"starts": "25:99", "ends": "x", "slot_minutes": "abc", "capacity": "", "version": "1"})
    assert garbled.status_code == 400
    done = client.post(url, {"starts": "09:00", "ends": "11:00", "slot_minutes": "30", "capacity": "2", "version": "1"})
    assert done.status_code == 302 and OpeningHours.objects.get(pk=rule.pk).ends == time(11)
    assert client.get(reverse("reception:hours_edit", args=[999999])).status_code == 404


def _form(starts: str, ends: str) -> dict[str, str]:
    return {"starts": starts, "ends": ends, "slot_minutes": "30", "capacity": "2"}


@pytest.fixture
def schedulers(org, admin) -> tuple[Client, Client]:
    first, second = Client(), Client()
    first.force_login(admin)
    second.force_login(make_staff(org, "admin_2", [Role.ADMIN]))
    return first, second


def test_the_second_of_two_edits_of_the_same_hours_is_refused(schedulers, hours, frozen):
    rule = monday_rule(hours)
    saves = two_saves(
        *schedulers,
        page=reverse("reception:hours_edit", args=[rule.pk]),
        data=lambda who: _form("09:00", "11:00") if who == "first" else _form("08:30", "10:00"),
    )
    assert saves.first.status_code == 302
    assert refused_as_stale(saves.second)
    assert 'value="08:30"' in saves.second.content.decode()  # what the second typed is still there
    rule = OpeningHours.objects.get(pk=rule.pk)
    assert (rule.starts, rule.ends, rule.version) == (time(9), time(11), 2)


def test_an_edit_made_before_the_row_in_force_was_changed_is_refused_as_stale(schedulers, hours, frozen):
    rule = monday_rule(hours)
    frozen.move_to(at(2026, 10, 8, 8))  # the row is in force: a change ends it and starts a new one
    saves = two_saves(
        *schedulers,
        page=reverse("reception:hours_edit", args=[rule.pk]),
        data=lambda who: _form("14:00", "16:00") if who == "first" else _form("10:00", "11:00"),
    )
    assert saves.first.status_code == 302
    assert refused_as_stale(saves.second)  # not "ended, cannot be changed": someone changed it
    assert list(OpeningHours.objects.filter(weekday=Weekday.MONDAY).values_list("starts", "ends")) == [
        (time(9), time(12)),
        (time(14), time(16)),
    ]


def test_an_edit_made_before_the_hours_were_ended_is_refused(hours, admin, frozen):
    rule = monday_rule(hours)
    services.hours_end(actor=admin, hours_id=rule.pk, last_day=date(2026, 12, 31))
    with pytest.raises(StaleObject):  # it would put back the open end the other scheduler removed
        edit(admin, rule, version=1)
    assert OpeningHours.objects.get(pk=rule.pk).valid_until == date(2026, 12, 31)


def test_an_edit_without_its_version_is_refused(client, hours, admin, frozen):
    rule = monday_rule(hours)
    client.force_login(admin)
    response = client.post(reverse("reception:hours_edit", args=[rule.pk]), _form("09:00", "11:00"))
    assert response.status_code == 400 and "表单缺少有效的版本号" in response.content.decode()
    assert OpeningHours.objects.get(pk=rule.pk).ends == time(12)
