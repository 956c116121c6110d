"""Driving a real ``huiyin serve`` from tests: an HTTP client without redirects that
keeps cookies, the phone registration form, the processes of one ``serve`` (from /proc),
and the environment that points it at the test database and this checkout's code."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, transaction

from huiyin.cases.models import Case

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "fault-test-pw-2026"


# --- an HTTP client without redirects, keeping cookies ------------------------------------


class Browser:
    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, timeout: float = 30.0):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key.strip()] = rest.split(";", 1)[0]
            return response.status, response.getheader("Location") or "", content
        finally:
            conn.close()

    def login(self, username: str) -> None:
        self.request("GET", "/login/")
        status, location, _ = self.request(
            "POST",
            "/login/",
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": self.cookies["csrftoken"]},
        )
        assert status == 302 and "/login/" not in location, f"login as {username}: {status} {location}"


DETAIL = re.compile(r"/cases/(\d+)/$")


@dataclass
class Registration:
    token: str
    phone: str
    tries: list[tuple[float, float, str]] = field(default_factory=list)  # (sent, answered or failed, outcome)
    case_id: int | None = None


def form_errors(content: bytes) -> list[str]:
    """The messages a refused form shows next to its fields and above them."""
    text = content.decode("utf-8", errors="replace")
    found = re.findall(r'class="(?:invalid-feedback|alert alert-danger)[^"]*"[^>]*>(.*?)</', text, re.S)
    return [re.sub(r"\s+", " ", f).strip() for f in found if f.strip()] or [text[:300]]


def register(browser: Browser, reg: Registration, text: str, *, retries: int = 8) -> Registration:
    """Submit the phone form; on an error or a dropped connection submit the same form
    (same intake token) again, as the clerk's browser would."""
    form = {
        "party_phone": reg.phone,
        "party_name": "王芳",
        "nature": "complaint",
        "text": text,
        "urgency": "normal",
        "intake_token": reg.token,
        "csrfmiddlewaretoken": browser.cookies.get("csrftoken", ""),
    }
    for attempt in range(retries):
        at = time.monotonic()
        try:
            status, location, content = browser.request("POST", "/cases/new/phone/", form)
        except (OSError, http.client.HTTPException) as exc:
            reg.tries.append((at, time.monotonic(), f"error:{type(exc).__name__}"))
        else:
            match = DETAIL.search(location)
            if status == 302 and match:
                reg.tries.append((at, time.monotonic(), "ack"))
                reg.case_id = int(match.group(1))
                return reg
            reg.tries.append((at, time.monotonic(), f"http:{status}"))
            if status < 500:
                refusal = f"registration refused: {status} {location} {form_errors(content)}"
                raise AssertionError(f"{refusal} after {reg.tries}")
        time.sleep(0.2 * (attempt + 1))
    return reg


# --- the processes of one `huiyin serve` ---------------------------------------------------


def children(pid: int) -> list[tuple[int, str]]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                out.append((int(entry.name), cmd))
        except (OSError, ValueError, IndexError):
            continue
    return out


def child_pid(serve_pid: int, marker: str) -> int:
    found = [pid for pid, cmd in children(serve_pid) if marker in cmd]
    assert len(found) == 1, f"{marker}: {children(serve_pid)}"
    return found[0]


def web_worker_pids(serve_pid: int) -> list[int]:
    return [pid for pid, _cmd in children(child_pid(serve_pid, "gunicorn"))]


def wait_for(predicate, timeout: float, what: str, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def wait_while_progressing(predicate, progress, *, stall: float, limit: float, what: str, every: float = 0.1):
    """``wait_for`` behind a queue: wait as long as ``progress()`` keeps changing (the queue
    ahead is being worked through, however slowly the loaded machine goes), failing after
    ``stall`` seconds without progress or ``limit`` seconds in all — with where it stood."""
    start = last_change = time.monotonic()
    last = progress()
    while True:
        value = predicate()
        if value:
            return value
        now, seen = time.monotonic(), progress()
        if seen != last:
            last, last_change = seen, now
        assert now - last_change < stall and now - start < limit, (
            f"timed out waiting for {what}: {now - start:.0f} s, progress {last!r}, none for {now - last_change:.0f} s"
        )
        time.sleep(every)


class CaseLock(threading.Thread):
    """Holds case rows locked (FOR UPDATE) in a transaction until ``release`` is set."""

    def __init__(self, case_ids: list[int]) -> None:
        super().__init__(daemon=True)
        self.case_ids = case_ids
        self.locked = threading.Event()
        self.release = threading.Event()

    def run(self) -> None:
        try:
            with transaction.atomic():
                list(Case.objects.select_for_update().filter(pk__in=self.case_ids).values_list("pk"))
                self.locked.set()
                self.release.wait(180)
        finally:
            connection.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    """The test database, as the ``DATABASE_URL`` of another process."""
    d = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{d['NAME']}"
    return f"postgres://{d['USER']}:{d['PASSWORD']}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"


def serve_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``huiyin serve`` on the test database and this checkout's code."""
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        HUIYIN_DATA_DIR=str(data_dir),
        # The same keys as this process: personal fields and event hashes are keyed from it.
        SECRET_KEY=settings.SECRET_KEY,
        HUIYIN_LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        **extra,
    )
    env.pop("REDIS_URL", None)
    return env


def start_serve(port: int, env: dict[str, str], log_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "huiyin.cli", "serve", "--port", str(port), *args],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )


def stop_serve(serve: subprocess.Popen, timeout: float = 30) -> int:
    if serve.poll() is None:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for pid, _cmd in children(serve.pid):
                os.kill(pid, signal.SIGKILL)
            serve.kill()
            serve.wait()
    return serve.returncode
