"""Bulk loader for the ledger benchmark: N generated cases into PostgreSQL with COPY.

The cases come from the same generator as ``huiyin demo``
(:func:`huiyin.demo.generator.generate_case_specs`) and land as the services
would have left them, only without going through the services one by one:

* a Party per complainant (a repeat caller reuses the earlier party, group
  representatives go to ``co_parties``);
* the Case in its target state, with lead department and handler from the
  category's routing, the search document built exactly as
  ``cases.services._search_document`` does, the policy's stage switches and
  promised time limit, and a query-code hash;
* numbers ``YYYYMMDD-NNNNN`` per local day of receipt, in time order, with
  case ids in the same order, and ``CaseSequence`` rows that end where the
  numbers end (so a registration today continues gaplessly);
* one initial Contact per case plus the spec's repeat contacts;
* the event history along the lifecycle path (registered, then one
  ``state_changed`` per transition, ``contact_added`` per repeat contact),
  chained with ``Event.compute_hash`` so ``verify_event_chain`` holds;
* the handling rounds (two for a reopened case).

Deadline clocks (policy app) are not generated.

Speed: two passes over the generator (the first only to learn each case's
time, so ids and numbers follow time order), secondary indexes dropped before
and rebuilt after the load, foreign-key triggers off during COPY
(``session_replication_role = replica``; the rows are consistent by
construction), one COPY stream per table on its own connection so that
PostgreSQL parses and indexes while Python generates, then CLUSTER on the
primary key (time order, as a real ledger grows) and VACUUM ANALYZE.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import random
import threading
import time
from array import array
from collections import OrderedDict
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import psycopg
from _common import log
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from huiyin.cases import services as case_services
from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, CaseRound, CaseSequence, Contact, Event, Party
from huiyin.cases.triggers import events_writable
from huiyin.cases.workflow import Stage, find_edge, stages_with_defaults
from huiyin.core import crypto
from huiyin.core.validators import normalize_id_number
from huiyin.demo import texts
from huiyin.demo.generator import (
    LIFECYCLE,
    _Cast,
    build_organization,
    generate_case_specs,
)

BULK_TABLES = (
    "cases_case",
    "cases_party",
    "cases_contact",
    "cases_event",
    "cases_caseround",
    "cases_case_co_parties",
)
META_TABLE = "bench_meta"
PARTY_MEMORY = 2000  # the generator reuses one of its last 200 callers; keep more to be safe


# --- database plumbing -------------------------------------------------------------------


def conninfo() -> str:
    db = settings.DATABASES["default"]
    parts = {
        "dbname": db["NAME"],
        "user": db.get("USER") or "",
        "password": db.get("PASSWORD") or "",
        "host": db.get("HOST") or "",
        "port": str(db.get("PORT") or ""),
    }
    return " ".join(f"{k}={v!r}" if v else "" for k, v in parts.items() if v)


def raw_connect(**kwargs) -> psycopg.Connection:
    return psycopg.connect(conninfo(), **kwargs)


def meta_get() -> dict | None:
    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key text PRIMARY KEY, value jsonb NOT NULL)")
        cur.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'ledger'")
        row = cur.fetchone()
    if row is None:
        return None
    return row[0] if isinstance(row[0], dict) else json.loads(row[0])


def meta_set(value: dict) -> None:
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {META_TABLE} (key, value) VALUES ('ledger', %s::jsonb) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [json.dumps(value)],
        )


def _secondary_indexes(cur, tables) -> list[tuple[str, str, str]]:
    """(table, index name, CREATE INDEX statement) of indexes not backing a constraint."""
    cur.execute(
        """
        SELECT c.relname, i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class c ON c.oid = x.indrelid
        WHERE c.relname = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid)
        ORDER BY c.relname, i.relname
        """,
        [list(tables)],
    )
    return list(cur.fetchall())


# --- rows ----------------------------------------------------------------------------------


class Copy:
    """One COPY ... FROM STDIN stream on its own connection, for one model's table."""

    def __init__(self, stack: ExitStack, model, columns: list[str]):
        self.model = model
        self.table = model._meta.db_table
        self.columns = columns
        self.conn = stack.enter_context(raw_connect(autocommit=False))
        with self.conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")  # no FK triggers during the load
            cur.execute("SET synchronous_commit = off")
        self.cur = stack.enter_context(self.conn.cursor())
        cols = ", ".join(f'"{c}"' for c in columns)
        self.copy = stack.enter_context(self.cur.copy(f'COPY "{self.table}" ({cols}) FROM STDIN'))
        self.rows = 0

    def write(self, row) -> None:
        self.copy.write_row(row)
        self.rows += 1


