"""Registration throughput through ``huiyin.cases.services.case_register``.

Each client is a separate process (its own interpreter and database connection,
like an application-server worker), registering generated matters back to back
as one of the demo intake clerks for a fixed time. All clients start together
once every one is ready. Afterwards every day the run numbered is checked: its
numbers run 1..last without a gap or a duplicate, and ``CaseSequence.last``
equals the highest.

Module-level imports stay free of Django: spawned workers import this module
before they set Django up.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import queue
import time

from _common import loadavg, log


def _inputs(seed: int, worker: int, count: int):
    from huiyin.cases import services
    from huiyin.demo.generator import build_organization, generate_case_specs

    demo = build_organization()
    out = []
    for spec in generate_case_specs(count, seed=seed + 1000 * (worker + 1)):
        party = spec.party
        out.append(
            services.IntakeInput(
                channel=spec.channel,
                nature=spec.nature,
                title=spec.title,
                text=spec.text,
                party=services.PartyInput(
                    name=party.name,
                    phone=party.phone,
                    id_number=party.id_number,
                    address=party.address,
                    affiliation=party.affiliation,
                    anonymous=party.anonymous,
                ),
                category_id=demo.categories[spec.category].pk,
                urgency=spec.urgency,
                location=spec.location,
                group_size=spec.group_size,
                representatives=[services.PartyInput(name=p.name, phone=p.phone) for p in spec.representatives],
                forwarded_by=spec.forwarded_by,
                forwarded_ref=spec.forwarded_ref,
            )
        )
    return demo, out


def _worker(worker: int, seed: int, start_box, seconds: float, ready, out) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiyin.settings")
    import django

    django.setup()
    from django.db import connection

    from huiyin.cases import services

    try:
        demo, inputs = _inputs(seed, worker, 3000)
        clerks = [demo.staff[u] for u in ("clerk", "clerk2", "clerk3")]
        actor = clerks[worker % len(clerks)]
        connection.ensure_connection()
    except BaseException as exc:  # noqa: BLE001
        ready.put(("error", worker, f"{type(exc).__name__}: {exc}"))
        raise
    ready.put(("ready", worker, ""))
    while start_box.value == 0.0:  # published once every worker is ready
        time.sleep(0.001)
    start_at = start_box.value
    while time.time() < start_at:
        time.sleep(0.0005)
    deadline = start_at + seconds
    latencies, numbers, errors, messages = [], [], 0, []
    for data in itertools.cycle(inputs):
        if time.time() >= deadline:
            break
        t = time.perf_counter()
        try:
            case, _code = services.case_register(actor=actor, data=data)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            errors += 1
            if len(messages) < 3:
                messages.append(f"{type(exc).__name__}: {exc}")
            continue
        latencies.append((time.perf_counter() - t) * 1000)
        numbers.append(case.number)
    connection.close()
    out.put(
        {
            "worker": worker,
            "count": len(numbers),
            "errors": errors,
            "messages": messages,
            "latencies": latencies,
            "numbers": numbers,
        }
    )


def _get(q, procs, timeout: float):
    """q.get, but fail fast if a worker died instead of waiting for the timeout."""
    deadline = time.time() + timeout
    while True:
        try:
            return q.get(timeout=1)
        except queue.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead or time.time() > deadline:
                raise RuntimeError(f"throughput worker failed (exit codes {[p.exitcode for p in procs]})") from None


def run_throughput(*, clients: int, seconds: float, seed: int) -> dict:
    from _measure import summary

    ctx = mp.get_context("spawn")
    ready, out = ctx.Queue(), ctx.Queue()
    start_box = ctx.Value("d", 0.0)
    procs = [ctx.Process(target=_worker, args=(w, seed, start_box, seconds, ready, out)) for w in range(clients)]
    for p in procs:
        p.start()
    for _ in procs:
        status, worker, message = _get(ready, procs, 300)
        if status != "ready":
            raise RuntimeError(f"throughput worker {worker}: {message}")
    load_before = loadavg()
    start_box.value = time.time() + 0.5
    results = [_get(out, procs, seconds + 300) for _ in procs]
    for p in procs:
        p.join()
    total = sum(r["count"] for r in results)
    latencies = [x for r in results for x in r["latencies"]]
    numbers = [n for r in results for n in r["numbers"]]
    numbering = check_numbers(numbers)
    result = {
        "clients": clients,
        "seconds": seconds,
        "registered": total,
        "errors": sum(r["errors"] for r in results),
        "error_messages": [m for r in results for m in r["messages"]],
        "per_second": round(total / seconds, 1),
        "per_client": [r["count"] for r in sorted(results, key=lambda r: r["worker"])],
        "latency_ms": summary(latencies) if latencies else None,
        "numbers": numbering,
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
    }
    log(
        f"registration, {clients} client(s): {result['per_second']} cases/s "
        f"({total} in {seconds:.0f} s, errors {result['errors']}); latency p50 "
        f"{result['latency_ms']['p50'] if latencies else '-'} ms p95 "
        f"{result['latency_ms']['p95'] if latencies else '-'} ms; "
        f"numbers gapless: {numbering['ok']}"
    )
    return result


def check_numbers(numbers: list[str]) -> dict:
    """Every day the run numbered: that day's numbers run 1..last with no gap or duplicate,
    and CaseSequence.last equals the highest."""
    from datetime import date

    from huiyin.cases.models import Case, CaseSequence
    from huiyin.demo.generator import DEMO_CODE
    from huiyin.orgs.models import Organization

    org = Organization.objects.get(code=DEMO_CODE)
    report = {
        "ok": bool(numbers) and len(numbers) == len(set(numbers)),
        "duplicates_in_run": len(numbers) - len(set(numbers)),
        "days": {},
    }
    for day in sorted({n[:8] for n in numbers}):
        suffixes = sorted(
            int(n[9:])
            for n in Case.objects.filter(organization=org, number__startswith=day + "-").values_list(
                "number", flat=True
            )
        )
        last = (
            CaseSequence.objects.filter(organization=org, day=date(int(day[:4]), int(day[4:6]), int(day[6:])))
            .values_list("last", flat=True)
            .first()
        )
        ok = suffixes == list(range(1, len(suffixes) + 1)) and last == len(suffixes)
        report["days"][day] = {"cases_that_day": len(suffixes), "sequence_last": last, "ok": ok}
        report["ok"] = report["ok"] and ok
    return report
