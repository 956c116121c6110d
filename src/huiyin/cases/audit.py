"""Proving the audit trail (F82): anchoring chain heads and verifying every chain.

* ``anchor()`` appends the heads of the cases that got events since the last run to the
  anchor log (``anchors``); the sweeper calls it every ``HUIYIN_AUDIT_ANCHOR_SECONDS``,
  ``huiyin audit anchor`` on demand.
* ``verify_all()`` checks every case's chain with the audit key against every anchor;
  ``huiyin audit verify`` runs it, records the broken cases (``ChainBreak``: the ledger's
  and the case page's red badge) and exits non-zero when anything is wrong.

A case is broken when an event's keyed hash does not match its content (edited), an
event does not point at the one before (removed or reordered), the chain is shorter than
an anchor says (its last events removed), an anchored head differs (rewritten), or it has
no events at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .anchors import AnchorLog, Reading
from .hashing import row_hash
from .models import Case, ChainBreak, ChainBreakReason, Event

EVENT_FIELDS = (
    "id",
    "case_id",
    "round",
    "actor_id",
    "actor_kind",
    "actor_system_id",
    "at",
    "kind",
    "data",
    "prev_hash",
    "hash",
)
BATCH = 500  # cases per query


@dataclass
class ChainCheck:
    count: int = 0
    head: str = ""
    reason: str = ""  # a ChainBreakReason; "" while intact


def check_chain(rows: Iterable[Any], anchors: dict[int, str] | None = None, key: bytes | None = None) -> ChainCheck:
    """Walk one case's events in id order. ``anchors``: position (1-based) -> head hash."""
    check = ChainCheck()
    anchors = anchors or {}
    for row in rows:
        check.count += 1
        if not check.reason:
            if row.prev_hash != check.head:
                check.reason = ChainBreakReason.RELINKED
            elif row_hash(row, key) != row.hash:
                check.reason = ChainBreakReason.EDITED
            elif anchors.get(check.count, row.hash) != row.hash:
                check.reason = ChainBreakReason.ANCHOR
        check.head = row.hash
    if not check.reason and anchors and max(anchors) > check.count:
        check.reason = ChainBreakReason.TRUNCATED if check.count else ChainBreakReason.MISSING
    return check


def _chains(case_ids: Sequence[int], *, upto: int | None = None) -> Iterator[tuple[int, Iterator[Any]]]:
    rows = Event.objects.filter(case_id__in=case_ids)
    if upto is not None:
        rows = rows.filter(id__lte=upto)
    ordered = rows.order_by("case_id", "id").values_list(*EVENT_FIELDS, named=True)
    yield from groupby(ordered.iterator(chunk_size=2000), key=attrgetter("case_id"))


def _batches(ids: Sequence[int], size: int = BATCH) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# --- anchoring ----------------------------------------------------------------------


@dataclass
class AnchorRun:
    anchored: int = 0
    upto: int = 0
    broken: dict[int, str] = field(default_factory=dict)


def anchor(*, lag: timedelta | None = None, log: AnchorLog | None = None) -> AnchorRun:
    """Anchor the heads of the cases with events newer than the log's last run.

    Events younger than ``lag`` wait for the next run: on PostgreSQL ids are handed out
    before commit, so a slow transaction may still commit an id below the newest one seen.
    A case whose chain does not verify is not anchored (that would bless it) but flagged."""
    if lag is None:
        lag = timedelta(seconds=settings.HUIYIN_AUDIT_ANCHOR_LAG)
    log = log or AnchorLog()
    run = AnchorRun()
    with log.appending() as out:
        since = run.upto = out.tail.upto
        newest = Event.objects.filter(id__gt=since, at__lte=timezone.now() - lag).aggregate(m=Max("id"))["m"]
        if newest is None:
            return run
        touched = Event.objects.filter(id__gt=since, id__lte=newest).order_by().values_list("case_id", flat=True)
        case_ids = sorted(set(touched.distinct()))
        batches = list(_batches(case_ids))
        for number, batch in enumerate(batches, start=1):
            heads: dict[int, tuple[int, str]] = {}
            for case_id, rows in _chains(batch, upto=newest):
                check = check_chain(rows)
                if check.reason:
                    run.broken[case_id] = check.reason
                else:
                    heads[case_id] = (check.count, check.head)
            # Only the run's last line moves ``upto``: a run cut short is taken again whole.
            out.append(heads, upto=newest if number == len(batches) else since)
            run.anchored += len(heads)
        run.upto = newest
    if run.broken:
        record_breaks(run.broken, replace=False)
    return run


# --- verification -------------------------------------------------------------------


@dataclass
class Report:
    log_path: Path
    log: Reading
    cases: int = 0
    events: int = 0
    broken: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.broken and not self.log.problems


def verify_all(*, log: AnchorLog | None = None, record: bool = True) -> Report:
    """Every case's chain against the key and every anchor; ``record`` rebuilds ChainBreak."""
    log = log or AnchorLog()
    # The log first: whatever it anchors was committed before the events are read below.
    reading = log.read()
    report = Report(log_path=log.path, log=reading)
    case_ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    for batch in _batches(case_ids):
        seen = set()
        for case_id, rows in _chains(batch):
            seen.add(case_id)
            check = check_chain(rows, reading.anchors.get(case_id))
            report.events += check.count
            if check.reason:
                report.broken[case_id] = check.reason
            elif case_id in reading.conflicts:
                report.broken[case_id] = ChainBreakReason.ANCHOR
        for case_id in set(batch) - seen:
            report.broken[case_id] = ChainBreakReason.MISSING
    report.cases = len(case_ids)
    # Anchored cases whose row is gone altogether.
    for case_id in set(reading.anchors) - set(case_ids):
        report.broken[case_id] = ChainBreakReason.MISSING
    if record:
        record_breaks(report.broken, replace=True)
    return report


def record_breaks(broken: dict[int, str], *, replace: bool) -> None:
    """``replace``: the table becomes exactly ``broken`` (a full verification); otherwise add."""
    now = timezone.now()
    with transaction.atomic():
        if replace:
            ChainBreak.objects.exclude(case_pk__in=list(broken)).delete()
        known = dict(ChainBreak.objects.filter(case_pk__in=list(broken)).values_list("case_pk", "reason"))
        ChainBreak.objects.bulk_create(
            [
                ChainBreak(case_pk=case_id, reason=reason, detected_at=now)
                for case_id, reason in broken.items()
                if case_id not in known
            ]
        )
        for case_id, reason in broken.items():
            if case_id in known and known[case_id] != reason:  # the first detection keeps its time
                ChainBreak.objects.filter(case_pk=case_id).update(reason=reason)


def broken_case_ids(case_ids: Iterable[int]) -> set[int]:
    """Which of these cases the last verification found broken (one query, for a page of rows)."""
    ids = list(case_ids)
    if not ids:
        return set()
    return set(ChainBreak.objects.filter(case_pk__in=ids).values_list("case_pk", flat=True))
