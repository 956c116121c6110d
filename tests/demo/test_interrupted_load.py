"""``make run`` stopped during its demo load (Ctrl+C, a killed process), then run again.

The weeks of history are played step by step, each in its own transaction, so a load killed
half-way leaves some cases and nothing of what follows them. The next ``huiyin demo
--if-empty`` (what ``make run`` calls) used to see cases, say "nothing generated" and serve
that half demo for ever. Now it puts the embedded database aside and loads the demo again.
Real processes on a real SQLite file: the first one is killed with SIGKILL mid-load.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
DEMO = [sys.executable, "-m", "huiyin.cli", "demo", "--cases", "12", "--days", "7"]


def _env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ, HUIYIN_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT / "src"), HUIYIN_DEBUG="0")
    for name in ("DATABASE_URL", "REDIS_URL", "HUIYIN_MEDIA_ROOT", "HUIYIN_AUDIT_ANCHOR_LOG", "HUIYIN_TRIAGE_DIR"):
        env.pop(name, None)  # the embedded default, as on a fresh machine
    return env


def _count(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # not migrated yet, or locked for a moment
        return 0


def _migrated(data_dir: Path, env: dict[str, str]) -> None:
    """A migrated embedded database: the suite's SQLite template when there is one (the same
    migrations), else ``huiyin migrate`` as ``make run`` does first."""
    templates = sorted(Path(settings.DATA_DIR).glob("test-template-*.sqlite3"))
    if templates:
        shutil.copyfile(templates[0], data_dir / "huiyin.sqlite3")
        os.chmod(data_dir / "huiyin.sqlite3", 0o600)
    else:
        subprocess.run([sys.executable, "-m", "huiyin.cli", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


@pytest.mark.heavy
def test_a_demo_load_killed_half_way_is_loaded_again_by_the_next_run(tmp_path):
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o700)
    env = _env(data_dir)
    _migrated(data_dir, env)
    db = data_dir / "huiyin.sqlite3"

    first = subprocess.Popen(DEMO, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while _count(db, "SELECT COUNT(*) FROM cases_case") < 3:
            assert first.poll() is None, "the demo load ended before it could be interrupted"
            assert time.monotonic() < deadline, "no demo case registered within 180 s"
            time.sleep(0.2)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    half = _count(db, "SELECT COUNT(*) FROM cases_case")
    assert half >= 3 and _count(db, "SELECT COUNT(*) FROM demo_demoload WHERE finished_at IS NULL") == 1

    again = subprocess.run(
        [*DEMO, "--if-empty"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert "上次生成示范数据时被中断" in again.stdout and "未再生成" not in again.stdout

    # A whole demo now: every spec registered, the load finished, the steps after the cases done.
    assert _count(db, "SELECT COUNT(*) FROM demo_demoload WHERE finished_at IS NOT NULL") == 1
    assert _count(db, "SELECT COUNT(*) FROM cases_case WHERE channel <> 'visit'") == 12
    assert _count(db, "SELECT COUNT(*) FROM surveys_campaign") == 1
    assert oct(db.stat().st_mode & 0o777) == oct(0o600)  # personal data: readable by the owner only
    # The half load is kept aside, not deleted.
    (aside,) = data_dir.glob("interrupted-demo-*")
    assert _count(aside / "huiyin.sqlite3", "SELECT COUNT(*) FROM cases_case") == half

    # And a finished demo is left as it is.
    third = subprocess.run(
        [*DEMO, "--if-empty"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert third.returncode == 0 and "未再生成" in third.stdout
    assert len(list(data_dir.glob("interrupted-demo-*"))) == 1
