"""Pages and intake over HTTP: a real gunicorn serving Huiyin, a keep-alive client.

``Server`` starts ``gunicorn huiyin.wsgi:application`` on a loopback port, as ``huiyin
serve`` does (2 workers, DEBUG off), from this checkout's ``src`` or another one's
(``--server-src``, for a before/after on the same data). ``HttpClient`` is a browser
stand-in: one keep-alive connection, the session and CSRF cookies, ``get``/``post``
returning an object with ``status_code``, ``content`` and ``headers`` (so the page
measurements take it in place of Django's test client). A figure is the wall time
from sending the request to the last byte of the answer, seen by the client.

``intake_over_time`` is the clerk's shift: one session registering phone matters
through the intake form back to back, each followed by the case page the form
redirects to, latency per minute (the session used to grow with every registration).
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from _common import loadavg, log

HERE = Path(__file__).resolve().parent


def free_port(start: int = 58100) -> int:
    port = start
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
        port += 1


class Server:
    def __init__(
        self,
        *,
        src: Path,
        workers: int = 2,
        log_path: Path,
        app: str = "huiyin.wsgi:application",
        ready: str = "/login/",
    ):
        self.src, self.workers, self.log_path, self.app, self.ready = src, workers, log_path, app, ready
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        env = {**os.environ, "PYTHONPATH": str(self.src), "HUIYIN_DEBUG": "0"}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                self.app,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--graceful-timeout",
                "5",
                "--timeout",
                "120",
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", self.ready)
                if conn.getresponse().status == 200:
                    conn.close()
                    log(f"gunicorn ({self.workers} workers, code from {self.src}) on 127.0.0.1:{self.port}")
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within 60 s; see {self.log_path}")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()


class Response:
    def __init__(self, status: int, headers: dict[str, str], content: bytes):
        self.status_code, self.headers, self.content = status, headers, content


class HttpClient:
    """One keep-alive connection with a cookie jar (session, CSRF)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def login_as(self, staff) -> None:
        """A session for ``staff`` made the way Django's test client makes one (the
        server reads the same session table)."""
        from django.test import Client

        client = Client()
        client.force_login(staff)
        self.cookies["sessionid"] = client.cookies["sessionid"].value

    def request(self, method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> Response:
        url = quote(url, safe="/?=&%:;+,")  # as a browser sends a Chinese search term
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, url, body=body, headers=headers)
            raw = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError, http.client.CannotSendRequest):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.conn.request(method, url, body=body, headers=headers)
            raw = self.conn.getresponse()
        content = raw.read()
        for name, value in raw.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, content)

    def get(self, url: str) -> Response:
        return self.request("GET", url)

    def post(self, url: str, data: dict) -> Response:
        body = urlencode(data).encode()
        return self.request(
            "POST",
            url,
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-CSRFToken": self.cookies.get("csrftoken", ""),
                "Referer": f"http://127.0.0.1:{self.port}{url}",
            },
        )


_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def intake_over_time(client: HttpClient, *, seconds: float, seed: int, then: str = "case") -> dict:
    """Register phone matters through the form for ``seconds``, one session. After each
    POST the clerk opens the case page it redirects to (``then="case"``), or goes back to
    an empty intake form for the next call (``then="form"``: the same page before and
    after a change to the case page, so the POST figures compare the registration
    alone). Either page shows the registration's message, as a browser would. Latency
    per minute of the run."""
    from _measure import summary

    from huiyin.cases.models import Category
    from huiyin.demo.generator import DEMO_CODE, generate_case_specs

    categories = {
        c.full_name: c.pk for c in Category.objects.filter(organization__code=DEMO_CODE, children__isnull=True)
    }
    specs = generate_case_specs(40_000, seed=seed + 777)
    page = client.get("/cases/new/phone/")
    assert page.status_code == 200, page.status_code
    token = _CSRF.search(page.content)
    assert token, "no CSRF token on the intake form"
    csrf = token.group(1).decode()
    started = time.perf_counter()
    rows: list[tuple[float, float, float]] = []  # (seconds into the run, POST ms, case page ms)
    errors = 0
    load_before = loadavg()
    for i, spec in enumerate(specs):
        now = time.perf_counter() - started
        if now >= seconds:
            break
        p = spec.party
        form = {
            "csrfmiddlewaretoken": csrf,
            "intake_token": f"bench-{seed}-{time.time_ns()}-{i}",
            "party_phone": p.phone,
            "party_name": p.name,
            "party_id_number": p.id_number,
            "party_anonymous": "on" if p.anonymous else "",
            "category": str(categories[spec.category]),
            "nature": spec.nature,
            "urgency": spec.urgency,
            "title": spec.title,
            "text": spec.text,
            "location": spec.location,
        }
        t = time.perf_counter()
        answer = client.post("/cases/new/phone/", {k: v for k, v in form.items() if v != ""})
        post_ms = (time.perf_counter() - t) * 1000
        if answer.status_code != 302:
            errors += 1
            if errors <= 3:
                log(f"intake answered {answer.status_code}: {answer.content[:300]!r}")
            continue
        t = time.perf_counter()
        shown = client.get(answer.headers["location"] if then == "case" else "/cases/new/phone/")
        page_ms = (time.perf_counter() - t) * 1000
        if shown.status_code != 200:
            errors += 1
            continue
        rows.append((now, post_ms, page_ms))
    by_minute = []
    minutes = int(seconds // 60) or 1
    width = seconds / minutes
    for m in range(minutes):
        post = [r[1] for r in rows if m * width <= r[0] < (m + 1) * width]
        shown = [r[2] for r in rows if m * width <= r[0] < (m + 1) * width]
        if post:
            by_minute.append(
                {
                    "window": m + 1,
                    "registered": len(post),
                    "post_ms": summary(post),
                    "then_ms": summary(shown),
                }
            )
    session = _session_bytes(client.cookies.get("sessionid", ""))
    result = {
        "seconds": seconds,
        "then": then,
        "registered": len(rows),
        "errors": errors,
        "post_ms": summary([r[1] for r in rows]) if rows else None,
        "then_ms": summary([r[2] for r in rows]) if rows else None,
        "windows": by_minute,
        "session_bytes_at_end": session,
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
    }
    log(
        f"intake over HTTP, {seconds:.0f} s: {len(rows)} registered ({errors} errors); POST p50 by window "
        + " ".join(f"{w['post_ms']['p50']:.0f}" for w in by_minute)
        + f" ms; session {session} bytes at the end"
    )
    return result


def _session_bytes(key: str) -> int | None:
    from django.contrib.sessions.models import Session

    row = Session.objects.filter(session_key=key).values_list("session_data", flat=True).first()
    return len(row) if row is not None else None
