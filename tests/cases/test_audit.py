"""The audit trail is tamper-evident (F82, issue 13 hole 8): keyed hashes, signed anchors
outside the database, triggers that refuse UPDATE and DELETE, ``huiyin audit verify``
over all chains, and the red badge in the ledger and on the case page.

Tests that tamper do so explicitly inside ``events_writable()``, the one way past the
triggers, as an attacker with database rights (but not the audit key) would."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.test import override_settings
from django.urls import reverse

from huiyin import cli
from huiyin.cases import audit, services
from huiyin.cases.anchors import AnchorLog, default_path
from huiyin.cases.events import EventKind
from huiyin.cases.hashing import row_hash
from huiyin.cases.models import ChainBreak, ChainBreakReason, Event
from huiyin.cases.selectors import verify_event_chain
from huiyin.cases.triggers import POSTGRES_TRIGGERS, SQLITE_TRIGGERS, events_writable, installed_triggers
from huiyin.handling import actions as handling_actions

pytestmark = pytest.mark.django_db

NOW = timedelta(0)  # anchor everything, however young
MIGRATION = importlib.import_module("huiyin.cases.migrations.0009_audit_trail_keyed_anchored")


@pytest.fixture
def case(register, clerk):
    """A case with two events: registered, accepted."""
    case = register()
    services.case_accept(actor=clerk, case_id=case.pk)
    return case


def chain(case) -> list[Event]:
    return list(Event.objects.filter(case=case).order_by("id"))


def rewrite(events: list[Event], *, key: bytes) -> None:
    """An attacker's recomputation of a chain from its first row, with the key they have."""
    prev = ""
    with events_writable():
        for event in events:
            event.prev_hash = prev
            event.hash = prev = row_hash(event, key=key)
            Event.objects.filter(pk=event.pk).update(data=event.data, prev_hash=event.prev_hash, hash=event.hash)


# --- keyed hashes ----------------------------------------------------------------------


def test_event_hashes_are_keyed_with_the_audit_key(case):
    events = chain(case)
    assert len(events) == 2 and verify_event_chain(case)
    first = events[0]
    # Not the old unkeyed SHA-256, which anyone could recompute.
    assert first.hash != MIGRATION.legacy_hash(first)
    with override_settings(HUIYIN_AUDIT_KEY="another installation's key, 32+ characters"):
        assert audit.check_chain(chain(case)).reason == ChainBreakReason.EDITED


def test_editing_an_event_and_recomputing_the_chain_is_detected(case):
    events = chain(case)
    events[1].data = {"from": "registered", "to": "closed"}
    # The old scheme: recomputing unkeyed SHA-256 made the edit invisible.
    prev = ""
    with events_writable():
        for event in events:
            event.prev_hash = prev
            event.hash = prev = MIGRATION.legacy_hash(event)
            Event.objects.filter(pk=event.pk).update(data=event.data, prev_hash=event.prev_hash, hash=event.hash)
    assert not verify_event_chain(case)
    # A guessed key (the public development default's derivation from another secret) fails too.
    rewrite(events, key=b"huiyin-insecure-development-key-change-me")
    assert not verify_event_chain(case)
    report = audit.verify_all()
    assert report.broken == {case.pk: ChainBreakReason.EDITED}
    assert not report.ok


def test_removing_an_event_from_the_middle_is_detected(case, clerk, departments):
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=departments["city"].pk)
    accepted = chain(case)[1]
    with events_writable():
        Event.objects.filter(pk=accepted.pk).delete()
    assert audit.check_chain(chain(case)).reason == ChainBreakReason.RELINKED
    assert audit.verify_all().broken == {case.pk: ChainBreakReason.RELINKED}


# --- anchors ------------------------------------------------------------------------------


def test_deleting_the_last_event_is_detected_by_the_anchor(case, register, client, clerk):
    other = register()
    run = audit.anchor(lag=NOW)
    assert run.anchored == 2 and run.upto == chain(other)[-1].pk
    assert audit.verify_all().ok

    last = chain(case)[-1]
    with events_writable():
        Event.objects.filter(pk=last.pk).delete()
    # What is left is a perfectly valid keyed chain: only the anchor knows it was longer.
    assert audit.check_chain(chain(case)).reason == ""
    report = audit.verify_all()
    assert report.broken == {case.pk: ChainBreakReason.TRUNCATED}
    assert ChainBreak.objects.get().case_pk == case.pk

    # Both badges: the ledger's row and the case page.
    client.force_login(clerk)
    ledger = client.get(reverse("cases:ledger")).content.decode()
    rows = {chunk.split("</a>")[0].rsplit(">", 1)[-1]: chunk for chunk in ledger.split('class="case-number"')[1:]}
    assert "chain-broken" in rows[case.number].split("</td>")[0]
    assert "chain-broken" not in rows[other.number].split("</td>")[0]
    assert "记录校验失败" in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "记录校验失败" not in client.get(reverse("cases:detail", args=[other.pk])).content.decode()


