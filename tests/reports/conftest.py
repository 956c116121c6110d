"""Fixtures for the reports: an organisation running a shipped preset (the deadline
engine's helpers, reused), its staff, and a snapshot of the roll-up tables."""

from __future__ import annotations

from huiyin.reports.models import COUNTERS, CaseFact, DayAxis, DayRollup
from tests.handling.conftest import housing_handler, housing_head, property_rules  # noqa: F401 - fixtures
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
