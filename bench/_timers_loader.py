"""Bulk loader for the deadline-timer benchmark: N open cases and their clocks, with COPY.

The demo organisation (``huiyin.demo.generator.build_organization``) is set up from the
``city_hotline`` preset with ``huiyin init``'s service (``policy.services.organization_init``)
and then runs an administrator's edit of it (``policy_activate_text``, as the preset
editor in the UI does) that adds the rules a hotline lives by besides the 3-minute
dispatch of phone complaints (``EXTRA_RULES``): dispatch of other channels within
2 working hours, sign-for within 4 working hours, reply within 5 working days (urgent
matters 24 hours), the whole case within 15 working days from the day after receipt.
Escalation is the preset's: handler at the due time, the department head 30 minutes
later, the centre's leader after 2 hours.

The cases come from the demo generator (:func:`huiyin.demo.generator.generate_case_specs`,
the same text, channels, categories, urgencies and receipt times as ``huiyin demo`` and
the ledger benchmark), all of them *open*: each stops at the first of its lifecycle
steps (accept → dispatch → sign for) that had not happened by the load time, and
at most at a state drawn from ``MIX``; ``reserve`` phone cases stay registered (the
benchmark accepts them later to start dispatch clocks at chosen times). Steps take
the ledger's ``STEP_HOURS`` (phone: minutes, as a hotline works). Rows, as the
services and the deadline engine would have left them at the load time:

* Party, initial Contact, Case (state, lead department and handler from the
  category's routing, the search document, the policy version and its stage switches,
  ``promised_due_at`` = the overall clock's due time), CaseRound, CaseSequence
  (numbers per local day in time order, case ids in time order);
* events: ``registered``, one ``state_changed`` per step (payloads from the ledger
  loader's ``History``), F13's ``escalated`` for major matters, and one event per
  deadline step taken, hash-chained with ``Event.compute_hash``;
* clocks as ``policy.hooks`` starts and stops them (overall from receipt; dispatch
  from acceptance, stopped *done* at dispatch; sign-for and reply from dispatch,
  sign-for stopped at sign-for), each computed by the engine itself: the matched
  preset rule (``Preset.match_deadline`` on channel, nature, category terms and the
  effective urgency), the rule snapshot (``services.clocks._snapshot``), due and warning
  times (``services.clocks.reschedule``) and ``next_action_at``
  (``refresh_next_action``);
* what a punctual sweeper did before the load time (0.3–2 s after each step's
  time, stopped clocks only up to their stop): ``next_step`` taken step by step,
  marked on the clock (``services.actions._mark``), a ClockAction row, the event,
  and the desk entries (Notification) for the recipients ``policy.notify.resolve``
  names, with ``desk_text``.

So at the load time some clocks are quiet (stopped, or overdue and escalated to the
top), most wait days for a warning or their due time, and a steady trickle comes due
from the load time on (the benchmark first lets a sweeper catch up with it).

Plumbing from the ledger loader (``_loader``): ``Copy`` streams, ``_row_builder``,
``raw_connect``, ``_secondary_indexes`` (dropped before, rebuilt after, by
``Loader._create_indexes``), ``History`` for state-change payloads; two forked
processes (case index modulo 2), foreign-key triggers off; then CLUSTER of cases and
clocks on their primary keys and VACUUM ANALYZE. Explicit ids: case = party = contact
= time rank; clock = case × 8 + slot; event = case × 32 + position in its chain.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing as mp
import random
import time
from array import array
from contextlib import ExitStack
from datetime import datetime, timedelta
from types import SimpleNamespace

from _common import log
from _loader import (
    META_TABLE,
    STEP_HOURS,
    Copy,
    History,
    Loader,
    _json,
    _row_builder,
    _search_document,
    _secondary_indexes,
    _utc,
    raw_connect,
    sealed_party,
)
from django.db import connection
from django.utils import timezone
from huiyin.policy.notify import Directory, desk_text, resolve
from huiyin.policy.services.actions import EVENT_KIND, _mark, role_label
from huiyin.policy.services.clocks import (
    CasePlan,
    _snapshot,
    category_terms,
    effective_urgency,
    next_step,
    refresh_next_action,
    reschedule,
)

from huiyin.cases import services as case_services
from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, CaseRound, CaseSequence, Contact, Event, Party
from huiyin.cases.triggers import events_writable
from huiyin.core.models import Notification
from huiyin.deadlines.events import DeadlineEvent
from huiyin.demo.generator import _Cast, build_organization, generate_case_specs
from huiyin.policy.deadlines import ClockRule
from huiyin.policy.models import (
    STAGE_LABELS,
    Clock,
    ClockAction,
    ClockActionKind,
    ClockState,
    PolicyVersion,
    StopReason,
)
from huiyin.policy.services import organization_init, policy_activate_text, presets_dir
from huiyin.policy.services.calendars import calendar_for

META_KEY = "timers"
PRESET_SOURCE = "bench-timers.yaml"  # PolicyVersion.source of the administrator's edit
BASE_PRESET = "city_hotline"
EXTRA_RULES = """
  - stage: dispatch
    label: 派遣（其他渠道）
    amount: 2
    unit: working_hours
    from: accepted
    source: bench/_timers_loader.py（热线常用时限，管理员编辑）
  - stage: sign_for
    label: 承办单位签收
    amount: 4
    unit: working_hours
    from: dispatched
    source: bench/_timers_loader.py
  - stage: reply
    label: 紧急件答复
    when: {urgency: [urgent, major]}
    amount: 24
    unit: hours
    from: dispatched
    source: bench/_timers_loader.py
  - stage: reply
    label: 答复
    amount: 5
    unit: workdays
    from: dispatched
    source: bench/_timers_loader.py
  - stage: overall
    label: 办结
    amount: 15
    unit: workdays
    from: received
    start: next_day
    on_holiday: roll_forward
    source: bench/_timers_loader.py
