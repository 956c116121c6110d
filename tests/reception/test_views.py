"""The reception's pages: the calendars (masked names, the holiday named, a print style sheet),
the desk's booking and check-in forms with each refusal next to its field, and the public
booking page on the portal behind its proof of work and limits."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from huiyin.cases.models import Case
from huiyin.portal import challenge
from huiyin.reception import services
from huiyin.reception.models import Appointment, AppointmentStatus, BookedVia
from tests.reception.conftest import at, booking, key
from tests.reception.test_check_in import ID_NUMBER

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(org, room, hours, desk):
    return services.appointment_book(
        actor=desk, organization=org, data=booking(key(room, 2026, 9, 28, 10), representatives=["李娜"], headcount=6)
    )


def test_the_week_shows_periods_visits_masked_and_the_holidays(client, org, booked, desk):
    client.force_login(desk)
    page = client.get(reverse("reception:week"), {"day": "2026-10-01"}).content.decode()
    assert "reception/reception.css" in page  # the print style sheet
    assert "张*" in page and "张伟" not in page and booked.code in page
    assert "国庆节" in page or "National Day" in page
    assert "来访接待周日历：2026-09-28 至 2026-10-04" in page
    nxt = client.get(reverse("reception:week"), {"day": "2026-10-01", "go": "next"}).content.decode()
    assert "2026-10-05 至 2026-10-11" in nxt and "调休上班" in nxt


def test_the_day_lists_each_period_with_its_visits(client, org, room, booked, desk):
    client.force_login(desk)
    page = client.get(reverse("reception:day"), {"day": "2026-09-28", "room": str(room.pk)}).content.decode()
    rows = re.findall(r'data-slot="(h\.[^"]+)"', page)
    assert rows == [key(room, 2026, 9, 28, h, m) for h in (9, 10, 11) for m in (0, 30)]
    assert "2 / 2" in page  # the visitor and the other representative fill the 10:00 period
    assert "138****5678" in page and "13812345678" not in page


@pytest.mark.parametrize("query", [{"day": "2026-02-30"}, {"day": "0001-01-01", "go": "prev"}, {"room": "9" * 30}, {}])
def test_a_malformed_calendar_query_shows_a_calendar(client, org, room, hours, desk, query, frozen):
    client.force_login(desk)
    assert client.get(reverse("reception:week"), query).status_code == 200
    assert client.get(reverse("reception:day"), query).status_code == 200


def test_the_desk_books_from_a_call_and_a_refusal_names_the_field(client, org, room, hours, desk, frozen):
    client.force_login(desk)
    page = client.get(reverse("reception:book")).content.decode()
    assert key(room, 2026, 9, 28, 9) in page
    data = {
        "slot": key(room, 2026, 9, 29, 9),
        "name": "张伟",
        "phone": "13812345678",
        "purpose": "反映小区消防通道被占用",
        "headcount": "7",
        "representatives": "李娜\n王芳\n赵强\n孙丽\n周杰",
        "via": BookedVia.PHONE,
    }
    refused = client.post(reverse("reception:book"), data)
    assert refused.status_code == 400 and Appointment.objects.count() == 0
    assert re.search(r'data-field="representatives">[^<]*代表不超过 5 人', refused.content.decode())
    response = client.post(reverse("reception:book"), {**data, "representatives": "李娜"})
    appointment = Appointment.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "reception:appointment", args=[appointment.pk]
    )
    assert (appointment.headcount, appointment.places, appointment.booked_via) == (7, 2, BookedVia.PHONE)
    page = client.get(response["Location"]).content.decode()
    assert appointment.code in page and "张*" in page and "李*" in page and "13812345678" not in page


def test_an_empty_desk_booking_names_each_missing_field(client, org, room, hours, desk, frozen):
    """Walk of a working day: 预约 with nothing chosen said 该字段是必填项 four times, one of them
    under the long grid of slots, naming no field."""
    client.force_login(desk)
    refused = client.post(reverse("reception:book"), {"via": BookedVia.PHONE, "headcount": "1"})
    assert refused.status_code == 400 and Appointment.objects.count() == 0
    html = refused.content.decode()
    for message in ("请选择预约时段。", "请填写来访人姓名。", "请填写联系电话。", "请填写来访事由。"):
        assert message in html
    assert "该字段是必填项" not in html


def test_check_in_through_the_page_names_each_refused_field_and_opens_the_case(client, org, booked, desk, frozen):
    frozen.move_to(at(2026, 9, 28, 9, 55))
    client.force_login(desk)
    url = reverse("reception:check_in", args=[booked.pk])
    form = client.get(url).content.decode()
    assert "张伟" in form and "其他代表" in form  # the booking's details to confirm
    data = {
        "id_number": ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1"),
        "name": "张伟",
        "phone": "13812345678",
        "age": "46",
        "affiliation": "幸福里小区",
        "nature": "complaint",
        "text": "楼道堆放杂物",
        "headcount": "6",
        "representatives": "李娜",
        "target": "new",
        "version": str(booked.version),
    }
    refused = client.post(url, data)
    page = refused.content.decode()
    assert refused.status_code == 400 and Case.objects.count() == 0
    assert re.search(r'data-field="id_number">[^<]*校验位错误', page)
    refused = client.post(url, {**data, "id_number": ID_NUMBER})
    assert re.search(r'data-field="gender">[^<]*来访登记须填写性别', refused.content.decode())
    assert Case.objects.count() == 0
    response = client.post(url, {**data, "id_number": ID_NUMBER, "gender": "male"})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cases:detail", args=[case.pk])
    assert case.group_size == 6 and [p.name for p in case.co_parties.all()] == ["李娜"]
    detail = client.get(response["Location"]).content.decode()
    assert case.number in detail
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CHECKED_IN
    shown = client.get(reverse("reception:appointment", args=[booked.pk])).content.decode()
    assert booked.id_number_masked in shown and ID_NUMBER not in shown


def test_those_outside_the_reception_are_refused(client, org, booked, handler, analyst):
    for person in (handler, analyst):
        client.force_login(person)
        assert client.get(reverse("reception:week")).status_code == 403
        assert client.get(reverse("reception:appointment", args=[booked.pk])).status_code == 403


def test_the_schedule_forms_refuse_bad_input_with_400(client, org, room, admin, frozen):
    client.force_login(admin)
    response = client.post(
        reverse("reception:hours_add"),
        {
            "room": room.pk,
            "weekdays": ["0"],
            "starts": "12:00",
            "ends": "09:00",
            "slot_minutes": "30",
            "capacity": "2",
            "valid_from": "2026-09-28",
        },
    )
    assert response.status_code == 400 and "结束时间应晚于开始时间" in response.content.decode()
    assert client.post(reverse("reception:room_add"), {"name": "信访接待室"}).status_code == 400


# --- the portal -----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _easy_challenge(settings):
    settings.HUIYIN_PORTAL_POW_BITS = 4


def solved() -> dict[str, str]:
    issued = challenge.issue()
    return {"challenge": issued, "solution": challenge.solve(issued)}


def public_data(room, **more) -> dict[str, str]:
    return {
        "slot": key(room, 2026, 9, 29, 10),
        "name": "李娜",
        "phone": "13900001111",
        "purpose": "咨询拆迁补偿政策",
        "headcount": "1",
        "consent": "on",
        **solved(),
        **more,
    }


def test_the_public_books_on_the_portal_and_sees_the_booking_once_in_this_browser(client, org, room, hours, frozen):
    home = client.get(reverse("portal:home", args=[org.code])).content.decode()
    assert reverse("reception_portal:book", args=[org.code]) in home
    url = reverse("reception_portal:book", args=[org.code])
    page = client.get(url, {"day": "2026-09-29"}).content.decode()
    assert key(room, 2026, 9, 29, 10) in page and key(room, 2026, 9, 28, 9) not in page
    response = client.post(url + "?day=2026-09-29", public_data(room))
    assert response.status_code == 302 and response["Location"] == reverse("reception_portal:done", args=[org.code])
    appointment = Appointment.objects.get()
    assert appointment.booked_via == BookedVia.PORTAL and appointment.booked_by is None
    done = client.get(response["Location"]).content.decode()
    assert appointment.code in done and "2026-09-29（星期二）10:00" in done and "139****1111" in done
    manage_code = re.search(r'id="manage-code">([^<]+)<', done).group(1)
    assert services.manage_code_matches(appointment, manage_code)
    from django.contrib.sessions.models import Session  # the row holds it sealed: the table only its hash

    assert not [row for row in Session.objects.all() if manage_code in json.dumps(row.get_decoded())]
    other = client.__class__()
    assert other.get(response["Location"]).status_code == 302  # another browser sees nothing


def test_the_portal_booking_page_in_english_has_english_days_and_counts(client, org, room, hours, desk, frozen):
    """Walk of a working day: in English the days read "12月07日 Monday" and a slot "1 places left"."""
    services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 9, 29, 10)))
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("reception_portal:book", args=[org.code]), {"day": "2026-09-29"}).content.decode()
    assert "Tuesday, September 29" in page and "Slots on Tuesday, September 29" in page
    assert "月" not in page and "日 " not in page
    assert "1 place left" in page and "2 places left" in page and "1 places left" not in page
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    page = client.get(reverse("reception_portal:book", args=[org.code]), {"day": "2026-09-29"}).content.decode()
    assert "09月29日 星期二的时段" in page and "剩 1 个名额" in page


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"challenge": "", "solution": ""}, "challenge", "安全验证未完成"),
        ({"consent": ""}, "consent", "勾选同意"),
        ({"phone": ""}, "phone", "请填写联系电话"),
        ({"slot": "h.1.202610010900"}, "slot", "不在公布的接待时间内"),
        ({"representatives": "甲\n乙\n丙\n丁\n戊", "headcount": "9"}, "representatives", "代表不超过 5 人"),
    ],
)
def test_a_refused_public_booking_says_why_next_to_the_field(client, org, room, hours, frozen, change, field, words):
    url = reverse("reception_portal:book", args=[org.code])
    response = client.post(url, public_data(room, **change))
    assert response.status_code == 400 and Appointment.objects.count() == 0
    assert re.search(rf'data-field="{field}">[^<]*{words}', response.content.decode())


def test_a_replayed_form_and_too_many_bookings_from_one_phone_are_refused(client, org, room, hours, frozen, settings):
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "book_phone": "2/86400"}
    url = reverse("reception_portal:book", args=[org.code])
    data = public_data(room)
    assert client.post(url, data).status_code == 302
    replay = client.post(url, data)
    assert replay.status_code == 400 and "已经提交过" in replay.content.decode()
    assert client.post(url, public_data(room, slot=key(room, 2026, 9, 29, 11))).status_code == 302
    limited = client.post(url, public_data(room, slot=key(room, 2026, 9, 30, 9)))
    assert limited.status_code == 429 and "该手机号码今天的预约已达上限" in limited.content.decode()
    assert Appointment.objects.count() == 2


def test_the_public_cannot_book_a_joint_session(client, org, room, hours, clerk, departments, frozen):
    from datetime import date, time

    from huiyin.cases.services import case_register
    from tests.conftest import intake

    case, _code = case_register(actor=clerk, data=intake())
    session = services.joint_convene(
        actor=clerk,
        case_ids=[case.pk],
        data=services.SessionInput(
            room_id=room.pk,
            date=date(2026, 9, 30),
            starts=time(14),
            ends=time(15),
            slot_minutes=60,
            capacity=2,
            topic="联合接访",
            department_ids=[departments["city"].pk],
        ),
    )
    url = reverse("reception_portal:book", args=[org.code])
    joint_key = f"j.{session.pk}.202609301400"
    assert joint_key not in client.get(url, {"day": "2026-09-30"}).content.decode()
    response = client.post(url, public_data(room, slot=joint_key))
    assert response.status_code == 400 and Appointment.objects.count() == 0


def test_the_desk_shows_todays_visits_and_a_leader_their_coming_days(client, org, room, hours, desk, admin, leader):
    from datetime import date, time

    services.appointment_book(actor=desk, organization=org, data=booking(key(room, 2026, 9, 28, 10)))
    services.leader_day_schedule(
        actor=admin,
        leader_id=leader.pk,
        data=services.SessionInput(
            room_id=room.pk,
            date=date(2026, 10, 9),
            starts=time(14),
            ends=time(15),
            slot_minutes=60,
            capacity=1,
            topic="征地拆迁",
        ),
    )
    client.force_login(desk)
    page = client.get(reverse("cases:desk")).content.decode()
    assert "今天有 1 位预约来访人待到访" in page
    client.force_login(leader)
    page = client.get(reverse("cases:desk")).content.decode()
    assert "我的领导接待日" in page and "2026-10-09 14:00 征地拆迁" in page


def test_a_change_to_a_booking_cancelled_in_another_tab_says_why(client, org, room, hours, booked, desk, frozen):
    """Walk of a working day: with a booking open in two tabs, cancelled in one, 改期 in the
    other showed the cancelled booking and no word about the new time not being taken."""
    client.force_login(desk)
    version = booked.version
    services.appointment_cancel(actor=desk, appointment_id=booked.pk, reason="来访人有事", version=version)
    url = reverse("reception:reschedule", args=[booked.pk])
    response = client.post(url, {"slot": key(room, 2026, 9, 30, 9), "version": version})
    assert 400 <= response.status_code < 500
    html = response.content.decode()
    assert 'id="appointment-refused"' in html
    refusal = re.search(r'id="appointment-refused">([^<]+)<', html)
    assert refusal and refusal.group(1) == "该预约已被他人更改，现为“已取消”，您的操作未执行；请查看后再操作。"
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CANCELLED and booked.slot.key != key(room, 2026, 9, 30, 9)
    again = client.post(reverse("reception:cancel", args=[booked.pk]), {"reason": "重复取消", "version": version})
    assert 400 <= again.status_code < 500 and 'id="appointment-refused"' in again.content.decode()