def _has_column(table: str, column: str) -> bool:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s", [table, column]
        )
        return cur.fetchone() is not None


def _columns(model, *, skip=("id",)) -> list[str]:
    return [f.column for f in model._meta.concrete_fields if f.column not in skip]


def _row_builder(model, *, skip=("id",)):
    """A function mapping {attname: value} to a row in column order; fields not given take
    their model default (callables resolved once; JSON serialised)."""
    fields = [f for f in model._meta.concrete_fields if f.column not in skip]
    defaults = []
    for f in fields:
        if f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        elif f.get_internal_type() in ("CharField", "TextField", "SlugField"):
            value = ""
        else:
            value = _REQUIRED
        if f.get_internal_type() == "JSONField" and value is not _REQUIRED:
            value = json.dumps(value, ensure_ascii=False)
        defaults.append((f.attname, value))

    def build(values: dict):
        row = []
        for attname, default in defaults:
            value = values.get(attname, default)
            if value is _REQUIRED:
                raise ValueError(f"{model.__name__}.{attname} has no value and no default")
            row.append(value)
        return row

    return build, [f.column for f in fields]


_REQUIRED = object()


def sealed_party(p) -> dict:
    """A party's personal fields as ``Party`` stores them: encrypted (blank stays blank),
    with the keyed look-up hashes of the phone and ID number."""
    id_number = normalize_id_number(p.id_number)

    def seal(value: str) -> str:
        return crypto.encrypt(value) if value else ""

    return {
        "name": seal(p.name),
        "phone": seal(p.phone),
        "phone_hash": crypto.lookup_hash(p.phone),
        "id_number": seal(id_number),
        "id_number_hash": crypto.lookup_hash(id_number),
        "address": seal(p.address),
    }


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


def _json(data: dict) -> dict:
    # Exactly what _event stores and hashes: the DjangoJSONEncoder round trip.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


# --- the lifecycle of one spec, as the services would have recorded it ------------------------

# Typical hours between steps (min, max); squeezed to fit when the case is young.
STEP_HOURS = {
    "accept": (0.1, 2),
    "not_accept": (0.2, 4),
    "return": (0.2, 8),
    "transfer": (0.2, 4),
    "answer_on_spot": (0.02, 0.2),
    "dispatch": (0.2, 6),
    "send_back": (1, 12),
    "sign_for": (0.5, 24),
    "submit_for_approval": (12, 120),
    "approve": (2, 24),
    "reply": (12, 120),
    "close": (24, 96),
    "reopen": (2, 48),
    "archive": (24 * 7, 24 * 40),
}


