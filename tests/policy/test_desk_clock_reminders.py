"""A clock's reminders leave the desks when the clock stops: the warning that dispatch is
due is stale once the case is dispatched."""

from __future__ import annotations

from huiyin.cases.selectors import desk_reminders
from huiyin.core.models import Notification
from huiyin.deadlines.models import Clock
from huiyin.orgs.models import Department

from .conftest import activate, at


def _open_keys(person) -> list[str]:
    return sorted(Notification.objects.filter(recipient=person, done_at__isnull=True).values_list("kind", flat=True))


def test_a_stopped_clock_takes_its_warnings_off_every_desk(org, drive, desk_clerk, duty_head):
    activate(org, "city_hotline")
    city = Department.objects.create(organization=org, code="city", name="城管")
    case = drive.register(at(2026, 3, 2, 9, 59, 30), channel="phone")
    drive.do(at(2026, 3, 2, 10, 0, 0), "accept", case)
    clock = Clock.objects.get(case=case, stage="dispatch")
    for moment in (at(2026, 3, 2, 10, 2, 16), at(2026, 3, 2, 10, 3, 0), at(2026, 3, 2, 10, 33, 1)):
        drive.sweep(moment)  # warned, overdue, escalated to the duty head
    assert _open_keys(desk_clerk) == ["clock:overdue", "clock:warn"]
    assert _open_keys(duty_head) == ["clock:escalate"]
    [group] = desk_reminders(actor=desk_clerk)  # one line for the case, its kinds under it
    assert group.case == case and len(group.items) == 2

    drive.do(at(2026, 3, 2, 10, 40), "dispatch", case, department_id=city.pk)
    clock.refresh_from_db()
    assert clock.stopped_at is not None
    assert _open_keys(desk_clerk) == [] and _open_keys(duty_head) == []
    done = Notification.objects.filter(key__startswith=f"clock:{clock.pk}:").values_list("done_at", flat=True)
    assert set(done) == {at(2026, 3, 2, 10, 40)}  # at the moment the clock stopped
