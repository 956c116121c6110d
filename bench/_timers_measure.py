"""Measurements for the deadline-timer benchmark.

* **Arranging clocks.** Registered phone cases held in reserve by the loader are
  accepted: their state becomes ``accepted`` (an ``accept`` event chained on the case)
  and each gets the dispatch clock ``policy.hooks`` starts at acceptance, built by the
  engine (``Planner.clock``: the city hotline's 3-minute rule, snapshot, due and warning
  times, ``next_action_at``), with the acceptance time chosen so that the clock falls
  due at a chosen instant (due = accepted + 3 min, warning at 2 min 15 s). One
  transaction, before the clocks' times come.
* **Latency.** One real sweeper process (``python -m huiyin.cli huiyin_sweeper
  --interval 1``) runs; K clocks fall due spread over a window and B more in one
  burst (same instant). A poller (its own connection, every 0.2 s) records when each
  ClockAction row becomes *visible*, i.e. when the sweeper's batch committed: that
  minus the step's time is how late the case was marked overdue (or warned) for
  anyone looking. The sweeper's own record, ``ClockAction.at - scheduled_for`` (=
  ``Clock.overdue_at - due_at``), is the start of the batch that took the step.
* **Throughput.** W clocks all overdue at the same instant (one step each: the
  warning is skipped once the due time has passed; the escalations come 30 min and
  2 h later), then 1 or more worker processes run ``huiyin_sweeper --once`` from a
  common start until nothing is due (``_timers_worker``). Events per second =
  steps taken / wall time from start to the last worker's exit. Exactly once:
  ClockAction rows, deadline events, desk entries and notice tasks per clock.
* **Profile.** The same kind of backlog swept in this process, every SQL statement
  timed (``connection.execute_wrapper``) and grouped by statement shape: where a
  step's time goes.
* **Plans.** ``EXPLAIN (ANALYZE, BUFFERS)`` of the sweeper's own queries, captured
  from a real pass: the selection of due clocks (idle, and with a backlog), the case
  locks, the event-chain tail look-up. FOR UPDATE in EXPLAIN ANALYZE takes the locks:
  each runs in a transaction that is rolled back.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import loadavg, log
from _loader import raw_connect
from _measure import summary
from _timers_loader import Planner
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, Event
from huiyin.deadlines.events import DeadlineEvent
from huiyin.demo.generator import build_organization
from huiyin.policy.models import Clock, ClockAction, SweeperHeartbeat
from huiyin.policy.services import policy_version_for_case

ROOT = Path(__file__).resolve().parents[1]
DEADLINE_KINDS = (DeadlineEvent.DEADLINE_WARNING, DeadlineEvent.DEADLINE_OVERDUE, DeadlineEvent.ESCALATED)
POLL_EVERY = 0.2  # seconds


# --- arranging clocks ----------------------------------------------------------------------


class Arranger:
    """Accepts reserved registered phone cases so that their dispatch clocks fall due
    at chosen instants."""

    def __init__(self):
        self.demo = build_organization()
        self._planners: dict[str, Planner] = {}

    def available(self) -> int:
        return self._reserve().count()

    def _reserve(self):
        return Case.objects.filter(organization=self.demo.org, state="registered", channel="phone").exclude(
            clocks__stage="dispatch"
        )

    def take(self, n: int) -> list[int]:
        ids = list(self._reserve().order_by("pk").values_list("pk", flat=True)[:n])
        if len(ids) < n:
            raise RuntimeError(
                f"only {len(ids)} registered phone cases left to arrange, {n} needed: "
                "load again (without --reuse) or with a larger --reserve"
            )
        return ids

    def _planner(self, case: Case) -> Planner:
        if case.policy_version not in self._planners:
            version = policy_version_for_case(case)
            self._planners[case.policy_version] = Planner(self.demo, version)
        return self._planners[case.policy_version]

    def arrange(self, dues: dict[int, datetime]) -> list[int]:
        """{case id: due time} → the new dispatch clocks' ids. One transaction."""
        t = time.perf_counter()
        with transaction.atomic():
            cases = list(Case.objects.select_for_update().filter(pk__in=list(dues), state="registered").order_by("pk"))
            if len(cases) != len(dues):
                raise RuntimeError("some reserved cases are no longer registered")
            tails = dict(
                Event.objects.filter(case_id__in=list(dues))
                .order_by("case_id", "-id")
                .distinct("case_id")
                .values_list("case_id", "hash")
            )
            clocks, events = [], []
            for case in cases:
                planner = self._planner(case)
                plan = planner.plan(
                    channel=case.channel,
                    nature=case.nature,
                    category_id=case.category_id,
                    urgency=case.urgency,
                    title=case.title,
                    text=case.text,
                )
                rule = planner.rule(plan, "dispatch")
                if rule is None or rule.unit != "minutes":
                    raise RuntimeError(f"case {case.pk}: no minutes dispatch rule ({rule})")
                due = dues[case.pk]
                accepted = due - timedelta(minutes=rule.amount)
                clock = planner.clock(
                    case_id=case.pk,
                    organization_id=case.organization_id,
                    plan=plan,
                    stage="dispatch",
                    started_at=timezone.localtime(accepted),
                )
                if clock.due_at != due:
                    raise RuntimeError(f"case {case.pk}: due {clock.due_at} != arranged {due}")
                clocks.append(clock)
                event = Event(
                    case_id=case.pk,
                    round=case.round,
                    actor_id=case.first_contact_id,
                    at=accepted.astimezone(UTC),
                    kind=EventKind.STATE_CHANGED,
                    data={"action": "accept", "from": "registered", "to": "accepted"},
                    prev_hash=tails.get(case.pk, ""),
                )
                event.hash = event.compute_hash()
                events.append(event)
            Clock.objects.bulk_create(clocks, batch_size=2000)
            Event.objects.bulk_create(events, batch_size=2000)
            Case.objects.filter(pk__in=list(dues)).update(
                state="accepted", version=F("version") + 1, updated_at=timezone.now()
            )
        log(f"arranged {len(clocks)} dispatch clocks in {time.perf_counter() - t:.1f} s")
        return [c.pk for c in clocks]