class History:
    """Replays ``demo.generator._drive`` for one spec without the database."""

    def __init__(self, loader: Loader, spec, case_id: int, rng: random.Random):
        self.l, self.spec, self.case_id, self.rng = loader, spec, case_id, rng
        self.state = "registered"
        self.round = 1
        self.lead_department_id = None
        self.handler_id = None
        self.closed_at = None
        self.steps: list[tuple[str, int | None, dict]] = []  # (action, actor id, payload extras)
        self.rounds = [
            {
                "number": 1,
                "started_at": None,
                "ended_at": None,
                "reason": "",
                "reply_text": "",
                "reply_method": "",
                "replied_at": None,
                "satisfaction": "",
                "handler_id": None,
                "lead_department_id": None,
            }
        ]

    # Each step is recorded first and given its time afterwards (see ``timed``).
    def step(self, action: str, actor, **extra) -> None:
        self.steps.append((action, actor.pk if actor else None, extra))

    def plan(self) -> None:
        spec, cast, demo = self.spec, self.l.cast, self.l.demo
        clerk = cast.clerks[spec.index % len(cast.clerks)]
        registrar = cast.reception if spec.channel == "visit" and cast.reception else clerk
        self.registrar = registrar
        method = (
            "in_person" if spec.channel == "visit" else "letter" if spec.channel in ("letter", "forwarded") else "phone"
        )
        target = spec.target_state
        if spec.decision == "not_accept":
            self.step("not_accept", clerk, ground=spec.decision_note, refer_to=spec.refer_to)
        elif spec.decision == "return":
            self.step("return", clerk, reason=spec.decision_note, returned_to=spec.refer_to)
        elif spec.decision == "transfer":
            self.step(
                "transfer",
                clerk,
                to_body=spec.decision_note,
                note="已告知反映人转送单位及联系方式。",
            )
        elif spec.decision == "answer_on_spot":
            self.step("answer_on_spot", registrar, reply=spec.reply, method=method)
            if target in ("closed", "archived"):
                self.step(
                    "close",
                    cast.callback,
                    satisfaction=spec.satisfaction,
                    callback_note=texts.CALLBACK_NOTES[spec.index % len(texts.CALLBACK_NOTES)],
                )
        elif spec.decision == "accept":
            self.step("accept", clerk)
            department = demo.routing[spec.category]
            final = "closed" if target == "archived" else target
            if spec.reopened:
                self._round(clerk, department, "replied", method, first=True)
                self.step(
                    "reopen",
                    cast.callback,
                    reason=texts.REOPEN_REASONS[spec.index % len(texts.REOPEN_REASONS)],
                )
                self._round(clerk, department, final, method, first=False)
            else:
                self._round(clerk, department, final, method, first=True)
        self.archive = target == "archived"
        self.clerk = clerk

    def _round(self, clerk, department, final, method, *, first):
        spec, cast, demo = self.spec, self.l.cast, self.l.demo
        stop = LIFECYCLE.index(final)
        index = spec.index if first else spec.index + 1
        if first and spec.misrouted_to:
            wrong = demo.departments[spec.misrouted_to]
            wrong_handler = cast.handler(wrong, index)
            self.step("dispatch", clerk, department=wrong, handler=wrong_handler, instructions="")
            self.step(
                "send_back",
                wrong_handler,
                reason=texts.SEND_BACK_REASONS[index % len(texts.SEND_BACK_REASONS)],
            )
        if stop < LIFECYCLE.index("dispatched"):
            return
        handler = cast.handler(department, index)
        self.step(
            "dispatch",
            clerk,
            department=department,
            handler=handler,
            instructions=texts.DISPATCH_INSTRUCTIONS[index % len(texts.DISPATCH_INSTRUCTIONS)],
        )
        if stop < LIFECYCLE.index("in_progress"):
            return
        self.step("sign_for", handler)
        if stop < LIFECYCLE.index("pending_approval"):
            return
        if self.l.approval:
            self.step("submit_for_approval", handler, proposal="拟答复如下：" + spec.reply)
            if stop < LIFECYCLE.index("replied"):
                return
            approver = cast.leader if spec.urgency != "normal" else cast.heads.get(department.pk, cast.leader)
            self.step("approve", approver, comments="同意。")
        elif stop < LIFECYCLE.index("replied"):
            return
        self.step("reply", handler, reply=spec.reply, method=method)
        if stop < LIFECYCLE.index("closed"):
            return
        self.step(
            "close",
            cast.callback,
            satisfaction=spec.satisfaction,
            callback_note=texts.CALLBACK_NOTES[index % len(texts.CALLBACK_NOTES)],
        )

    def events(self, received_at: datetime, end: datetime) -> list[tuple]:
        """(at, kind, actor id, round, data) in time order; applies each step to the case."""
        rng = self.rng
        gaps = [rng.uniform(*STEP_HOURS[a]) for a, _, _ in self.steps]
        room = (end - received_at).total_seconds() / 3600 * 0.95
        contacts = list(self.spec.repeat_contacts)
        archive_gap = rng.uniform(*STEP_HOURS["archive"]) if self.archive else 0
        total = sum(gaps) + archive_gap
        if total > room:
            scale = room / total if total else 0
            gaps = [g * scale for g in gaps]
            archive_gap *= scale
        out: list[tuple] = []
        at = received_at
        out.append((at, EventKind.REGISTERED, self.registrar.pk, 1, None))  # data filled by caller
        self.rounds[0]["started_at"] = received_at
        for (action, actor_id, extra), gap in zip(self.steps, gaps, strict=True):
            at = at + timedelta(hours=gap)
            out.append((at, EventKind.STATE_CHANGED, actor_id, None, (action, extra)))
        last = at
        # Repeat contacts land where they happened (never after the case was archived).
        for contact in contacts:
            out.append(
                (
                    min(contact.occurred_at, end),
                    EventKind.CONTACT_ADDED,
                    self.clerk.pk,
                    None,
                    contact,
                )
            )
            last = max(last, min(contact.occurred_at, end))
        if self.archive:
            out.append(
                (
                    max(last, at) + timedelta(hours=archive_gap) if archive_gap else max(last, at),
                    EventKind.STATE_CHANGED,
                    self.l.cast.leader.pk,
                    None,
                    ("archive", {}),
                )
            )
        out.sort(key=lambda e: e[0])
        return out

    def apply(self, action: str, actor_id: int | None, extra: dict, at: datetime) -> dict:
        """The state change and payload of one transition, as services.transition writes it."""
        previous = self.state
        current = self.rounds[-1]
        payload: dict = {}
        dst = find_edge(previous, action, self.l.policy.stage_switches).dst
        if action == "dispatch":
            department, handler = extra["department"], extra["handler"]
            before = {"lead_department": self.lead_department_id, "handler": self.handler_id}
            self.lead_department_id, self.handler_id = department.pk, handler.pk
            current["lead_department_id"], current["handler_id"] = department.pk, handler.pk
            payload = {
                "before": before,
                "after": {"lead_department": department.pk, "handler": handler.pk, "assisting": []},
                "instructions": extra["instructions"],
                "due_at": None,
            }
        elif action == "sign_for":
            before = self.handler_id
            self.handler_id = actor_id
            current["handler_id"] = actor_id
            payload = {"before": {"handler": before}, "after": {"handler": actor_id}}
        elif action == "send_back":
            payload = {
                "before": {"lead_department": self.lead_department_id, "handler": self.handler_id},
                "reason": extra["reason"],
            }
            self.handler_id = None
        elif action in ("reply", "answer_on_spot"):
            current.update(reply_text=extra["reply"], reply_method=extra["method"], replied_at=at)
            payload = {"reply": extra["reply"], "method": extra["method"]}
        elif action == "close":
            self.closed_at = at
            current.update(satisfaction=extra["satisfaction"], ended_at=at)
            payload = {
                "satisfaction": extra["satisfaction"],
                "callback_note": extra["callback_note"],
            }
        elif action == "reopen":
            if current["ended_at"] is None:
                current["ended_at"] = at
            previous_round = self.round
            self.round += 1
            self.handler_id = None
            self.closed_at = None
            self.rounds.append(
                {
                    "number": self.round,
                    "started_at": at,
                    "ended_at": None,
                    "reason": extra["reason"],
                    "reply_text": "",
                    "reply_method": "",
                    "replied_at": None,
                    "satisfaction": "",
                    "handler_id": None,
                    "lead_department_id": self.lead_department_id,
                }
            )
            payload = {"reason": extra["reason"], "previous_round": previous_round}
        else:  # not_accept, return, transfer, accept, submit_for_approval, archive: data as given
            payload = {k: v for k, v in extra.items() if k != "note"}
        self.state = dst
        data = {"action": action, "from": previous, "to": dst, **payload}
        if extra.get("note"):
            data["note"] = extra["note"]
        return data


