"""Keeping the roll-ups: recompute a case's facts, add the difference to the day rows.

``refresh(case_ids)`` recomputes the facts of some cases (``facts.facts_for``), compares
them with the facts stored for them (``CaseFact``) and adds the difference — new minus
old, counter by counter, day by day — to ``DayRollup`` (every dimension) and ``DayAxis``
(one dimension at a time) with one upsert per row key (``INSERT … ON CONFLICT DO UPDATE
SET n = n + excluded.n``, on SQLite and PostgreSQL alike), then drops rows left at zero.
Refreshing a case twice changes nothing the second time: the consumer may run an event
again, or a case for an event that did not change it, without harm.

``catch_up()`` is the consumer: it reads the events after its cursor (``RollupCursor``)
in id order, refreshes their cases and moves the cursor, all in one transaction per
batch, holding the cursor row's lock (one consumer at a time; a crash rolls the batch
back and the next run does it again). An event id below the cursor that was not there
when the cursor passed it (its transaction committed later than a later one's) is kept
as a gap and looked for on each run. The case event bus runs it after each commit
(``subscribers.on_event``); ``huiyin reports catchup`` runs it by hand.

``rebuild()`` empties the facts and roll-ups and refreshes every case from scratch, in
batches, leaving the cursor at the last event it saw: ``huiyin reports rebuild``.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from huiyin.cases.models import Case, Event

from .facts import Fact, facts_for
from .models import COUNTERS, CaseFact, DayAxis, DayRollup, RollupCursor

log = logging.getLogger(__name__)

CURSOR = "rollups"
BATCH = 1000
FULL_KEY = ("organization_id", "day", "department_id", "category_id", "channel", "nature", "place")
AXIS_KEY = ("organization_id", "axis", "day", "department_id", "key")

Delta = dict[tuple, dict[str, int]]


def _axis_keys(org: int, day: date, dims: tuple[int, int, str, str, str]) -> list[tuple]:
    department, category, channel, nature, place = dims
    return [
        (org, "all", day, department, ""),
        (org, "channel", day, department, channel),
        (org, "nature", day, department, nature),
        (org, "category", day, department, str(category)),
        (org, "place", day, department, place),
    ]


def _spread(
    full: Delta,
    axis: Delta,
    org: int,
    dims: tuple[int, int, str, str, str],
    contributions: dict[str, dict[str, int]],
    sign: int,
) -> None:
    for iso, counters in contributions.items():
        day = date.fromisoformat(iso)
        full_row = full[(org, day, *dims)]
        axis_rows = [axis[k] for k in _axis_keys(org, day, dims)]
        for name, n in counters.items():
            full_row[name] += sign * n
            for row in axis_rows:
                row[name] += sign * n


def _upsert(table: str, key: tuple[str, ...], deltas: Delta) -> None:
    """Add each delta to its row (created at zero when missing); then drop the rows of
    these keys whose counters are all zero again."""
    rows = [(k, d) for k, d in deltas.items() if any(d.values())]
    if not rows:
        return
    qn = connection.ops.quote_name
    columns = [*key, *COUNTERS]
    sql = (
        f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({', '.join(qn(c) for c in key)}) DO UPDATE SET "
        + ", ".join(f"{qn(c)} = {qn(table)}.{qn(c)} + excluded.{qn(c)}" for c in COUNTERS)
    )
    params = [[*k, *(d.get(c, 0) for c in COUNTERS)] for k, d in rows]
    zero = " AND ".join(f"{qn(c)} = 0" for c in COUNTERS)
    match = " AND ".join(f"{qn(c)} = %s" for c in key)
    with connection.cursor() as cursor:
        for start in range(0, len(params), 500):
            cursor.executemany(sql, params[start : start + 500])
        negative = [k for k, d in rows if any(v < 0 for v in d.values())]
        for start in range(0, len(negative), 500):
            cursor.executemany(f"DELETE FROM {qn(table)} WHERE {match} AND {zero}", negative[start : start + 500])


def refresh(case_ids: Iterable[int]) -> int:
    """Recompute these cases' facts and add the difference to the roll-ups (in the
    caller's transaction). Returns how many cases changed."""
    ids = sorted(set(case_ids))
    if not ids:
        return 0
    new = facts_for(ids)
    old = {f.case_id: f for f in CaseFact.objects.filter(case_id__in=ids)}
    full: Delta = defaultdict(lambda: defaultdict(int))
    axis: Delta = defaultdict(lambda: defaultdict(int))
    changed_old: list[int] = []
    changed_new: list[CaseFact] = []
    for cid in ids:
        before, after = old.get(cid), new.get(cid)
        row = _row(after) if after is not None else None
        if before is not None and row is not None and _same(before, row):
            continue
        if before is not None:
            _spread(full, axis, before.organization_id, _dims(before), before.contributions, -1)
            changed_old.append(cid)
        if row is not None:
            _spread(full, axis, row.organization_id, _dims(row), row.contributions, +1)
            changed_new.append(row)
    _upsert(DayRollup._meta.db_table, FULL_KEY, full)
    _upsert(DayAxis._meta.db_table, AXIS_KEY, axis)
    if changed_old:
        CaseFact.objects.filter(case_id__in=changed_old).delete()
    CaseFact.objects.bulk_create(changed_new, batch_size=500)
    return len(set(changed_old) | {r.case_id for r in changed_new})


