"""The public portal over HTTP (issue 15): submissions per second through the real form at 1
and 4 clients, with the proof of work solved by the client, and the status look-up's latency.

    export DATABASE_URL=postgres://postgres@127.0.0.1:55440/huiyin_bench PYTHONPATH=src
    .venv/bin/python bench/portal.py                       # the demo organisation, 20 s runs
    .venv/bin/python bench/portal.py --cases 1000000 --reuse   # on the ledger benchmark's million cases

A gunicorn serves Huiyin as ``huiyin serve`` does (2 workers, DEBUG off, ``bench/_http.py``).
Each client is its own process with one keep-alive connection and its own cookies, like a
phone; all start together. One submission is what a browser does: GET the form (CSRF cookie,
a fresh challenge), solve the challenge (SHA-256 with ``--pow-bits`` leading zero bits, in
Python, timed apart), POST the form (multipart, optionally with a photo: ``--photo``), GET the
receipt it redirects to (number and query code). Submissions per second count the whole
cycle; the POST's p50 / p95 is the registration itself (the cycle's are in the JSON). The
look-up then POSTs number + code to ``/portal/<org>/status/`` and opens the case page it
redirects to, in turn for cases registered in the runs and for ``--loaded-lookups`` cases
spread over the loaded ledger (given a known query code first: their code hash is rewritten,
nothing else). The table ends with issue 15's targets, met or missed.

All clients come from 127.0.0.1, so the server runs with the portal's per-address and
per-phone limits lifted (``HUIYIN_PORTAL_LIMIT_*``); the challenge is checked and used once as
in production. PostgreSQL only; a database whose name lacks ``bench`` is refused without
``--force`` (``--cases`` loads generated cases with the ledger benchmark's loader, which
empties the case tables first).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import multiprocessing as mp
import os
import queue
import random
import re
import sys
import time
from pathlib import Path

from _common import loadavg, log

HERE = Path(__file__).resolve().parent
UNLIMITED = "1000000000/60"
LIMIT_VARIABLES = (
    "HUIYIN_PORTAL_LIMIT_SUBMIT_IP",
    "HUIYIN_PORTAL_LIMIT_SUBMIT_PHONE",
    "HUIYIN_PORTAL_LIMIT_LOOKUP_IP",
    "HUIYIN_PORTAL_LIMIT_CODE_NUMBER",
    "HUIYIN_PORTAL_LIMIT_CODE_IP",
    "HUIYIN_PORTAL_LIMIT_ACT_IP",
    "HUIYIN_PORTAL_LIMIT_DOWNLOAD_IP",
)
# Issue 15: at 4 clients >= 150 submissions/s with the POST's p95 <= 100 ms; status look-up p95 <= 50 ms.
TARGETS = {"clients": 4, "per_second": 150.0, "post_p95_ms": 100.0, "lookup_p95_ms": 50.0}
_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
_CHALLENGE = re.compile(rb'name="challenge" value="([^"]+)"')
_NUMBER = re.compile(rb'id="receipt-number">(\d{8}-\d{5})<')
_CODE = re.compile(rb'id="receipt-code">([23456789A-Z]{8})<')
TEXTS = (
    "小区东门路灯坏了一个多月，晚上很黑，老人出行不便，请尽快修复。",
    "楼下餐馆油烟直排，窗户都不敢开，请相关部门查处。",
    "幸福路与长安街路口井盖松动，车辆经过响声很大，存在安全隐患。",
    "夜间施工噪音扰民，凌晨两点还在作业，影响休息。",
)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, default=0, help="load N generated cases first (default 0: keep the data)")
    p.add_argument("--reuse", action="store_true", help="with --cases: keep an identical earlier load")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--clients", default="1,4", help="submission runs, concurrent clients (default 1,4)")
    p.add_argument("--seconds", type=float, default=20.0, help="duration of each submission run (default 20)")
    p.add_argument("--lookups", type=int, default=300, help="measured status look-ups (default 300)")
    p.add_argument(
        "--loaded-lookups",
        type=int,
        default=200,
        help="loaded cases given a known query code for the look-ups (default 200; 0: only the runs' cases)",
    )
    p.add_argument("--warmup", type=int, default=10, help="unmeasured submissions before the runs (default 10)")
    p.add_argument("--pow-bits", type=int, default=12, help="the challenge's difficulty on the server (default 12)")
    p.add_argument("--photo", action="store_true", help="attach a 1600x1200 camera JPEG to every submission")
    p.add_argument(
        "--no-messages",
        action="store_true",
        help="leave the demo organisation silent (default: it sends receipts, so each submission queues its SMS)",
    )
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as huiyin serve)")
    p.add_argument("--server-src", type=Path, default=HERE.parent / "src", help="the src directory gunicorn serves")
    p.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    p.add_argument("--out", type=Path, default=HERE / "results", help="directory for the JSON results")
    return p.parse_args(argv)


# --- the client side: no Django here (worker processes import this module) ----------------------------


def solve(challenge: str) -> str:
    bits = int(challenge.split(".")[3])
    for n in itertools.count():
        digest = hashlib.sha256(f"{challenge}:{n}".encode()).digest()
        if int.from_bytes(digest, "big") >> (256 - bits) == 0:
            return str(n)
    raise AssertionError("unreachable")


def camera_jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Phone Maker"
    exif[0x8825] = {1: "N", 2: (30.0, 16.0, 27.5), 3: "E", 4: (120.0, 9.0, 12.0)}
    image = Image.effect_noise((1600, 1200), 40).convert("RGB")
    image.save(buffer, "JPEG", quality=85, exif=exif.tobytes())
    return buffer.getvalue()


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes, str]]) -> tuple[bytes, str]:
    boundary = f"----huiyinbench{time.time_ns()}"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, body, ctype in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n"
        )
        parts.append(head.encode() + body + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def submit_once(client, org: str, index: int, photo: bytes | None) -> dict:
    """One browser submission; the timings of its parts and the receipt's number and code."""
    t0 = time.perf_counter()
    form = client.get(f"/portal/{org}/submit/")
    t1 = time.perf_counter()
    assert form.status_code == 200, form.status_code
    challenge = _CHALLENGE.search(form.content).group(1).decode()
    solution = solve(challenge)
    t2 = time.perf_counter()
    fields = {
        "csrfmiddlewaretoken": _CSRF.search(form.content).group(1).decode(),
        "nature": "complaint",
        "text": TEXTS[index % len(TEXTS)],
        "location": f"幸福路{index % 300 + 1}号",
        "name": "李娜",
        "phone": f"139{index % 100_000_000:08d}",
        "consent": "on",
        "challenge": challenge,
        "solution": solution,
    }
    files = [("attachments", "IMG_0001.jpg", photo, "image/jpeg")] if photo else []
    body, ctype = multipart(fields, files)
    posted = client.request(
        "POST",
        f"/portal/{org}/submit/",
        body=body,
        headers={"Content-Type": ctype, "X-CSRFToken": client.cookies.get("csrftoken", "")},
    )
    t3 = time.perf_counter()
    assert posted.status_code == 302, (posted.status_code, posted.content[:400])
    receipt = client.get(posted.headers["location"])
    t4 = time.perf_counter()
    number, code = _NUMBER.search(receipt.content), _CODE.search(receipt.content)
    assert number and code, "no number or code on the receipt"
    return {
        "cycle_ms": (t4 - t0) * 1000,
        "form_ms": (t1 - t0) * 1000,
        "solve_ms": (t2 - t1) * 1000,
        "post_ms": (t3 - t2) * 1000,
        "receipt_ms": (t4 - t3) * 1000,
        "number": number.group(1).decode(),
        "code": code.group(1).decode(),
    }


