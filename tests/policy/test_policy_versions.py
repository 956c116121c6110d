"""Policy versions (F30): ``huiyin init --preset``, every case keeps the version it was
registered under, an invalid preset never replaces the running policy."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from huiyin.core.errors import PermissionDeniedError
from huiyin.deadlines.models import Clock
from huiyin.deadlines.services import policy_for_new_case
from huiyin.orgs.models import Organization
from huiyin.policy.models import PolicyVersion
from huiyin.policy.presets import PresetError, load_preset
from huiyin.policy.services import (
    current_policy,
    policy_activate,
    policy_activate_text,
    policy_deactivate,
    presets_dir,
)

from .conftest import activate, at

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_init_creates_the_organisation_and_its_policy():
    out = run("huiyin_init", "--preset", "petition_office", "--org", "xfb", "--name", "示范市信访局")
    org = Organization.objects.get(code="xfb")
    assert org.name == "示范市信访局" and org.preset == "petition_office"
    assert org.stage_switches["approval"] is True and org.stage_switches["sign_for"] is True
    version = current_policy(org)
    assert version.code == "petition_office:1" and version.snapshot["deadlines"][0]["stage"] == "acceptance"
    assert "petition_office:1" in out
    assert "policy unchanged" in run("huiyin_init", "--preset", "petition_office", "--org", "xfb")
    assert PolicyVersion.objects.filter(organization=org).count() == 1
    run("huiyin_init", "--preset", "hospital", "--org", "xfb")
    assert current_policy(org).code == "hospital:2"


def test_init_without_org_uses_the_only_one_or_creates_one(org):
    run("huiyin_init", "--preset", "city_hotline")
    assert current_policy(org).preset_name == "city_hotline"
    Organization.objects.create(code="second", name="第二单位")
    with pytest.raises(CommandError, match="--org"):
        run("huiyin_init", "--preset", "city_hotline")


def test_init_lists_presets():
    out = run("huiyin_init", "--list")
    assert "petition_office\t信访部门" in out and len(out.splitlines()) == 6


def test_invalid_preset_is_refused_and_the_running_policy_stays(org, tmp_path: Path):
    activate(org, "hospital")
    bad = tmp_path / "bad.yaml"
    text = (presets_dir() / "hospital.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("unit: days", "unit: fortnights", 1), encoding="utf-8")
    with pytest.raises(CommandError) as info:
        run("huiyin_init", "--preset", str(bad), "--org", org.code)
    assert "bad.yaml, line 21, deadlines[0].unit" in str(info.value)
    assert "nothing changed" in str(info.value)
    assert current_policy(org).code == "hospital:1"
    with pytest.raises(PresetError):
        policy_activate_text(organization=org, text=bad.read_text(encoding="utf-8"), filename="bad.yaml", actor=None)
    assert PolicyVersion.objects.filter(organization=org).count() == 1
    with pytest.raises(CommandError, match="no preset"):
        run("huiyin_init", "--preset", "no_such_preset", "--org", org.code)


def test_cases_keep_the_version_they_were_registered_under(org, drive, departments, hospital_offices):
    activate(org, "hospital")
    old = drive.register(at(2026, 3, 2, 9), channel="visit", complainant_kind="outpatient")
    text = (presets_dir() / "hospital.yaml").read_text(encoding="utf-8")
    policy_activate_text(
        organization=org,
        text=text.replace("amount: 7\n", "amount: 5\n", 1),
        filename="hospital-edited.yaml",
        actor=None,
    )
    org.refresh_from_db()
    new = drive.register(at(2026, 3, 2, 9, 5), channel="visit", complainant_kind="inpatient")
    for case in (old, new):
        drive.do(at(2026, 3, 2, 10), "dispatch", case, department_id=departments["city"].pk)
    assert (old.policy_version, new.policy_version) == ("hospital:1", "hospital:2")
    assert Clock.objects.get(case=old, stage="reply").due_at.date().isoformat() == "2026-03-09"
    assert Clock.objects.get(case=new, stage="reply").due_at.date().isoformat() == "2026-03-07"


def test_deactivating_the_newest_version_rolls_back(org):
    activate(org, "hospital")
    activate(org, "property_management")
    running = policy_deactivate(organization=org, version=2, actor=None)
    assert running.code == "hospital:1"
    org.refresh_from_db()
    assert org.preset == "hospital" and policy_for_new_case(org).version == "hospital:1"


def test_only_administrators_activate(org, clerk):
    with pytest.raises(PermissionDeniedError):
        policy_activate(organization=org, preset=load_preset(presets_dir() / "hospital.yaml"), actor=clerk)


def test_organisation_without_a_preset_keeps_the_old_behaviour(org, register):
    policy = policy_for_new_case(org)
    assert policy.version == "default" and policy.policy_version is None
    case = register()
    assert case.policy_version == "default"
    assert case.promised_due_at is not None
    assert not Clock.objects.filter(case=case).exists()


def test_preset_without_reply_limit_promises_nothing(org, drive):
    """An administrator's preset with no reply or overall limit promises no time (every
    shipped preset promises one: tests/policy/rules/)."""
    hotline = load_preset(presets_dir() / "city_hotline.yaml")
    dispatch_only = replace(hotline, deadlines=tuple(r for r in hotline.deadlines if r.stage == "dispatch"))
    policy_activate(organization=org, preset=dispatch_only, actor=None)
    case = drive.register(at(2026, 3, 2, 9), channel="phone")
    assert case.promised_due_at is None


def test_presets_dir_setting_wins(settings, tmp_path):
    settings.HUIYIN_PRESETS_DIR = str(tmp_path)
    assert presets_dir() == tmp_path
