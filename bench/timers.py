#!/usr/bin/env python
"""Deadline-timer benchmark: N open cases and their clocks in PostgreSQL, then how late the
sweeper marks a case overdue and how many timer events one worker (and two) process per second.

    DATABASE_URL=postgres://postgres@127.0.0.1:55440/huiyin_timers \\
        python bench/timers.py --cases 1000000 [--reuse]

See bench/README.md. Results: bench/results/timers-<N>-<time>.json (and a Markdown
table on stdout for docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiyin.settings")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, default=1_000_000, help="open cases (default 1,000,000)")
    p.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    p.add_argument("--days", type=int, default=30, help="cases received over this many days (default 30)")
    p.add_argument(
        "--reserve",
        type=int,
        default=None,
        help="registered phone cases kept for arranging clocks (default: two runs' worth, at most 30%% of the cases)",
    )
    p.add_argument("--reuse", action="store_true", help="skip loading if the database holds this load")
    p.add_argument(
        "--spread",
        type=int,
        default=2000,
        help="clocks falling due across the window (default 2000)",
    )
    p.add_argument("--window", type=float, default=120.0, help="seconds the spread clocks span (default 120)")
    p.add_argument(
        "--burst",
        type=int,
        default=5000,
        help="clocks due at one instant mid-window (default 5000)",
    )
    p.add_argument(
        "--lead",
        type=float,
        default=60.0,
        help="seconds from arranging to the first due time (default 60; warnings 45 s earlier)",
    )
    p.add_argument(
        "--backlog",
        type=int,
        default=20000,
        help="clocks overdue at once per throughput run (20000)",
    )
    p.add_argument("--workers", default="1,2", help="throughput runs, concurrent sweepers (default 1,2)")
    p.add_argument("--profile", type=int, default=2000, help="clocks swept in-process with SQL timing (2000)")
    p.add_argument("--batch", type=int, default=500, help="sweeper --batch (default 500)")
    p.add_argument("--interval", type=float, default=1.0, help="sweeper --interval (default 1)")
    p.add_argument("--load-only", action="store_true", help="load (or reuse) and stop")
    p.add_argument(
        "--drain",
        default="",
        help="only this: drain whatever is due now with these worker counts in turn, e.g. 1 "
        "or 2 (with --reuse: the escalations of an earlier run's clocks, 30 min after they "
        "fell due)",
    )
    p.add_argument("--no-latency", action="store_true", help="skip the latency run")
    p.add_argument("--no-throughput", action="store_true", help="skip the throughput runs")
    p.add_argument(
        "--force",
        action="store_true",
        help="allow a database whose name contains neither 'bench' nor 'timers' (it is emptied)",
    )
    p.add_argument("--out", type=Path, default=HERE / "results", help="directory for the JSON results")
    args = p.parse_args(argv)
    args.worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    need = args.spread + args.burst + args.backlog * len(args.worker_counts) + 2 * args.profile
    if args.reserve is None:
        args.reserve = min(int(args.cases * 0.3), 2 * need)
    return args


def sizes() -> dict:
    from django.db import connection
    from ledger import mb

    with connection.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        db = cur.fetchone()[0]
        cur.execute(
            """
            SELECT c.relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid),
                   pg_indexes_size(c.oid), c.reltuples::bigint
            FROM pg_class c WHERE c.relname = ANY(%s) ORDER BY 2 DESC""",
            [
                [
                    "policy_clock",
                    "policy_clockaction",
                    "cases_case",
                    "cases_event",
                    "core_notification",
                ]
            ],
        )
        tables = {
            r[0]: {"total_mb": mb(r[1]), "heap_mb": mb(r[2]), "indexes_mb": mb(r[3]), "rows": r[4]}
            for r in cur.fetchall()
        }
        cur.execute(
            """
            SELECT i.relname, pg_relation_size(i.oid) FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
            WHERE c.relname = 'policy_clock' ORDER BY 2 DESC"""
        )
        indexes = {name: mb(size) for name, size in cur.fetchall()}
    return {"database_mb": mb(db), "tables": tables, "policy_clock_indexes_mb": indexes}


def markdown(result: dict) -> str:
    rows = [
        "| measurement | n | p50 | p95 | max | target |",
        "|---|---:|---:|---:|---:|:--:|",
    ]
    lat = result.get("latency")
    if lat:
        for group, label in (
            ("spread_clocks", "spread over the window"),
            ("burst_clocks", "burst"),
        ):
            for kind, name in (("overdue", "marked overdue"), ("warn", "warned")):
                f = lat[group].get(kind)
                if not f:
                    continue
                v = f["visible_s"]
                target = ("yes" if v["max"] < 60 else "**no**") if kind == "overdue" else ""
                rows.append(
                    f"| {name} after its time, {label} (visible, s) | {f['count']} | "
                    f"{v['p50']:.1f} | {v['p95']:.1f} | {v['max']:.1f} | {target} |"
                )
        rec = lat["all_arranged"].get("overdue", {}).get("recorded_s")
        if rec:
            rows.append(
                f"| `Clock.overdue_at − due_at`, all arranged (s) | {rec['n']} | "
                f"{rec['p50']:.1f} | {rec['p95']:.1f} | {rec['max']:.1f} | |"
            )
    rates = {}
    for run in result.get("throughput", []):
        ok = run["exactly_once"]
        rates.setdefault(run["workers"], run["events_per_second"])
        batch = run.get("batch_seconds") or {}
        rows.append(
            f"| throughput, {run['workers']} worker(s), {run['clocks']} overdue at once: "
            f"steps, full batch of {run['batch']} (s) | {run['steps_taken']} | "
            f"{batch.get('p50', 0):.1f} | {batch.get('p95', 0):.1f} | {run['seconds']:.1f} s "
            f"drained | **{run['events_per_second']:.0f} events/s**, duplicates "
            f"{ok['duplicates']}, missing {ok['missing']} |"
        )
    clocks = result.get("clocks") or {}
    if clocks.get("largest_due_instants") and rates:
        instant, count = clocks["largest_due_instants"][0]
        for workers, rate in sorted(rates.items()):
            projected = count / rate
            rows.append(
                f"| largest natural due instant of the load ({instant[:19]} UTC), last marked "
                f"overdue after, projected, {workers} worker(s) (s) | {count} | | | "
                f"≈ {projected:.0f} | {'yes' if projected < 60 else '**no**'} |"
            )
    for label, key in (
        ("before the runs", "idle_before"),
        ("after the runs", "idle"),
        ("after the runs and VACUUM policy_clock", "idle_vacuumed"),
    ):
        idle = result.get(key)
        if not idle:
            continue
        e = idle["explain"]
        rows.append(
            f"| idle scan {label}: EXPLAIN ANALYZE of the selection (ms) | | "
            f"{e['execution_ms']} | | | index scan: "
            f"{'yes' if 'Index Scan using clock_next_action' in e['plan'] else '**no**'} |"
        )
        p = idle["idle_pass_ms"]
        rows.append(
            f"| whole idle pass `sweep()` {label} (ms) | {p['n']} | {p['p50']:.2f} | "
            f"{p['p95']:.2f} | {p['max']:.2f} | |"
        )
    for run in result.get("throughput", []):
        e = run.get("explain_backlog")
        if e:
            rows.append(
                f"| selection with {run['due_before_start']} due at one instant: now / index "
                f"replaced by (next_action_at, id) (ms) | | {e['execution_ms']} / "
                f"{e['with_proposed_index']['execution_ms']} | | | |"
            )
    return "\n".join(rows)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://", "pgsql://")):
        print(
            "DATABASE_URL must point at a PostgreSQL database (the benchmark uses COPY).",
            file=sys.stderr,
        )
        return 2
    import django

    django.setup()
    import _timers_measure as m
    from _common import loadavg, log
    from _timers_loader import load
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from ledger import machine

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # (WhiteNoise warns otherwise)
    dbname = connection.settings_dict["NAME"]
    if "bench" not in dbname and "timers" not in dbname and not args.force:
        print(
            f"refusing to load into database {dbname!r} (name without 'bench' or 'timers'); use --force",
            file=sys.stderr,
        )
        return 2

    started = time.strftime("%Y%m%d-%H%M%S")
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"timers-{args.cases}-{started}"
    result: dict = {"started": started, "args": {k: str(v) for k, v in vars(args).items()}}
    result["machine"] = machine()
    result["loadavg_start"] = loadavg()
    log(
        f"machine: {result['machine']['nproc']} cores, {result['machine']['ram_gb']} GB; load {result['loadavg_start']}"
    )

    t = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    log(f"migrate: {time.perf_counter() - t:.1f} s")
    result["load"] = load(n=args.cases, seed=args.seed, days=args.days, reserve=args.reserve, reuse=args.reuse)
    result["sizes"] = sizes()
    log(f"database {result['sizes']['database_mb']} MB; policy_clock {result['sizes']['tables'].get('policy_clock')}")
    if args.drain:
        result["drain"] = [m.run_drain(workers=int(w), batch=args.batch) for w in args.drain.split(",") if w]
    elif not args.load_only:
        result["clocks"] = m.natural_bursts()
        log(f"clocks: {result['clocks']}")
        result["verify_load"] = m.verify_sample(seed=args.seed)
        result["reserve_available"] = m.Arranger().available()
        m.catch_up("start")
        result["idle_before"] = m.idle_scan(batch=args.batch)
        if not args.no_latency:
            result["latency"] = m.run_latency(
                spread=args.spread,
                window=args.window,
                burst=args.burst,
                lead=args.lead,
                interval=args.interval,
                batch=args.batch,
                seed=args.seed,
                log_path=args.out / f"{stem}-sweeper.log",
            )
        if not args.no_throughput:
            result["throughput"] = [
                m.run_throughput(clocks=args.backlog, workers=w, batch=args.batch, explain=i == 0)
                for i, w in enumerate(args.worker_counts)
            ]
        if args.profile:
            result["profile"] = m.run_profile(clocks=args.profile, batch=args.batch)
            result["profile_candidate"] = m.run_profile(clocks=args.profile, batch=args.batch, candidate=True)
        m.catch_up("end")
        result["idle"] = m.idle_scan(batch=args.batch)
        result["idle_vacuumed"] = m.idle_scan(batch=args.batch, vacuum=True)
        result["verify_end"] = m.verify_sample(seed=args.seed + 1)
    result["loadavg_end"] = loadavg()
    path = args.out / f"{stem}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    log(f"results: {path}")
    if not args.load_only and not args.drain:
        print("\n" + markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
