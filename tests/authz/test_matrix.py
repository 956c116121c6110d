"""The authorisation matrix (issue 13): every URL pattern, requested by every actor, GET and
POST with a valid body, against the table in ``matrix.py``.

For each request: an allowed actor gets 2xx or a redirect that is not the login page (and an
allowed POST writes something); a refused one gets 403, 404 or the login page (a member of
another organisation may get a 400 naming the field that points outside it) and writes
nothing; a POST-only URL answers GET with 405 (or the refusal); nothing answers 5xx. Each
request runs in a savepoint that is rolled back, so every actor meets the same world.

The table must be complete: a URL pattern without an entry fails
``test_every_url_pattern_has_a_row``. The rows with a label are the write rights table of
docs/permissions.md (``test_the_permissions_doc_is_the_table``; rewrite it with
``HUIYIN_WRITE_PERMISSIONS_DOC=1``).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from huiyin.cases.actions import all_specs
from huiyin.policy.services.calendars import invalidate_calendars

from .matrix import ADMINISTRATION, MATRIX, Actors, Entry, Pattern, Row, admin_entries, url_patterns
from .world import ACTORS, World, build_world

PATTERNS = url_patterns()
TABLE: dict[str, Entry] = {**MATRIX, **ADMINISTRATION, **admin_entries(PATTERNS)}
DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"

# Figures for the run's summary (tests/authz/conftest.py adds them up across workers).
STATS: Counter[str] = Counter()


# --- the world, once per module and worker, rolled back at the end -------------------------------------


@pytest.fixture(autouse=True)
def _media_root():
    """Overrides the suite's per-test media directory: the world's files live for the module."""


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("authz-media")
    with (
        override_settings(
            MEDIA_ROOT=media,
            # Sessions in a signed cookie: logging in and out writes nothing to the database,
            # so "a refused request writes nothing" is checked on every statement.
            SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        ),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        invalidate_calendars()
        built = build_world()
        yield built
        transaction.set_rollback(True)
        _SESSIONS.clear()
    invalidate_calendars()


# --- one request ----------------------------------------------------------------------------------------


# The login throttle's own records (django-axes: attempts, logins and logouts) are a log of
# the request itself, written for every actor alike; they are not a change the actor made.
ACCESS_LOG_TABLES = ('"axes_accesslog"', '"axes_accessattempt"', '"axes_accessfailurelog"')


class Writes:
    """Counts the data-changing statements a request runs (any table but the access log)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip()[:7].upper() in ("INSERT ", "UPDATE ", "DELETE ", "REPLACE") and not any(
            table in sql for table in ACCESS_LOG_TABLES
        ):
            self.statements.append(sql[:120])
        return execute(sql, params, many, context)


@dataclass
class Outcome:
    status: int
    location: str
    writes: list[str]
    error: str

    def to_login(self) -> bool:
        return self.status in (301, 302, 303) and self.location.split("?")[0] in (
            resolve_url(settings.LOGIN_URL),
            reverse("admin:login"),
        )

    def allowed(self) -> bool:
        return self.status in (200, 201, 204) or (300 <= self.status < 400 and not self.to_login())

    def refused(self, actor: str) -> bool:
        # 401: django-rq's JSON dashboard (the operator's admin, with Redis) answers so.
        return self.status in (401, 403, 404) or self.to_login() or (self.status == 400 and actor == "org2")

    def __str__(self) -> str:
        where = f" -> {self.location}" if self.location else ""
        writes = f", wrote {len(self.writes)}: {self.writes[0]}" if self.writes else ""
        return f"{self.status}{where}{writes}{self.error}"


def path_for(pattern: Pattern, kwargs: dict[str, Any]) -> str:
    if pattern.named:
        return reverse(pattern.key, kwargs=kwargs)
    route = pattern.route
    for name, value in kwargs.items():
        route = re.sub(rf"<(?:\w+:)?{name}>|\(\?P<{name}>[^)]*\)", str(value), route)
    return "/" + route.replace("^", "").replace("$", "").lstrip("/")


