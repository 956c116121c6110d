"""What this machine can serve at best, under Huiyin's API creation (issue 18's 250/s).

    export DATABASE_URL=postgres://postgres@127.0.0.1:55440/huiyin_bench PYTHONPATH=src
    .venv/bin/python bench/ceiling.py --clients 4 --seconds 15

The same clients as ``bench/api.py`` (one process each, one keep-alive connection, all
started together, on the same cores as the server and PostgreSQL) send, for ``--seconds``
each, one kind of request after another, from the cheapest to the whole registration:

1. ``wsgi``: a POST to a WSGI application of ten lines (``_hello_wsgi.py``) under the same
   gunicorn (2 workers): the floor under any Python web answer on this machine.
2. ``key refused``: ``POST /api/v1/cases/`` with a key that does not exist (401): Django's
   middleware, DRF, and the one statement that looks the key up.
3. ``body refused``: the same with a valid key and a body without text (400): the key, its
   rate, the parser, the serializer and the intake checks; nothing written.
4. ``read``: ``GET /api/v1/categories/`` with the key: the key, its rate and one read.
5. ``create``: the registration ``bench/api.py`` measures (201).

Each line is a ceiling for the ones below it: a registration cannot be answered faster than
a refusal that does part of its work. Results go to ``bench/results/ceiling-*.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import queue
import sys
import time
from collections import Counter
from pathlib import Path

from _common import loadavg, log

HERE = Path(__file__).resolve().parent
PROBES = ("wsgi", "key refused", "body refused", "read", "create")


def _request(probe: str, key: str, index: int, categories: list[int]) -> tuple[str, str, bytes | None, dict]:
    from api import case_body

    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    body = json.dumps(case_body(index, categories), ensure_ascii=False).encode()
    if probe == "wsgi":
        return "POST", "/", body, {"Content-Type": "application/json"}
    if probe == "key refused":
        return "POST", "/api/v1/cases/", body, {**auth, "Authorization": "Bearer hy_nosuchkey_0000000000000000"}
    if probe == "body refused":
        return "POST", "/api/v1/cases/", json.dumps({"channel": "online", "text": ""}).encode(), auth
    if probe == "read":
        return "GET", "/api/v1/categories/", None, auth
    return "POST", "/api/v1/cases/", body, auth


def _worker(
    worker: int, probe: str, port: int, key: str, categories: list[int], seconds, start_box, ready, out, run_no
):
    sys.path.insert(0, str(HERE))
    from _http import HttpClient

    client = HttpClient(port)
    ready.put(("ready", worker))
    while start_box.value == 0.0:
        time.sleep(0.001)
    while time.time() < start_box.value:
        time.sleep(0.0005)
    stop_at = start_box.value + seconds
    rows, statuses = [], Counter()
    # no phone twice in a day: the hotline refuses a same-day repeat call as a new case
    base = int(os.environ.get("BENCH_PHONE_OFFSET", "0")) + run_no * 10_000_000 + worker * 1_000_000
    for i in itertools.count():
        if time.time() >= stop_at:
            break
        method, path, body, headers = _request(probe, key, base + i, categories)
        t0 = time.perf_counter()
        answer = client.request(method, path, body=body, headers=headers)
        rows.append((time.perf_counter() - t0) * 1000)
        statuses[answer.status_code] += 1
    out.put((worker, rows, dict(statuses)))


_RUNS = itertools.count()


def run(probe: str, *, port: int, key: str, categories: list[int], clients: int, seconds: float) -> dict:
    from _measure import summary

    ctx = mp.get_context("spawn")
    start_box = ctx.Value("d", 0.0)
    ready, out = ctx.Queue(), ctx.Queue()
    run_no = next(_RUNS)
    procs = [
        ctx.Process(target=_worker, args=(w, probe, port, key, categories, seconds, start_box, ready, out, run_no))
        for w in range(clients)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    load_before = loadavg()
    start_box.value = time.time() + 0.2
    rows, statuses = [], Counter()
    for _ in procs:
        try:
            _w, worker_rows, worker_statuses = out.get(timeout=seconds + 300)
        except queue.Empty as exc:
            raise RuntimeError("a client did not report") from exc
        rows += worker_rows
        statuses.update(worker_statuses)
    for p in procs:
        p.join(timeout=30)
    result = {
        "probe": probe,
        "clients": clients,
        "per_second": round(len(rows) / seconds, 1),
        "ms": summary(rows),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "loadavg": [load_before, loadavg()],
    }
    log(
        f"{probe:>13}: {result['per_second']:7.1f}/s  p50 {result['ms']['p50']} ms  p95 {result['ms']['p95']} ms  "
        f"statuses {result['statuses']}"
    )
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as huiyin serve)")
    p.add_argument("--probes", default=",".join(PROBES), help=f"comma-separated, of {', '.join(PROBES)}")
    p.add_argument("--out", type=Path, default=HERE / "results")
    args = p.parse_args(argv)
    database = os.environ.get("DATABASE_URL", "")
    if not database.startswith(("postgres://", "postgresql://")) or "bench" not in database.rsplit("/", 1)[-1]:
        print("DATABASE_URL must name a PostgreSQL database with 'bench' in its name.", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiyin.settings")
    os.environ["HUIYIN_API_RATE"] = "100000000/min"
    os.environ.setdefault("BENCH_PHONE_OFFSET", str(int(time.time()) % 100_000 * 1000))
    import _http

    import api

    fixture = api.setup(api.parse_args(["--profile-only"]))
    started = time.strftime("%Y%m%d-%H%M%S")
    result = {"started": started, "args": {k: str(v) for k, v in vars(args).items()}, "runs": []}
    for probe in args.probes.split(","):
        if probe not in PROBES:
            raise SystemExit(f"unknown probe {probe!r}")
        server = (
            _http.Server(
                src=HERE,
                workers=args.workers,
                log_path=args.out / f"gunicorn-ceiling-{started}.log",
                app="_hello_wsgi:application",
                ready="/",
            )
            if probe == "wsgi"
            else _http.Server(
                src=(HERE.parent / "src"), workers=args.workers, log_path=args.out / f"gunicorn-ceiling-{started}.log"
            )
        )
        with server:

            def measure(seconds: float, probe: str = probe, port: int = server.port) -> dict:
                return run(
                    probe,
                    port=port,
                    key=fixture["key"],
                    categories=fixture["categories"],
                    clients=args.clients,
                    seconds=seconds,
                )

            measure(min(3.0, args.seconds))  # warm: connections, plans, caches
            result["runs"].append(measure(args.seconds))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"ceiling-{started}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    log(f"results: {path}")
    print("\n| request | per second | p50 | p95 |\n|---|---:|---:|---:|")
    for r in result["runs"]:
        print(f"| {r['probe']} | **{r['per_second']:.0f}/s** | {r['ms']['p50']:.0f} ms | {r['ms']['p95']:.0f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
