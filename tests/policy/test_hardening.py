"""Absurd policy values (issue 13, hole 7): every time limit is bounded by its unit, with a
Chinese message naming the key; a version stored before the bound still opens (so it can
be withdrawn) but is never activated again; calendar days lie in the supported years."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.urls import reverse

from huiyin.core.errors import ValidationFailed
from huiyin.orgs.roles import Role
from huiyin.policy.models import CalendarDay, PolicyVersion
from huiyin.policy.presets import UNIT_MAX, PresetError, load_preset_text
from huiyin.policy.services import current_policy, presets_dir
from huiyin.policy.services.calendars import calendar_day_add
from tests.conftest import make_staff

from .conftest import activate, at

pytestmark = pytest.mark.django_db

HOTLINE = (presets_dir() / "city_hotline.yaml").read_text(encoding="utf-8")
PETITION = (presets_dir() / "petition_office.yaml").read_text(encoding="utf-8")


@pytest.fixture
def admin(org):
    return make_staff(org, "admin", [Role.ADMIN])


def test_a_dispatch_deadline_of_ten_billion_minutes_is_refused_and_cases_go_on(client, org, admin, drive):
    activate(org, "city_hotline")
    absurd = HOTLINE.replace("amount: 3\n", "amount: 9999999999\n", 1)
    client.force_login(admin)
    version = client.get(reverse("policy:edit")).context["form"].initial["version"]
    response = client.post(reverse("policy:edit"), {"text": absurd, "note": "typo", "version": version})
    html = response.content.decode()
    assert response.status_code == 400 and "deadlines[0].amount" in html
    assert "时限数额 amount 过大：9999999999 分钟（minutes），以分钟计最多 525600" in html
    assert PolicyVersion.objects.count() == 1 and current_policy(org).version == 1
    case = drive.register(at(2026, 3, 2, 9, 59), channel="phone")
    assert drive.do(at(2026, 3, 2, 10, 0), "accept", case).state == "accepted"  # was a 500 after such a save


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("max: {amount: 30, unit: days}", "max: {amount: 3000, unit: days}", "extension.max.amount"),
        ("after: {amount: 0, unit: hours}", "after: {amount: 9000, unit: hours}", "escalation[0].after.amount"),
    ],
)
def test_every_amount_is_bounded_by_its_unit(old, new, path):
    assert old in PETITION
    with pytest.raises(PresetError) as info:
        load_preset_text(PETITION.replace(old, new, 1), "petition_office.yaml")
    assert info.value.path == path and "过大" in info.value.problem


def test_each_unit_has_a_bound_of_about_a_year():
    assert UNIT_MAX == {"minutes": 525_600, "hours": 8_760, "working_hours": 2_000, "days": 366, "workdays": 250}


def test_a_version_stored_before_the_bound_opens_but_is_not_activated_again(client, org, admin):
    running = activate(org, "city_hotline")
    snapshot = json.loads(json.dumps(running.snapshot))
    snapshot["deadlines"][0]["amount"] = 9_999_999_999
    PolicyVersion.objects.create(
        organization=org, version=2, preset_name="city_hotline", preset_version=1, label="旧版", snapshot=snapshot
    )
    assert PolicyVersion.objects.get(version=2).preset().deadlines[0].amount == 9_999_999_999  # still readable
    client.force_login(admin)
    assert client.get(reverse("policy:index")).status_code == 200
    response = client.post(reverse("policy:reactivate", args=[2]))
    assert response.status_code == 400 and "时限数额 amount 过大" in response.content.decode()
    assert PolicyVersion.objects.count() == 2


def test_a_calendar_day_in_year_1_is_refused(client, org, admin):
    with pytest.raises(ValidationFailed) as info:
        calendar_day_add(actor=admin, organization=org, day=date(1, 1, 1), kind="holiday", name="元旦")
    assert info.value.errors == {"date": ["日期不能早于 2000-01-01。"]}
    client.force_login(admin)
    for day in ("0001-01-01", "9999-12-31", "2026-02-30"):
        form = {"date": day, "kind": "holiday", "name": "x", "scope": "org"}
        response = client.post(reverse("policy:calendar"), form)
        assert response.status_code == 400, day
    assert not CalendarDay.objects.exists()