def test_a_new_anchor_does_not_launder_a_removed_tail(case, clerk):
    audit.anchor(lag=NOW)
    with events_writable():
        Event.objects.filter(pk=chain(case)[-1].pk).delete()
    # The application then appends a fresh, validly keyed event where the removed one was...
    with transaction.atomic():
        services.case_record_event(case, kind=EventKind.PII_VIEWED, actor=clerk, data={})
    assert audit.check_chain(chain(case)).reason == ""
    # ...and the next run anchors the new head at the same position; the old anchor still holds.
    assert audit.anchor(lag=NOW).anchored == 1
    assert audit.verify_all().broken == {case.pk: ChainBreakReason.ANCHOR}


def test_anchor_runs_are_incremental_and_skip_broken_chains(case, register):
    log = AnchorLog()
    assert audit.anchor(lag=NOW).anchored == 1
    assert audit.anchor(lag=NOW).anchored == 0  # nothing new: no line written
    assert log.read().lines == 1
    second = register()
    with events_writable():
        Event.objects.filter(case=second).update(data={"forged": True})
    run = audit.anchor(lag=NOW)
    assert run.anchored == 0 and run.broken == {second.pk: ChainBreakReason.EDITED}
    assert list(ChainBreak.objects.values_list("case_pk", flat=True)) == [second.pk]
    reading = log.read()
    assert reading.lines == 2 and not reading.problems
    assert second.pk not in reading.anchors  # a broken chain is never blessed


def test_young_events_wait_for_the_next_anchor_run(case):
    assert audit.anchor(lag=timedelta(minutes=5)).anchored == 0
    assert audit.anchor(lag=NOW).anchored == 1


def test_the_anchor_log_is_signed_and_chained(case, register, settings, tmp_path):
    audit.anchor(lag=NOW)
    register()
    audit.anchor(lag=NOW)
    register()
    audit.anchor(lag=NOW)
    path = default_path()
    assert path.parent == tmp_path / "audit"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) == 3 and AnchorLog().read().problems == []

    # Altered without the key: the signature no longer matches.
    altered = json.loads(lines[0])
    altered["heads"][str(case.pk)][0] = 1
    path.write_bytes(json.dumps(altered).encode() + b"\n" + b"".join(lines[1:]))
    assert any("signature" in p for p in AnchorLog().read().problems)

    # A middle line removed: the chain of lines breaks.
    path.write_bytes(lines[0] + lines[2])
    assert any("does not follow" in p for p in AnchorLog().read().problems)

    # A line forged with a guessed key.
    forged = {k: v for k, v in json.loads(lines[2]).items() if k != "mac"}
    forged.update(seq=4, prev=json.loads(lines[2])["mac"])
    body = json.dumps(forged, sort_keys=True, separators=(",", ":")).encode()
    forged["mac"] = hmac.new(b"guess", b"huiyin.anchor.v1\n" + body, hashlib.sha256).hexdigest()
    path.write_bytes(b"".join(lines) + json.dumps(forged).encode() + b"\n")
    report = audit.verify_all()
    assert not report.ok and any("signature" in p for p in report.log.problems)


# --- the command ---------------------------------------------------------------------------


def test_huiyin_audit_verify_reports_broken_cases_and_exits_non_zero(case, register, capsys, monkeypatch):
    intact = register()
    call_command("huiyin_audit", "anchor", "--lag", "0")
    call_command("huiyin_audit", "verify")
    out = capsys.readouterr().out
    assert "verified 2 case(s), 3 event(s), 2 anchored case(s) in 1 anchor line(s): 0 broken" in out

    with events_writable():
        Event.objects.filter(pk=chain(case)[-1].pk).delete()
    # A command run from the command line closes the connections when it ends; here that
    # would close the test's transaction.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        cli.main(["audit", "verify"])  # what an operator or a timer runs
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert f"BROKEN case {case.pk} {case.number}: truncated" in out
    assert intact.number not in out
    assert "1 broken" in out
    assert list(ChainBreak.objects.values_list("case_pk", flat=True)) == [case.pk]


def test_verify_clears_a_break_that_is_gone_and_warns_without_an_anchor_log(case, capsys):
    ChainBreak.objects.create(case_pk=case.pk, reason=ChainBreakReason.EDITED, detected_at=case.received_at)
    assert not verify_event_chain(case)
    call_command("huiyin_audit", "verify")
    assert "WARNING: no anchor log" in capsys.readouterr().out
    assert not ChainBreak.objects.exists() and verify_event_chain(case)


def test_a_case_whose_events_are_all_gone_is_missing(case):
    audit.anchor(lag=NOW)
    with events_writable():
        Event.objects.filter(case=case).delete()
    with pytest.raises(CommandError):
        call_command("huiyin_audit", "verify")
    assert ChainBreak.objects.get(case_pk=case.pk).reason == ChainBreakReason.MISSING