"""
# Where an open case stops at most (it stops earlier when the next step is still to come).
MIX = (("registered", 0.02), ("accepted", 0.02), ("dispatched", 0.06), ("in_progress", 0.90))
STEPS = ("accept", "dispatch", "sign_for")
STATE_AFTER = {"accept": "accepted", "dispatch": "dispatched", "sign_for": "in_progress"}
# Hours between steps (min, max): the ledger loader's STEP_HOURS; a hotline accepts and
# dispatches phone complaints within minutes.
PHONE_STEP_HOURS = {"accept": (0.5 / 60, 5 / 60), "dispatch": (0.5 / 60, 4 / 60)}
SLOTS = {"overall": 0, "dispatch": 1, "sign_for": 2, "reply": 3}
EVENTS_PER_CASE = 32
CLOCKS_PER_CASE = 8
HISTORY_WORKER = "bench-history"
BULK_TABLES = (
    "cases_case",
    "cases_party",
    "cases_contact",
    "cases_event",
    "cases_caseround",
    "policy_clock",
    "policy_clockaction",
    "core_notification",
)


# --- policy --------------------------------------------------------------------------------


def setup_policy(demo) -> PolicyVersion:
    """``huiyin init --preset city_hotline`` (once), then the administrator's edit that adds
    EXTRA_RULES; activating the same edit again changes nothing."""
    if not PolicyVersion.objects.filter(organization=demo.org).exists():
        organization_init(preset_name=BASE_PRESET, code=demo.org.code)
    text = (presets_dir() / f"{BASE_PRESET}.yaml").read_text(encoding="utf-8")
    marker = "\nacceptance_grounds:"
    if marker not in text:
        raise RuntimeError(f"{BASE_PRESET}.yaml changed: no {marker.strip()!r} section to add rules before")
    text = text.replace(marker, EXTRA_RULES + marker, 1)
    version, _new = policy_activate_text(organization=demo.org, text=text, filename=PRESET_SOURCE, actor=None)
    return version


class Planner:
    """``CasePlan`` per case without the database: category terms read once per category,
    the matched rule per (stage, channel, nature, category, urgency) memoised."""

    def __init__(self, demo, version: PolicyVersion):
        self.version = version
        self.preset = version.preset()
        self.calendar = calendar_for(organization_id=demo.org.pk, policy_version=version)
        self.terms = {c.pk: category_terms(Case(category=c)) for c in demo.categories.values()}
        self._rules: dict[tuple, object] = {}
        self._snapshots: dict[tuple, dict] = {}
        self._rule_json: dict[int, str] = {}

    def plan(
        self,
        *,
        channel: str,
        nature: str,
        category_id: int | None,
        urgency: str,
        title: str,
        text: str,
    ) -> CasePlan:
        effective, keyword = effective_urgency(SimpleNamespace(urgency=urgency, title=title, text=text), self.preset)
        return CasePlan(
            policy_version=self.version,
            preset=self.preset,
            calendar=self.calendar,
            channel=channel,
            nature=nature,
            category=self.terms.get(category_id, ()),
            urgency=effective,
            urgency_keyword=keyword,
        )

    def rule(self, plan: CasePlan, stage: str):
        key = (stage, plan.channel, plan.nature, plan.category, plan.urgency)
        if key not in self._rules:
            rule = plan.rule(stage)
            self._rules[key] = ClockRule.from_preset(rule) if rule is not None else None
        return self._rules[key]

    def clock(
        self,
        *,
        case_id: int,
        organization_id: int,
        plan: CasePlan,
        stage: str,
        started_at: datetime,
    ) -> Clock | None:
        """A clock as ``services.clocks.clock_start`` builds it (not saved, no id)."""
        rule = self.rule(plan, stage)
        if rule is None:
            return None
        key = (stage, plan.channel, plan.nature, plan.category, plan.urgency, plan.urgency_keyword)
        snapshot = self._snapshots.get(key)
        if snapshot is None:
            snapshot = self._snapshots[key] = _snapshot(plan, rule)
        clock = Clock(
            organization_id=organization_id,
            case_id=case_id,
            round=1,
            stage=stage,
            policy_version=self.version,
            rule=snapshot,
            unit=rule.unit,
            started_at=started_at,
        )
        reschedule(clock, plan.calendar)  # due, warning, next_action_at (no pk: no extensions)
        return clock

    def rule_json(self, clock: Clock) -> str:
        """The snapshot as stored; snapshots are shared (above), so each is encoded once."""
        key = id(clock.rule)
        if key not in self._rule_json:
            self._rule_json[key] = json.dumps(clock.rule, ensure_ascii=False)
        return self._rule_json[key]


# --- the loader ----------------------------------------------------------------------------


class TimersLoader:
    def __init__(
        self,
        *,
        n: int,
        seed: int,
        days: int,
        reserve: int,
        end: datetime | None = None,
        workers: int = 2,
    ):
        self.n, self.seed, self.days, self.reserve, self.workers = n, seed, days, reserve, workers
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
        self.version = setup_policy(self.demo)
        self.planner = Planner(self.demo, self.version)
        self.stage_switches_json = json.dumps(dataclasses.asdict(self.version.preset().stages), ensure_ascii=False)
        self.category_ids = {path: c.pk for path, c in self.demo.categories.items()}
        self.directory = Directory()
        self.directory.staff(self.org_id)  # read once, before the workers fork
        self.history_env = SimpleNamespace(cast=self.cast, demo=self.demo, approval=False)
        self._truncate()
        timings["prepare_s"] = time.perf_counter() - t0

        t = time.perf_counter()
        self._number_pass()
        timings["pass1_numbers_s"] = time.perf_counter() - t
        log(f"pass 1 (times, numbers, {self.reserved} reserved phone cases): {timings['pass1_numbers_s']:.1f} s")

        with connection.cursor() as cur:
            indexes = _secondary_indexes(cur, BULK_TABLES)
            for _table, name, _sql in indexes:
                cur.execute(f'DROP INDEX "{name}"')
        t = time.perf_counter()
        counts = self._copy_pass(self.workers)
        timings["pass2_copy_s"] = time.perf_counter() - t
        timings["pass2_python_cpu_s"] = self.python_cpu_s
        log(f"pass 2 (COPY): {timings['pass2_copy_s']:.1f} s (Python CPU {self.python_cpu_s:.1f} s)  {counts}")

        t = time.perf_counter()
        with raw_connect(autocommit=True) as raw:
            raw.execute("SET maintenance_work_mem = '1GB'")
            raw.execute("CLUSTER cases_case USING cases_case_pkey")
            raw.execute("CLUSTER policy_clock USING policy_clock_pkey")
        timings["cluster_s"] = time.perf_counter() - t
        log(f"CLUSTER cases_case, policy_clock: {timings['cluster_s']:.1f} s")

        t = time.perf_counter()
        Loader._create_indexes(self, indexes)  # the ledger's: GIN on one connection, B-trees on the other
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
                "policy_clock",
                "policy_clockaction",
                "core_notification",
            ):
                raw.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
            raw.execute("VACUUM ANALYZE")
        timings["vacuum_analyze_s"] = time.perf_counter() - t
        log(f"VACUUM ANALYZE: {timings['vacuum_analyze_s']:.1f} s")
        timings["total_s"] = time.perf_counter() - t0
        return {
            "rows": counts,
            "timings": timings,
            "reserved": self.reserved,
            "policy_version": self.version.code,
        }

    def _truncate(self) -> None:
        # cases_event refuses a TRUNCATE (its append-only trigger): suspended for this transaction.
        with events_writable(), connection.cursor() as cur:
            cur.execute(
                "TRUNCATE cases_case, cases_party, cases_casesequence, policy_clock, "
                "policy_clockaction, core_notification, policy_sweeperheartbeat, "
                "django_tasks_database_dbtaskresult "
                "RESTART IDENTITY CASCADE"
            )

    def _number_pass(self) -> None:
        """Pass 1: every case's time, so ids and numbers go in time order (per local day, as
        case_register numbers them), and which phone cases are held in reserve."""
        stamps = []
        phones = []
        for spec in self.specs():
            stamps.append((spec.received_at, spec.index))
            if spec.channel == "phone":
                phones.append(spec.index)
        stamps.sort()
        self.case_id = array("q", bytes(8 * self.n))
        self.number = [""] * self.n
        per_day: dict = {}
        tz = timezone.get_default_timezone()
        for rank, (at, index) in enumerate(stamps, start=1):
            day = at.astimezone(tz).date()
            last = per_day.get(day, 0) + 1
            per_day[day] = last
            self.case_id[index] = rank
            self.number[index] = f"{day:%Y%m%d}-{last:05d}"
        CaseSequence.objects.bulk_create(
            [CaseSequence(organization_id=self.org_id, day=d, last=last) for d, last in per_day.items()]
        )
        # Reserve: evenly spaced phone cases (all ages), kept registered.
        self.reserved_flag = bytearray(self.n)
        want = min(self.reserve, len(phones))
        if want:
            step = len(phones) / want
            for k in range(want):
                self.reserved_flag[phones[int(k * step)]] = 1
        self.reserved = want

    def _copy_pass(self, workers: int) -> dict[str, int]:
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

    # --- one case --------------------------------------------------------------------------

    def _timeline(self, spec, rng: random.Random, reserved: bool) -> list[tuple[str, datetime]]:
        """(step, time) of the lifecycle steps the case took before the load time."""
        if reserved:
            return []
        u, cap = rng.random(), "in_progress"
        for state, share in MIX:
            if u < share:
                cap = state
                break
            u -= share
        out = []
        at = spec.received_at
        for step in STEPS:
            if cap == "registered" or (out and STATE_AFTER[out[-1][0]] == cap):
                break
            low, high = (PHONE_STEP_HOURS if spec.channel == "phone" else {}).get(step, STEP_HOURS[step])
            at = at + timedelta(hours=rng.uniform(low, high))
            if at >= self.end:
                break
            out.append((step, at))
        return out

    def _copy_part(self, part: int, parts: int) -> dict[str, int]:
        build_case, case_cols = _row_builder(Case, skip=())
        build_party, party_cols = _row_builder(Party, skip=())
        build_contact, contact_cols = _row_builder(Contact, skip=())
        build_event, event_cols = _row_builder(Event, skip=())
        build_round, round_cols = _row_builder(CaseRound)
        build_clock, clock_cols = _row_builder(Clock, skip=())
        build_action, action_cols = _row_builder(ClockAction)
        build_note, note_cols = _row_builder(Notification)
        end, org_id, planner = self.end, self.org_id, self.planner
        code_alphabet = case_services.QUERY_CODE_ALPHABET
        hash_of = Event.compute_hash
        ev = SimpleNamespace()
        labels: dict[str, str] = {}

        def label_of(role: str) -> str:
            if role not in labels:
                labels[role] = role_label(role)
            return labels[role]

        tz = timezone.get_default_timezone()
        counts = {
            "cases_case": 0,
            "policy_clock": 0,
            "running_clocks": 0,
            "quiet_running_clocks": 0,
            "policy_clockaction": 0,
            "cases_event": 0,
            "core_notification": 0,
        }
        progress_every = max(1, self.n // 10)
        started = time.perf_counter()
        with ExitStack() as stack:
            parties = Copy(stack, Party, party_cols)
            cases = Copy(stack, Case, case_cols)
            contacts = Copy(stack, Contact, contact_cols)
            events = Copy(stack, Event, event_cols)
            rounds = Copy(stack, CaseRound, round_cols)
            clocks_out = Copy(stack, Clock, clock_cols)
            actions_out = Copy(stack, ClockAction, action_cols)
            notes_out = Copy(stack, Notification, note_cols)
            for spec in self.specs():
                i = spec.index
                if part == 0 and (i + 1) % progress_every == 0:
                    rate = (i + 1) / (time.perf_counter() - started)
                    log(f"  {i + 1:>9} cases generated ({rate:,.0f}/s)")
                if i % parts != part:
                    continue
                rng = random.Random(self.seed * 1_000_003 + i)
                cid, number = self.case_id[i], self.number[i]
                received = spec.received_at.astimezone(tz)
                category_id = self.category_ids[spec.category]
                title, text, location = spec.title.strip(), spec.text.strip(), spec.location.strip()
                timeline = self._timeline(spec, rng, bool(self.reserved_flag[i]))
                state = STATE_AFTER[timeline[-1][0]] if timeline else "registered"

                # History (ledger loader) plans the same steps and gives their payloads.
                hspec = dataclasses.replace(
                    spec,
                    decision="accept" if timeline else "",
                    target_state=state,
                    reopened=False,
                    misrouted_to="",
                    repeat_contacts=(),
                )
                history = History(self.history_env, hspec, cid, rng)
                history.plan()
                assert [a for a, _, _ in history.steps] == [s for s, _ in timeline], (
                    history.steps,
                    timeline,
                )
                registrar = history.registrar
                evs: list[tuple] = []  # (at, order, kind, actor id, data)
                lead_at = None  # when the case got its lead department and handler
                for (action, actor_id, extra), (_step, at) in zip(history.steps, timeline, strict=True):
                    data = history.apply(action, actor_id, extra, _utc(at))
                    evs.append((at, 2, EventKind.STATE_CHANGED, actor_id, data))
                    if action == "dispatch":
                        lead_at = at
                plan = planner.plan(
                    channel=spec.channel,
                    nature=spec.nature,
                    category_id=category_id,
                    urgency=spec.urgency,
                    title=title,
                    text=text,
                )
                case_probe = SimpleNamespace(
                    pk=cid,
                    organization_id=org_id,
                    first_contact_id=registrar.pk,
                    lead_department_id=None,
                    handler_id=None,
                    number=number,
                    title=title,
                )

                # Clocks, as policy.hooks starts and stops them.
                times = dict(timeline)
                specs_of_clocks = [("overall", received, None)]
                if "accept" in times:
                    specs_of_clocks.append(("dispatch", times["accept"], times.get("dispatch")))
                if "dispatch" in times:
                    specs_of_clocks.append(("sign_for", times["dispatch"], times.get("sign_for")))
                    specs_of_clocks.append(("reply", times["dispatch"], None))
                case_clocks = []
                for stage, start_at, stop_at in specs_of_clocks:
                    clock = planner.clock(
                        case_id=cid,
                        organization_id=org_id,
                        plan=plan,
                        stage=stage,
                        started_at=start_at,
                    )
                    if clock is None:
                        continue
                    clock.id = cid * CLOCKS_PER_CASE + SLOTS[stage]
                    horizon = min(stop_at, end) if stop_at else end
                    for step, at in _punctual_sweeper(clock, plan.calendar, horizon, rng):
                        probe = case_probe
                        if lead_at is not None and at >= lead_at:
                            probe = SimpleNamespace(
                                **{
                                    **vars(case_probe),
                                    "lead_department_id": history.lead_department_id,
                                    "handler_id": history.handler_id,
                                }
                            )
                        recipients, fell_back = resolve(step.role or "handler", probe, clock.stage, self.directory)
                        ids = [r.pk for r in recipients]
                        data = {
                            "clock_id": clock.id,
                            "stage": clock.stage,
                            "stage_label": clock.label,
                            "stage_name": str(STAGE_LABELS.get(clock.stage, clock.stage)),
                            "clock_round": 1,
                            "due_at": clock.due_at.astimezone(tz),
                            "scheduled_for": step.at.astimezone(tz),
                            "level": step.level,
                            "role": step.role,
                            "role_label": label_of(step.role),
                            "recipients": ids,
                        }
                        if fell_back:
                            data["fallback"] = True
                        if step.action == ClockActionKind.ESCALATE:
                            data["reason"] = "overdue"
                        evs.append(
                            (
                                at,
                                3,
                                EVENT_KIND[ClockActionKind(step.action)],
                                None,
                                data,
                                (clock.id, step, ids, probe),
                            )
                        )
                    if stop_at is not None and stop_at <= end:
                        clock.state, clock.stopped_at, clock.stop_reason = (
                            ClockState.STOPPED,
                            stop_at,
                            StopReason.DONE,
                        )
                        clock.next_action_at = None
                    case_clocks.append(clock)

                effective = plan.urgency
                if effective == "major":  # F13: reported to the leader at once
                    leaders, fell_back = resolve("leader", case_probe, "overall", self.directory)
                    data = {
                        "reason": "major",
                        "role": "leader",
                        "role_label": role_label("leader"),
                        "urgency": effective,
                        "keyword": plan.urgency_keyword,
                        "recipients": [r.pk for r in leaders],
                        "at": received,
                    }
                    if fell_back:
                        data["fallback"] = True
                    evs.append((received, 1, DeadlineEvent.ESCALATED, None, data, ("major", leaders)))

                overall = next((c for c in case_clocks if c.stage == "overall"), None)
                due = overall.due_at if overall is not None else None
                evs.append(
                    (
                        received,
                        0,
                        EventKind.REGISTERED,
                        registrar.pk,
                        {
                            "number": number,
                            "channel": spec.channel,
                            "nature": spec.nature,
                            "urgency": spec.urgency,
                            "category_id": category_id,
                            "promised_due_at": due,
                        },
                    )
                )
                evs.sort(key=lambda e: (e[0], e[1]))
                if len(evs) >= EVENTS_PER_CASE:
                    raise RuntimeError(f"case {cid}: {len(evs)} events, more than the id space allows")

                # Rows.
                party_id = cid
                p = spec.party
                parties.write(
                    build_party(
                        {
                            "id": party_id,
                            "organization_id": org_id,
                            "anonymous": p.anonymous,
                            **sealed_party(p),
                            "affiliation": p.affiliation,
                            "created_at": _utc(received),
                        }
                    )
                )
                contacts.write(
                    build_contact(
                        {
                            "id": cid,
                            "case_id": cid,
                            "channel": spec.channel,
                            "party_id": party_id,
                            "occurred_at": _utc(received),
                            "staff_id": registrar.pk,
                            "text": text,
                            "is_initial": True,
                            "created_at": _utc(received),
                        }
                    )
                )
                prev = ""
                last_at = received
                for position, item in enumerate(evs, start=1):
                    at, _order, kind, actor_id, data = item[:5]
                    event_id = cid * EVENTS_PER_CASE + position
                    data = _json(data)
                    at_utc = _utc(at)
                    ev.case_id, ev.round, ev.actor_id, ev.at, ev.kind, ev.data, ev.prev_hash = (
                        cid,
                        1,
                        actor_id,
                        at_utc,
                        str(kind),
                        data,
                        prev,
                    )
                    ev.actor_kind, ev.actor_system_id = ("staff" if actor_id else ""), None
                    h = hash_of(ev)
                    events.write(
                        build_event(
                            {
                                "id": event_id,
                                "case_id": cid,
                                "round": 1,
                                "actor_id": actor_id,
                                "actor_kind": ev.actor_kind,
                                "at": at_utc,
                                "kind": str(kind),
                                "data": json.dumps(data, ensure_ascii=False),
                                "prev_hash": prev,
                                "hash": h,
                            }
                        )
                    )
                    prev = h
                    last_at = max(last_at, at)
                    counts["cases_event"] += 1
                    if len(item) == 6 and item[5][0] == "major":
                        for leader in item[5][1]:
                            notes_out.write(
                                build_note(
                                    {
                                        "recipient_id": leader.pk,
                                        "case_id": cid,
                                        "key": f"major:{cid}",
                                        "text": desk_text("major", case_probe, None)[:300],
                                        "created_at": at_utc,
                                    }
                                )
                            )
                            counts["core_notification"] += 1
                    elif len(item) == 6:
                        clock_id, step, ids, probe = item[5]
                        clock = next(c for c in case_clocks if c.id == clock_id)
                        actions_out.write(
                            build_action(
                                {
                                    "clock_id": clock_id,
                                    "action": step.action,
                                    "level": step.level,
                                    "role": step.role,
                                    "scheduled_for": _utc(step.at),
                                    "at": at_utc,
                                    "worker_id": HISTORY_WORKER,
                                    "event_id": event_id,
                                    "recipients": json.dumps(ids),
                                }
                            )
                        )
                        counts["policy_clockaction"] += 1
                        text_ = desk_text(step.action, probe, clock, role_label=label_of(step.role))[:300]
                        for rid in ids:
                            notes_out.write(
                                build_note(
                                    {
                                        "recipient_id": rid,
                                        "case_id": cid,
                                        "key": f"clock:{clock_id}:{step.action}:{step.level}",
                                        "text": text_,
                                        "created_at": at_utc,
                                    }
                                )
                            )
                            counts["core_notification"] += 1
                for clock in case_clocks:
                    clocks_out.write(
                        build_clock(
                            {
                                "id": clock.id,
                                "organization_id": org_id,
                                "case_id": cid,
                                "round": 1,
                                "stage": clock.stage,
                                "policy_version_id": self.version.pk,
                                "rule": planner.rule_json(clock),
                                "unit": clock.unit,
                                "started_at": _utc(clock.started_at),
                                "due_at": _utc(clock.due_at),
                                "warn_at": _utc(clock.warn_at) if clock.warn_at else None,
                                "paused_at": None,
                                "paused_seconds": 0,
                                "paused_units": 0,
                                "stopped_at": _utc(clock.stopped_at) if clock.stopped_at else None,
                                "stop_reason": clock.stop_reason or "",
                                "state": clock.state,
                                "warned_at": _utc(clock.warned_at) if clock.warned_at else None,
                                "overdue_at": _utc(clock.overdue_at) if clock.overdue_at else None,
                                "escalation_level": clock.escalation_level,
                                "generation": 0,
                                "next_action_at": _utc(clock.next_action_at) if clock.next_action_at else None,
                                "version": 1
                                + clock.escalation_level
                                + (clock.warned_at is not None)
                                + (clock.overdue_at is not None)
                                + (clock.state == ClockState.STOPPED),
                                "created_at": _utc(clock.started_at),
                            }
                        )
                    )
                    counts["policy_clock"] += 1
                    if clock.state == ClockState.RUNNING:
                        counts["running_clocks"] += 1
                        counts["quiet_running_clocks"] += clock.next_action_at is None

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
                            "received_at": _utc(received),
                            "registered_at": _utc(received),
                            "party_id": party_id,
                            "group_size": spec.group_size,
                            "forwarded_by": spec.forwarded_by,
                            "forwarded_ref": spec.forwarded_ref,
                            "first_contact_id": registrar.pk,
                            "lead_department_id": history.lead_department_id,
                            "handler_id": history.handler_id,
                            "state": state,
                            "round": 1,
                            "stage_switches": self.stage_switches_json,
                            "policy_version": self.version.code,
                            "promised_due_at": _utc(due) if due else None,
                            "query_code_hash": case_services.query_code_hash(number, code),
                            "intake_token": None,
                            "search_document": _search_document(number, title, text, location),
                            "version": 1 + len(timeline),
                            "closed_at": None,
                            "updated_at": _utc(last_at),
                        }
                    )
                )
                counts["cases_case"] += 1
                rounds.write(
                    build_round(
                        {
                            "case_id": cid,
                            "number": 1,
                            "started_at": _utc(received),
                            "ended_at": None,
                            "reason": "",
                            "reply_text": "",
                            "reply_method": "",
                            "replied_at": None,
                            "satisfaction": "",
                            "handler_id": history.handler_id,
                            "lead_department_id": history.lead_department_id,
                        }
                    )
                )
        return counts


def _punctual_sweeper(clock: Clock, calendar, horizon: datetime, rng: random.Random):
    """The steps a sweeper running all along took on this clock before ``horizon``, each
    0.3–2 s after its time; marks them on the clock and leaves ``next_action_at`` as the
    sweeper would. Yields (step, time taken)."""
    for _ in range(32):
        step = next_step(clock, calendar)
        if step is None:
            break
        at = step.at + timedelta(seconds=rng.uniform(0.3, 2.0))
        if at > horizon:
            break
        step = next_step(clock, calendar, at)  # a warning after the due time is skipped
        _mark(clock, step.action, step.level, at)
        yield step, at
    refresh_next_action(clock, calendar)


# --- meta and entry point ------------------------------------------------------------------


def meta_get() -> dict | None:
    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key text PRIMARY KEY, value jsonb NOT NULL)")
        cur.execute(f"SELECT value FROM {META_TABLE} WHERE key = %s", [META_KEY])
        row = cur.fetchone()
    if row is None:
        return None
    return row[0] if isinstance(row[0], dict) else json.loads(row[0])


def meta_set(value: dict) -> None:
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {META_TABLE} (key, value) VALUES (%s, %s::jsonb) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [META_KEY, json.dumps(value)],
        )


def load(*, n: int, seed: int, days: int, reserve: int, reuse: bool) -> dict:
    """Load N open cases with their clocks unless ``reuse`` and the database holds this load."""
    meta = meta_get()
    have = Case.objects.count()
    if reuse and meta and meta.get("cases") == n and meta.get("seed") == seed and have >= n:
        log(f"--reuse: {have} cases already loaded ({meta.get('loaded_at')}); skipping the load")
        return {**meta, "reused": True}
    if reuse:
        log(f"--reuse: the database has {have} cases / meta {meta}; loading {n} afresh")
    loader = TimersLoader(n=n, seed=seed, days=days, reserve=reserve)
    result = loader.run()
    meta = {
        "cases": n,
        "seed": seed,
        "days": days,
        "end": loader.end.isoformat(),
        "loaded_at": timezone.now().isoformat(),
        **result,
        "reused": False,
    }
    meta_set(meta)
    return meta


__all__ = ["BULK_TABLES", "Planner", "TimersLoader", "load", "setup_policy"]