# --- the loader ----------------------------------------------------------------------------


class Loader:
    def __init__(self, *, n: int, seed: int, days: int, end: datetime | None = None, workers: int = 2):
        self.n, self.seed, self.days, self.workers = n, seed, days, workers
        self.end = end or timezone.now()
        self.start = self.end - timedelta(days=days)

    def specs(self):
        return generate_case_specs(self.n, seed=self.seed, start=self.start, end=self.end)

    def run(self) -> dict:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        self.demo = build_organization()
        self.cast = _Cast(self.demo)
        self.org_id = self.demo.org.pk
        self.policy = _policy_for_new_case(self.demo.org)
        self.approval = stages_with_defaults(self.policy.stage_switches)[Stage.APPROVAL]
        self.stage_switches_json = json.dumps(self.policy.stage_switches, ensure_ascii=False)
        self.category_ids = {path: c.pk for path, c in self.demo.categories.items()}
        self._truncate()
        self.scope_column = _has_column("cases_case", "scope_departments")
        timings["prepare_s"] = time.perf_counter() - t0

        t = time.perf_counter()
        self._number_pass()
        timings["pass1_numbers_s"] = time.perf_counter() - t
        log(f"pass 1 (times and numbers of {self.n} cases): {timings['pass1_numbers_s']:.1f} s")

        with connection.cursor() as cur:
            indexes = _secondary_indexes(cur, BULK_TABLES)
            for _table, name, _sql in indexes:
                cur.execute(f'DROP INDEX "{name}"')
        t = time.perf_counter()
        counts = self._copy_pass(self.workers)
        timings["pass2_copy_s"] = time.perf_counter() - t
        timings["pass2_python_cpu_s"] = self.python_cpu_s
        log(
            f"pass 2 (COPY): {timings['pass2_copy_s']:.1f} s "
            f"(Python CPU {timings['pass2_python_cpu_s']:.1f} s)  {counts}"
        )

        t = time.perf_counter()
        with raw_connect(autocommit=True) as raw:
            raw.execute("SET maintenance_work_mem = '1GB'")
            raw.execute("CLUSTER cases_case USING cases_case_pkey")
        timings["cluster_s"] = time.perf_counter() - t
        log(f"CLUSTER cases_case (time order): {timings['cluster_s']:.1f} s")

        t = time.perf_counter()
        self._create_indexes(indexes)
        timings["indexes_s"] = time.perf_counter() - t
        log(f"{len(indexes)} secondary indexes rebuilt: {timings['indexes_s']:.1f} s")

        t = time.perf_counter()
        with raw_connect(autocommit=True) as raw:
            for table in (
                "cases_case",
                "cases_party",
                "cases_contact",
                "cases_event",
                "cases_caseround",
            ):
                raw.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
            raw.execute("VACUUM ANALYZE")
        timings["vacuum_analyze_s"] = time.perf_counter() - t
        log(f"VACUUM ANALYZE: {timings['vacuum_analyze_s']:.1f} s")
        timings["total_s"] = time.perf_counter() - t0
        return {"rows": counts, "timings": timings}

    def _truncate(self) -> None:
        # The cascade reaches cases_event, whose append-only trigger refuses a TRUNCATE: the
        # refusal is suspended for this one transaction, as ``flush`` does (cases.triggers).
        with events_writable(), connection.cursor() as cur:
            cur.execute(
                "TRUNCATE cases_case, cases_party, cases_casesequence, "
                "django_tasks_database_dbtaskresult RESTART IDENTITY CASCADE"
            )

    def _number_pass(self) -> None:
        """Pass 1: learn every case's time, so ids and numbers go in time order (per local
        day, as case_register numbers them), and hand out party and contact ids, so the
        second pass can be split between processes."""
        n = self.n
        stamps = []
        self.party_id = array("q", bytes(8 * n))  # 0: no party
        self.party_new = bytearray(n)  # 1: this case brings the party (first time seen)
        self.reps_first = array("q", bytes(8 * n))  # representatives' party ids are consecutive
        self.contact_first = array("q", bytes(8 * n))
        known: OrderedDict[int, tuple[object, int]] = OrderedDict()
        next_party, next_contact = 1, 1
        for spec in self.specs():
            i = spec.index
            stamps.append((spec.received_at, i))
            p = spec.party
            if p.anonymous or p.name or p.phone or p.id_number:
                hit = known.get(id(p))
                if hit is not None:
                    known.move_to_end(id(p))
                    self.party_id[i] = hit[1]
                else:
                    self.party_id[i], self.party_new[i] = next_party, 1
                    if p.phone and not p.anonymous:
                        known[id(p)] = (
                            p,
                            next_party,
                        )  # holds the object, so its id() is not reused
                        if len(known) > PARTY_MEMORY:
                            known.popitem(last=False)
                    next_party += 1
            self.reps_first[i] = next_party
            next_party += sum(1 for r in spec.representatives if r.anonymous or r.name or r.phone or r.id_number)
            self.contact_first[i] = next_contact
            next_contact += 1 + len(spec.repeat_contacts)
        stamps.sort()
        self.case_id = array("q", bytes(8 * n))
        self.number = [""] * n
        per_day: dict = {}
        tz = timezone.get_default_timezone()
        for rank, (at, index) in enumerate(stamps, start=1):
            day = at.astimezone(tz).date()  # the day case_register would number it under
            last = per_day.get(day, 0) + 1
            per_day[day] = last
            self.case_id[index] = rank
            self.number[index] = f"{day:%Y%m%d}-{last:05d}"
        self.sequences = per_day
        CaseSequence.objects.bulk_create(
            [CaseSequence(organization_id=self.org_id, day=d, last=last) for d, last in per_day.items()]
        )

    def _copy_pass(self, workers: int) -> dict[str, int]:
        """Pass 2 in ``workers`` forked processes; worker k writes the cases whose index is
        k modulo ``workers``."""
        connection.close()  # children open their own connections
        ctx = mp.get_context("fork")
        out = ctx.Queue()
        procs = [ctx.Process(target=self._copy_part_entry, args=(k, workers, out)) for k in range(workers)]
        for proc in procs:
            proc.start()
        results = [out.get() for _ in procs]
        for proc in procs:
            proc.join()
        failed = [r for r in results if "error" in r]
        if failed:
            raise RuntimeError(f"COPY worker failed: {failed[0]['error']}")
        counts: dict[str, int] = {}
        for r in results:
            for table, rows in r["counts"].items():
                counts[table] = counts.get(table, 0) + rows
        self.python_cpu_s = sum(r["cpu_s"] for r in results)
        return counts

    def _copy_part_entry(self, part: int, parts: int, out) -> None:
        try:
            cpu = time.process_time()
            counts = self._copy_part(part, parts)
            out.put({"counts": counts, "cpu_s": time.process_time() - cpu})
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            import traceback

            traceback.print_exc()
            out.put({"error": f"{type(exc).__name__}: {exc}"})

    def _copy_part(self, part: int, parts: int) -> dict[str, int]:
        build_case, case_cols = _row_builder(Case, skip=())
        build_party, party_cols = _row_builder(Party, skip=())
        build_contact, contact_cols = _row_builder(Contact, skip=())
        build_event, event_cols = _row_builder(Event)
        build_round, round_cols = _row_builder(CaseRound)
        co_model = Case.co_parties.through
        build_co, co_cols = _row_builder(co_model)
        end = self.end
        org_id = self.org_id
        code_alphabet = case_services.QUERY_CODE_ALPHABET
        promised = self.policy.promised_due_at
        policy_version = self.policy.version
        hash_of = Event.compute_hash
        probe = Case(organization_id=org_id)  # promised_due_at reads the case's fields
        ev = SimpleNamespace()  # what Event.compute_hash reads

        def party_values(pid: int, p, at) -> dict:
            return {
                "id": pid,
                "organization_id": org_id,
                "anonymous": p.anonymous,
                **sealed_party(p),
                "affiliation": p.affiliation,
                "created_at": at,
            }

        progress_every = max(1, self.n // 10)
        started = time.perf_counter()
        with ExitStack() as stack:
            parties = Copy(stack, Party, party_cols)
            # The department scope the database keeps by trigger (cases migration 0020); the
            # triggers are off during the load, so the rows carry it (the lead: no assisting).
            scoped = self.scope_column
            cases = Copy(stack, Case, case_cols + (["scope_departments"] if scoped else []))
            contacts = Copy(stack, Contact, contact_cols)
            events = Copy(stack, Event, event_cols)
            rounds = Copy(stack, CaseRound, round_cols)
            co_parties = Copy(stack, co_model, co_cols)
            for spec in self.specs():
                i = spec.index
                if part == 0 and (i + 1) % progress_every == 0:
                    rate = (i + 1) / (time.perf_counter() - started)
                    log(f"  {i + 1:>9} cases generated ({rate:,.0f}/s)")
                if i % parts != part:
                    continue
                rng = random.Random(self.seed * 1_000_003 + i)  # per case: same rows however split
                cid, number = self.case_id[i], self.number[i]
                received = _utc(spec.received_at)
                party_id = self.party_id[i] or None
                if self.party_new[i]:
                    parties.write(build_party(party_values(party_id, spec.party, received)))
                reps = []
                pid = self.reps_first[i]
                for p in spec.representatives:
                    if p.anonymous or p.name or p.phone or p.id_number:
                        parties.write(build_party(party_values(pid, p, received)))
                        reps.append(pid)
                        pid += 1
                category_id = self.category_ids[spec.category]
                title = spec.title.strip()
                text = spec.text.strip()
                location = spec.location.strip()

                history = History(self, spec, cid, rng)
                history.plan()
                next_contact = self.contact_first[i]
                contact_rows = [
                    {
                        "id": next_contact,
                        "case_id": cid,
                        "channel": spec.channel,
                        "party_id": party_id,
                        "occurred_at": received,
                        "staff_id": history.registrar.pk,
                        "text": text,
                        "is_initial": True,
                        "created_at": received,
                    }
                ]
                registered_data: dict = {}
                last_at = received
                version = 1
                evs: list[tuple] = []
                for at, kind, actor_id, _round, detail in history.events(received, end):
                    at = _utc(at)
                    if kind == EventKind.REGISTERED:
                        data = registered_data  # filled below, once promised_due_at is known
                    elif kind == EventKind.CONTACT_ADDED:
                        contact = detail
                        contact_id = next_contact + len(contact_rows)
                        contact_rows.append(
                            {
                                "id": contact_id,
                                "case_id": cid,
                                "channel": contact.channel,
                                "party_id": party_id,
                                "occurred_at": at,
                                "staff_id": actor_id,
                                "text": contact.text,
                                "is_initial": False,
                                "created_at": at,
                            }
                        )
                        data = {
                            "contact_id": contact_id,
                            "channel": contact.channel,
                            "text": contact.text[:200],
                        }
                        version += 1
                    else:
                        action, extra = detail
                        data = history.apply(action, actor_id, extra, at)
                        version += 1
                    last_at = max(last_at, at)
                    evs.append((at, str(kind), actor_id, history.round, data))

                probe.received_at, probe.category_id, probe.urgency = (
                    spec.received_at,
                    category_id,
                    spec.urgency,
                )
                probe.nature, probe.channel, probe.number = spec.nature, spec.channel, number
                due = promised(probe)
                registered_data.update(
                    _json(
                        {
                            "number": number,
                            "channel": spec.channel,
                            "nature": spec.nature,
                            "urgency": spec.urgency,
                            "category_id": category_id,
                            "promised_due_at": due,
                        }
                    )
                )

                code = "".join(code_alphabet[int(rng.random() * len(code_alphabet))] for _ in range(8))
                cases.write(
                    build_case(
                        {
                            "id": cid,
                            "organization_id": org_id,
                            "number": number,
                            "channel": spec.channel,
                            "nature": spec.nature,
                            "category_id": category_id,
                            "urgency": spec.urgency,
                            "title": title,
                            "text": text,
                            "location": location,
                            "received_at": received,
                            "registered_at": received,
                            "party_id": party_id,
                            "group_size": spec.group_size,
                            "forwarded_by": spec.forwarded_by,
                            "forwarded_ref": spec.forwarded_ref,
                            "first_contact_id": history.registrar.pk,
                            "lead_department_id": history.lead_department_id,
                            "handler_id": history.handler_id,
                            "state": history.state,
                            "round": history.round,
                            "stage_switches": self.stage_switches_json,
                            "policy_version": policy_version,
                            "promised_due_at": due,
                            "query_code_hash": case_services.query_code_hash(number, code),
                            "intake_token": None,
                            # exactly cases.services._search_document
                            "search_document": _search_document(number, title, text, location),
                            "version": version,
                            "closed_at": history.closed_at,
                            "updated_at": last_at,
                        }
                    )
                    + ([[history.lead_department_id] if history.lead_department_id else []] if scoped else [])
                )
                for row in contact_rows:
                    contacts.write(build_contact(row))
                prev = ""
                for at, kind, actor_id, rnd, data in evs:
                    # Payloads are JSON-native (str, int, None, lists, dicts; the registered event's
                    # datetime went through the DjangoJSONEncoder round trip above), so what is
                    # hashed here is what PostgreSQL hands back.
                    actor_kind = "staff" if actor_id is not None else ""
                    ev.case_id, ev.round, ev.actor_id, ev.at, ev.kind, ev.data, ev.prev_hash = (
                        cid,
                        rnd,
                        actor_id,
                        at,
                        kind,
                        data,
                        prev,
                    )
                    ev.actor_kind, ev.actor_system_id = actor_kind, None
                    h = hash_of(ev)
                    events.write(
                        build_event(
                            {
                                "case_id": cid,
                                "round": rnd,
                                "actor_id": actor_id,
                                "actor_kind": actor_kind,
                                "at": at,
                                "kind": kind,
                                "data": json.dumps(data, ensure_ascii=False),
                                "prev_hash": prev,
                                "hash": h,
                            }
                        )
                    )
                    prev = h
                for r in history.rounds:
                    rounds.write(build_round({**r, "case_id": cid}))
                for rep in reps:
                    co_parties.write(build_co({"case_id": cid, "party_id": rep}))
            counts = {c.table: c.rows for c in (cases, parties, contacts, events, rounds, co_parties)}
        # Leaving the stack ends every COPY and commits each connection.
        return counts

    def _create_indexes(self, indexes) -> None:
        """Rebuild the dropped indexes on two connections (two cores): the GIN on one,
        the B-trees on the other."""
        gin = [sql for _t, _n, sql in indexes if " USING gin " in sql]
        rest = [sql for _t, _n, sql in indexes if " USING gin " not in sql]
        errors: list[BaseException] = []

        def work(statements):
            try:
                with raw_connect(autocommit=True) as raw:
                    raw.execute("SET maintenance_work_mem = '1GB'")
                    for sql in statements:
                        raw.execute(sql)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(group,)) for group in (gin, rest) if group]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            raise errors[0]