def _worker(worker: int, port: int, org: str, seconds: float, with_photo: bool, start_box, ready, out) -> None:
    from _http import HttpClient

    try:
        client = HttpClient(port)
        photo = camera_jpeg() if with_photo else None
        client.get(f"/portal/{org}/")  # the connection is open before the start
    except BaseException as exc:  # noqa: BLE001
        ready.put(("error", worker, f"{type(exc).__name__}: {exc}"))
        raise
    ready.put(("ready", worker, ""))
    while start_box.value == 0.0:
        time.sleep(0.001)
    while time.time() < start_box.value:
        time.sleep(0.0005)
    stop_at = start_box.value + seconds
    rows, errors = [], 0
    for i in itertools.count():
        if time.time() >= stop_at:
            break
        try:
            rows.append(submit_once(client, org, worker * 10_000_000 + i, photo))
        except Exception:  # noqa: BLE001 - counted, the run goes on
            errors += 1
    out.put((worker, rows, errors))


def run_submissions(*, port: int, org: str, clients: int, seconds: float, photo: bool) -> dict:
    from _measure import summary

    ctx = mp.get_context("spawn")
    start_box = ctx.Value("d", 0.0)
    ready, out = ctx.Queue(), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(w, port, org, seconds, photo, start_box, ready, out)) for w in range(clients)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        state, worker, message = ready.get(timeout=120)
        if state != "ready":
            raise RuntimeError(f"client {worker} failed: {message}")
    load_before = loadavg()
    start_box.value = time.time() + 0.2
    rows, errors = [], 0
    for _ in procs:
        try:
            _worker_id, worker_rows, worker_errors = out.get(timeout=seconds + 300)
        except queue.Empty as exc:
            raise RuntimeError("a client did not report") from exc
        rows += worker_rows
        errors += worker_errors
    for p in procs:
        p.join(timeout=30)
    result = {
        "clients": clients,
        "seconds": seconds,
        "photo": photo,
        "submissions": len(rows),
        "errors": errors,
        "per_second": round(len(rows) / seconds, 1),
        "post_ms": summary([r["post_ms"] for r in rows]) if rows else None,
        "cycle_ms": summary([r["cycle_ms"] for r in rows]) if rows else None,
        "form_ms": summary([r["form_ms"] for r in rows]) if rows else None,
        "receipt_ms": summary([r["receipt_ms"] for r in rows]) if rows else None,
        "solve_ms": summary([r["solve_ms"] for r in rows]) if rows else None,
        "loadavg": [load_before, loadavg()],
        "pairs": [(r["number"], r["code"]) for r in rows[:2000]],
    }
    log(
        f"{clients} client(s): {result['per_second']} submissions/s, POST p50 {result['post_ms']['p50']} ms "
        f"p95 {result['post_ms']['p95']} ms, {errors} errors"
        if rows
        else f"{clients} client(s): nothing submitted, {errors} errors"
    )
    return result