_CLIENT: list[Client] = []


def _client() -> Client:
    """One client for the run: a new one loads the middleware (and WhiteNoise's file scan) again."""
    if not _CLIENT:
        _CLIENT.append(Client(raise_request_exception=False))
    client = _CLIENT[0]
    client.cookies = SimpleCookie()
    return client


# Each actor signs in once per world (module and worker): its signed session cookie is kept
# and given back before every request (a request that logs out or rotates the session is
# rolled back, and its cookies are dropped with it).
_SESSIONS: dict[tuple[int, str], str] = {}


def _session_cookie(world: World, actor: str) -> str | None:
    user = world.staff[actor]
    if user is None:
        return None
    key = (id(world), actor)
    if key not in _SESSIONS:
        client = _client()
        client.force_login(user)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is not None:  # signed in with the second factor too (django-otp's session key)
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
            client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
        _SESSIONS[key] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return _SESSIONS[key]


def request(world: World, actor: str, method: str, path: str, data: dict[str, Any] | None = None) -> Outcome:
    cookie = _session_cookie(world, actor)
    client = _client()
    writes = Writes()
    with transaction.atomic():
        if cookie is not None:
            client.cookies[settings.SESSION_COOKIE_NAME] = cookie
        with connection.execute_wrapper(writes):
            response = client.get(path, data or {}) if method == "GET" else client.post(path, data or {})
        transaction.set_rollback(True)
    invalidate_calendars()
    error = ""
    if response.status_code >= 500 and getattr(response, "exc_info", None):
        error = f" ({response.exc_info[1]!r})"
    return Outcome(response.status_code, response.get("Location", ""), writes.statements, error)


# --- the checks --------------------------------------------------------------------------------------------


def variants(entry: Entry) -> dict[str, Row]:
    return entry if isinstance(entry, dict) else {"": entry}


def _expected(actors: Actors, actor: str, row: Row) -> str:
    return "either" if actor in row.either else "allowed" if actor in actors else "refused"


def check(world: World, key: str, name: str, row: Row, *, get: bool = True) -> list[str]:
    """Every actor, GET (unless ``get`` is off: another variant of the URL did) and POST."""
    pattern = PATTERNS[key]
    path = path_for(pattern, row.kwargs(world))
    label = f"{key}{f'[{name}]' if name else ''}"
    problems = []
    for actor in ACTORS:
        plans: list[tuple[str, dict[str, Any] | None, str]] = []
        if get:
            expected = _expected(row.get or frozenset(), actor, row)
            if row.get is None and expected != "either":
                expected = "405"
            plans.append(("GET", row.query, expected))
        if row.post is not None:
            plans.append(("POST", row.data(world, actor), _expected(row.post, actor, row)))
        for method, data, expected in plans:
            outcome = request(world, actor, method, path, data)
            STATS["requests"] += 1
            if outcome.status >= 500:
                STATS["5xx"] += 1
            if outcome.refused(actor) or outcome.status == 405:
                STATS["refusals"] += 1
            if expected == "allowed":
                ok = outcome.allowed() and not (method == "POST" and row.writes and not outcome.writes)
            elif expected == "refused":
                ok = outcome.refused(actor) and not outcome.writes
            elif expected == "either":
                ok = outcome.status < 500 and (outcome.allowed() or not outcome.writes)
            else:  # a POST-only URL: GET is a 405, or the refusal for those who may not post
                may_post = row.post is not None and actor in row.post
                ok = not outcome.writes and (
                    outcome.status == 405 or (not may_post and outcome.refused(actor)) or outcome.to_login()
                )
            if not ok:
                problems.append(f"{label} {method} as {actor}: expected {expected}, got {outcome}")
    return problems


