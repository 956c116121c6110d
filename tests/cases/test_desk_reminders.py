"""Desk reminders (core.notify, cases.selectors.desk_reminders): one open reminder per
person, case and kind; read when seen, done when dealt with, settled or finished."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from huiyin.cases import services as cs
from huiyin.cases.selectors import desk_reminders
from huiyin.core.models import Notification
from huiyin.core.notify import desk_notify
from huiyin.handling import actions as ha
from huiyin.orgs.models import Department
from huiyin.orgs.roles import Role
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(org):
    return Department.objects.create(organization=org, code="city", name="城管")


@pytest.fixture
def handler(org, city):
    return make_staff(org, "handler", [Role.HANDLER], city)


def _open(person, case=None):
    rows = Notification.objects.filter(recipient=person, done_at__isnull=True)
    return rows.filter(case=case) if case is not None else rows


def test_one_open_reminder_per_case_and_kind_newest_text_unread_again(register, handler):
    case = register()
    now = timezone.now()
    desk_notify(recipients=[handler], case=case, key="clock:1:warn:0", text="第一次预警", at=now - timedelta(hours=2))
    Notification.objects.update(read_at=now)
    desk_notify(recipients=[handler], case=case, key="clock:2:warn:0", text="第二次预警", at=now - timedelta(hours=1))
    desk_notify(recipients=[handler], case=case, key="clock:2:warn:0", text="第二次预警", at=now)  # a task rerun
    desk_notify(recipients=[handler], case=case, key="clock:2:overdue:0", text="已超期", at=now)
    rows = list(_open(handler, case).order_by("kind"))
    assert [(r.kind, r.text) for r in rows] == [("clock:overdue", "已超期"), ("clock:warn", "第二次预警")]
    warn = rows[1]
    assert warn.read_at is None and warn.created_at == now - timedelta(hours=1)
    # An older one arriving late (an out-of-order task) does not replace the newer text.
    desk_notify(recipients=[handler], case=case, key="clock:0:warn:0", text="更早的预警", at=now - timedelta(hours=5))
    assert _open(handler, case).get(kind="clock:warn").text == "第二次预警"


def test_the_desk_groups_by_case_newest_first_and_leaves_out_finished_cases(register, handler, clerk):
    now = timezone.now()
    older, newer, finished = register(), register(), register()
    desk_notify(recipients=[handler], case=older, key="a:1", text="older a", at=now - timedelta(hours=3))
    desk_notify(recipients=[handler], case=newer, key="b:1", text="newer b", at=now - timedelta(hours=2))
    desk_notify(recipients=[handler], case=older, key="c:1", text="older c", at=now - timedelta(hours=1))
    desk_notify(recipients=[handler], case=None, key="note:1", text="a note", at=now - timedelta(hours=4))
    ha.case_not_accept(actor=clerk, case_id=finished.pk, ground="不属于受理范围", refer_to="区住建局")
    # A reminder written after the case finished (a task that ran late) is not shown either.
    desk_notify(recipients=[handler], case=finished, key="d:1", text="late", at=now)
    groups = desk_reminders(actor=handler)
    assert [(g.case.pk if g.case else None, [n.text for n in g.items]) for g in groups] == [
        (older.pk, ["older c", "older a"]),
        (newer.pk, ["newer b"]),
        (None, ["a note"]),
    ]
    assert all(g.unread for g in groups)


def test_signing_for_settles_the_dispatch_reminder_and_closing_finishes_the_rest(org, register, clerk, handler, city):
    case = register()
    cs.case_accept(actor=clerk, case_id=case.pk)
    ha.case_dispatch(actor=clerk, case_id=case.pk, department_id=city.pk, handler_id=handler.pk)
    head = make_staff(org, "head", [Role.DEPT_HEAD], city)
    desk_notify(recipients=[handler, head], case=case, key="event:1", text="新派遣案件", kind="dispatched")
    desk_notify(recipients=[handler], case=case, key="supervision:1:issued", text="督办")
    desk_notify(recipients=[handler], case=case, key="callback-task:1", text="回访发现问题")
    ha.case_sign_for(actor=handler, case_id=case.pk)
    assert not Notification.objects.filter(kind="dispatched", done_at__isnull=True).exists()  # for everyone
    supervision = _open(handler, case).get(kind="supervision:issued")
    assert supervision.read_at is not None  # the handler moved the case: seen
    assert _open(handler, case).count() == 2

    finished = register()
    desk_notify(recipients=[handler], case=finished, key="supervision:2:issued", text="督办")
    desk_notify(recipients=[handler], case=finished, key="callback-task:2", text="回访发现问题")
    ha.case_not_accept(actor=clerk, case_id=finished.pk, ground="不属于受理范围", refer_to="区住建局")
    assert [n.kind for n in _open(handler, finished)] == ["callback-task"]  # work that goes on after closing


def test_opening_the_case_reads_its_reminders_and_done_takes_them_off(register, handler, org):
    case = register()
    desk_notify(recipients=[handler], case=case, key="clock:1:warn:0", text="预警")
    desk_notify(recipients=[handler], case=case, key="clock:1:overdue:0", text="超期")
    client = Client()
    client.force_login(handler)
    desk_url = reverse("cases:desk")
    assert "未读" in client.get(desk_url).content.decode()
    Notification.objects.filter(recipient=handler).update(read_at=None)
    client.get(reverse("cases:detail", args=[case.pk]))  # the handler may not see it: nothing read
    assert not Notification.objects.filter(recipient=handler, read_at__isnull=False).exists()

    clerk_ = make_staff(org, "clerk2", [Role.INTAKE_CLERK])
    desk_notify(recipients=[clerk_], case=case, key="clock:1:warn:0", text="预警")
    reminder = Notification.objects.get(recipient=clerk_)
    other = Client()
    other.force_login(clerk_)
    other.get(reverse("cases:detail", args=[case.pk]))
    reminder.refresh_from_db()
    assert reminder.read_at is not None and reminder.done_at is None

    # 已处理 by someone else: not found, nothing changes; by its recipient: off the desk.
    mine = Notification.objects.filter(recipient=handler).first()
    assert other.post(reverse("cases:reminder_done", args=[mine.pk])).status_code == 404
    assert _open(handler).count() == 2
    response = client.post(reverse("cases:reminder_done", args=[mine.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.content == b""
    assert _open(handler).count() == 0  # every reminder of the case
    assert "预警" not in client.get(desk_url).content.decode()


def test_reminders_read_in_the_readers_language_stored_in_the_organisations(register, handler):
    """A reminder is kept as its wording and values: the sweeper writes it in Chinese, a
    person who switched to English reads it in English (the stage and role too); a
    reminder stored as text only before that is read back against the wordings."""
    from django.utils import translation

    from huiyin.core import reminders
    from huiyin.policy.labels import STAGE_LABELS

    case = register()
    words = reminders.CLOCK_ESCALATE(
        number=case.number,
        title=case.title,
        role=Role.DEPT_HEAD.label,
        stage=STAGE_LABELS["sign_for"],
        due="2026-11-27 23:59",
    )
    with translation.override("en"):  # written during an English request: still stored in Chinese
        desk_notify(recipients=[handler], case=case, key="clock:1:escalate:1", text=words)
    row = Notification.objects.get(recipient=handler)
    assert row.text.startswith("【逾期升级·部门负责人】") and "：签收已于" in row.text
    old = Notification.objects.create(recipient=handler, case=None, key="old:1", text="待审批：20260101-00001 路灯不亮")
    foreign = Notification.objects.create(recipient=handler, case=None, key="old:2", text="某个自由文本提醒")

    client = Client()
    client.force_login(handler)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("cases:desk")).content.decode()
    assert "[Overdue escalation · Department head]" in page and ": Sign for was due at 2026-11-27 23:59" in page
    assert "【逾期升级" not in page and "签收" not in page
    assert "Awaiting approval: 20260101-00001 路灯不亮" in page  # an older row, read back
    assert "某个自由文本提醒" in page  # text that is none of the wordings: as it was written
    with translation.override("zh-hans"):
        assert row.shown == row.text and old.shown == old.text and foreign.shown == foreign.text