def run_lookups(*, port: int, org: str, groups: dict[str, list[tuple[str, str]]], requests: int) -> dict:
    """One client: number + code, then the case page (two requests, timed apart), taking the
    groups of cases in turn ("new": registered in the runs, "loaded": spread over the ledger)."""
    from _http import HttpClient
    from _measure import summary

    client = HttpClient(port)
    form = client.get(f"/portal/{org}/status/")
    csrf = _CSRF.search(form.content).group(1).decode()
    names = [name for name, pairs in groups.items() if pairs]
    timings: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in names}
    for i in range(requests):
        name = names[i % len(names)]
        pairs = groups[name]
        number, code = pairs[(i // len(names)) % len(pairs)]
        t0 = time.perf_counter()
        found = client.post(f"/portal/{org}/status/", {"csrfmiddlewaretoken": csrf, "number": number, "code": code})
        t1 = time.perf_counter()
        assert found.status_code == 302, (found.status_code, number)
        shown = client.get(found.headers["location"])
        t2 = time.perf_counter()
        assert shown.status_code == 200 and number.encode() in shown.content
        timings[name][0].append((t1 - t0) * 1000)
        timings[name][1].append((t2 - t1) * 1000)
    lookup = [x for name in names for x in timings[name][0]]
    page = [x for name in names for x in timings[name][1]]
    result = {
        "requests": requests,
        "lookup_ms": summary(lookup),
        "case_page_ms": summary(page),
        "by_group": {
            name: {"lookup_ms": summary(timings[name][0]), "case_page_ms": summary(timings[name][1])} for name in names
        },
    }
    log(
        f"status look-up p50 {result['lookup_ms']['p50']} ms p95 {result['lookup_ms']['p95']} ms; "
        f"case page p50 {result['case_page_ms']['p50']} ms p95 {result['case_page_ms']['p95']} ms"
    )
    return result


def known_codes(org_code: str, n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` cases spread over the organisation's ledger (random ids between its first and last),
    each given a known query code: its hash is rewritten as a reissued receipt would, nothing
    else changes. The look-up then finds old cases among the million, not only new ones."""
    from django.db.models import Max, Min

    from huiyin.cases.models import Case
    from huiyin.cases.services import QUERY_CODE_ALPHABET, query_code_hash

    cases = Case.objects.filter(organization__code=org_code)
    bounds = cases.aggregate(lo=Min("pk"), hi=Max("pk"))
    if n <= 0 or bounds["lo"] is None:
        return []
    rng = random.Random(seed)
    wanted = {rng.randint(bounds["lo"], bounds["hi"]) for _ in range(n * 2)}
    found = list(cases.filter(pk__in=wanted).only("pk", "number").order_by("pk"))
    chosen = sorted(rng.sample(found, min(n, len(found))), key=lambda c: c.pk)  # spread, not the oldest half
    pairs = []
    for case in chosen:
        code = "".join(rng.choice(QUERY_CODE_ALPHABET) for _ in range(8))
        case.query_code_hash = query_code_hash(case.number, code)
        pairs.append((case.number, code))
    Case.objects.bulk_update(chosen, ["query_code_hash"], batch_size=500)
    log(f"{len(pairs)} loaded cases given a known query code for the look-ups")
    return pairs


def verdicts(result: dict) -> dict:
    """Issue 15's targets against this run."""
    out: dict = {}
    run = next((r for r in result.get("submissions", []) if r["clients"] == TARGETS["clients"]), None)
    if run and run["post_ms"]:
        out["per_second"] = [run["per_second"], TARGETS["per_second"], run["per_second"] >= TARGETS["per_second"]]
        p95 = run["post_ms"]["p95"]
        out["post_p95_ms"] = [p95, TARGETS["post_p95_ms"], p95 <= TARGETS["post_p95_ms"]]
    look = result.get("lookups")
    if look:
        p95 = look["lookup_ms"]["p95"]
        out["lookup_p95_ms"] = [p95, TARGETS["lookup_p95_ms"], p95 <= TARGETS["lookup_p95_ms"]]
    return out


# --- the run --------------------------------------------------------------------------------------------


def setup(args) -> dict:
    """Migrate, optionally load cases, and make sure the demo organisation runs a preset."""
    import django

    django.setup()
    from _loader import demo_ready

    from huiyin.cases.models import Case

    # The demo organisation texts nobody; a real one sends each submission's receipt (a message
    # row and its send task, queued in the registration's transaction; no worker runs here).
    demo, loaded = demo_ready(
        cases=args.cases, seed=args.seed, days=args.days, reuse=args.reuse, notify_complainants=not args.no_messages
    )
    return {
        "org": demo.org.code,
        "cases_before": Case.objects.count(),
        "load": loaded,
        "loaded_pairs": known_codes(demo.org.code, args.loaded_lookups, args.seed),
    }


def markdown(result: dict) -> str:
    rows = [
        "| portal | p50 | p95 | max | per second |",
        "|---|---:|---:|---:|---:|",
    ]
    for run in result["submissions"]:
        post = run["post_ms"] or {}
        photo = ", with a photo" if run["photo"] else ""
        rows.append(
            f"| submission POST, {run['clients']} client(s){photo} | {post.get('p50', 0):.0f} ms | "
            f"{post.get('p95', 0):.0f} ms | {post.get('max', 0):.0f} ms | **{run['per_second']:.0f}/s** |"
        )
    look = result.get("lookups")
    if look:
        for key, label in (("lookup_ms", "status look-up (number + code)"), ("case_page_ms", "case page after it")):
            s = look[key]
            rows.append(f"| {label} | {s['p50']:.0f} ms | {s['p95']:.0f} ms | {s['max']:.0f} ms | |")
            for group, figures in look.get("by_group", {}).items():
                g = figures[key]
                cells = f"{g['p50']:.0f} ms | {g['p95']:.0f} ms | {g['max']:.0f} ms"
                rows.append(f"| &nbsp;&nbsp;{group} cases | {cells} | |")
    labels = {
        "per_second": "submissions/s at 4 clients",
        "post_p95_ms": "submission POST p95 at 4 clients (ms)",
        "lookup_p95_ms": "status look-up p95 (ms)",
    }
    if result.get("targets"):
        rows += ["", "| issue 15 target | measured | target | |", "|---|---:|---:|---|"]
        for key, (measured, target, met) in result["targets"].items():
            bound = "≥" if key == "per_second" else "≤"
            rows.append(f"| {labels[key]} | {measured:.0f} | {bound} {target:.0f} | {'met' if met else '**missed**'} |")
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
    for variable in LIMIT_VARIABLES:  # every client is 127.0.0.1
        os.environ[variable] = UNLIMITED
    os.environ["HUIYIN_PORTAL_POW_BITS"] = str(args.pow_bits)
    import _http

    started = time.strftime("%Y%m%d-%H%M%S")
    result: dict = {"started": started, "args": {k: str(v) for k, v in vars(args).items()}, "loadavg_start": loadavg()}
    result.update(setup(args))
    org = result["org"]
    with _http.Server(
        src=args.server_src.resolve(), workers=args.workers, log_path=args.out / f"gunicorn-portal-{started}.log"
    ) as server:
        warm = _http.HttpClient(server.port)
        for i in range(args.warmup):
            submit_once(warm, org, 99_000_000 + i, None)
        result["submissions"] = [
            run_submissions(port=server.port, org=org, clients=int(c), seconds=args.seconds, photo=args.photo)
            for c in args.clients.split(",")
            if c.strip()
        ]
        pairs = [p for run in result["submissions"] for p in run.pop("pairs")]
        groups = {"new": pairs, "loaded": result.pop("loaded_pairs")}
        if any(groups.values()) and args.lookups:
            result["lookups"] = run_lookups(port=server.port, org=org, groups=groups, requests=args.lookups)
    result["targets"] = verdicts(result)
    result["loadavg_end"] = loadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"portal-{started}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    log(f"results: {path}")
    print("\n" + markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
