#!/usr/bin/env python
"""Exports benchmark: the time and the Python heap's peak of list exports (core/exports.py)
on the ledger benchmark's data, streamed in the response and written by the background
task, at two sizes — memory is flat when the peak does not grow with the rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:55440/huiyin_bench PYTHONPATH=src \\
        python bench/exports.py --rows 20000,100000

Needs a database loaded by ``bench/ledger.py --cases N --load-only`` (N at least the largest
``--rows``); nothing is loaded or emptied here. Each export runs twice: once for the time,
once under tracemalloc for the peak (tracing slows it several times over). Results:
bench/results/exports-<time>.json and a Markdown table on stdout (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiyin.settings")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", default="20000,100000", help="export sizes, comma-separated (default 20000,100000)")
    p.add_argument("--formats", default="csv,xlsx", help="formats (default csv,xlsx)")
    p.add_argument("--out", type=Path, default=HERE / "results", help="directory for the JSON results")
    return p.parse_args(argv)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    args = parse_args(argv)
    import django

    django.setup()
    from _common import loadavg, log
    from django.db import connection
    from django.test import Client, override_settings
    from django.urls import reverse
    from django.utils import timezone

    from huiyin.cases.models import Case
    from huiyin.core import export_jobs
    from huiyin.core.models import ExportJob
    from huiyin.demo.generator import DEMO_CODE
    from huiyin.orgs.models import Organization, Staff

    if connection.vendor != "postgresql":
        print("PostgreSQL only: set DATABASE_URL to the ledger benchmark's database", file=sys.stderr)
        return 2
    org = Organization.objects.get(code=DEMO_CODE)
    clerk = Staff.objects.get(username="clerk")
    total = Case.objects.filter(organization=org).count()
    newest = Case.objects.filter(organization=org).order_by("-received_at").values_list("received_at", flat=True)
    result: dict = {"started": time.strftime("%Y%m%d-%H%M%S"), "cases": total, "runs": []}
    log(f"{total} cases; load {loadavg()}")

    def traced(run) -> tuple[float, float, object]:
        """(seconds untraced, peak MB traced, the untraced run's value)."""
        t = time.perf_counter()
        value = run()
        seconds = time.perf_counter() - t
        tracemalloc.start()
        run()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return seconds, peak / 1024 / 1024, value

    client = Client()
    client.force_login(clerk)
    for rows in (int(n) for n in args.rows.split(",")):
        nth = newest[min(rows, total) - 1]
        query = f"date_from={timezone.localtime(nth).date()}"
        for fmt in args.formats.split(","):
            url = reverse(f"cases:ledger_{fmt}") + "?" + query

            def streamed(url=url) -> int:
                with override_settings(HUIYIN_EXPORT_INLINE_ROWS=10**9):  # streamed however long
                    response = client.get(url)
                return sum(len(block) for block in response.streaming_content)

            seconds, peak, size = traced(streamed)
            run = {"list": "ledger", "rows": rows, "fmt": fmt, "path": "streamed"}
            run.update(seconds=round(seconds, 1), python_peak_mb=round(peak, 1), bytes=size)
            result["runs"].append(run)
            log(f"streamed   {fmt:<4} {rows:>7} rows: {seconds:6.1f} s, peak {peak:5.1f} MB, {size:,} bytes")

            def background(fmt=fmt, query=query) -> int:
                job = export_jobs.job_start(actor=clerk, source="ledger", fmt=fmt, query=query)
                done = export_jobs.job_run(job_id=job.pk)
                assert done is not None and done.status == "done", done and done.error
                size = done.size
                done.file.delete(save=False)
                ExportJob.objects.filter(pk=done.pk).delete()
                return size

            seconds, peak, size = traced(background)
            run = {"list": "ledger", "rows": rows, "fmt": fmt, "path": "background"}
            run.update(seconds=round(seconds, 1), python_peak_mb=round(peak, 1), bytes=size)
            result["runs"].append(run)
            log(f"background {fmt:<4} {rows:>7} rows: {seconds:6.1f} s, peak {peak:5.1f} MB, {size:,} bytes")
    result["max_rss_mb"] = round(rss_mb(), 1)
    result["loadavg_end"] = loadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"exports-{result['started']}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    log(f"results: {path}")
    lines = ["| export (clerk, masked) | rows | time | Python heap peak | size |", "|---|---:|---:|---:|---:|"]
    for r in result["runs"]:
        lines.append(
            f"| ledger {r['fmt']}, {r['path']} | {r['rows']:,} | {r['seconds']} s | {r['python_peak_mb']} MB "
            f"| {r['bytes'] / 1024 / 1024:.1f} MB |"
        )
    lines.append(f"| process max RSS | | | {result['max_rss_mb']} MB | |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
