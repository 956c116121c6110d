#!/usr/bin/env python
"""Reports benchmark: N generated cases in PostgreSQL (COPY), the roll-ups rebuilt, then the
dashboard's p95 (leader, department head), the monthly and annual reports, the consumer's
catch-up rate, and a 100,000-row export's time and peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:55440/huiyin_bench \\
        python bench/reports.py --cases 100000 [--reuse]

See bench/README.md. Results: bench/results/reports-<N>-<time>.json and a Markdown table
on stdout (for docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiyin.settings")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, default=100_000, help="number of generated cases (default 100,000)")
    p.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    p.add_argument(
        "--days", type=int, default=730, help="cases received over this many days up to now (default 730: two years)"
    )
    p.add_argument("--reuse", action="store_true", help="keep a database that already holds this load (and roll-ups)")
    p.add_argument("--requests", type=int, default=60, help="measured dashboard requests per actor (default 60)")
    p.add_argument("--warmup", type=int, default=5, help="unmeasured requests first (default 5)")
    p.add_argument("--export-rows", type=int, default=100_000, help="rows of the list export (default 100,000)")
    p.add_argument("--catchup-events", type=int, default=20_000, help="events the consumer re-applies (default 20,000)")
    p.add_argument("--batch", type=int, default=1000, help="cases per rebuild batch (default 1000)")
    p.add_argument("--no-rebuild", action="store_true", help="keep the roll-ups of an earlier run (with --reuse)")
    p.add_argument("--force", action="store_true", help="allow a database whose name does not contain 'bench'")
    p.add_argument("--out", type=Path, default=HERE / "results", help="directory for the JSON results")
    return p.parse_args(argv)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    args = parse_args(argv)
    import django

    django.setup()
    from _common import log
    from _loader import load
    from _measure import summary
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from huiyin.cases.models import Case, Event
    from huiyin.demo.generator import build_organization
    from huiyin.orgs.models import Staff
    from huiyin.policy.presets import load_preset
    from huiyin.policy.services import current_policy, policy_activate, presets_dir
    from huiyin.reports import rollups, services
    from huiyin.reports.export import render_pdf, render_xlsx
    from huiyin.reports.models import CaseFact, DayAxis, DayRollup, RollupCursor

    if connection.vendor != "postgresql":
        print("PostgreSQL only (the loader uses COPY): set DATABASE_URL", file=sys.stderr)
        return 2
    if "bench" not in connection.settings_dict["NAME"] and not args.force:
        print("the database name must contain 'bench' (it is emptied), or pass --force", file=sys.stderr)
        return 2
    result: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "started": timezone.now().isoformat()}
    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    meta = load(n=args.cases, seed=args.seed, days=args.days, reuse=args.reuse)
    result["load"] = {**meta, "seconds": round(time.perf_counter() - t, 1)}
    demo = build_organization()
    if current_policy(demo.org) is None:  # the hotline's KPIs (the loader registers under none)
        policy_activate(organization=demo.org, preset=load_preset(presets_dir() / "city_hotline.yaml"), actor=None)

    # 1. The roll-ups from scratch (unless reused with the load).
    if args.no_rebuild and CaseFact.objects.count() >= args.cases:
        log("--no-rebuild: roll-ups kept")
        result["rebuild"] = {"kept": True}
    else:
        log(f"rebuilding the roll-ups from {args.cases} cases ...")
        t = time.perf_counter()
        done = rollups.rebuild(
            batch=args.batch,
            progress=lambda n, total: log(f"  {n}/{total}") if n % (args.batch * 20) == 0 or n == total else None,
        )
        seconds = time.perf_counter() - t
        result["rebuild"] = {"cases": done, "seconds": round(seconds, 1), "cases_per_second": round(done / seconds)}
        log(f"rebuilt in {seconds:.1f} s")
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE reports_dayaxis")
        cur.execute("VACUUM ANALYZE reports_dayrollup")
        cur.execute("VACUUM ANALYZE reports_casefact")
    result["rows"] = {
        "case_facts": CaseFact.objects.count(),
        "day_rollup": DayRollup.objects.count(),
        "day_axis": DayAxis.objects.count(),
    }
    log(f"rows: {result['rows']}")

    # 2. The consumer: the last K events applied again (each recomputes its case).
    cursor = RollupCursor.objects.get(name=rollups.CURSOR)
    last = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    back = Event.objects.filter(pk__lte=last).order_by("-pk").values_list("pk", flat=True)[args.catchup_events - 1]
    RollupCursor.objects.filter(pk=cursor.pk).update(last_event_id=back - 1)
    t = time.perf_counter()
    applied = rollups.catch_up()
    seconds = time.perf_counter() - t
    result["catch_up"] = {
        "events": applied,
        "seconds": round(seconds, 2),
        "events_per_second": round(applied / seconds),
    }
    log(f"catch-up: {applied} events in {seconds:.1f} s")

    # 3. The dashboard, in process (whole request: middleware, view, selectors, SQL, template).
    today = timezone.localdate()
    month_end = today.replace(day=1) - timedelta(days=1)
    month = (month_end.replace(day=1), month_end)
    year = (date(month_end.year, 1, 1), month_end)
    pages = {}
    for username in ("leader", "head_city"):
        staff = Staff.objects.get(username=username)
        client = Client()
        client.force_login(staff)
        for label, (first, last_day) in (("month", month), ("year_to_date", year)):
            url = f"/reports/?start={first}&end={last_day}"
            for _i in range(args.warmup):
                assert client.get(url).status_code == 200
            times = []
            for _i in range(args.requests):
                t = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200
            pages[f"{username}:{label}"] = summary(times)
            log(f"dashboard {username} {label}: {pages[f'{username}:{label}']}")
    result["dashboard_ms"] = pages

    # 4. Periodic reports: generated as the task does, then the files.
    analyst = Staff.objects.get(username="analyst")
    reports = {}
    for kind, on in (("month", month_end), ("year", month_end), ("return", month_end)):
        report = services.report_request(actor=analyst, kind=kind, on=on)
        t = time.perf_counter()
        report = services.report_generate(report_id=report.pk)
        generate = time.perf_counter() - t
        t = time.perf_counter()
        xlsx = render_xlsx(report)
        xlsx_s = time.perf_counter() - t
        t = time.perf_counter()
        pdf = render_pdf(report)
        pdf_s = time.perf_counter() - t
        reports[kind] = {
            "period": f"{report.start}..{report.end}",
            "generate_s": round(generate, 2),
            "xlsx_s": round(xlsx_s, 2),
            "xlsx_kb": len(xlsx) // 1024,
            "pdf_s": round(pdf_s, 2),
            "pdf_kb": len(pdf) // 1024,
        }
        log(f"report {kind}: {reports[kind]}")
    result["reports"] = reports

    # 5. A 100,000-row list export (the ledger's, where this checkout has it), streamed.
    try:
        export_url = reverse("cases:ledger_csv")
    except NoReverseMatch:
        export_url = ""
    exports = {}
    if export_url:
        clerk = Staff.objects.get(username="clerk")
        client = Client()
        client.force_login(clerk)
        newest = (
            Case.objects.filter(organization=demo.org).order_by("-received_at").values_list("received_at", flat=True)
        )
        nth = newest[min(args.export_rows, args.cases) - 1]
        first_day = timezone.localtime(nth).date()
        for fmt in ("csv", "xlsx"):
            url = reverse(f"cases:ledger_{fmt}") + f"?date_from={first_day}"
            figures: dict = {}
            # Two passes: the time without tracing, then the Python heap's peak under
            # tracemalloc (which slows everything several times over).
            for traced in (False, True):
                if traced:
                    tracemalloc.start()
                t = time.perf_counter()
                # Streamed in the response however long (a longer export than this setting is
                # written in the background: bench/exports.py measures that path too).
                with override_settings(HUIYIN_EXPORT_INLINE_ROWS=10**9):
                    response = client.get(url)
                size = 0
                body = getattr(response, "streaming_content", None)
                if body is not None:
                    for chunk in body:
                        size += len(chunk)
                else:
                    size = len(response.content)
                if traced:
                    _current, peak = tracemalloc.get_traced_memory()
                    tracemalloc.stop()
                    figures["python_peak_mb"] = round(peak / 1024 / 1024, 1)
                else:
                    figures.update(
                        status=response.status_code,
                        seconds=round(time.perf_counter() - t, 1),
                        bytes=size,
                        streamed=body is not None,
                    )
            exports[fmt] = figures
            log(f"export {fmt}: {exports[fmt]}")
    else:
        exports["skipped"] = "this checkout has no ledger export (cases:ledger_csv)"
        log(exports["skipped"])
    result["export"] = exports
    result["max_rss_mb"] = round(rss_mb(), 1)
    result["finished"] = timezone.now().isoformat()

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"reports-{args.cases}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    log(f"results: {path}")
    print(markdown(result))
    return 0


def markdown(r: dict) -> str:
    lines = ["| measure | figure |", "|---|---|"]
    load = r.get("load", {})
    if not load.get("reused"):
        lines.append(f"| load ({load.get('cases')} cases, COPY) | {load.get('seconds')} s |")
    rb = r.get("rebuild", {})
    if "seconds" in rb:
        lines.append(f"| roll-ups rebuilt from scratch | {rb['seconds']} s ({rb['cases_per_second']} cases/s) |")
    rows = r.get("rows", {})
    lines.append(
        f"| roll-up rows (every dimension / one at a time) | {rows.get('day_rollup')} / {rows.get('day_axis')} |"
    )
    cu = r.get("catch_up", {})
    lines.append(f"| consumer catch-up | {cu.get('events')} events in {cu.get('seconds')} s |")
    for key, s in r.get("dashboard_ms", {}).items():
        lines.append(f"| dashboard {key} p50 / p95 | {s['p50']} / {s['p95']} ms |")
    for kind, s in r.get("reports", {}).items():
        lines.append(
            f"| {kind} report ({s['period']}) generate / xlsx / pdf "
            f"| {s['generate_s']} / {s['xlsx_s']} / {s['pdf_s']} s |"
        )
    for fmt, s in r.get("export", {}).items():
        if isinstance(s, dict):
            lines.append(
                f"| ledger export {fmt} | {s['seconds']} s, {s['bytes']} bytes, peak {s['python_peak_mb']} MB |"
            )
        else:
            lines.append(f"| export | {s} |")
    lines.append(f"| process max RSS | {r.get('max_rss_mb')} MB |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
