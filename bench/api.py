"""The REST API over HTTP (issue 18): case creation at 1, 4 and 16 clients, then list and detail
latency, with the case numbers checked gapless afterwards; and a per-request profile of one
registration.

    export DATABASE_URL=postgres://postgres@127.0.0.1:55440/huiyin_bench PYTHONPATH=src
    .venv/bin/python bench/api.py --cases 1000000 --reuse            # the full run (fsync on)
    .venv/bin/python bench/api.py --cases 20000 --seconds 10 --requests 100   # a small one
    .venv/bin/python bench/api.py --profile-only --profile-requests 200      # where a request's time goes

A gunicorn serves Huiyin as ``huiyin serve`` does (2 workers, DEBUG off, ``bench/_http.py``).
The API key is a registered system's (``bench-api``, scopes read and register) with the
key's rate lifted (``HUIYIN_API_RATE``). Each client is its own process with one keep-alive
connection, all start together; a creation is one ``POST /api/v1/cases/`` with a JSON body
(a named caller with a phone, a category of the demo tree, the generator's texts) answered
201. Creations per second count the whole cycle, p50 / p95 the request. Afterwards every
number handed out on the run's days is checked: per day 1..n without a gap or a duplicate,
and the day's ``CaseSequence`` at n.

List and detail: one client, ``--requests`` measured requests each (after ``--warmup``):
the default list (30 newest), the next page through the cursor, filtered lists (open
cases, a channel, a department, a category, a 7-day range), a keyword search, and the
detail of cases drawn from the whole ledger.

``--profile`` (or ``--profile-only``) runs ``--profile-requests`` registrations through
Django's test client in this process under cProfile — the whole request path but the
socket — and writes the functions by cumulative time, grouped by where the time goes
(authentication, parsing, validation, numbering, the event and its subscribers, the
commit, the answer).

PostgreSQL only; a database whose name lacks ``bench`` is refused without ``--force``
(``--cases`` loads generated cases with the ledger benchmark's loader, which empties the
case tables first).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import json
import multiprocessing as mp
import os
import pstats
import queue
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

from _common import loadavg, log

HERE = Path(__file__).resolve().parent
TEXTS = (
    "小区东门路灯坏了一个多月，晚上很黑，老人出行不便，请尽快修复。",
    "楼下餐馆油烟直排，窗户都不敢开，请相关部门查处。",
    "幸福路与长安街路口井盖松动，车辆经过响声很大，存在安全隐患。",
    "夜间施工噪音扰民，凌晨两点还在作业，影响休息。",
)
NAMES = ("李娜", "王伟", "张敏", "刘洋", "陈静", "杨磊")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, default=0, help="load N generated cases first (default 0: keep the data)")
    p.add_argument("--reuse", action="store_true", help="with --cases: keep an identical earlier load")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--clients", default="1,4,16", help="creation runs, concurrent clients (default 1,4,16)")
    p.add_argument("--seconds", type=float, default=30.0, help="duration of each creation run (default 30)")
    p.add_argument("--requests", type=int, default=300, help="measured requests per list/detail kind (default 300)")
    p.add_argument("--warmup", type=int, default=20, help="unmeasured requests before each measurement (default 20)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as huiyin serve)")
    p.add_argument("--server-src", type=Path, default=HERE.parent / "src", help="the src directory gunicorn serves")
    p.add_argument("--profile", action="store_true", help="also profile registrations in process (cProfile)")
    p.add_argument("--profile-only", action="store_true", help="only the profile: no server, no runs")
    p.add_argument("--profile-requests", type=int, default=200, help="registrations under the profiler")
    p.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    p.add_argument("--out", type=Path, default=HERE / "results", help="directory for the JSON results")
    return p.parse_args(argv)


# --- the client side: no Django here (worker processes import this module) ----------------------------


PHONES = int(os.environ.get("BENCH_PHONE_OFFSET", "0"))  # set once per run by main(), read by the clients


def case_body(index: int, categories: list[int]) -> dict:
    """A registration of a named caller; ``index`` (below 10**8, shifted by the run's random
    offset) gives the phone number: no two creations of a day share a caller, since the
    hotline refuses a same-day repeat call as a new case."""
    return {
        "channel": "online",
        "nature": "complaint",
        "text": TEXTS[index % len(TEXTS)],
        "location": f"幸福路{index % 300 + 1}号",
        "category_id": categories[index % len(categories)],
        "party": {"name": NAMES[index % len(NAMES)], "phone": f"139{(index + PHONES) % 100_000_000:08d}"},
    }


def create_once(client, key: str, index: int, categories: list[int]) -> tuple[float, str]:
    body = json.dumps(case_body(index, categories), ensure_ascii=False).encode()
    t0 = time.perf_counter()
    answer = client.request(
        "POST",
        "/api/v1/cases/",
        body=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    ms = (time.perf_counter() - t0) * 1000
    assert answer.status_code == 201, (answer.status_code, answer.content[:400])
    return ms, json.loads(answer.content)["number"]


def _worker(worker: int, base: int, port: int, key: str, categories, seconds: float, start_box, ready, out) -> None:
    from _http import HttpClient

    try:
        client = HttpClient(port)
        assert (
            client.request("GET", "/api/v1/categories/", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        )
    except BaseException as exc:  # noqa: BLE001
        ready.put(("error", worker, f"{type(exc).__name__}: {exc}"))
        raise
    ready.put(("ready", worker, ""))
    while start_box.value == 0.0:
        time.sleep(0.001)
    while time.time() < start_box.value:
        time.sleep(0.0005)
    stop_at = start_box.value + seconds
    rows, errors, first_error = [], 0, ""
    for i in itertools.count():
        if time.time() >= stop_at:
            break
        try:
            rows.append(create_once(client, key, base + worker * 100_000 + i, categories))
        except Exception as exc:  # noqa: BLE001 - counted, the run goes on
            errors += 1
            first_error = first_error or repr(exc)[:300]
    out.put((worker, rows, errors, first_error))


def run_creations(*, run: int, port: int, key: str, categories: list[int], clients: int, seconds: float) -> dict:
    """``clients`` processes creating cases for ``seconds``; every creation names a caller whose
    phone no other creation of the benchmark uses (the hotline refuses a same-day repeat call)."""
    from _measure import summary

    ctx = mp.get_context("spawn")
    start_box = ctx.Value("d", 0.0)
    ready, out = ctx.Queue(), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(w, run * 10_000_000, port, key, categories, seconds, start_box, ready, out))
        for w in range(clients)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        state, worker, message = ready.get(timeout=120)
        if state != "ready":
            raise RuntimeError(f"client {worker} failed: {message}")
    load_before = loadavg()
    start_box.value = time.time() + 0.2
    rows, errors, first_errors = [], 0, []
    for _ in procs:
        try:
            _worker_id, worker_rows, worker_errors, first_error = out.get(timeout=seconds + 300)
        except queue.Empty as exc:
            raise RuntimeError("a client did not report") from exc
        rows += worker_rows
        errors += worker_errors
        if first_error:
            first_errors.append(first_error)
    for p in procs:
        p.join(timeout=30)
    latencies = [ms for ms, _number in rows]
    result = {
        "clients": clients,
        "seconds": seconds,
        "created": len(rows),
        "errors": errors,
        "first_errors": first_errors[:3],
        "per_second": round(len(rows) / seconds, 1),
        "post_ms": summary(latencies) if rows else None,
        "loadavg": [load_before, loadavg()],
        "numbers": [number for _ms, number in rows],
    }
    log(
        f"{clients} client(s): {result['per_second']} creations/s, p50 {result['post_ms']['p50']} ms "
        f"p95 {result['post_ms']['p95']} ms, {errors} errors"
        if rows
        else f"{clients} client(s): nothing created, {errors} errors {first_errors[:1]}"
    )
    return result


# --- server side (Django) -------------------------------------------------------------------------------


def setup(args) -> dict:
    """Migrate, optionally load cases, the demo organisation with a preset, a system and its key."""
    import django

    django.setup()
    from _loader import demo_ready

    from huiyin.api.models import ApiKey
    from huiyin.api.services import key_create
    from huiyin.cases.models import Case, Category
    from huiyin.orgs.models import ExternalSystem
    from huiyin.orgs.roles import Cap

    demo, loaded = demo_ready(cases=args.cases, seed=args.seed, days=args.days, reuse=args.reuse)
    system, _created = ExternalSystem.objects.get_or_create(
        organization=demo.org,
        code="bench-api",
        defaults={"name": "压测系统", "kind": ExternalSystem.Kind.API, "caps": [Cap.REGISTER, Cap.VIEW_ALL]},
    )
    ApiKey.objects.filter(system=system).delete()
    _key, plain = key_create(
        organization=demo.org, name="bench", scopes=["read", "register"], action_names=[], system=system
    )
    leaves = list(
        Category.objects.filter(organization=demo.org, children__isnull=True)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    return {
        "org": demo.org.code,
        "org_id": demo.org.pk,
        "cases_before": Case.objects.count(),
        "load": loaded,
        "key": plain,
        "categories": leaves,
    }


def check_gapless(org_id: int, numbers: list[str]) -> dict:
    """Every day the run registered on: the numbers are exactly 1..n and the sequence stands at n."""
    from datetime import date

    from huiyin.cases.models import Case, CaseSequence

    days = sorted({n.split("-")[0] for n in numbers})
    problems = []
    checked = 0
    for day in days:
        seen = sorted(
            int(n.split("-")[1])
            for n in Case.objects.filter(organization_id=org_id, number__startswith=f"{day}-").values_list(
                "number", flat=True
            )
        )
        checked += len(seen)
        last = (
            CaseSequence.objects.filter(organization_id=org_id, day=date(int(day[:4]), int(day[4:6]), int(day[6:])))
            .values_list("last", flat=True)
            .first()
        )
        if seen != list(range(1, len(seen) + 1)):
            missing = sorted(set(range(1, (seen[-1] if seen else 0) + 1)) - set(seen))
            problems.append({"day": day, "missing": missing[:20], "duplicates": len(seen) - len(set(seen))})
        if last != len(seen):
            problems.append({"day": day, "sequence": last, "cases": len(seen)})
    created_unique = len(set(numbers)) == len(numbers)
    result = {"days": days, "numbers_checked": checked, "problems": problems, "answers_unique": created_unique}
    log(f"gapless check: {checked} numbers on {len(days)} day(s), {len(problems)} problem(s)")
    return result


def _measure(client, key: str, urls: list[str], requests: int, warmup: int) -> dict:
    from _measure import summary

    headers = {"Authorization": f"Bearer {key}"}
    for url in urls[:warmup] if len(urls) >= warmup else list(itertools.islice(itertools.cycle(urls), warmup)):
        client.request("GET", url, headers=headers)
    times = []
    for url in itertools.islice(itertools.cycle(urls), requests):
        t0 = time.perf_counter()
        answer = client.request("GET", url, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        assert answer.status_code == 200, (url, answer.status_code, answer.content[:300])
    return summary(times)


def run_reads(*, port: int, key: str, org_id: int, requests: int, warmup: int, seed: int) -> dict:
    """List and detail latency, one client."""
    from _http import HttpClient

    from huiyin.cases.models import Case, Category
    from huiyin.orgs.models import Department

    client = HttpClient(port)
    headers = {"Authorization": f"Bearer {key}"}
    first = json.loads(client.request("GET", "/api/v1/cases/?limit=30", headers=headers).content)
    next_url = first["next"].split("//", 1)[1].split("/", 1)[1] if first.get("next") else ""
    department = Department.objects.filter(organization_id=org_id, handles_cases=True).order_by("id").first()
    category = Category.objects.filter(organization_id=org_id, parent__isnull=True).order_by("id").first()
    week = (
        Case.objects.filter(organization_id=org_id)
        .order_by("-received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    since = (week - timedelta(days=7)).date().isoformat() if week else "2020-01-01"
    ids = list(Case.objects.filter(organization_id=org_id).values_list("pk", flat=True).order_by("pk"))
    rng = random.Random(seed)
    sample = [rng.choice(ids) for _ in range(min(len(ids), 5000))] if ids else []
    kinds = {
        "list: newest 30": ["/api/v1/cases/?limit=30"],
        "list: next page (cursor)": [f"/{next_url}"] if next_url else [],
        "list: filtered": [
            "/api/v1/cases/?state=open&limit=30",
            "/api/v1/cases/?channel=phone&limit=30",
            f"/api/v1/cases/?department_id={department.pk}&limit=30" if department else "/api/v1/cases/",
            f"/api/v1/cases/?category_id={category.pk}&limit=30" if category else "/api/v1/cases/",
            f"/api/v1/cases/?date_from={since}&limit=30",
        ],
        "list: keyword": [f"/api/v1/cases/?q={w}&limit=30" for w in ("漏水", "噪音", "路灯", "油烟")],
        "detail": [f"/api/v1/cases/{pk}/" for pk in sample],
    }
    result = {}
    for name, urls in kinds.items():
        if not urls:
            continue
        result[name] = _measure(client, key, urls, requests, warmup)
        log(f"{name}: p50 {result[name]['p50']} ms p95 {result[name]['p95']} ms")
    return result


# Where the time of a registration goes: each function's own time (cProfile's tottime), summed
# by where the function lives; the groups add up to the whole request.
AREAS = (
    ("PostgreSQL round trips (psycopg waiting on the server)", ("psycopg/", "psycopg_binary")),
    ("Django ORM (building queries, reading rows)", ("django/db/",)),
    ("DRF (request, parsing, serializer, response)", ("rest_framework/",)),
    (
        "middleware and request handling",
        (
            "django/core/handlers",
            "django/middleware",
            "django/contrib",
            "django/test",
            "whitenoise",
            "axes/",
            "django_otp",
            "csp/",
            "django_htmx",
            "huiyin/access",
            "huiyin/portal",
            "huiyin/core/middleware",
            "huiyin/administration",
        ),
    ),
    ("the API app (key, idempotency, views)", ("huiyin/api/",)),
    ("the case core (validation, numbering, party, event, hash)", ("huiyin/cases/",)),
    ("deadline clocks and the policy (calendar, rules)", ("huiyin/deadlines/", "huiyin/policy/", "chinese_calendar")),
    ("notifications (the receipt queued)", ("huiyin/notifications/", "django_tasks")),
    ("encryption and keyed hashes", ("cryptography/", "huiyin/core/crypto")),
)
KEY_FUNCTIONS = (
    ("the API view (create)", "huiyin/api/views.py", "create"),
    ("key authentication", "huiyin/api/auth.py", "resolve_key"),
    ("case_register", "huiyin/cases/services.py", "case_register"),
    ("intake validation", "huiyin/cases/validation.py", "validate_intake"),
    ("the registered event (_event: hash, insert, subscribers)", "huiyin/cases/services.py", "_event"),
    ("in-transaction subscribers (bus.publish)", "huiyin/cases/bus.py", "publish"),
    ("deadline clocks (on_case_event)", "huiyin/deadlines/subscribers.py", "on_case_event"),
    ("the commit (COMMIT)", "django/db/backends/base/base.py", "commit"),
    ("after-commit callbacks (tasks enqueued)", "django/db/backends/base/base.py", "run_and_clear_commit_hooks"),
)


def profile(*, org_code: str, key: str, categories: list[int], requests: int, out: Path) -> dict:
    """cProfile of ``requests`` registrations through the whole Django request path (no socket)."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    for i in range(20):  # warm: imports, caches, prepared plans
        body = json.dumps(case_body(91_000_000 + i, categories), ensure_ascii=False)
        assert client.post("/api/v1/cases/", body, content_type="application/json").status_code == 201
    bodies = [json.dumps(case_body(92_000_000 + i, categories), ensure_ascii=False) for i in range(requests)]
    statements: list[tuple[str, float]] = []

    def record(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((sql, (time.perf_counter() - t0) * 1000))

    with connection.execute_wrapper(record):  # the statements of 20 more (not profiled)
        for i in range(20):
            body = json.dumps(case_body(93_000_000 + i, categories), ensure_ascii=False)
            assert client.post("/api/v1/cases/", body, content_type="application/json").status_code == 201
    unprofiled, cpu = [], []
    for i in range(requests // 2):
        body = json.dumps(case_body(94_000_000 + i, categories), ensure_ascii=False)
        t0, c0 = time.perf_counter(), time.process_time()
        answer = client.post("/api/v1/cases/", body, content_type="application/json")
        unprofiled.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert answer.status_code == 201, answer.content[:300]
    profiler = cProfile.Profile()
    wall = []
    for body in bodies:
        t0 = time.perf_counter()
        profiler.enable()
        answer = client.post("/api/v1/cases/", body, content_type="application/json")
        profiler.disable()
        wall.append((time.perf_counter() - t0) * 1000)
        assert answer.status_code == 201, answer.content[:300]
    stats = pstats.Stats(profiler)
    per_request_ms = 1000 * stats.total_tt / requests  # type: ignore[attr-defined]
    areas = dict.fromkeys([label for label, _needles in AREAS] + ["other Python (standard library, built-ins)"], 0.0)
    functions = dict.fromkeys(label for label, _file, _name in KEY_FUNCTIONS)
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        tottime, cumtime = row[2], row[3]
        area = next((label for label, needles in AREAS if any(n in filename for n in needles)), None)
        areas[area or "other Python (standard library, built-ins)"] += tottime
        for label, file, function in KEY_FUNCTIONS:
            if filename.endswith(file) and name == function:
                functions[label] = round(1000 * cumtime / requests, 2)
    areas = {label: round(1000 * seconds / requests, 2) for label, seconds in areas.items()}
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(45)
    out.mkdir(parents=True, exist_ok=True)
    dump = out / f"api-profile-{time.strftime('%Y%m%d-%H%M%S')}.prof"
    stats.dump_stats(str(dump))
    sql_ms = sum(ms for _sql, ms in statements) / 20
    result = {
        "requests": requests,
        "unprofiled_ms_per_request": round(sum(unprofiled) / max(len(unprofiled), 1), 2),
        "unprofiled_cpu_ms_per_request": round(sum(cpu) / max(len(cpu), 1), 2),
        "wall_ms_per_request": round(sum(wall) / len(wall), 2),
        "profiled_ms_per_request": round(per_request_ms, 2),
        "queries_per_request": round(len(statements) / 20, 1),
        "sql_ms_per_request": round(sql_ms, 2),
        "own_time_ms_per_request_by_area": areas,
        "cumulative_ms_per_request_of": functions,
        "top": text.getvalue().splitlines()[:80],
        "dump": str(dump),
        "statements": [f"{ms:7.2f} ms  {sql[:150]}" for sql, ms in statements[: len(statements) // 20]],
    }
    log(
        f"profile: {result['unprofiled_ms_per_request']} ms a registration in process "
        f"({result['unprofiled_cpu_ms_per_request']} ms of it on this process's CPU) "
        f"({result['queries_per_request']} queries, {result['sql_ms_per_request']} ms of SQL)"
    )
    return result


def markdown(result: dict) -> str:
    rows = ["| API | p50 | p95 | max | per second |", "|---|---:|---:|---:|---:|"]
    for run in result.get("creations", []):
        post = run["post_ms"] or {}
        rows.append(
            f"| POST /api/v1/cases/, {run['clients']} client(s) | {post.get('p50', 0):.0f} ms | "
            f"{post.get('p95', 0):.0f} ms | {post.get('max', 0):.0f} ms | **{run['per_second']:.0f}/s** |"
        )
    for name, s in result.get("reads", {}).items():
        rows.append(f"| GET {name} | {s['p50']:.0f} ms | {s['p95']:.0f} ms | {s['max']:.0f} ms | |")
    return "\n".join(rows)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://", "pgsql://")):
        print("DATABASE_URL must point at a PostgreSQL database.", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiyin.settings")
    database = os.environ["DATABASE_URL"].rsplit("/", 1)[-1]
    if "bench" not in database and not args.force:
        print(f"refusing to write to database {database!r} (name without 'bench'); use --force", file=sys.stderr)
        return 2
    os.environ["HUIYIN_API_RATE"] = "100000000/min"  # one key for every client: no throttle
    os.environ["BENCH_PHONE_OFFSET"] = str(random.randrange(100_000_000))  # the spawned clients inherit it
    global PHONES
    PHONES = int(os.environ["BENCH_PHONE_OFFSET"])
    import _http

    started = time.strftime("%Y%m%d-%H%M%S")
    result: dict = {"started": started, "args": {k: str(v) for k, v in vars(args).items()}, "loadavg_start": loadavg()}
    result.update(setup(args))
    key, categories = result.pop("key"), result["categories"]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW fsync")
        result["fsync"] = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        result["synchronous_commit"] = cursor.fetchone()[0]
    log(f"PostgreSQL fsync={result['fsync']} synchronous_commit={result['synchronous_commit']}")
    if not args.profile_only:
        with _http.Server(
            src=args.server_src.resolve(), workers=args.workers, log_path=args.out / f"gunicorn-api-{started}.log"
        ) as server:
            warm = _http.HttpClient(server.port)
            for i in range(args.warmup):
                create_once(warm, key, 90_000_000 + i, categories)
            result["creations"] = [
                run_creations(
                    run=run, port=server.port, key=key, categories=categories, clients=int(c), seconds=args.seconds
                )
                for run, c in enumerate(c for c in args.clients.split(",") if c.strip())
            ]
            numbers = [n for run in result["creations"] for n in run.pop("numbers")]
            result["gapless"] = check_gapless(result["org_id"], numbers)
            result["reads"] = run_reads(
                port=server.port,
                key=key,
                org_id=result["org_id"],
                requests=args.requests,
                warmup=args.warmup,
                seed=args.seed,
            )
    if args.profile or args.profile_only:
        result["profile"] = profile(
            org_code=result["org"], key=key, categories=categories, requests=args.profile_requests, out=args.out
        )
    result["loadavg_end"] = loadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"api-{started}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    log(f"results: {path}")
    print("\n" + markdown(result))
    if result.get("gapless", {}).get("problems"):
        print("case numbers are NOT gapless:", result["gapless"]["problems"][:5], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