# --- watching the sweeper's work -----------------------------------------------------------


class Poller(threading.Thread):
    """Records when each ClockAction row becomes visible (its batch committed)."""

    def __init__(self):
        super().__init__(daemon=True)
        with raw_connect(autocommit=True) as raw:
            self.last_id = raw.execute("SELECT coalesce(max(id), 0) FROM policy_clockaction").fetchone()[0]
        self.rows: list[tuple] = []  # (id, clock_id, action, level, scheduled_for, at, seen)
        self.stop = threading.Event()
        self.polls = 0

    def run(self) -> None:
        with raw_connect(autocommit=True) as raw:
            while not self.stop.is_set():
                t = time.time()
                # One sweeper commits its batches in id order; several could commit a lower
                # id after a higher one, so look back a little and keep what is new.
                found = raw.execute(
                    "SELECT id, clock_id, action, level, scheduled_for, at FROM policy_clockaction "
                    "WHERE id > %s ORDER BY id",
                    [self.last_id],
                ).fetchall()
                seen = time.time()
                for row in found:
                    self.rows.append((*row, seen))
                if found:
                    self.last_id = found[-1][0]
                self.polls += 1
                self.stop.wait(max(0.0, POLL_EVERY - (time.time() - t)))

    def finish(self) -> None:
        self.stop.set()
        self.join()


def _lateness(rows, *, clock_ids: set[int]) -> dict:
    """Per action kind: visible (commit seen) and recorded (ClockAction.at) lateness, s."""
    out: dict[str, dict] = {}
    by_kind: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        if row[1] in clock_ids:
            by_kind[row[2]].append(row)
    for kind, items in sorted(by_kind.items()):
        visible = [r[6] - r[4].timestamp() for r in items]
        recorded = [(r[5] - r[4]).total_seconds() for r in items]
        out[kind] = {
            "count": len(items),
            "visible_s": summary(visible),
            "recorded_s": summary(recorded),
            "last_visible_after_s": round(max(visible), 2),
        }
    return out


# --- helpers ---------------------------------------------------------------------------------


def catch_up(label: str) -> dict:
    """Let a sweeper take whatever fell due since the load (or the last run): the real
    command, ``--once``, in this process."""
    from io import StringIO

    from django.core.management import call_command

    t = time.perf_counter()
    buf = StringIO()
    call_command("huiyin_sweeper", "--once", "--worker-id", f"bench-catch-up-{label}", stdout=buf)
    match = re.search(r"(\d+) action\(s\)", buf.getvalue())
    actions = int(match.group(1)) if match else 0
    elapsed = time.perf_counter() - t
    log(f"catch-up ({label}): {actions} background steps taken in {elapsed:.1f} s")
    return {"actions": actions, "seconds": round(elapsed, 2)}


def due_now_count() -> int:
    return Clock.objects.filter(next_action_at__lte=timezone.now()).count()


def upcoming(minutes: float) -> int:
    """Background steps (loaded clocks) falling due in the next ``minutes``."""
    now = timezone.now()
    return Clock.objects.filter(next_action_at__gt=now, next_action_at__lte=now + timedelta(minutes=minutes)).count()


def _sweeper_env() -> dict:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "huiyin.settings")
    env["PYTHONUNBUFFERED"] = "1"
    return env


# --- latency -------------------------------------------------------------------------------