def _search_document(number: str, title: str, text: str, location: str) -> str:
    probe = SimpleNamespace(number=number, title=title, text=text, location=location)
    return case_services._search_document(probe)


def _policy_for_new_case(org):
    """The policy ``case_register`` would register a new case under (the subscriber table's
    ``case_policy`` provider)."""
    from huiyin.cases import bus

    return bus.case_policy(org)


def keys_fingerprint() -> str:
    """Which keys sign the event chains and encrypt personal fields (a digest, not the keys).
    A laptop install derives both from the SECRET_KEY in HUIYIN_DATA_DIR: a benchmark run from
    another data directory than the load's writes rows the load's pages cannot decrypt, and
    reads chains it cannot verify (found when a case page answered 500 on such a row)."""
    from django.conf import settings

    from huiyin.core import crypto

    probe = f"{settings.HUIYIN_AUDIT_KEY}|{crypto.lookup_hash('bench-probe')}|{settings.SECRET_KEY}"
    return hashlib.sha256(probe.encode()).hexdigest()[:16]


def _same_keys(meta: dict) -> None:
    loaded_with = meta.get("keys")
    if loaded_with is None:
        log("--reuse: the load did not record its keys (an older load): run with its HUIYIN_DATA_DIR")
    elif loaded_with != keys_fingerprint():
        raise SystemExit(
            "--reuse: this database was loaded with other keys (another HUIYIN_DATA_DIR / SECRET_KEY "
            "or HUIYIN_AUDIT_KEY): run with the load's, or its event chains will not "
            "verify and new personal fields will be unreadable to the next run"
        )


