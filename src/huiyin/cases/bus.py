"""The case event bus: how the apps built on the case core hear about and shape its events.

The core never calls an app by name. It publishes every event it appends, and asks the
registered guards before it moves a case. What is registered, and in which order, is one
explicit table (``settings.HUIYIN_EVENT_TABLE``, by default ``huiyin/subscribers.py``),
loaded once when Django starts (``CasesConfig.ready``):

* **event kinds** — each app owns its kinds (a ``TextChoices`` in ``<app>/events.py``);
  the ``Event.kind`` column has no fixed choices, so a new app adds kinds without a
  ``cases`` migration, and the timeline reads labels from here;
* **in-transaction subscribers** — run in order inside the transaction that wrote the
  event, with the case row locked (deadline clocks, callback planning): what they write
  commits or rolls back with the event;
* **after-commit subscribers** — side effects (notifications today; webhooks, roll-ups,
  triage tomorrow), run by ONE task per committed event (``cases.tasks.dispatch_event_task``),
  each in its own transaction, so one that fails does not stop the others and a retry of
  the task repeats only what is idempotent by key;
* **guards** — checks other apps impose on a lifecycle action ("closing is refused until
  the result report is sent", "not while the head decides"): each raises an
  ``ApplicationError`` to refuse, before the action changes anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from huiyin.core.outbox import enqueue_on_commit
from huiyin.policy import checks as policy_checks

from .models import Case, Event, EventDelivery
from .tasks import dispatch_event_task

log = logging.getLogger(__name__)

InTransactionHandler = Callable[["Case", "Event"], None]
AfterCommitHandler = Callable[["Event"], None]
GuardHandler = Callable[["Case"], None]


@dataclass(frozen=True)
class Subscriber:
    """One row of the subscriber table: a named handler for some event kinds (all if empty)."""

    name: str
    handler: Callable[..., None]
    kinds: frozenset[str] = frozenset()
    actions: frozenset[str] = frozenset()  # for state changes: only these actions (all if empty)

    def wants(self, kind: str, action: str | None) -> bool:
        if self.kinds and kind not in self.kinds:
            return False
        return not self.actions or action in self.actions


@dataclass(frozen=True)
class Guard:
    """A check another app imposes before a lifecycle action (raises to refuse)."""

    name: str
    actions: frozenset[str]
    check: GuardHandler


@dataclass
class EventTable:
    """What the table module declares; ``load_table`` fills it once."""

    kinds: dict[str, Any] = field(default_factory=dict)  # kind -> label
    kind_owner: dict[str, str] = field(default_factory=dict)  # kind -> the TextChoices class that declared it
    in_transaction: list[Subscriber] = field(default_factory=list)
    after_commit: list[Subscriber] = field(default_factory=list)
    guards: list[Guard] = field(default_factory=list)
    case_panels: tuple[Any, ...] = ()  # cases.panels.Panel, in page order
    public_panels: tuple[Any, ...] = ()  # the same seam on the public status page, public data only
    desk_panels: tuple[Any, ...] = ()
    intake_panels: tuple[Any, ...] = ()  # beside the staff intake forms: context (request, channel)
    desk_sections: tuple[tuple[str, Callable[..., Any]], ...] = ()  # (key, (actor, base queryset) -> queryset | None)
    case_policy: Callable[..., Any] | None = None  # the policy a new case is registered under
    # Personal data other apps keep on a case, erased by the retention rule (cases.retention):
    # (name, (case queryset, dry_run) -> rows erased or, on a dry run, that would be).
    erasers: tuple[tuple[str, Callable[..., int]], ...] = ()
    # Personal data apps keep outside any case (a visitor log, bookings that never became a
    # case), erased by the same rule: (name, (organization, *, rule, cutoff, now, dry_run) -> rows).
    record_erasers: tuple[tuple[str, Callable[..., int]], ...] = ()
    # Checks a preset must pass against the organisation's own data before it is applied
    # (policy.checks): (name, (organization id, preset) -> problems).
    preset_checks: tuple[tuple[str, Callable[..., Any]], ...] = ()
    # Work the sweeper does on a timetable: (name, every so many seconds, (now) -> anything).
    periodic: tuple[tuple[str, float, Callable[..., Any]], ...] = ()
    # Codes an app stores in its events' data, shown in words on the timeline:
    # (event kind, data key) -> the TextChoices that label its values.
    value_labels: dict[tuple[str, str], Any] = field(default_factory=dict)


_table: EventTable | None = None


def subscriber(name: str, handler: Callable[..., None], *, kinds: Iterable[str] = (), actions: Iterable[str] = ()):
    return Subscriber(name, handler, frozenset(str(k) for k in kinds), frozenset(actions))


def guard(name: str, check: GuardHandler, *, actions: Iterable[str]) -> Guard:
    return Guard(name, frozenset(actions), check)


def build_table(
    *,
    kinds: Iterable[type[models.TextChoices]],
    in_transaction: Iterable[Subscriber],
    after_commit: Iterable[Subscriber],
    guards: Iterable[Guard],
    case_panels: Iterable[Any] = (),
    public_panels: Iterable[Any] = (),
    desk_panels: Iterable[Any] = (),
    intake_panels: Iterable[Any] = (),
    desk_sections: Iterable[tuple[str, Callable[..., Any]]] = (),
    case_policy: Callable[..., Any] | None = None,
    erasers: Iterable[tuple[str, Callable[..., int]]] = (),
    record_erasers: Iterable[tuple[str, Callable[..., int]]] = (),
    preset_checks: Iterable[tuple[str, Callable[..., Any]]] = (),
    periodic: Iterable[tuple[str, float, Callable[..., Any]]] = (),
    value_labels: dict[tuple[str, str], Any] | None = None,
) -> EventTable:
    """Check and index a table module's declarations: a kind declared twice is refused, and so
    is a panel listed twice on one page."""
    table = EventTable()
    for choices in kinds:
        for member in choices:
            value = str(member.value)
            if value in table.kinds:
                raise ValueError(
                    f"event kind {value!r} declared by {choices.__qualname__} "
                    f"and {table.kind_owner[value]}: each kind has one owner"
                )
            table.kinds[value] = member.label
            table.kind_owner[value] = f"{choices.__module__}.{choices.__qualname__}"
    table.in_transaction = list(in_transaction)
    table.after_commit = list(after_commit)
    table.guards = list(guards)
    table.case_panels, table.desk_panels = tuple(case_panels), tuple(desk_panels)
    table.public_panels = tuple(public_panels)
    table.intake_panels = tuple(intake_panels)
    for where, panels in (
        ("case_panels", table.case_panels),
        ("desk_panels", table.desk_panels),
        ("public_panels", table.public_panels),
        ("intake_panels", table.intake_panels),
    ):
        names = [getattr(panel, "name", None) for panel in panels]
        twice = sorted({str(n) for n in names if n is not None and names.count(n) > 1})
        if twice:  # a panel listed twice renders twice, and a form's overrides could not say which
            raise ValueError(f"{where}: panel {', '.join(twice)} listed more than once")
    table.desk_sections, table.case_policy = tuple(desk_sections), case_policy
    table.erasers = tuple(erasers)
    table.record_erasers = tuple(record_erasers)
    table.preset_checks, table.periodic = tuple(preset_checks), tuple(periodic)
    table.value_labels = dict(value_labels or {})
    for sub in [*table.in_transaction, *table.after_commit]:
        unknown = sub.kinds - set(table.kinds)
        if unknown:
            raise ValueError(f"subscriber {sub.name!r} listens to unknown event kinds {sorted(unknown)}")
    return table


def load_table(module_path: str | None = None) -> EventTable:
    """Import the configured table module and index it (once; ``CasesConfig.ready`` calls this)."""
    global _table
    module = import_module(module_path or str(getattr(settings, "HUIYIN_EVENT_TABLE", "huiyin.subscribers")))
    _table = module.TABLE
    policy_checks.install(lambda: table().preset_checks)
    return _table


def table() -> EventTable:
    if _table is None:
        return load_table()
    return _table


# --- what the core calls -------------------------------------------------------------------


def kind_label(kind: str) -> str:
    label = table().kinds.get(kind)
    return str(label) if label is not None else kind


def value_label(kind: str, key: str, value: Any) -> str:
    """A code an event's data holds under ``key`` in words (the value itself if its app
    declared no labels for it)."""
    choices = table().value_labels.get((kind, key))
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    return str(value)


def case_policy(organization: Any) -> Any:
    """The policy a new case of this organisation is registered under (the table's provider)."""
    provider = table().case_policy
    if provider is None:
        raise RuntimeError("the subscriber table names no case_policy provider")
    return provider(organization)


# After-commit subscribers that a bulk writer (the demo's weeks of history) has taken over
# itself: it runs their catch-up once at the end instead of once per event.
_deferred: ContextVar[frozenset[str]] = ContextVar("huiyin_bus_deferred", default=frozenset())


@contextmanager
def deferred(*names: str) -> Iterator[None]:
    """Within the block, the named after-commit subscribers are not run for the events
    dispatched in this thread (the in-process task backend); the caller promises to run
    their catch-up afterwards. Only for consumers that read everything since a cursor or
    rebuild from the cases (the roll-ups, hot-issue clusters), never for per-event side
    effects such as notifications. With a task queue the worker runs them as usual."""
    unknown = set(names) - {sub.name for sub in table().after_commit}
    if unknown:
        raise ValueError(f"no after-commit subscriber named {sorted(unknown)}")
    token = _deferred.set(_deferred.get() | frozenset(names))
    try:
        yield
    finally:
        _deferred.reset(token)


def _after_commit_for(kind: str, action: str | None) -> list[Subscriber]:
    skipped = _deferred.get()
    return [sub for sub in table().after_commit if sub.name not in skipped and sub.wants(kind, action)]


def publish(case: Case, event: Event) -> None:
    """Run the in-transaction subscribers in table order, then schedule the after-commit
    dispatch (one task per event, only when some after-commit subscriber wants it)."""
    action = (event.data or {}).get("action")
    for sub in table().in_transaction:
        if sub.wants(event.kind, action):
            sub.handler(case=case, event=event)
    if _after_commit_for(event.kind, action):
        enqueue_on_commit(dispatch_event_task, event_id=event.pk)


def dispatch_after_commit(event_id: int) -> None:
    """The after-commit subscribers for one committed event, each in its own transaction.
    A failing subscriber is logged and the rest still run; the first error is re-raised
    at the end so the task backend records the failure (and retries the task).

    Each subscriber's work commits together with an ``EventDelivery`` row for (event,
    subscriber), written first: a retry of the task (after a failure, or after its worker
    was killed) skips the subscribers already done, and a second worker running the same
    event at the same moment waits on that row's unique key, then skips."""
    event = Event.objects.select_related("case").filter(pk=event_id).first()
    if event is None:
        return
    action = (event.data or {}).get("action")
    first_error: Exception | None = None
    for sub in _after_commit_for(event.kind, action):
        try:
            with transaction.atomic():
                if not _claim_delivery(event, sub.name):
                    continue  # an earlier run of the task did it
                sub.handler(event=event)
        except Exception as exc:  # one subscriber's failure must not silence the others
            # The task's failure is the operator's one line (its traceback is kept with the task).
            log.debug("after-commit subscriber %s failed for event %s", sub.name, event_id, exc_info=True)
            first_error = first_error or exc
    if first_error is not None:
        raise first_error


def _claim_delivery(event: Event, subscriber_name: str) -> bool:
    """Insert the (event, subscriber) delivery row in the caller's transaction; False when
    it exists (committed by an earlier run, or by a concurrent one that then commits)."""

    try:
        with transaction.atomic():
            EventDelivery.objects.create(event=event, subscriber=subscriber_name, delivered_at=timezone.now())
    except IntegrityError:
        return False
    return True


def check_guards(case: Case, action: str) -> None:
    """Ask every guard registered for ``action``; the first that refuses raises."""
    for g in table().guards:
        if action in g.actions:
            g.check(case)


def subscribers_for(kind: str, action: str | None = None) -> list[str]:
    """Names of the subscribers an event of this kind reaches, in order (docs and tests)."""
    return [s.name for s in [*table().in_transaction, *table().after_commit] if s.wants(kind, action)]