def run_latency(
    *,
    spread: int,
    window: float,
    burst: int,
    lead: float,
    interval: float,
    batch: int,
    seed: int,
    log_path: Path,
) -> dict:
    arranger = Arranger()
    result: dict = {
        "spread": spread,
        "window_s": window,
        "burst": burst,
        "lead_s": lead,
        "interval_s": interval,
        "batch": batch,
    }
    result["catch_up"] = catch_up("latency")
    result["background_expected"] = upcoming((lead + window + 120) / 60)
    if result["background_expected"] > (spread + burst) // 10:
        log(
            f"WARNING: {result['background_expected']} loaded clocks fall due during the run "
            "(a natural burst: see 'clocks' in the results); figures include their load"
        )
    ids = arranger.take(spread + burst)
    worker_id = "bench-latency"
    SweeperHeartbeat.objects.filter(worker_id=worker_id).delete()
    cmd = [
        sys.executable,
        "-m",
        "huiyin.cli",
        "huiyin_sweeper",
        "--interval",
        str(interval),
        "--batch",
        str(batch),
        "--worker-id",
        worker_id,
    ]
    log(f"starting the sweeper: {' '.join(cmd[1:])}")
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=_sweeper_env(), stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while not SweeperHeartbeat.objects.filter(worker_id=worker_id).exists():
            if proc.poll() is not None:
                raise RuntimeError(f"the sweeper exited ({proc.returncode}); see {log_path}")
            if time.time() > deadline:
                raise RuntimeError(f"the sweeper did not start; see {log_path}")
            time.sleep(0.2)
        poller = Poller()
        poller.start()
        rng = random.Random(seed)
        t0 = timezone.now()
        spread_dues = sorted(t0 + timedelta(seconds=lead + rng.uniform(0, window)) for _ in range(spread))
        burst_at = (t0 + timedelta(seconds=lead + window / 2)).replace(microsecond=0)
        dues = dict(zip(ids, spread_dues + [burst_at] * burst, strict=True))
        spread_cases, burst_cases = set(ids[:spread]), set(ids[spread:])
        load_before = loadavg()
        arranged = time.perf_counter()
        arranger.arrange(dues)
        result["arrange_s"] = round(time.perf_counter() - arranged, 2)
        earliest_warning = min(dues.values()) - timedelta(seconds=45)
        if timezone.now() > earliest_warning:
            log("WARNING: arranging took longer than the lead: early warnings start late")
        clock_of = dict(Clock.objects.filter(case_id__in=ids, stage="dispatch").values_list("case_id", "pk"))
        spread_clocks = {clock_of[c] for c in spread_cases}
        burst_clocks = {clock_of[c] for c in burst_cases}
        arranged_clocks = spread_clocks | burst_clocks
        log(
            f"{spread} clocks due from {spread_dues[0]:%H:%M:%S} to {spread_dues[-1]:%H:%M:%S}, "
            f"{burst} at {burst_at:%H:%M:%S} (warnings 45 s before each)"
        )
        timeout = time.time() + lead + window + 600
        samples = []
        while True:
            overdue = {r[1] for r in poller.rows if r[2] == "overdue" and r[1] in arranged_clocks}
            samples.append((time.time(), loadavg()[0], len(overdue)))
            if len(overdue) >= len(arranged_clocks):
                break
            if proc.poll() is not None:
                raise RuntimeError(f"the sweeper exited ({proc.returncode}); see {log_path}")
            if time.time() > timeout:
                log("WARNING: timed out waiting for every arranged clock to be marked overdue")
                break
            time.sleep(1.0)
        time.sleep(1.0)
        poller.finish()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # finishes its batch, then exits
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    result["loadavg_before"] = load_before
    result["loadavg_after"] = loadavg()
    result["loadavg_1min_max"] = max(s[1] for s in samples)
    result["spread_window"] = [spread_dues[0].isoformat(), spread_dues[-1].isoformat()]
    result["burst_at"] = burst_at.isoformat()
    result["spread_clocks"] = _lateness(poller.rows, clock_ids=spread_clocks)
    result["burst_clocks"] = _lateness(poller.rows, clock_ids=burst_clocks)
    result["all_arranged"] = _lateness(poller.rows, clock_ids=arranged_clocks)
    # What the database says, for the record: Clock.overdue_at - due_at.
    marked = list(
        Clock.objects.filter(pk__in=arranged_clocks, overdue_at__isnull=False).values_list("overdue_at", "due_at")
    )
    result["clock_overdue_at_minus_due_s"] = summary([(o - d).total_seconds() for o, d in marked]) if marked else None
    result["not_marked"] = len(arranged_clocks) - len(marked)
    background = Counter(r[2] for r in poller.rows if r[1] not in arranged_clocks)
    result["background_steps_during_run"] = dict(background)
    beat = SweeperHeartbeat.objects.filter(worker_id=worker_id).first()
    result["sweeper"] = {
        "batches": beat.batches if beat else None,
        "actions": beat.actions if beat else None,
        "exit_code": proc.returncode,
        "log": str(log_path),
    }
    result["polls"] = poller.polls
    for group in ("spread_clocks", "burst_clocks"):
        for kind, figures in result[group].items():
            v = figures["visible_s"]
            log(
                f"latency {group:<13} {kind:<8} n={figures['count']:>5}  "
                f"visible p50 {v['p50']:.2f} s  p95 {v['p95']:.2f} s  max {v['max']:.2f} s  "
                f"(recorded p95 {figures['recorded_s']['p95']:.2f} s)"
            )
    log(f"background steps during the run: {dict(background)}; load {result['loadavg_after']}")
    return result


