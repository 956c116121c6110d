#!/usr/bin/env python
"""Duplicate-candidate look-up at scale (issue 19): how long the intake form waits for the
open and recent cases a matter being typed may repeat, with N cases in PostgreSQL.

    export DATABASE_URL=postgres://postgres@127.0.0.1:55440/huiyin_bench PYTHONPATH=src
    .venv/bin/python bench/ledger.py --cases 1000000 --load-only     # the cases (COPY)
    .venv/bin/python bench/repeats_lookup.py                          # bands, then the look-ups

First the text bands (``triage.repeats``: 16 MinHash bands of each case's character 3-grams,
computed by the product's own functions) are written for every case that has none, with
COPY from two processes, as ``huiyin triage index`` does one case at a time (that command is
for an installation's older cases; this is its bulk form for a benchmark). Then, as the
demo's clerk, ``--lookups`` POSTs to ``/triage/repeats/`` (the endpoint the intake form calls
as the clerk types; Django's test client: middleware, view, ``repeats.candidates``, SQL,
JSON) after ``--warmup`` unmeasured ones. Each look-up is a matter like one already in the
ledger — a loaded case's title and text with a sentence of its own added (a caller
reporting the same thing again in other words), its place, and a phone number — so the
bands find real neighbours, as they would at an office that has heard it before. The table
gives p50 / p95 / max of the whole request and its SQL, the statements per look-up, and how
many candidates came back. Target (issue 19): p95 <= 50 ms at 1,000,000 cases.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import sys
import time
from pathlib import Path

from _common import loadavg, log

HERE = Path(__file__).resolve().parent
TARGET_P95_MS = 50.0
TODO = "bench_band_todo"
ADDED = ("昨天已经打过电话了，还是没人来处理。", "情况比上次更严重了。", "请相关部门尽快处理。", "邻居们也都反映过。")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lookups", type=int, default=300, help="measured look-ups (default 300)")
    p.add_argument("--warmup", type=int, default=20, help="unmeasured look-ups first (default 20)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2, help="processes computing the bands (default 2)")
    p.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    p.add_argument("--out", type=Path, default=HERE / "results", help="directory for the JSON results")
    return p.parse_args(argv)


def _band_part(part: int, parts: int, out) -> None:
    """One process: bands for the cases without any whose id falls in its share, by COPY."""
    import django

    django.setup()
    from _loader import raw_connect

    from huiyin.core.chinese import prepare
    from huiyin.triage.minhash import bands, shingles

    written = cases = 0
    with raw_connect(autocommit=False) as read, raw_connect(autocommit=False) as write:
        with read.cursor(name=f"bands_{part}") as cur, write.cursor() as wcur:
            cur.itersize = 5000
            cur.execute(
                f"SELECT c.id, c.organization_id, c.title, c.text, c.received_at FROM cases_case c "
                f"JOIN {TODO} t ON t.id = c.id WHERE t.id %% %s = %s",
                [parts, part],
            )
            with wcur.copy(
                "COPY triage_textband (organization_id, case_id, band, value, received_at) FROM STDIN"
            ) as cp:
                for case_id, org_id, title, text, received_at in cur:
                    for band, value in enumerate(bands(shingles(prepare(title, text)))):
                        cp.write_row((org_id, case_id, band, value, received_at))
                        written += 1
                    cases += 1
        write.commit()
    out.put({"part": part, "cases": cases, "bands": written})


def backfill(workers: int) -> dict:
    from django.db import connection

    # The cases to do, listed once before the processes start: an anti-join against the band
    # table in each process's cursor is planned while the table is small and then re-reads
    # the other process's committed rows for every case (a quadratic scan, found here).
    with connection.cursor() as cur:
        cur.execute("ANALYZE triage_textband")
        cur.execute(f"DROP TABLE IF EXISTS {TODO}")
        cur.execute(
            f"CREATE UNLOGGED TABLE {TODO} AS SELECT c.id FROM cases_case c "
            "WHERE NOT EXISTS (SELECT 1 FROM triage_textband b WHERE b.case_id = c.id)"
        )
        cur.execute(f"SELECT count(*) FROM {TODO}")
        (missing,) = cur.fetchone()
    if not missing:
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE {TODO}")
        log("every case has its bands")
        return {"cases": 0}
    log(f"bands for {missing:,} cases, {workers} processes ...")
    t = time.perf_counter()
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    connection.close()  # not shared with the forked processes
    procs = [ctx.Process(target=_band_part, args=(i, workers, out)) for i in range(workers)]
    for proc in procs:
        proc.start()
    parts = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
        if proc.exitcode:
            raise RuntimeError(f"a band process failed (exit {proc.exitcode})")
    seconds = time.perf_counter() - t
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE {TODO}")
        cur.execute("VACUUM ANALYZE triage_textband")
    done = {
        "cases": sum(p["cases"] for p in parts),
        "bands": sum(p["bands"] for p in parts),
        "seconds": round(seconds, 1),
    }
    log(f"bands written: {done['cases']:,} cases, {done['bands']:,} rows in {seconds:.0f} s (then VACUUM ANALYZE)")
    return done


def samples(org, n: int, rng: random.Random) -> list[dict[str, str]]:
    """``n`` matters like loaded cases: a random recent case's title and text with a sentence
    added, its place, a phone number of its own."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    since = timezone.now() - timedelta(days=90)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT title, text, location FROM cases_case TABLESAMPLE SYSTEM (2) "
            "WHERE organization_id = %s AND received_at >= %s LIMIT %s",
            [org.pk, since, n * 4],
        )
        rows = cur.fetchall()
    rng.shuffle(rows)
    return [
        {
            "title": title,
            "text": f"{text}{rng.choice(ADDED)}",
            "location": location,
            "party_phone": f"137{rng.randrange(10**8):08d}",
        }
        for title, text, location in rows[:n]
    ]


