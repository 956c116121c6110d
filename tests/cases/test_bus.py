"""The case event bus: the table's rules, in-transaction atomicity, after-commit isolation,
guards, and that a new app plugs in through the table alone."""

from __future__ import annotations

import sys
import types

import pytest
from django.db import models
from django_tasks.signals import task_enqueued

from huiyin.cases import bus, services
from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, Event, EventDelivery
from huiyin.cases.tasks import dispatch_event_task
from huiyin.cases.workflow import CaseState
from huiyin.core.errors import ApplicationError
from huiyin.handling.events import HandlingEvent
from tests.conftest import intake


@pytest.fixture
def enqueued():
    """The module paths of the tasks queued, whatever the backend: the database backend
    writes its row in the transaction (``core.outbox``), Redis's is enqueued at commit."""
    queued: list[str] = []

    def record(sender, task_result, **kwargs):
        queued.append(task_result.task.module_path)

    task_enqueued.connect(record)
    yield queued
    task_enqueued.disconnect(record)


DISPATCH = dispatch_event_task.module_path


@pytest.fixture
def swap_table():
    """Replace the loaded table for one test and put the real one back."""
    real = bus.table()

    def swap(**rows):
        base = dict(
            kinds=(EventKind, HandlingEvent),
            in_transaction=(),
            after_commit=(),
            guards=(),
            case_policy=real.case_policy,
            case_panels=real.case_panels,
            desk_panels=real.desk_panels,
            desk_sections=real.desk_sections,
        )
        bus._table = bus.build_table(**{**base, **rows})

    yield swap
    bus._table = real


def test_the_table_gives_every_kind_one_owner_and_a_label():
    table = bus.table()
    assert table.kind_owner["registered"].endswith("cases.events.EventKind")
    assert table.kind_owner["approval_signed"].endswith("handling.events.HandlingEvent")
    assert table.kind_owner["supervision_warning"].endswith("supervision.events.SupervisionEvent")
    assert bus.kind_label("approval_signed") == "审批签署"
    # Deadline clocks run before callback planning, which reads the callback clock.
    assert bus.subscribers_for("state_changed", "reply")[:2] == ["deadlines.clocks", "followup.callback_planning"]


def test_a_kind_declared_by_two_apps_is_refused():
    class Clash(models.TextChoices):
        REGISTERED = "registered", "again"

    with pytest.raises(ValueError, match="one owner"):
        bus.build_table(kinds=(EventKind, Clash), in_transaction=(), after_commit=(), guards=())


def test_a_panel_listed_twice_on_a_page_is_refused():
    """Two merges once listed one app's case panel twice: it rendered twice on every case page."""
    real = bus.table()
    twice = (*real.case_panels, real.case_panels[0])
    with pytest.raises(ValueError, match=f"case_panels: panel {real.case_panels[0].name} listed more than once"):
        bus.build_table(kinds=(EventKind,), in_transaction=(), after_commit=(), guards=(), case_panels=twice)
    assert len({p.name for p in real.case_panels}) == len(real.case_panels)


def test_a_subscriber_to_an_unknown_kind_is_refused():
    row = bus.subscriber("typo", lambda **kw: None, kinds=("registred",))
    with pytest.raises(ValueError, match="unknown event kinds"):
        bus.build_table(kinds=(EventKind,), in_transaction=(row,), after_commit=(), guards=())


def test_an_in_transaction_subscriber_that_fails_rolls_the_event_back(clerk, swap_table):
    def explode(*, case, event):
        raise RuntimeError("subscriber failed")

    swap_table(in_transaction=(bus.subscriber("explode", explode, kinds=(EventKind.REGISTERED,)),))
    with pytest.raises(RuntimeError):
        services.case_register(actor=clerk, data=intake())
    assert not Case.objects.exists() and not Event.objects.exists()