def _dims(f: CaseFact) -> tuple[int, int, str, str, str]:
    return (f.department_id, f.category_id, f.channel, f.nature, f.place)


def _row(fact: Fact) -> CaseFact:
    return CaseFact(
        case_id=fact.case_id,
        organization_id=fact.organization_id,
        department_id=fact.department_id,
        category_id=fact.category_id,
        channel=fact.channel,
        nature=fact.nature,
        place=fact.place,
        received_day=fact.received_day,
        closed_day=fact.closed_day,
        handling_seconds=fact.handling_seconds,
        contributions=fact.contributions(),
    )


def _same(a: CaseFact, b: CaseFact) -> bool:
    return _dims(a) == _dims(b) and a.organization_id == b.organization_id and a.contributions == b.contributions


# --- the consumer ---------------------------------------------------------------------------


def _cursor() -> RollupCursor:
    """The cursor row, locked until the caller's transaction ends (created once)."""
    RollupCursor.objects.get_or_create(name=CURSOR)
    return RollupCursor.objects.select_for_update().get(name=CURSOR)


def gap_seconds() -> float:
    return float(getattr(settings, "HUIYIN_REPORTS_GAP_SECONDS", 3600))


def catch_up(*, batch: int = BATCH, max_batches: int | None = None, now: datetime | None = None) -> int:
    """Apply the events since the cursor, batch by batch; returns the events applied."""
    applied = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            done = _catch_up_batch(batch, now or timezone.now())
        applied += done
        batches += 1
        if done < batch:
            break
    return applied


def _catch_up_batch(batch: int, now: datetime) -> int:
    cursor = _cursor()
    gaps: dict[str, str] = dict(cursor.gaps or {})
    found = list(Event.objects.filter(pk__in=[int(g) for g in gaps]).values_list("pk", "case_id") if gaps else [])
    rows = list(Event.objects.filter(pk__gt=cursor.last_event_id).order_by("pk").values_list("pk", "case_id")[:batch])
    for pk, _case in found:
        gaps.pop(str(pk), None)
    if rows:
        seen = {pk for pk, _case in rows}
        for missing in range(cursor.last_event_id + 1, rows[-1][0]):
            if missing not in seen:
                gaps.setdefault(str(missing), now.isoformat())
        cursor.last_event_id = rows[-1][0]
    horizon = now - timedelta(seconds=gap_seconds())
    gaps = {k: v for k, v in gaps.items() if datetime.fromisoformat(v) > horizon}
    if len(gaps) > 10_000:  # a bulk load's rolled-back ids: keep the newest
        gaps = dict(sorted(gaps.items(), key=lambda kv: int(kv[0]))[-10_000:])
    refresh({case for _pk, case in [*rows, *found]})
    cursor.gaps = gaps
    cursor.updated_at = now
    cursor.save(update_fields=["last_event_id", "gaps", "updated_at"])
    return len(rows)