# --- throughput ------------------------------------------------------------------------------


def _get(q, procs, timeout: float):
    """q.get, but fail fast if a worker died instead of waiting for the timeout."""
    deadline = time.time() + timeout
    while True:
        try:
            return q.get(timeout=1)
        except queue.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead or time.time() > deadline:
                raise RuntimeError(f"sweeper worker failed (exit codes {[p.exitcode for p in procs]})") from None


def arrange_backlog(n: int, *, ago: float = 10.0) -> tuple[list[int], datetime]:
    """n dispatch clocks all overdue since the same instant, ``ago`` seconds back."""
    arranger = Arranger()
    ids = arranger.take(n)
    due = (timezone.now() - timedelta(seconds=ago)).replace(microsecond=0)
    clocks = arranger.arrange(dict.fromkeys(ids, due))
    return clocks, due


def run_throughput(*, clocks: int, workers: int, batch: int, explain: bool) -> dict:
    result: dict = {"clocks": clocks, "workers": workers, "batch": batch}
    result["catch_up"] = catch_up(f"throughput-{workers}")
    clock_ids, due = arrange_backlog(clocks)
    result["due_at"] = due.isoformat()
    result["due_before_start"] = due_now_count()
    if explain:
        result["explain_backlog"] = e = explain_selection(batch=batch, proposed=True)
        log(
            f"EXPLAIN ANALYZE selection with {result['due_before_start']} due at one instant: "
            f"{e['execution_ms']} ms; index replaced by (next_action_at, id): "
            f"{e['with_proposed_index']['execution_ms']} ms"
        )
    first_new, results, start, wall, load_before = _run_workers(workers, batch, "bench-tp")
    taken = list(ClockAction.objects.filter(id__gt=first_new).values_list("clock_id", "action", "level", "worker_id"))
    arranged = set(clock_ids)
    on_arranged = [t for t in taken if t[0] in arranged]
    steps = len(taken)
    result.update(
        {
            "seconds": round(wall, 2),
            "steps_taken": steps,
            "steps_on_arranged": len(on_arranged),
            "background_steps": steps - len(on_arranged),
            "events_per_second": round(steps / wall, 1),
            "per_worker": {
                r["worker_id"]: {
                    "actions": r["actions"],
                    "batches": r["batches"],
                    "seconds": round(r["finished"] - start, 2),
                }
                for r in sorted(results, key=lambda r: r["worker"])
            },
            "by_worker_in_table": dict(Counter(t[3] for t in on_arranged)),
            "batch_seconds": _batch_seconds(first_new),
            "loadavg_before": load_before,
            "loadavg_after": loadavg(),
        }
    )
    result["exactly_once"] = check_exactly_once(clock_ids, "overdue")
    result["left_due"] = due_now_count()
    log(
        f"throughput, {workers} worker(s): {steps} steps in {wall:.1f} s = "
        f"{result['events_per_second']} events/s; exactly once: {result['exactly_once']['ok']} "
        f"(duplicates {result['exactly_once']['duplicates']}); per worker "
        f"{ {k: v['actions'] for k, v in result['per_worker'].items()} }; "
        f"load {result['loadavg_after']}"
    )
    return result