def load(*, n: int, seed: int, days: int, reuse: bool) -> dict:
    """Load N cases unless ``reuse`` and the database already holds this load."""
    meta = meta_get()
    have = Case.objects.count()
    if reuse and meta and meta.get("cases") == n and meta.get("seed") == seed and have >= n:
        log(f"--reuse: {have} cases already loaded ({meta.get('loaded_at')}); skipping the load")
        _same_keys(meta)
        return {**meta, "reused": True}
    if reuse:
        log(f"--reuse: the database has {have} cases / meta {meta}; loading {n} afresh")
    loader = Loader(n=n, seed=seed, days=days)
    result = loader.run()
    meta = {
        "cases": n,
        "seed": seed,
        "days": days,
        "end": loader.end.isoformat(),
        "loaded_at": timezone.now().isoformat(),
        "keys": keys_fingerprint(),
        **result,
        "reused": False,
    }
    meta_set(meta)
    return meta


def demo_ready(*, cases: int, seed: int, days: int, reuse: bool, notify_complainants: bool | None = None):
    """What a benchmark's setup starts with: the schema migrated, ``cases`` generated cases
    loaded (0: the data kept), the demo organisation (texting its complainants or not, when
    asked) running a preset — the hotline's unless it runs one. Returns (the demo, the load's
    summary or None)."""
    from django.core.management import call_command

    from huiyin.policy.presets import load_preset
    from huiyin.policy.services import current_policy, policy_activate, presets_dir

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    loaded = load(n=cases, seed=seed, days=days, reuse=reuse) if cases else None
    demo = build_organization()
    if notify_complainants is not None:
        demo.org.notify_complainants = notify_complainants
        demo.org.save(update_fields=["notify_complainants"])
    if current_policy(demo.org) is None:
        policy_activate(organization=demo.org, preset=load_preset(presets_dir() / "city_hotline.yaml"), actor=None)
    return demo, loaded
