#!/usr/bin/env python
"""Ledger benchmark: N generated cases in PostgreSQL, then page timings and registration throughput.

    DATABASE_URL=postgres://postgres@127.0.0.1:55440/huiyin_bench \\
        python bench/ledger.py --cases 1000000 [--reuse]

See bench/README.md. Results: bench/results/ledger-<N>-<time>.json (and a Markdown
table on stdout for docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiyin.settings")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, default=1_000_000, help="number of generated cases (default 1,000,000)")
    p.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    p.add_argument(
        "--days",
        type=int,
        default=365,
        help="cases received over this many days up to now (default 365)",
    )
    p.add_argument("--reuse", action="store_true", help="skip loading if the database already holds this load")
    p.add_argument("--requests", type=int, default=200, help="measured requests per page (default 200)")
    p.add_argument("--warmup", type=int, default=20, help="unmeasured requests before each page (default 20)")
    p.add_argument(
        "--hard-requests",
        type=int,
        default=21,
        help="measured requests for the extra rare/absent-term search set (default 21)",
    )
    p.add_argument("--seconds", type=float, default=20.0, help="duration of each throughput run (default 20)")
    p.add_argument("--clients", default="1,4", help="throughput runs, concurrent clients (default 1,4)")
    p.add_argument(
        "--http",
        action="store_true",
        help="request the pages over HTTP from a gunicorn on a loopback port (as `huiyin serve`), not in process",
    )
    p.add_argument(
        "--server-src",
        type=Path,
        default=HERE.parent / "src",
        help="with --http: the src directory the server runs (another checkout's, for a before/after)",
    )
    p.add_argument(
        "--intake-seconds",
        type=float,
        default=0,
        help="with --http: a clerk registering through the intake form for this long, one session (default: off)",
    )
    p.add_argument(
        "--intake-then",
        choices=("case", "form"),
        default="case",
        help="with --intake-seconds: after each registration open the case page (default) or a new intake form",
    )
    p.add_argument("--no-pages", action="store_true", help="skip the page measurements")
    p.add_argument("--no-explain", action="store_true", help="skip the EXPLAIN ANALYZE of the ledger queries")
    p.add_argument("--load-only", action="store_true", help="load (or reuse) and stop")
    p.add_argument("--no-throughput", action="store_true", help="skip the registration throughput runs")
    p.add_argument(
        "--force",
        action="store_true",
        help="allow loading into a database whose name does not contain 'bench' (it is emptied)",
    )
    p.add_argument("--out", type=Path, default=HERE / "results", help="directory for the JSON results")
    return p.parse_args(argv)


def machine() -> dict:
    from django.db import connection

    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:  # noqa: BLE001
            return ""

    with connection.cursor() as cur:
        cur.execute("SELECT version()")
        version = cur.fetchone()[0]
        cur.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
            [
                [
                    "shared_buffers",
                    "work_mem",
                    "maintenance_work_mem",
                    "effective_cache_size",
                    "random_page_cost",
                    "jit",
                    "fsync",
                    "synchronous_commit",
                    "full_page_writes",
                    "max_wal_size",
                    "max_connections",
                    "max_parallel_workers_per_gather",
                ]
            ],
        )
        pg = dict(cur.fetchall())
    mem_kb = int(sh("grep MemTotal /proc/meminfo | awk '{print $2}'") or 0)
    return {
        "nproc": os.cpu_count(),
        "cpu": sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": __import__("django").get_version(),
        "psycopg": __import__("psycopg").__version__,
        "postgresql": version,
        "pg_settings": pg,
    }


def sizes() -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        db = cur.fetchone()[0]
        cur.execute(
            """
            SELECT c.relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid),
                   pg_indexes_size(c.oid), c.reltuples::bigint
            FROM pg_class c WHERE c.relname = ANY(%s) ORDER BY 2 DESC""",
            [["cases_case", "cases_event", "cases_contact", "cases_party", "cases_caseround"]],
        )
        tables = {
            r[0]: {"total_mb": mb(r[1]), "heap_mb": mb(r[2]), "indexes_mb": mb(r[3]), "rows": r[4]}
            for r in cur.fetchall()
        }
        cur.execute("""
            SELECT i.relname, pg_relation_size(i.oid) FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
            WHERE c.relname = 'cases_case' ORDER BY 2 DESC""")
        indexes = {name: mb(size) for name, size in cur.fetchall()}
    return {"database_mb": mb(db), "tables": tables, "cases_case_indexes_mb": indexes}


def mb(n: int) -> float:
    return round(n / 1024 / 1024, 1)


def markdown(result: dict) -> str:
    rows = [
        "| page / operation | p50 | p95 | max | SQL p50 | SQL p95 | ≤ 200 ms p95 |",
        "|---|---:|---:|---:|---:|---:|:--:|",
    ]
    names = {
        "default": "ledger default list `/cases/` (pages 1–5)",
        "filtered": "filtered list (8 filter sets, rotated)",
        "search": "keyword search (漏水 噪音 停车 欠薪 油烟 路灯 物业费)",
        "detail": "case detail `/cases/<id>/`",
        "desk": "*extra:* my desk `/cases/desk/` (clerk)",
        "scoped": "*extra:* ledger pages 1–5 as a department handler (scoped)",
        "search_hard": "*extra:* search for absent / rare words and 3–4 character phrases",
        "scoped_search": "*extra:* a department handler's searches (5 words) and category filters",
        "scoped_filtered": "*extra:* a department handler's filtered lists (the 8 filter sets)",
        "head": "*extra:* a department head: pages 1–2, searches, categories, filtered lists",
        "board": "*extra:* supervision board `/supervision/` (supervisor)",
        "callbacks": "*extra:* callback desk `/callbacks/` (callback officer)",
    }
    for key, page in result.get("pages", {}).items():
        t, s = page["total_ms"], page["sql_ms"]
        ok = "yes" if t["p95"] <= 200 else "**no**"
        sql = f"{s['p50']:.0f} ms | {s['p95']:.0f} ms" if s else "(HTTP) | (HTTP)"
        rows.append(f"| {names[key]} | {t['p50']:.0f} ms | {t['p95']:.0f} ms | {t['max']:.0f} ms | {sql} | {ok} |")
    for run in result.get("throughput", []):
        lat = run["latency_ms"] or {}
        rows.append(
            f"| registration `case_register`, {run['clients']} client(s), {run['seconds']:.0f} s | "
            f"{lat.get('p50', 0):.0f} ms | {lat.get('p95', 0):.0f} ms | "
            f"{lat.get('max', 0):.0f} ms | | | **{run['per_second']:.0f} cases/s**, "
            f"gapless: {'yes' if run['numbers']['ok'] else 'NO'} |"
        )
    out = "\n".join(rows)
    variants = ["", "| variant | p50 | p95 | max | SQL p95 |", "|---|---:|---:|---:|---:|"]
    for key in ("default", "filtered", "search", "search_hard", "scoped_search", "scoped_filtered", "head"):
        for label, v in result.get("pages", {}).get(key, {}).get("variants", {}).items():
            t = v["total_ms"]
            sql = f"{v['sql_ms']['p95']:.0f} ms" if v["sql_ms"] else "(HTTP)"
            variants.append(f"| {key}: {label} | {t['p50']:.0f} ms | {t['p95']:.0f} ms | {t['max']:.0f} ms | {sql} |")
    intake = result.get("intake")
    if intake and intake.get("windows"):
        variants += [
            "",
            f"Intake over HTTP, one clerk's session, {intake['seconds']:.0f} s: {intake['registered']} registered, "
            f"session {intake['session_bytes_at_end']} bytes at the end",
            "",
            f"| minute | registered | POST p50 | POST p95 | then ({intake['then']}) p50 | p95 |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for w in intake["windows"]:
            page = w["then_ms"]
            shown = f"{page['p50']:.0f} ms | {page['p95']:.0f} ms"
            variants.append(
                f"| {w['window']} | {w['registered']} | {w['post_ms']['p50']:.0f} ms | {w['post_ms']['p95']:.0f} ms | "
                f"{shown} |"
            )
    return out + "\n" + "\n".join(variants)


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
    import _measure
    import _throughput
    from _common import loadavg, log
    from _loader import load
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # (WhiteNoise warns otherwise)
    dbname = connection.settings_dict["NAME"]
    if "bench" not in dbname and not args.force:
        print(
            f"refusing to load into database {dbname!r} (name without 'bench'); use --force",
            file=sys.stderr,
        )
        return 2

    started = time.strftime("%Y%m%d-%H%M%S")
    result: dict = {"started": started, "args": {k: str(v) for k, v in vars(args).items()}}
    result["machine"] = machine()
    result["loadavg_start"] = loadavg()
    log(
        f"machine: {result['machine']['nproc']} cores, {result['machine']['ram_gb']} GB; load {result['loadavg_start']}"
    )

    t = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    log(f"migrate: {time.perf_counter() - t:.1f} s")
    result["load"] = load(n=args.cases, seed=args.seed, days=args.days, reuse=args.reuse)
    result["sizes"] = sizes()
    log(f"database {result['sizes']['database_mb']} MB; cases_case indexes {result['sizes']['cases_case_indexes_mb']}")
    if not args.load_only:
        if not args.no_explain:
            result["explain"] = _measure.explain_queries(seed=args.seed)
            for label, e in result["explain"].items():
                log(f"EXPLAIN ANALYZE {label:<45} {e['execution_ms']} ms ({e['statements']} statements)")
            result["search_term_matches"] = _measure.term_counts()
            log(f"search term matches: {result['search_term_matches']}")
        with contextlib.ExitStack() as stack:
            client_for = _measure.in_process_client
            if args.http:
                import _http

                server = stack.enter_context(
                    _http.Server(src=args.server_src.resolve(), log_path=args.out / f"gunicorn-{started}.log")
                )
                result["server"] = {"src": str(args.server_src.resolve()), "workers": server.workers}

                def client_for(staff):
                    client = _http.HttpClient(server.port)
                    client.login_as(staff)
                    return client

            if not args.no_pages:
                result["pages"] = _measure.run_pages(
                    requests=args.requests,
                    warmup=args.warmup,
                    seed=args.seed,
                    hard_requests=args.hard_requests,
                    client_for=client_for,
                )
            if args.http and args.intake_seconds:
                from huiyin.orgs.models import Staff

                result["intake"] = _http.intake_over_time(
                    client_for(Staff.objects.get(username="clerk")),
                    seconds=args.intake_seconds,
                    seed=args.seed,
                    then=args.intake_then,
                )
        if not args.no_throughput:
            result["throughput"] = [
                _throughput.run_throughput(clients=int(c), seconds=args.seconds, seed=args.seed)
                for c in args.clients.split(",")
                if c.strip()
            ]
    result["loadavg_end"] = loadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"ledger-{args.cases}-{started}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    log(f"results: {path}")
    if not args.load_only:
        print("\n" + markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