def _run_workers(workers: int, batch: int, prefix: str):
    """``workers`` processes run ``huiyin_sweeper --once`` from a common start."""
    from _timers_worker import sweeper_worker

    first_new = ClockAction.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ctx = mp.get_context("spawn")
    ready, out = ctx.Queue(), ctx.Queue()
    start_box = ctx.Value("d", 0.0)
    procs = [
        ctx.Process(
            target=sweeper_worker,
            args=(w, f"{prefix}{workers}-{w}", batch, start_box, ready, out),
        )
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        status, worker, message = _get(ready, procs, 300)
        if status != "ready":
            raise RuntimeError(f"sweeper worker {worker}: {message}")
    load_before = loadavg()
    start = time.time() + 0.5
    start_box.value = start
    results = [_get(out, procs, 3600) for _ in procs]
    for p in procs:
        p.join()
    errors = [r["error"] for r in results if r["error"]]
    if errors:
        raise RuntimeError(f"sweeper worker failed: {errors[0]}")
    wall = max(r["finished"] for r in results) - start
    return first_new, results, start, wall, load_before


def run_drain(*, workers: int, batch: int) -> dict:
    """Whatever is due now (no arranging: e.g. the escalations of earlier runs' clocks,
    30 minutes after their due time), drained by ``workers`` processes."""
    due = due_now_count()
    first_new, results, start, wall, load_before = _run_workers(workers, batch, "bench-drain")
    taken = list(ClockAction.objects.filter(id__gt=first_new).values_list("clock_id", "action", "level"))
    steps = len(taken)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM (SELECT (data->>'clock_id'), kind, (data->>'level') "
            "FROM cases_event WHERE kind = ANY(%s) AND case_id IN "
            "(SELECT case_id FROM policy_clock WHERE id = ANY(%s)) "
            "GROUP BY 1, 2, 3 HAVING count(*) > 1) d",
            [[str(k) for k in DEADLINE_KINDS], list({t[0] for t in taken})],
        )
        twice = cur.fetchone()[0]
    result = {
        "workers": workers,
        "batch": batch,
        "due_before_start": due,
        "seconds": round(wall, 2),
        "steps_taken": steps,
        "by_step": dict(Counter(f"{a}#{lvl}" for _c, a, lvl in taken)),
        "events_per_second": round(steps / wall, 1) if wall else None,
        "per_worker": {
            r["worker_id"]: {"actions": r["actions"], "seconds": round(r["finished"] - start, 2)}
            for r in sorted(results, key=lambda r: r["worker"])
        },
        "batch_seconds": _batch_seconds(first_new),
        "steps_with_two_events": twice,
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
        "left_due": due_now_count(),
    }
    log(
        f"drain, {workers} worker(s): {steps} steps {result['by_step']} in {wall:.1f} s = "
        f"{result['events_per_second']} events/s; steps with two events: {twice}; "
        f"load {result['loadavg_before']} -> {result['loadavg_after']}"
    )
    return result


def _batch_seconds(first_id: int) -> dict | None:
    """Time between the starts of consecutive batches of each worker (ClockAction.at is
    the start of the batch that took the step): a full batch's duration."""
    gaps = []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT worker_id, at FROM policy_clockaction WHERE id > %s GROUP BY 1, 2 ORDER BY 1, 2",
            [first_id],
        )
        last: dict[str, datetime] = {}
        for worker, at in cur.fetchall():
            if worker in last:
                gaps.append((at - last[worker]).total_seconds())
            last[worker] = at
    return summary(gaps) if gaps else None


def check_exactly_once(clock_ids: list[int], action: str) -> dict:
    """Each arranged clock: one ClockAction, one deadline event, one desk entry per
    recipient and one notice task for the step — none missing, none twice."""
    ids = list(clock_ids)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(DISTINCT clock_id) FROM policy_clockaction "
            "WHERE clock_id = ANY(%s) AND action = %s",
            [ids, action],
        )
        actions, clocks_with_action = cur.fetchone()
        kind = {"overdue": "deadline_overdue", "warn": "deadline_warning"}[action]
        cases = "SELECT case_id FROM policy_clock WHERE id = ANY(%s)"
        cur.execute(
            f"SELECT id, (data->>'clock_id')::bigint FROM cases_event WHERE kind = %s AND case_id IN ({cases})",
            [kind, ids],
        )
        wanted = set(ids)
        event_of = [(e, c) for e, c in cur.fetchall() if c in wanted]
        per_clock = Counter(c for _e, c in event_of)
        event_ids = [e for e, _c in event_of]
        cur.execute(
            "SELECT count(*), count(DISTINCT (recipient_id, key)) FROM core_notification "
            f"WHERE case_id IN ({cases}) AND key = ANY(%s)",
            [ids, [f"clock:{c}:{action}:0" for c in ids]],
        )
        notes, distinct_notes = cur.fetchone()
        cur.execute(
            "SELECT (args_kwargs->'kwargs'->>'event_id')::bigint, count(*) "
            "FROM django_tasks_database_dbtaskresult "
            "WHERE task_path LIKE %s AND (args_kwargs->'kwargs'->>'event_id')::bigint = ANY(%s) "
            "GROUP BY 1",
            ["%deadline_notice_task", event_ids],
        )
        tasks = dict(cur.fetchall())
    events_twice = sum(1 for c in ids if per_clock.get(c, 0) > 1)
    events_missing = sum(1 for c in ids if per_clock.get(c, 0) == 0)
    tasks_twice = sum(1 for e in event_ids if tasks.get(e, 0) > 1)
    tasks_missing = sum(1 for e in event_ids if tasks.get(e, 0) == 0)
    duplicates = (actions - clocks_with_action) + events_twice + (notes - distinct_notes) + tasks_twice
    missing = (len(ids) - clocks_with_action) + events_missing + tasks_missing
    return {
        "clocks": len(ids),
        "clock_actions": actions,
        "events": sum(per_clock.get(c, 0) for c in ids),
        "desk_entries": notes,
        "notice_tasks": sum(tasks.values()),
        "duplicates": duplicates,
        "missing": missing,
        "ok": duplicates == 0 and missing == 0,
    }