def measure(client, bodies: list[dict[str, str]], warmup: int) -> dict:
    from _measure import summary
    from django.db import connection

    for body in bodies[:warmup]:
        assert client.post("/triage/repeats/", body).status_code == 200
    totals, sql, statements, found = [], [], [], []
    for body in bodies[warmup:]:
        spent: list[float] = []

        def timed(execute, sql_text, params, many, context, spent=spent):
            t0 = time.perf_counter()
            try:
                return execute(sql_text, params, many, context)
            finally:
                spent.append((time.perf_counter() - t0) * 1000)

        t0 = time.perf_counter()
        with connection.execute_wrapper(timed):
            response = client.post("/triage/repeats/", body)
        totals.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
        sql.append(sum(spent))
        statements.append(len(spent))
        found.append(len(json.loads(response.content)["candidates"]))
    return {
        "total_ms": summary(totals),
        "sql_ms": summary(sql),
        "statements_per_lookup": round(sum(statements) / len(statements), 1),
        "with_candidates": sum(1 for f in found if f),
        "candidates_mean": round(sum(found) / len(found), 2),
        "lookups": len(totals),
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiyin.settings")
    database = os.environ.get("DATABASE_URL", "")
    if not database.startswith(("postgres://", "postgresql://")):
        print("DATABASE_URL must point at a PostgreSQL database.", file=sys.stderr)
        return 2
    if "bench" not in database.rsplit("/", 1)[-1] and not args.force:
        print("refusing a database whose name lacks 'bench' (use --force)", file=sys.stderr)
        return 2
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from huiyin.cases.models import Case
    from huiyin.orgs.models import Staff

    result: dict = {"started": time.strftime("%Y%m%d-%H%M%S"), "args": {k: str(v) for k, v in vars(args).items()}}
    result["loadavg_start"] = loadavg()
    call_command("migrate", verbosity=0)
    result["backfill"] = backfill(args.workers)
    clerk = Staff.objects.get(username="clerk")
    result["cases"] = Case.objects.count()
    client = Client()
    client.force_login(clerk)
    bodies = samples(clerk.organization, args.lookups + args.warmup, random.Random(args.seed))
    log(f"{len(bodies) - args.warmup} look-ups as {clerk.username} over {result['cases']:,} cases ...")
    result["lookups"] = measure(client, bodies, args.warmup)
    result["loadavg_end"] = loadavg()
    total = result["lookups"]["total_ms"]
    result["target"] = [total["p95"], TARGET_P95_MS, total["p95"] <= TARGET_P95_MS]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"repeats-lookup-{result['started']}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    log(f"results: {path}")
    lk, sq = result["lookups"], result["lookups"]["sql_ms"]
    print(
        f"\n| duplicate-candidate look-up ({result['cases']:,} cases) | p50 | p95 | max |\n|---|---:|---:|---:|\n"
        f"| POST /triage/repeats/ (whole request) | {total['p50']:.0f} ms | {total['p95']:.0f} ms "
        f"| {total['max']:.0f} ms |\n"
        f"| its SQL | {sq['p50']:.0f} ms | {sq['p95']:.0f} ms | {sq['max']:.0f} ms |\n\n"
        f"{lk['lookups']} look-ups, {lk['statements_per_lookup']} statements each, {lk['with_candidates']} with "
        f"candidates (mean {lk['candidates_mean']}); target p95 <= {TARGET_P95_MS:.0f} ms: "
        f"{'met' if result['target'][2] else 'missed'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
