"""With ``DATABASE_REPLICA_URL`` set, the dashboard and the reports read from the replica
(``core.replica``) and write nothing anywhere; without it, from the one database. Tested
in a fresh process whose replica is a second connection to the same SQLite file (CI has no
streaming replica): every statement the dashboard sends goes to the second connection."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django.db import connection

from tests.access.conftest import run_python

SCRIPT = r"""
import json, django
from datetime import date
django.setup()
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext
call_command("migrate", verbosity=0)
from huiyin.orgs.models import Organization, Staff
from huiyin.policy.presets import load_preset
from huiyin.policy.services import policy_activate, presets_dir
from huiyin.reports.models import DayAxis
from huiyin.reports.selectors import Period, dashboard
org = Organization.objects.create(code="o", name="示范单位")
policy_activate(organization=org, preset=load_preset(presets_dir() / "property_management.yaml"), actor=None)
analyst = Staff.objects.create_user(username="a", password="x", organization=org, roles=["analyst"])
for axis, key in (("all", ""), ("channel", "phone")):
    DayAxis.objects.create(organization_id=org.pk, day=date(2026, 3, 2), axis=axis, key=key, received=3)
from contextlib import nullcontext
second = CaptureQueriesContext(connections["replica"]) if "replica" in connections.settings else nullcontext()
with CaptureQueriesContext(connections["default"]) as primary, second as replica:
    board = dashboard(actor=analyst, period=Period(date(2026, 3, 1), date(2026, 3, 31)))
print(json.dumps({
    "aliases": sorted(connections.settings),
    "primary": [q["sql"][:80] for q in primary.captured_queries],
    "replica": len(replica.captured_queries) if replica else 0,
    "received": next(k.current.value for k in board.kpis if k.code == "intake_volume"),
}))
"""


def _env(db, data) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "huiyin.settings",
        "HUIYIN_DATA_DIR": str(data),
        "DATABASE_URL": f"sqlite:///{db}",
        "HUIYIN_TASK_BACKEND": "immediate",
    }


def _migrated(where: Path, blocker) -> Path:
    """A SQLite file migrated once for both runs below (each copies it; the script's own
    migrate then has nothing left to do): a copy of this worker's test database when that
    is SQLite (migrated already, and empty between tests), else a migrate of its own."""
    db = where / "template.sqlite3"
    with blocker.unblock():
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM INTO %s", [str(db)])
            return db
    done = run_python(["-m", "django", "migrate", "-v0"], _env(db, where / "data"), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return db


def _run(tmp_path, migrated, replica: bool) -> dict:
    db = tmp_path / "huiyin.sqlite3"
    shutil.copyfile(migrated, db)
    env = _env(db, tmp_path / "data")
    if replica:
        env["DATABASE_REPLICA_URL"] = f"sqlite:///{db}"
    done = run_python(["-c", SCRIPT], env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.heavy
@pytest.mark.one_engine  # its database is a SQLite file of its own, whatever the suite's is
@pytest.mark.django_db(transaction=True)  # the test database, empty and out of any transaction
def test_the_dashboard_reads_from_the_replica_when_there_is_one_and_from_the_one_database_otherwise(
    tmp_path, django_db_blocker
):
    template = _migrated(tmp_path, django_db_blocker)
    (tmp_path / "with").mkdir()
    result = _run(tmp_path / "with", template, replica=True)
    assert result["aliases"] == ["default", "replica"]
    assert result["received"] == 3
    assert result["replica"] > 5
    assert result["primary"] == []

    (tmp_path / "without").mkdir()
    result = _run(tmp_path / "without", template, replica=False)
    assert result["aliases"] == ["default"]
    assert result["received"] == 3 and result["primary"]
