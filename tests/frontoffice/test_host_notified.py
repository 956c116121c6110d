"""The host is told when their visitor checks in at the front desk: a reminder on their desk
and, through the notification templates and switches, an SMS to the mobile and an e-mail to
the address they gave — once, after the check-in has committed, the visitor named masked."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from huiyin.core.errors import ValidationFailed
from huiyin.core.models import Notification
from huiyin.frontoffice import services
from huiyin.frontoffice.services import CheckIn
from huiyin.notifications.models import Message
from huiyin.notifications.purposes import Purpose
from huiyin.notifications.services import staff_contact_save
from tests.frontoffice.conftest import VALID_ID
from tests.policy.conftest import SH

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime(2026, 6, 10, 9, 30, tzinfo=SH), tick=False):
        yield


def test_the_host_is_told_on_the_desk_by_sms_and_email(people, django_capture_on_commit_callbacks):
    host = people["engineer"]
    staff_contact_save(actor=host, email="engineer@example.org", mobile="13900002222")
    visitor = services.visitor_expect(
        actor=host, expected_on=date(2026, 6, 10), name="李建国", affiliation="示范机电公司", purpose="洽谈采购"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.visitor_check_in(
            actor=people["desk"],
            visitor_id=visitor.pk,
            data=CheckIn(id_type="resident_id", id_number=VALID_ID, badge="A12"),
        )
    [reminder] = Notification.objects.filter(recipient=host)
    assert reminder.case is None and reminder.text == "您的访客李**（示范机电公司）已于09:30到达前台，访客证A12。"
    messages = {m.medium: m for m in Message.objects.filter(purpose=Purpose.VISITOR_ARRIVED)}
    assert set(messages) == {"sms", "email"}
    assert messages["sms"].recipient == "13900002222" and messages["email"].recipient == "engineer@example.org"
    assert "李**" in messages["sms"].body and "李建国" not in messages["sms"].body
    assert not Notification.objects.filter(recipient=people["desk"]).exists()


def test_nothing_is_sent_when_the_check_in_is_refused(people, django_capture_on_commit_callbacks):
    visitor = services.visitor_expect(
        actor=people["engineer"], expected_on=date(2026, 6, 10), name="李建国", purpose="洽谈采购"
    )
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationFailed):
        services.visitor_check_in(
            actor=people["desk"], visitor_id=visitor.pk, data=CheckIn(id_type="resident_id", id_number="123")
        )
    assert not Notification.objects.exists() and not Message.objects.exists()


def test_a_walk_in_tells_its_host_on_the_desk(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.visitor_walk_in(
            actor=people["desk"],
            host_id=people["requester"].pk,
            name="王芳",
            purpose="送样品",
            data=CheckIn(id_type="resident_id", id_number=VALID_ID),
        )
    [reminder] = Notification.objects.filter(recipient=people["requester"])
    assert reminder.text == "您的访客王*（个人）已于09:30到达前台，访客证—。"