def test_the_sweeper_anchors_every_interval(case, settings):
    from huiyin.deadlines.management.commands.huiyin_sweeper import Command as Sweeper

    settings.HUIYIN_AUDIT_ANCHOR_LAG = 0
    settings.HUIYIN_AUDIT_ANCHOR_SECONDS = 3600
    last = Sweeper._anchor(0.0)
    assert AnchorLog().read().anchors == {case.pk: {2: chain(case)[-1].hash}}
    assert Sweeper._anchor(last) == last  # not again within the interval
    settings.HUIYIN_AUDIT_ANCHOR_SECONDS = 0
    assert Sweeper._anchor(0.0) == 0.0  # switched off


# --- the database refuses ------------------------------------------------------------------


def _refused(sql: str, params: list) -> str:
    with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(refused.value)


def test_the_database_refuses_update_and_delete_of_events(case):
    event = chain(case)[0]
    assert "append-only" in _refused("UPDATE cases_event SET data = %s WHERE id = %s", ['{"forged": 1}', event.pk])
    assert "append-only" in _refused("DELETE FROM cases_event WHERE id = %s", [event.pk])
    # The ORM's bulk paths, which skip Event.save / Event.delete, meet the same refusal.
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(kind="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()
    assert chain(case)[0].hash == event.hash and verify_event_chain(case)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE (DELETE is refused above)")
def test_the_database_refuses_truncate_of_events(case):
    """Row triggers do not see TRUNCATE: a statement trigger refuses it, CASCADE included.
    (The test's own transaction holds deferred foreign-key checks, which PostgreSQL would
    name instead: they run first.)"""
    for sql in ("TRUNCATE cases_event CASCADE", "TRUNCATE cases_case CASCADE"):
        assert "append-only" in _refused(f"SET CONSTRAINTS ALL IMMEDIATE; {sql}", [])
    assert verify_event_chain(case)


def test_the_triggers_exist_after_all_migrations():
    """A later migration that rebuilds cases_event on SQLite drops them: it must end with
    RunPython(restore_event_triggers) (huiyin.cases.triggers)."""
    expected = POSTGRES_TRIGGERS if connection.vendor == "postgresql" else SQLITE_TRIGGERS
    assert installed_triggers() == set(expected)


def test_events_writable_puts_the_refusal_back_even_after_an_error(case):
    with pytest.raises(RuntimeError), events_writable():
        assert installed_triggers() == set()
        raise RuntimeError
    assert installed_triggers()
    with events_writable():
        pass
    assert installed_triggers()
    assert "append-only" in _refused("DELETE FROM cases_event WHERE case_id = %s", [case.pk])


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_events_and_keeps_the_refusal(register):
    register()
    call_command("flush", interactive=False, verbosity=0)
    assert not Event.objects.exists()
    assert installed_triggers()


# --- existing chains keep verifying -----------------------------------------------------


def test_the_migration_rehashes_intact_legacy_chains_and_leaves_altered_ones(case, register):
    other, altered = register(), register()
    legacy = {}
    with events_writable():  # the rows as 0008 left them: unkeyed SHA-256
        for c in (case, other, altered):
            prev = ""
            for event in chain(c):
                event.prev_hash = prev
                event.hash = prev = MIGRATION.legacy_hash(event)
                Event.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, hash=event.hash)
            legacy[c.pk] = prev
        Event.objects.filter(case=altered).update(data={"altered": "before the upgrade"})
        assert not any(verify_event_chain(c) for c in (case, other, altered))
        MIGRATION.to_keyed(django_apps, None)
    assert verify_event_chain(case) and verify_event_chain(other)
    assert chain(altered)[-1].hash == legacy[altered.pk]  # untouched: not blessed with a valid hash
    assert audit.verify_all().broken == {altered.pk: ChainBreakReason.EDITED}
    # And back, for a migration backwards.
    with events_writable():
        MIGRATION.to_legacy(django_apps, None)
    assert chain(case)[-1].hash == legacy[case.pk]


# --- production settings --------------------------------------------------------------------


def _settings_in_production(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("HUIYIN_") and k not in ("SECRET_KEY", "DATABASE_URL")
    }
    environment.update(
        HUIYIN_PRODUCTION="1",
        HUIYIN_DATA_DIR=str(tmp_path),
        SECRET_KEY="k" * 20 + "production-secret-for-the-settings-test-" + "x" * 20,
        DJANGO_SETTINGS_MODULE="huiyin.settings",
        PYTHONPATH=str(django_apps.get_app_config("cases").path.rsplit("/huiyin/", 1)[0]),
        **env,
    )
    code = "from django.conf import settings; print(settings.HUIYIN_AUDIT_KEY)"
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60)


def test_production_refuses_to_start_without_an_audit_key(tmp_path):
    missing = _settings_in_production(tmp_path)
    assert missing.returncode != 0 and "HUIYIN_AUDIT_KEY" in missing.stderr
    short = _settings_in_production(tmp_path, HUIYIN_AUDIT_KEY="too-short")
    assert short.returncode != 0 and "HUIYIN_AUDIT_KEY" in short.stderr
    key = "a-long-random-audit-key-kept-in-the-vault-0123456789"
    given = _settings_in_production(tmp_path, HUIYIN_AUDIT_KEY=key)
    assert given.returncode == 0, given.stderr
    assert given.stdout.strip() == key