def test_after_commit_subscribers_run_once_each_and_one_failure_does_not_stop_the_rest(
    clerk, swap_table, django_capture_on_commit_callbacks, enqueued
):
    seen: list[tuple[str, int]] = []

    def failing(*, event):
        seen.append(("failing", event.pk))
        raise RuntimeError("gateway down")

    def recording(*, event):
        seen.append(("recording", event.pk))

    swap_table(
        after_commit=(
            bus.subscriber("failing", failing, kinds=(EventKind.REGISTERED,)),
            bus.subscriber("recording", recording, kinds=(EventKind.REGISTERED,)),
            bus.subscriber("dispatch-only", recording, kinds=(EventKind.STATE_CHANGED,), actions=("dispatch",)),
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        case, _code = services.case_register(actor=clerk, data=intake())
    assert enqueued == [DISPATCH]  # one dispatch task for the event, whatever the number of subscribers
    event = Event.objects.get(kind=EventKind.REGISTERED)
    with pytest.raises(RuntimeError, match="gateway down"):  # the task records the failure...
        bus.dispatch_after_commit(event.pk)
    assert seen == [("failing", event.pk), ("recording", event.pk)]  # ...after the others ran
    # An event no after-commit subscriber wants schedules no task at all.
    with django_capture_on_commit_callbacks(execute=True):
        services.case_accept(actor=clerk, case_id=case.pk)
    assert enqueued == [DISPATCH]


def test_a_deferred_catch_up_subscriber_is_skipped_only_inside_the_block(
    clerk, swap_table, django_capture_on_commit_callbacks, enqueued
):
    """The demo's weeks of history defer the roll-ups and clusters (it catches them up once at
    the end); every other subscriber still runs, and after the block the deferred one runs again."""
    seen: list[str] = []
    swap_table(
        after_commit=(
            bus.subscriber("catch_up", lambda *, event: seen.append("catch_up"), kinds=(EventKind.REGISTERED,)),
            bus.subscriber("notify", lambda *, event: seen.append("notify"), kinds=(EventKind.REGISTERED,)),
        )
    )
    with pytest.raises(ValueError, match="no after-commit subscriber"), bus.deferred("catch_up", "typo"):
        pass
    with bus.deferred("catch_up"):
        with django_capture_on_commit_callbacks(execute=True):
            first, _code = services.case_register(actor=clerk, data=intake())
        assert enqueued == [DISPATCH]
        bus.dispatch_after_commit(Event.objects.get(case=first, kind=EventKind.REGISTERED).pk)
    assert seen == ["notify"]
    with bus.deferred("catch_up", "notify"), django_capture_on_commit_callbacks(execute=True):
        services.case_register(actor=clerk, data=intake())
    assert enqueued == [DISPATCH]  # nobody left to run: no task queued at all
    bus.dispatch_after_commit(Event.objects.get(case=first, kind=EventKind.REGISTERED).pk)
    assert seen == ["notify", "catch_up"]  # outside the block it runs (notify was delivered already)


def test_a_retried_event_task_repeats_only_the_subscribers_not_yet_done(clerk, swap_table):
    """A retry (after a failure, or after the worker was killed) does not run a subscriber
    twice: each one's work commits with its (event, subscriber) delivery record."""
    seen: list[str] = []
    gateway_down = [True]

    def flaky(*, event):
        seen.append("flaky")
        if gateway_down[0]:
            raise RuntimeError("gateway down")

    def recording(*, event):
        seen.append("recording")

    swap_table(
        after_commit=(
            bus.subscriber("flaky", flaky, kinds=(EventKind.REGISTERED,)),
            bus.subscriber("recording", recording, kinds=(EventKind.REGISTERED,)),
        )
    )
    services.case_register(actor=clerk, data=intake())
    event = Event.objects.get(kind=EventKind.REGISTERED)
    with pytest.raises(RuntimeError):
        bus.dispatch_after_commit(event.pk)
    assert list(EventDelivery.objects.values_list("subscriber", flat=True)) == ["recording"]
    gateway_down[0] = False
    bus.dispatch_after_commit(event.pk)  # the retry
    bus.dispatch_after_commit(event.pk)  # and a copy of the task: nothing left to do
    assert seen == ["flaky", "recording", "flaky"]
    assert sorted(EventDelivery.objects.values_list("subscriber", flat=True)) == ["flaky", "recording"]


def test_a_guard_refuses_before_anything_changes(clerk, swap_table):
    case, _code = services.case_register(actor=clerk, data=intake())

    def never(case):
        raise ApplicationError("not today")

    swap_table(guards=(bus.guard("never", never, actions=("accept",)),))
    with pytest.raises(ApplicationError, match="not today"):
        services.case_accept(actor=clerk, case_id=case.pk)
    case.refresh_from_db()
    assert case.state == CaseState.REGISTERED and case.version == 1
    assert list(Event.objects.filter(case=case).values_list("kind", flat=True)) == ["registered"]


def _kind_classes(table):
    from importlib import import_module

    owners = sorted(set(table.kind_owner.values()))
    return [getattr(import_module(o.rsplit(".", 1)[0]), o.rsplit(".", 1)[1]) for o in owners]


def test_a_new_app_reacts_to_case_events_through_the_table_alone(clerk, settings, monkeypatch):
    """What adding a subscriber takes: a table module that lists it (no change in cases/)."""
    heard: list[str] = []
    module = types.ModuleType("huiyin_test_table")
    real = bus.table()
    module.TABLE = bus.build_table(
        kinds=_kind_classes(real),
        in_transaction=(
            *real.in_transaction,
            bus.subscriber("audit.mirror", lambda *, case, event: heard.append(event.kind)),
        ),
        after_commit=real.after_commit,
        guards=real.guards,
        case_policy=real.case_policy,
    )
    monkeypatch.setitem(sys.modules, "huiyin_test_table", module)
    settings.HUIYIN_EVENT_TABLE = "huiyin_test_table"
    try:
        bus.load_table()
        case, _code = services.case_register(actor=clerk, data=intake())
        services.case_accept(actor=clerk, case_id=case.pk)
    finally:
        bus._table = real
    assert heard == ["registered", "state_changed"]
