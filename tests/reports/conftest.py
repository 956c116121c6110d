"""Fixtures for the reports: an organisation running a shipped preset (the deadline
engine's helpers, reused), its staff, and a snapshot of the roll-up tables."""

from __future__ import annotations

import dataclasses

import pytest

from huiyin.policy.presets import load_preset
from huiyin.policy.services import policy_activate, presets_dir
from huiyin.reports.models import COUNTERS, CaseFact, DayAxis, DayRollup
from tests.handling.conftest import housing_handler, housing_head  # noqa: F401 - fixtures
from tests.policy.conftest import _fresh_calendars, at, desk_clerk, drive, duty_head, intake_dept  # noqa: F401


def snapshot() -> dict[str, dict]:
    """Every roll-up row by its key, with its non-zero counters, and every case fact."""

    def rows(model, key):
        out = {}
        for r in model.objects.values(*key, *COUNTERS):
            counters = {c: r[c] for c in COUNTERS if r[c]}
            out[tuple(r[k] for k in key)] = counters
        return out

    return {
        "full": rows(
            DayRollup, ("organization_id", "day", "department_id", "category_id", "channel", "nature", "place")
        ),
        "axis": rows(DayAxis, ("organization_id", "axis", "day", "department_id", "key")),
        "facts": {
            f["case_id"]: f
            for f in CaseFact.objects.values(
                "case_id",
                "department_id",
                "category_id",
                "channel",
                "nature",
                "place",
                "closed_day",
                "handling_seconds",
                "contributions",
            )
        },
    }


@pytest.fixture
def property_rules(org):
    """The property preset with 退回 allowed: the hand-computed month of ``test_kpis`` has one
    matter returned to its writer (c10, "decided, not accepted"), which the shipped preset
    now forbids (首问责任制: refusal_forbidden). Everything else is the shipped preset."""
    preset = load_preset(presets_dir() / "property_management.yaml")
    grounds = dataclasses.replace(preset.acceptance_grounds, refusal_forbidden=False)
    version, _created = policy_activate(
        organization=org, preset=dataclasses.replace(preset, acceptance_grounds=grounds), actor=None
    )
    return version