@pytest.mark.django_db  # a savepoint inside the module's world
@pytest.mark.parametrize("key", sorted(TABLE))
def test_every_actor_gets_what_the_table_says(key, world):
    assert key in PATTERNS, f"{key}: a row for a URL pattern that does not exist"
    STATS["patterns"] += 1
    problems: list[str] = []
    for number, (name, row) in enumerate(variants(TABLE[key]).items()):
        problems += check(world, key, name, row, get=number == 0)  # one view: its GET once
    assert not problems, "\n".join(problems)


CASE_KEYS = sorted(key for key in TABLE if "case_id" in PATTERNS[key].params)
ORG1 = tuple(actor for actor in ACTORS if actor not in ("anon", "org2", "operator"))


@pytest.mark.django_db
@pytest.mark.parametrize("key", CASE_KEYS)
def test_another_organisations_case_is_refused_to_everyone_here(key, world):
    """Every case URL with the other organisation's case in it: refused to every one of ours."""
    problems = []
    for number, (name, row) in enumerate(variants(TABLE[key]).items()):
        path = path_for(PATTERNS[key], {**row.kwargs(world), "case_id": world.case("org2")})
        for actor in ORG1:
            plans = [("POST", row.data(world, actor))] if row.post is not None else []
            if row.get is not None and number == 0:
                plans.append(("GET", row.query))
            for method, data in plans:
                outcome = request(world, actor, method, path, data)
                STATS["requests"] += 1
                STATS["refusals"] += outcome.refused(actor)
                STATS["5xx"] += outcome.status >= 500
                if not (outcome.refused(actor) and not outcome.writes):
                    problems.append(f"{key}[{name}] {method} as {actor} on the other organisation's case: {outcome}")
    assert not problems, "\n".join(problems)


def test_every_url_pattern_has_a_row():
    missing = sorted(key for key in PATTERNS if key not in TABLE)
    assert not missing, "URL patterns without a row in tests/authz/matrix.py:\n" + "\n".join(
        f"  {key}  ({PATTERNS[key].route})" for key in missing
    )


def test_every_case_action_has_a_row():
    actions = variants(TABLE["cases:act"])
    assert sorted(actions) == sorted(spec.name for spec in all_specs())


# --- the write rights table in docs/permissions.md ---------------------------------------------------

COLUMNS = (
    ("clerk", "intake clerk<br>接线员"),
    ("reception", "reception<br>接待员"),
    ("handler", "handler<br>承办人"),
    ("head", "head, lead dept.<br>主办部门负责人"),
    ("assist_head", "head, assisting dept.<br>协办部门负责人"),
    ("stranger", "head, other dept.<br>其他部门负责人"),
    ("leader", "leader<br>领导"),
    ("supervisor", "supervisor<br>督办员"),
    ("callback", "callback officer<br>回访员"),
    ("analyst", "analyst<br>统计分析员"),
    ("admin", "administrator<br>系统管理员"),
)
BEGIN, END = "<!-- write-rights:begin -->", "<!-- write-rights:end -->"


def write_rights_table() -> str:
    lines = [
        "| write | URL | " + " | ".join(title for _actor, title in COLUMNS) + " |",
        "|---|---|" + "---|" * len(COLUMNS),
    ]
    for key, entry in {**MATRIX, **ADMINISTRATION}.items():
        for name, row in variants(entry).items():
            if not row.label or row.post is None:
                continue
            url = f"`{key}`" + (f" `{name}`" if name else "")
            cells = ["✓" if actor in row.post else "" for actor, _title in COLUMNS]
            lines.append(f"| {row.label} | {url} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def test_the_permissions_doc_is_the_table():
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"{DOC} has no {BEGIN} … {END} block"
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    expected = f"{head}{BEGIN}\n{write_rights_table()}\n{END}{tail}"
    if os.environ.get("HUIYIN_WRITE_PERMISSIONS_DOC") and text != expected:
        DOC.write_text(expected, encoding="utf-8")
        text = expected
    assert text == expected, (
        "docs/permissions.md is not the matrix's write rights: run "
        "HUIYIN_WRITE_PERMISSIONS_DOC=1 pytest tests/authz -k doc and review the diff"
    )
