"""The roll-ups kept from the event bus equal the roll-ups rebuilt from scratch, whatever
happens to the cases in whatever order, and however often the consumer runs in between
(hypothesis); the consumer is idempotent, survives a crash mid-batch, and does not lose
an event whose transaction committed after a later one's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huiyin.cases.models import Category, Event
from huiyin.cases.services import case_update, contact_add
from huiyin.core.errors import ApplicationError
from huiyin.deadlines.services.handling import case_resume, case_suspend
from huiyin.evaluation.services import deduction_record
from huiyin.followup.models import Callback
from huiyin.followup.services import callback_record
from huiyin.reports import rollups
from huiyin.reports.facts import place_of
from huiyin.reports.models import CaseFact, DayAxis, DayRollup, RollupCursor
from tests.reports.conftest import at, snapshot

START = at(2026, 3, 2, 9)

OPS = (
    "advance",
    "advance",
    "advance",
    "register",
    "dispatch",
    "redispatch",
    "sign_for",
    "send_back",
    "reply",
    "callback_ok",
    "callback_bad",
    "reopen",
    "recategorise",
    "relocate",
    "contact",
    "suspend",
    "resume",
    "sweep",
    "escalate",
    "catch_up",
)


@pytest.fixture
def world(property_rules, drive, departments, handler, other_handler, head, officer, supervisor, org, category):
    other = Category.objects.create(organization=org, name="绿化", full_name="绿化")
    return {
        "drive": drive,
        "departments": [departments["city"], departments["traffic"]],
        "handlers": {departments["city"].pk: handler, departments["traffic"].pk: other_handler},
        "head": head,
        "officer": officer,
        "supervisor": supervisor,
        "categories": [category, other],
    }


def _apply(world, op: str, case, when):
    """One change to ``case`` (or a new case) at ``when``; a refused step is skipped."""
    drive = world["drive"]
    city, traffic = world["departments"]
    case.refresh_from_db()
    worker = world["handlers"].get(case.lead_department_id, world["head"])
    if op == "advance":  # the next step on the usual path
        op = {"registered": "dispatch", "accepted": "dispatch", "dispatched": "sign_for", "in_progress": "reply"}.get(
            case.state, "callback_ok"
        )
    try:
        if op == "dispatch" or op == "redispatch":
            dept = city if op == "dispatch" else traffic
            drive.do(when, op, case, department_id=dept.pk, handler_id=world["handlers"][dept.pk].pk)
        elif op == "sign_for":
            drive.do(when, "sign_for", case, actor=worker)
        elif op == "send_back":
            drive.do(when, "send_back", case, actor=worker, reason="非本科室职责")
        elif op == "reply":
            drive.do(when, "reply", case, actor=worker, reply="已处理。", remedy="已上门处理。")
        elif op in ("callback_ok", "callback_bad"):
            callback = Callback.objects.filter(case=case, round=case.round, status="due").first()
            if callback is None:
                return
            satisfaction = "satisfied" if op == "callback_ok" else "dissatisfied"
            drive.call(
                when,
                callback_record,
                actor=world["officer"],
                callback_id=callback.pk,
                outcome="reached",
                satisfaction=satisfaction,
            )
        elif op == "reopen":
            drive.do(when, "reopen", case, actor=world["head"], reason="反映人仍不满意")
        elif op in ("recategorise", "relocate"):
            case.refresh_from_db()
            if op == "recategorise":
                a, b = world["categories"]
                changes = {"category_id": b.pk if case.category_id == a.pk else a.pk}
            else:
                changes = {"location": "人民路8号" if case.location.startswith("幸福路") else "幸福路12号"}
            drive.call(
                when, case_update, actor=drive.clerk, case_id=case.pk, expected_version=case.version, changes=changes
            )
        elif op == "contact":
            drive.call(when, contact_add, actor=drive.clerk, case_id=case.pk, channel="phone", text="再次来电催办。")
        elif op == "suspend":
            drive.call(when, case_suspend, actor=world["head"], case_id=case.pk, reason="等待业主补充材料")
        elif op == "resume":
            drive.call(when, case_resume, actor=world["head"], case_id=case.pk)
        elif op == "sweep":
            drive.sweep(when)
        elif op == "escalate":
            drive.call(
                when,
                deduction_record,
                actor=world["supervisor"],
                case_id=case.pk,
                rule="escalated_complaint",
                level="company_leader",
            )
    except ApplicationError:
        pass
    case.refresh_from_db()


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(0, 3), st.integers(1, 40)),
        min_size=4,
        max_size=18,
    )
)
@pytest.mark.django_db
def test_incremental_equals_rebuilt(world, steps):
    drive = world["drive"]
    cases = [drive.register(START, category_id=world["categories"][0].pk)]
    when = START
    for op, index, hours in steps:
        when += timedelta(hours=hours)
        if op == "register":
            cases.append(drive.register(when, category_id=world["categories"][0].pk, nature="complaint"))
        elif op == "catch_up":
            rollups.catch_up(batch=7)
        else:
            _apply(world, op, cases[index % len(cases)], when)
    rollups.catch_up(batch=7)
    incremental = snapshot()
    assert incremental["full"], "the roll-ups hold the registrations"
    rollups.rebuild(batch=3)
    assert snapshot() == incremental
    # And the consumer run again changes nothing.
    rollups.catch_up()
    assert snapshot() == incremental


@pytest.mark.django_db(transaction=True)
def test_consumer_idempotent_and_crash_safe(world):
    drive = world["drive"]
    city = world["departments"][0]
    case = drive.register(START)
    drive.do(
        START + timedelta(hours=1), "dispatch", case, department_id=city.pk, handler_id=world["handlers"][city.pk].pk
    )
    rollups.catch_up()
    before = snapshot()
    assert sum(r.get("received", 0) for r in before["full"].values()) == 1
    assert sum(r.get("dispatched", 0) for r in before["full"].values()) == 1
    # Applying every case again, or the same events again, changes nothing.
    rollups.refresh([case.pk])
    RollupCursor.objects.filter(name=rollups.CURSOR).update(last_event_id=0)
    rollups.catch_up()
    assert snapshot() == before

    # A crash inside a batch leaves everything as it was; the next run does the work.
    drive.do(START + timedelta(hours=2), "sign_for", case, actor=world["handlers"][city.pk])
    drive.do(
        START + timedelta(hours=3),
        "reply",
        case,
        actor=world["handlers"][city.pk],
        reply="已处理。",
        remedy="已上门处理。",
    )
    cursor_before = RollupCursor.objects.get(name=rollups.CURSOR).last_event_id

    def boom(*args, **kwargs):
        raise RuntimeError("worker killed")

    original = rollups.refresh
    rollups.refresh = boom
    try:
        with pytest.raises(RuntimeError):
            rollups.catch_up()
    finally:
        rollups.refresh = original
    assert RollupCursor.objects.get(name=rollups.CURSOR).last_event_id == cursor_before
    assert snapshot() == before
    rollups.catch_up()
    after = snapshot()
    assert sum(r.get("answered", 0) for r in after["full"].values()) == 1


@pytest.mark.django_db(transaction=True)
def test_late_committing_event_is_not_lost(world):
    """An event id the cursor passed before its transaction committed is kept as a gap
    and applied when it appears."""
    drive = world["drive"]
    a = drive.register(START)
    rollups.catch_up()
    b = drive.register(START + timedelta(hours=1))
    last = Event.objects.filter(case=b).order_by("-pk").first()
    assert last is not None
    # Pretend the cursor saw b's events, but one id (as if b's registration were still
    # uncommitted) was missing when it passed: a gap it keeps looking for.
    hidden = Event.objects.filter(case=b).order_by("pk").first()
    assert hidden is not None
    with transaction.atomic():
        cursor = RollupCursor.objects.get(name=rollups.CURSOR)
        cursor.last_event_id = last.pk
        cursor.gaps = {str(hidden.pk): START.isoformat()}
        cursor.save()
    assert not CaseFact.objects.filter(case_id=b.pk).exists()
    rollups.catch_up(now=START + timedelta(minutes=90))
    assert CaseFact.objects.filter(case_id=b.pk).exists()
    assert RollupCursor.objects.get(name=rollups.CURSOR).gaps == {}
    assert CaseFact.objects.filter(case_id=a.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_gap_forgotten_after_its_time(world, settings):
    settings.HUIYIN_REPORTS_GAP_SECONDS = 60
    with transaction.atomic():
        cursor, _created = RollupCursor.objects.get_or_create(name=rollups.CURSOR)
        cursor.gaps = {"999999": START.isoformat()}
        cursor.save()
    rollups.catch_up(now=START + timedelta(seconds=30))
    assert "999999" in RollupCursor.objects.get(name=rollups.CURSOR).gaps
    rollups.catch_up(now=START + timedelta(seconds=61))
    assert RollupCursor.objects.get(name=rollups.CURSOR).gaps == {}


@pytest.mark.django_db(transaction=True)
def test_rebuild_command(world, capsys):
    drive = world["drive"]
    drive.register(START)
    drive.register(START + timedelta(days=1), location="滨江花园3幢2单元301室")
    call_command("huiyin_reports", "rebuild")
    out = capsys.readouterr().out
    assert "rebuilt from 2 cases" in out
    assert DayRollup.objects.count() == 2
    places = set(DayAxis.objects.filter(axis="place").values_list("key", flat=True))
    assert places == {"幸福路", "滨江花园"}
    call_command("huiyin_reports", "status")
    assert "2 case facts" in capsys.readouterr().out


def test_place_of():
    assert place_of("滨江花园3幢2单元301室") == "滨江花园"
    assert place_of("人民路123号") == "人民路"
    assert place_of("人民路与学院路交叉口") == "人民路与学院路交叉口"
    assert place_of("阳光城三期5幢") == "阳光城"
    assert place_of("  ") == ""
    assert len(place_of("很" * 100)) == 40
