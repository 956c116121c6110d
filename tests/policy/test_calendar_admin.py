"""``huiyin calendar`` and administrator-added holidays / working days / closures: the
command's output, the overrides' precedence, cache invalidation, and running clocks
recomputed when the calendar changes."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from huiyin.core.errors import PermissionDeniedError, ValidationFailed
from huiyin.deadlines.models import Clock
from huiyin.deadlines.services import clocks_recompute
from huiyin.orgs.models import Organization
from huiyin.orgs.roles import Role
from huiyin.policy.models import CalendarDay
from huiyin.policy.services import (
    calendar_day_add,
    calendar_day_remove,
    calendar_for,
    current_policy,
)
from huiyin.policy.services.calendars import _stamp
from huiyin.policy.services.versions import running_policy
from tests.conftest import make_staff

from .conftest import activate, at

pytestmark = pytest.mark.django_db


def cal(*args: str) -> str:
    out = StringIO()
    call_command("huiyin_calendar", *args, stdout=out)
    return out.getvalue().strip()


@pytest.mark.parametrize(
    ("day", "answer"),
    [
        ("2026-10-01", "no"),
        ("2026-10-10", "yes"),
        ("2026-10-09", "yes"),
        ("2026-10-11", "no"),
        ("2025-01-26", "yes"),
        ("2025-01-28", "no"),
    ],
)
def test_is_workday(day, answer):
    assert cal("is-workday", day) == answer


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("2026-09-30", "3", "workdays"), "2026-10-10"),  # across National Day to the 调休 Saturday
        (("2026-09-30", "3", "days"), "2026-10-03"),
        (("2026-09-30", "3", "days", "--start", "immediate"), "2026-10-02"),
        (("2026-09-16", "15", "days", "--roll", "forward"), "2026-10-08"),
        (("2026-09-30T10:00", "24", "hours"), "2026-10-01T10:00:00+08:00"),
        (("2026-09-30 10:00", "3", "minutes"), "2026-09-30T10:03:00+08:00"),
        (("2026-09-30T17:00", "2", "working_hours"), "2026-10-08T11:00:00+08:00"),
        (("2026-09-30", "2", "hours"), "2026-09-30T02:00:00+08:00"),  # a bare date is 00:00
        (("2026-09-30", "1", "workday"), "2026-10-08"),
    ],
)
def test_add(args, expected):
    assert cal("add", *args) == expected


def test_add_refuses_bad_input():
    with pytest.raises(CommandError, match="unknown unit"):
        cal("add", "2026-09-30", "3", "fortnights")
    with pytest.raises(CommandError, match="not a date"):
        cal("add", "2026-13-30", "3", "days")
    with pytest.raises(CommandError, match="negative"):
        cal("add", "2026-09-30", "-3", "days")


def test_administrator_holidays_for_an_unknown_year():
    assert cal("is-workday", "2031-01-01") == "yes"  # the package does not know 2031: weekday
    assert cal("holidays", "add", "2031-01-01", "元旦") == "2031-01-01 holiday 元旦"
    assert cal("is-workday", "2031-01-01") == "no"
    assert cal("workdays", "add", "2031-01-04", "调休上班") == "2031-01-04 workday 调休上班"
    assert cal("is-workday", "2031-01-04") == "yes"  # a Saturday
    assert cal("add", "2030-12-31", "1", "workdays") == "2031-01-02"
    with pytest.raises(CommandError, match="已设为"):
        cal("workdays", "add", "2031-01-01", "冲突")
    assert cal("holidays", "list") == "2031-01-01\tholiday\t元旦\t*"
    assert "2031-01-04\tworkday" in cal("list", "--year", "2031")
    assert cal("holidays", "remove", "2031-01-01") == "2031-01-01 removed"
    assert cal("is-workday", "2031-01-01") == "yes"
    with pytest.raises(CommandError, match="no override"):
        cal("holidays", "remove", "2031-01-01")


def test_organisation_closure_applies_to_that_organisation_only(org):
    other = Organization.objects.create(code="other", name="其他单位")
    cal("holidays", "add", "2026-03-04", "搬迁闭馆", "--org", org.code)
    assert cal("is-workday", "2026-03-04", "--org", org.code) == "no"
    assert cal("is-workday", "2026-03-04", "--org", other.code) == "yes"
    assert cal("is-workday", "2026-03-04") == "yes"
    # an organisation may work on a global holiday
    cal("holidays", "add", "2031-01-01", "元旦")
    cal("workdays", "add", "2031-01-01", "值班", "--org", org.code)
    assert cal("is-workday", "2031-01-01", "--org", org.code) == "yes"
    assert cal("is-workday", "2031-01-01", "--org", other.code) == "no"
    with pytest.raises(CommandError, match="no organisation"):
        cal("is-workday", "2026-03-04", "--org", "nope")


def test_calendar_cache_sees_changes_made_elsewhere(org):
    first = calendar_for(organization_id=org.pk)
    assert first.is_workday(date(2026, 3, 4))
    assert calendar_for(organization_id=org.pk) is first  # cached
    # a change through the ORM (admin, another process) changes the stamp
    CalendarDay.objects.create(organization=org, date=date(2026, 3, 4), kind="holiday", name="闭馆")
    assert not calendar_for(organization_id=org.pk).is_workday(date(2026, 3, 4))
    row = CalendarDay.objects.get(date=date(2026, 3, 4))
    row.kind = "workday"
    row.save()
    assert calendar_for(organization_id=org.pk).is_workday(date(2026, 3, 4))


def test_the_running_policy_brings_the_calendars_stamp_as_its_own_query_reads_it(org):
    """A registration reads the running policy and the calendar's stamp in one statement
    (``running_policy``); the stamp must be the one ``calendar_for`` reads itself, or a change
    would go unseen (or the cached calendar be rebuilt for nothing)."""
    activate(org, "city_hotline")
    assert running_policy(org)[1] == _stamp(org.pk) == (0, 0, "")
    CalendarDay.objects.create(organization=None, date=date(2031, 1, 1), kind="holiday", name="元旦")
    CalendarDay.objects.create(organization=org, date=date(2026, 3, 4), kind="holiday", name="闭馆")
    version, stamp = running_policy(org)
    assert version == current_policy(org) and stamp == _stamp(org.pk) and stamp[0] == 2
    row = CalendarDay.objects.get(date=date(2026, 3, 4))
    row.kind = "workday"
    row.save()
    assert running_policy(org)[1] == _stamp(org.pk) != stamp
    calendar = calendar_for(organization_id=org.pk, policy_version=version, stamp=running_policy(org)[1])
    assert calendar.is_workday(date(2026, 3, 4))
    # Held only when asked, and only on that object (the portal's, for its request).
    held = Organization.objects.get(pk=org.pk)
    kept = running_policy(held, hold=True)
    CalendarDay.objects.filter(organization=org).delete()
    assert running_policy(held) == kept
    assert running_policy(org)[1] == _stamp(org.pk) != kept[1]


def test_only_administrators_change_the_calendar(org, clerk):
    admin = make_staff(org, "admin", [Role.ADMIN])
    with pytest.raises(PermissionDeniedError):
        calendar_day_add(actor=clerk, organization=org, day=date(2031, 1, 1), kind="holiday", name="元旦")
    with pytest.raises(PermissionDeniedError):  # global days: superusers and operators only
        calendar_day_add(actor=admin, organization=None, day=date(2031, 1, 1), kind="holiday", name="元旦")
    row = calendar_day_add(actor=admin, organization=org, day=date(2031, 1, 1), kind="holiday", name="元旦")
    assert row.created_by == admin
    with pytest.raises(ValidationFailed):
        calendar_day_add(actor=admin, organization=org, day=date(2031, 1, 2), kind="holiday", name=" ")
    with pytest.raises(ValidationFailed):
        calendar_day_add(actor=admin, organization=org, day=date(2031, 1, 2), kind="maybe", name="x")
    assert calendar_day_remove(actor=admin, organization=org, day=date(2031, 1, 1))


def test_preset_calendar_section_applies_under_the_organisations_rows(org, tmp_path):
    from huiyin.policy.services import policy_activate_text, presets_dir

    text = (presets_dir() / "hospital.yaml").read_text(encoding="utf-8")
    text += "\ncalendar:\n  holidays:\n    - {date: 2026-03-04, name: 院庆}\n"
    version, _ = policy_activate_text(organization=org, text=text, filename="hospital.yaml", actor=None)
    assert not calendar_for(organization_id=org.pk, policy_version=version).is_workday(date(2026, 3, 4))
    calendar_day_add(actor=None, organization=org, day=date(2026, 3, 4), kind="workday", name="照常上班")
    assert calendar_for(organization_id=org.pk, policy_version=version).is_workday(date(2026, 3, 4))


def test_a_new_holiday_moves_running_workday_clocks(org, drive, settings, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    activate(org, "construction_station")
    case = drive.register(at(2026, 3, 2, 9), channel="letter")
    drive.do(at(2026, 3, 2, 10), "accept", case)
    # escalation after overdue counts in workdays: the handover clock's dept-head step
    drive.sweep(at(2026, 3, 3, 9, 0, 1))
    clock = Clock.objects.get(case=case, stage="handover")
    assert clock.next_action_at == at(2026, 3, 4, 23, 59, 59).replace(microsecond=999999)
    with django_capture_on_commit_callbacks(execute=True):
        calendar_day_add(actor=None, organization=org, day=date(2026, 3, 4), kind="holiday", name="停电闭馆")
    clock.refresh_from_db()
    assert clock.next_action_at == at(2026, 3, 5, 23, 59, 59).replace(microsecond=999999)
    assert clocks_recompute(organization_id=org.pk, since=date(2026, 3, 4)) == 0  # idempotent