# --- profile and plans -----------------------------------------------------------------------

_SHAPE = re.compile(
    r'^\s*(?:(SELECT)\b.*?\bFROM\s+"?(\w+)"?|(INSERT)\s+INTO\s+"?(\w+)"?|(UPDATE)\s+"?(\w+)"?|'
    r'(DELETE)\s+FROM\s+"?(\w+)"?|(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b)',
    re.S | re.I,
)


def shape(sql: str) -> str:
    m = _SHAPE.match(sql)
    if not m:
        return sql.strip().split()[0].upper()
    parts = [p for p in m.groups() if p]
    label = " ".join(parts[:2]).upper() if len(parts) > 1 else parts[0].upper()
    if parts[0].upper() == "SELECT" and "FOR UPDATE" in sql.upper():
        label += " FOR UPDATE"
    return label


class StatementTimer:
    def __init__(self):
        self.time: dict[str, float] = defaultdict(float)
        self.count: Counter[str] = Counter()
        self.samples: dict[str, tuple[str, tuple]] = {}

    def __call__(self, execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = shape(sql)
            self.time[key] += time.perf_counter() - t
            self.count[key] += 1
            self.samples.setdefault(key, (sql, params))


def desk_notify_in_one_statement(*, recipients, case, key: str, text: str) -> None:
    """A candidate for ``core.notify.desk_notify`` (benchmark only, never installed in the
    application): one ``INSERT ... ON CONFLICT DO NOTHING`` for all recipients instead of
    ``get_or_create`` per recipient (SELECT, SAVEPOINT, INSERT, RELEASE). Same effect:
    the unique (recipient, key) keeps an entry from being written twice."""
    from huiyin.core.models import Notification

    Notification.objects.bulk_create(
        [Notification(recipient=s, case=case, key=key, text=text[:300]) for s in recipients],
        ignore_conflicts=True,
    )


def run_profile(*, clocks: int, batch: int, candidate: bool = False) -> dict:
    """Sweep a backlog in this process with every statement timed; EXPLAIN the hot ones.
    With ``candidate``, ``desk_notify_in_one_statement`` stands in for ``desk_notify``
    in the sweeper's steps, to measure what it would save."""
    from unittest import mock

    from huiyin.policy.sweeper import sweep

    catch_up("profile")
    clock_ids, _due = arrange_backlog(clocks)
    timer = StatementTimer()
    passes = steps = 0
    patch = (
        mock.patch("huiyin.policy.services.actions.desk_notify", desk_notify_in_one_statement)
        if candidate
        else mock.patch.dict({})
    )
    t = time.perf_counter()
    with connection.execute_wrapper(timer), patch:
        while True:
            result = sweep(batch=batch, worker_id="bench-profile")
            passes += 1
            steps += result.total_actions
            if result.picked < batch:
                break
    wall = time.perf_counter() - t
    sql_total = sum(timer.time.values())
    statements = sorted(
        (
            {
                "statement": k,
                "count": timer.count[k],
                "total_ms": round(v * 1000, 1),
                "per_step_ms": round(v * 1000 / max(steps, 1), 3),
                "per_statement_ms": round(v * 1000 / timer.count[k], 3),
            }
            for k, v in timer.time.items()
        ),
        key=lambda r: -r["total_ms"],
    )
    out = {
        "candidate_desk_notify": candidate,
        "clocks": clocks,
        "steps": steps,
        "passes": passes,
        "wall_s": round(wall, 2),
        "steps_per_second": round(steps / wall, 1),
        "per_step_ms": round(wall * 1000 / max(steps, 1), 3),
        "sql_per_step_ms": round(sql_total * 1000 / max(steps, 1), 3),
        "statements_per_step": round(sum(timer.count.values()) / max(steps, 1), 1),
        "statements": statements,
        "exactly_once": check_exactly_once(clock_ids, "overdue"),
    }
    log(
        f"profile{' (candidate desk_notify)' if candidate else ''}: {steps} steps in "
        f"{wall:.1f} s ({out['steps_per_second']}/s in process), "
        f"{out['per_step_ms']} ms per step of which SQL {out['sql_per_step_ms']} ms, "
        f"{out['statements_per_step']} statements per step"
    )
    for row in statements[:12]:
        log(
            f"  {row['statement']:<45} x{row['count']:>6}  {row['total_ms']:>9.1f} ms  {row['per_step_ms']:.3f} ms/step"
        )
    # Plans of the statements that touch the big tables, with the parameters of a real call.
    plans = {}
    for key in (
        "SELECT POLICY_CLOCK FOR UPDATE",
        "SELECT CASES_CASE FOR UPDATE",
        "SELECT CASES_EVENT",
    ):
        if key in timer.samples:
            sql, params = timer.samples[key]
            plans[key] = explain(sql, params)
    out["plans"] = plans
    return out


def explain(sql: str, params, *, before: str = "") -> dict:
    with transaction.atomic():
        with connection.cursor() as cur:
            for statement in filter(None, before.split("; ")):
                cur.execute(statement)
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join(r[0] for r in cur.fetchall())
        transaction.set_rollback(True)  # EXPLAIN ANALYZE of FOR UPDATE took the locks
    execution = re.search(r"Execution Time: ([\d.]+) ms", plan)
    planning = re.search(r"Planning Time: ([\d.]+) ms", plan)
    try:
        text = connection.ops.compose_sql(sql, params)
    except Exception:  # noqa: BLE001 - only for the report
        text = sql
    return {
        "sql": text,
        "execution_ms": float(execution.group(1)) if execution else None,
        "planning_ms": float(planning.group(1)) if planning else None,
        "plan": plan,
    }


def capture_selection(batch: int) -> tuple[str, list]:
    """The sweeper's selection of due clocks, as a real pass sends it (nothing due now)."""
    from huiyin.policy.sweeper import sweep

    captured: list[tuple[str, tuple]] = []

    def grab(execute, sql, params, many, context):
        if '"policy_clock"' in sql and "FOR UPDATE" in sql.upper() and not captured:
            captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(grab):
        sweep(batch=batch, worker_id="bench-explain", now=timezone.now() - timedelta(days=3650))
    if not captured:
        raise RuntimeError("the sweeper's selection query was not seen")
    return captured[0][0], list(captured[0][1])


def explain_selection(*, batch: int, proposed: bool = False) -> dict:
    """EXPLAIN ANALYZE of the selection with ``now`` = now; with ``proposed``, also with
    the sweeper's index replaced by PROPOSED_INDEX inside the same transaction, which is
    rolled back (the DROP holds an exclusive lock on policy_clock meanwhile: only while
    no sweeper runs)."""
    sql, params = capture_selection(batch)
    now = timezone.now()
    params = [now if isinstance(p, datetime) else p for p in params]
    out = explain(sql, params)
    if proposed:
        t = time.perf_counter()
        out["with_proposed_index"] = explain(sql, params, before=PROPOSED_INDEX)
        out["with_proposed_index"]["ddl"] = PROPOSED_INDEX
        out["with_proposed_index"]["create_and_explain_s"] = round(time.perf_counter() - t, 2)
    return out


# ORDER BY next_action_at, id LIMIT n with an index on next_action_at alone reads (and
# sorts) every row of the earliest group of equal next_action_at; clocks of one rule
# started the same day share their due and warning instants (day units end at
# 23:59:59.999999), so that group can be tens of thousands of rows. With the id in the
# index the scan stops after n rows. (Added beside the old index, the planner keeps the
# old one: its estimate of the incremental sort is cheaper. So: replaced.)
PROPOSED_INDEX = (
    "DROP INDEX clock_next_action; "
    "CREATE INDEX clock_next_action ON policy_clock (next_action_at, id) "
    "WHERE next_action_at IS NOT NULL"
)


def idle_scan(*, batch: int, passes: int = 200, vacuum: bool = False) -> dict:
    """Nothing due: the plan of the selection and the wall time of whole idle passes
    (with ``vacuum``, after ``VACUUM policy_clock``: the index entries of the rows the
    runs updated are dead but still scanned until a vacuum removes them)."""
    from huiyin.policy.sweeper import sweep

    out: dict = {"vacuum_first": vacuum}
    if vacuum:
        with connection.cursor() as cur:
            cur.execute("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'policy_clock'")
            out["dead_tuples_before_vacuum"] = cur.fetchone()[0]
        t = time.perf_counter()
        with raw_connect(autocommit=True) as raw:
            raw.execute("VACUUM policy_clock")
        out["vacuum_s"] = round(time.perf_counter() - t, 1)
    out["due_now"] = due_now_count()
    out["explain"] = explain_selection(batch=batch)
    times = []
    for _ in range(passes):
        t = time.perf_counter()
        sweep(batch=batch, worker_id="bench-idle")
        times.append((time.perf_counter() - t) * 1000)
    out["idle_pass_ms"] = summary(times)
    log(
        f"idle scan{' after VACUUM policy_clock' if vacuum else ''}: EXPLAIN ANALYZE "
        f"{out['explain']['execution_ms']} ms "
        f"(planning {out['explain']['planning_ms']} ms); whole idle pass p50 "
        f"{out['idle_pass_ms']['p50']:.2f} ms, p95 {out['idle_pass_ms']['p95']:.2f} ms "
        f"({out['due_now']} due now)"
    )
    return out


def natural_bursts(top: int = 5) -> dict:
    """The instants at which most of the loaded clocks fall due / take their next step:
    day-unit deadlines end at 23:59:59.999999 local, and their warnings of clocks started
    the same day land at the same working-time point."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT due_at, count(*) FROM policy_clock WHERE state = 'running' "
            "AND overdue_at IS NULL AND due_at > now() GROUP BY 1 ORDER BY 2 DESC LIMIT %s",
            [top],
        )
        dues = [(d.isoformat(), n) for d, n in cur.fetchall()]
        cur.execute(
            "SELECT next_action_at, count(*) FROM policy_clock WHERE next_action_at > now() "
            "GROUP BY 1 ORDER BY 2 DESC LIMIT %s",
            [top],
        )
        steps = [(d.isoformat(), n) for d, n in cur.fetchall()]
        cur.execute(
            "SELECT count(*), count(next_action_at), count(*) FILTER (WHERE state = 'running') FROM policy_clock"
        )
        total, pending, running = cur.fetchone()
        cur.execute(
            "SELECT count(*) FROM policy_clock WHERE next_action_at > now() "
            "AND next_action_at <= now() + interval '1 day'"
        )
        next_day = cur.fetchone()[0]
        cur.execute(
            "SELECT date_trunc('hour', next_action_at), count(*) FROM policy_clock "
            "WHERE next_action_at > now() AND next_action_at <= now() + interval '1 day' "
            "GROUP BY 1 ORDER BY 1"
        )
        hours = [(h.isoformat(), n) for h, n in cur.fetchall()]
    return {
        "clocks": total,
        "running": running,
        "pending": pending,
        "steps_next_24h": next_day,
        "steps_next_24h_by_hour": hours,
        "largest_due_instants": dues,
        "largest_step_instants": steps,
    }


def verify_sample(*, seed: int, clocks: int = 300, cases: int = 500) -> dict:
    """The load against the application's own code: running clocks recomputed by
    ``services.clocks.reschedule`` and matched by ``case_plan(...).rule`` give the stored
    due/warning times and rule; the event chains of random cases (and of cases the
    sweeper has written to) verify with ``cases.selectors.verify_event_chain``."""
    from huiyin.policy.services.clocks import case_plan, reschedule

    from huiyin.cases.selectors import verify_event_chain
    from huiyin.policy.services.calendars import calendar_for

    rng = random.Random(seed)
    top = Clock.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    picked = []
    for _attempt in range(clocks * 5 if top else 0):
        if len(picked) >= clocks:
            break
        got = list(
            Clock.objects.filter(pk__gte=rng.randint(1, top), state="running")
            .select_related("policy_version", "case")
            .order_by("pk")[:1]
        )
        picked += got
    wrong_times = wrong_rule = 0
    for clock in picked:
        due, warn = clock.due_at, clock.warn_at
        calendar = calendar_for(organization_id=clock.organization_id, policy_version=clock.policy_version)
        reschedule(clock, calendar)
        wrong_times += (clock.due_at, clock.warn_at) != (due, warn)
        if clock.rule.get("source") != "manual":
            rule = case_plan(clock.case).rule(clock.stage)
            wrong_rule += rule is None or (rule.amount, rule.unit) != (
                clock.rule["amount"],
                clock.rule["unit"],
            )
    top_case = Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    case_ids = {rng.randint(1, top_case) for _ in range(cases)}
    case_ids |= set(
        ClockAction.objects.exclude(worker_id="bench-history")
        .order_by("-pk")
        .values_list("clock__case_id", flat=True)[:200]
    )
    broken = [c.pk for c in Case.objects.filter(pk__in=case_ids) if not verify_event_chain(c)]
    out = {
        "clocks_checked": len(picked),
        "clock_times_differ": wrong_times,
        "clock_rule_differs": wrong_rule,
        "chains_checked": len(case_ids),
        "chains_broken": len(broken),
        "broken_examples": broken[:5],
        "ok": not (wrong_times or wrong_rule or broken),
    }
    log(f"verify: {out}")
    return out
