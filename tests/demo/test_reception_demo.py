"""The demo's reception: hours, visits past (arrived, not come, cancelled) and to come, leader
days and a joint session, every step stamped at the moment it happened, none in the future."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from huiyin.cases.models import Channel
from huiyin.deadlines.models import Clock
from huiyin.demo.generator import build_organization, generate_case_specs
from huiyin.demo.history import populate
from huiyin.demo.reception import PURPOSES, seed_reception
from huiyin.reception.models import (
    Appointment,
    AppointmentLog,
    AppointmentStatus,
    JointSession,
    LeaderDay,
    OpeningHours,
    SessionStatus,
)
from tests.policy.conftest import activate

SH = ZoneInfo("Asia/Shanghai")
pytestmark = [pytest.mark.django_db, pytest.mark.one_engine]


@pytest.mark.parametrize("preset", ["city_hotline", "company_front_office", "petition_office"])
def test_the_demo_reception_is_stamped_truthfully(preset):
    """...under the presets whose visit register asks for more (the work unit, age) too."""
    demo = build_organization()
    activate(demo.org, preset)
    end = datetime.now(SH)
    populate(demo, generate_case_specs(40, seed=3, start=end - timedelta(days=30), end=end), now=end)
    counts = seed_reception(demo.org.pk, demo.staff, now=end)
    assert OpeningHours.objects.filter(organization=demo.org).exists()
    visits = Appointment.objects.filter(organization=demo.org).select_related("slot", "case")
    past = [a for a in visits if a.slot.starts_at < end]
    coming = [a for a in visits if a.slot.starts_at > end]
    assert len(past) == counts["visits"] > 0 and len(coming) == counts["coming"] > 0
    outcomes = {AppointmentStatus.CHECKED_IN, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED}
    assert {a.status for a in past} <= outcomes
    assert all(a.status == AppointmentStatus.BOOKED for a in coming)
    matters = {purpose: (nature, reply) for purpose, nature, reply in PURPOSES}
    assert {nature for _purpose, nature, _reply in PURPOSES} >= {"complaint", "consultation", "help", "report"}
    for a in visits:
        assert a.booked_at <= end and a.booked_at < a.slot.starts_at
        if a.status == AppointmentStatus.CHECKED_IN:
            assert a.case.channel == Channel.VISIT and a.case.received_at == a.checked_in_at <= end
            # answered in the talk (seeds/002 行 17), not left registered with its clocks running for weeks
            (answered,) = a.case.rounds.values_list("replied_at", flat=True)
            assert a.checked_in_at < answered <= end
            # ...and called back the next working day: closed, its callback clock not left running
            assert a.case.state == ("closed" if end - answered > timedelta(days=4) else a.case.state)
            assert a.case.state in ("replied", "closed")
            assert not Clock.objects.filter(case=a.case, state="running", due_at__lt=end).exists()
            assert a.id_number_masked and a.case.party.id_number
            # registered as the matter it is (a question is a consultation), answered to the point
            nature, reply = matters[a.case.text.rstrip("。")]
            assert (a.case.nature, a.case.rounds.get().reply_text) == (nature, reply)
    assert all(entry.at <= end for entry in AppointmentLog.objects.filter(appointment__organization=demo.org))
    days = LeaderDay.objects.filter(organization=demo.org)
    assert {d.status for d in days} == {SessionStatus.HELD, SessionStatus.PUBLISHED}
    assert all(d.created_at <= end and (d.closed_at is None or d.closed_at <= end) for d in days)
    joint = JointSession.objects.get(organization=demo.org)
    assert joint.cases.count() == 2 and joint.departments.count() >= 2