def rebuild(
    *, organization_id: int | None = None, batch: int = BATCH, progress: Callable[[int, int], None] | None = None
) -> int:
    """Empty the facts and roll-ups (of one organisation, or all) and recompute them from
    the cases: the facts batch by batch (``facts_for``), then both roll-up tables from the
    facts in one set-based statement each (``aggregate``) — a different road from the
    consumer's upserts to the same rows. The cursor moves to the last event at the start:
    events after it are the consumer's. Returns the cases counted."""
    with transaction.atomic():
        cursor = _cursor()
        last = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        scope = {} if organization_id is None else {"organization_id": organization_id}
        CaseFact.objects.filter(**scope).delete()
        DayRollup.objects.filter(**scope).delete()
        DayAxis.objects.filter(**scope).delete()
        if organization_id is None:
            cursor.last_event_id, cursor.gaps = max(cursor.last_event_id, last), {}
        cursor.rebuilt_at = timezone.now()
        cursor.save()
        cases = Case.objects.filter(**scope).order_by("pk").values_list("pk", flat=True)
        total = cases.count()
        done, after = 0, 0
        # One transaction, the cursor row locked: the consumer waits for the whole rebuild
        # and then applies what came meanwhile (idempotently), never a half-built table.
        while True:
            ids = list(cases.filter(pk__gt=after)[:batch])
            if not ids:
                break
            _insert_facts([_row(f) for f in facts_for(ids).values()])
            done += len(ids)
            after = ids[-1]
            if progress is not None:
                progress(done, total)
        aggregate(organization_id)
    return done


def _insert_facts(rows: list[CaseFact]) -> None:
    """New case facts: COPY on PostgreSQL, a bulk insert elsewhere."""
    if connection.vendor != "postgresql":
        CaseFact.objects.bulk_create(rows, batch_size=500)
        return
    fields = list(CaseFact._meta.concrete_fields)
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column or f.name) for f in fields)
    with connection.cursor() as cur:
        raw = cur.cursor if hasattr(cur, "cursor") else cur
        with raw.copy(f"COPY {qn(CaseFact._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row.contributions, separators=(",", ":"))
                        if f.name == "contributions"
                        else getattr(row, f.attname)
                        for f in fields
                    ]
                )


def aggregate(organization_id: int | None = None) -> None:
    """Both roll-up tables from the case facts: every dimension from their contributions
    unnested (one row per case and day), grouped by key; then one dimension at a time
    from those rows. Of one organisation or all; the tables must be empty for that scope."""
    qn = connection.ops.quote_name
    facts = qn(CaseFact._meta.db_table)
    if connection.vendor == "postgresql":
        unnest = "CROSS JOIN LATERAL jsonb_each(f.contributions) AS d(key, value)"
        day = "CAST(d.key AS date)"

        def counter(name: str) -> str:
            return f"SUM(COALESCE(CAST(d.value ->> '{name}' AS bigint), 0))"

    else:
        unnest = ", json_each(f.contributions) AS d"
        day = "d.key"

        def counter(name: str) -> str:
            return f"SUM(COALESCE(CAST(json_extract(d.value, '$.{name}') AS integer), 0))"

    where = "WHERE f.organization_id = %s" if organization_id is not None else ""
    params = [organization_id] if organization_id is not None else []
    sums = ", ".join(counter(c) for c in COUNTERS)
    columns = ", ".join(qn(c) for c in COUNTERS)
    full_key = ", ".join(qn(c) for c in FULL_KEY)
    axis_key = ", ".join(qn(c) for c in AXIS_KEY)
    axes = " UNION ALL ".join(f"SELECT '{a}' AS axis" for a in ("all", "channel", "nature", "category", "place"))
    value = (
        "CASE a.axis WHEN 'all' THEN '' WHEN 'channel' THEN f.channel WHEN 'nature' THEN f.nature "
        "WHEN 'category' THEN CAST(f.category_id AS varchar(20)) ELSE f.place END"
    )
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {qn(DayRollup._meta.db_table)} ({full_key}, {columns}) "
            f"SELECT f.organization_id, {day}, f.department_id, f.category_id, f.channel, f.nature, f.place, {sums} "
            f"FROM {facts} f {unnest} {where} "
            f"GROUP BY f.organization_id, {day}, f.department_id, f.category_id, f.channel, f.nature, f.place",
            params,
        )
        # One dimension at a time from the rows just built: plain columns, no JSON.
        plain = ", ".join(f"SUM(f.{qn(c)})" for c in COUNTERS)
        cur.execute(
            f"INSERT INTO {qn(DayAxis._meta.db_table)} ({axis_key}, {columns}) "
            f"SELECT f.organization_id, a.axis, f.day, f.department_id, {value}, {plain} "
            f"FROM {qn(DayRollup._meta.db_table)} f CROSS JOIN ({axes}) a {where} "
            f"GROUP BY f.organization_id, a.axis, f.day, f.department_id, {value}",
            params,
        )
