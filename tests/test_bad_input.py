"""Bad input never answers 5xx and never stores half a record (issue 13).

The test finds the forms by itself: it signs in as a user holding every role in each of
three organisations on different presets (``tests/bad_input_world.py``), opens every page
those users can reach, and reads each ``<form>`` and ``hx-post`` on them (action, method,
field names, the values offered). Every URL pattern of the project must be reached that
way or be listed in ``NOT_FORMS`` with the reason: a new view is fuzzed without anyone
adding it here.

Each form then gets fixed rounds (every date field 0001-01-01, then 30 February, month 13,
9999; every choice and hidden field "abc", then a 20-digit number; every text field a NUL
and an escape sequence, then 100 000 characters) and hypothesis examples mixing malformed
values — huge, negative and non-numeric numbers and ids, absurd dates, control
characters, very long text, fields left out — sometimes posted to another organisation's
id or one that does not exist. Each request must answer below 500; when it is refused
(4xx, or an error message on the page it leads to) the row counts of every table are what
they were. Each request runs in a savepoint that is rolled back, so the world is the same
for the next one. ``HUIYIN_BAD_INPUT_EXAMPLES`` sets the hypothesis examples per form
(3 in CI, about 25 s on SQLite).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from django.apps import apps
from django.contrib.messages import constants as message_levels
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from huiyin.cases.models import Case
from huiyin.portal.links import case_token
from tests.bad_input_world import OrgWorld, build_construction, build_petition, build_property

pytestmark = pytest.mark.django_db

# URL patterns that are no form of ours: (namespace:name, why).
NOT_FORMS = {
    "login": "Django's authentication form",
    "logout": "Django's view",
    "set_language": "Django's view (i18n)",
    "access:verify": "the second-factor step, shown only to someone with an OTP device before sign-in "
    "completes (the fuzzer has none); its wrong codes are tested in tests/access",
    "reports:progress": "the progress of a report being generated, polled by htmx (hx-get) and no form; "
    "tested in tests/reports/test_periodic.py",
    "apikeys:revoke": "a button on an API key's row only (the world has no key); a revoke of another "
    "organisation's or an unknown key is tested in tests/api and the authorisation matrix",
    "webhooks:toggle": "a button on a webhook receiver's row only (the world has none); an unknown or another "
    "organisation's receiver is tested in tests/api/test_webhooks.py and the authorisation matrix",
    "webhooks:redeliver": "a button on a delivery's row only (the world has none); tested in "
    "tests/api/test_webhooks.py and the authorisation matrix",
    "ops:retry_task": "a button on a failed task's row only (the world has no failed task); a malformed "
    "or unknown task id is tested in tests/ops/test_status_page.py",
    "triage:suggest": "posted by the intake form's script as the clerk types (triage/suggest.js), no form of "
    "its own; malformed and huge input is tested in tests/triage/test_intake.py",
    "portal:suggest": "posted by the submission page's script as the person types (portal/suggest.js), no form "
    "of its own; empty input, GET and the rate limit are tested in tests/triage/test_portal_suggest.py",
    "triage:repeats": "posted by the intake form's script as the clerk types; malformed and huge input is "
    "tested in tests/triage/test_repeats.py",
    "triage:accept": "posted by the intake form's script when a suggestion is taken; malformed tokens and "
    "categories are tested in tests/triage/test_intake.py",
    "triage:intake_link": "posted by the intake form's script when a repeat candidate is marked 关联; malformed "
    "tokens and ids are tested in tests/triage/test_links.py",
    "triage:unlink": "a button on a related case's row only (the bad-input world links no cases); an unknown, "
    "another case's or a merge's link is tested in tests/triage/test_links.py and the authorisation matrix",
    "exports:start": "the button of a list's export page, shown only for an export over "
    "HUIYIN_EXPORT_INLINE_ROWS (the world's lists are shorter); a bad list, format or filter is tested "
    "in tests/core/test_exports.py",
    "exports:job": "a background export's page, reached only from exports:start; another person's or an "
    "unknown export is tested in tests/core/test_exports.py and the authorisation matrix",
    "exports:progress": "a background export's progress, polled by htmx (hx-get) and no form; tested in "
    "tests/core/test_exports.py",
    "exports:download": "a background export's file, linked when it is done; tested in tests/core/test_exports.py",
}
EXAMPLES_PER_FORM = int(os.environ.get("HUIYIN_BAD_INPUT_EXAMPLES", "3"))  # per form, after the themes


# --- reading forms off the pages ----------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # text, select, textarea, file, checkbox, hidden, number, date, datetime-local...
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    user: str
    page: str
    method: str
    action: str
    fields: dict[str, Field] = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        """One form per view, verb and field set: the dispatch form on ten case pages, the
        intake form of nine channels or the templates of twelve documents are one form
        each (the first organisation's; the others add the forms their presets bring)."""
        match = resolve(urlsplit(self.action).path)
        verb = tuple(match.kwargs[k] for k in ("action", "step") if k in match.kwargs)
        return (self.method, match.view_name, verb, tuple(sorted(self.fields)))


class _FormParser(HTMLParser):
    def __init__(self, page: str, user: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page, self.user = page, user
        self.forms: list[Form] = []
        self.by_id: dict[str, Form] = {}
        self.hx: list[tuple[str, str, str]] = []  # (url, own field name, hx-include)
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if a.get("hx-post"):
            self.hx.append((a["hx-post"], a.get("name", ""), a.get("hx-include", "")))
        if tag == "form":
            self._form = Form(self.user, self.page, (a.get("method") or "get").lower(), a.get("action") or self.page)
            self.forms.append(self._form)
            if a.get("id"):
                self.by_id[a["id"]] = self._form
            return
        form = self._form
        if form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "reset", "image"):
                kind = "button"
            known = form.fields.get(name)
            if kind in ("radio", "checkbox", "button") and known is not None:
                known.options.append(a.get("value", "on"))
                return
            form.fields[name] = Field(name, kind, a.get("value", ""), [a.get("value", "on")])
        elif tag == "button":
            form.fields.setdefault(name, Field(name, "button", a.get("value", ""), [])).options.append(
                a.get("value", "")
            )
        elif tag == "select":
            self._select = form.fields[name] = Field(name, "select")
        elif tag == "textarea":
            self._textarea = form.fields[name] = Field(name, "textarea")

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data


class _OptionParser(HTMLParser):
    """Options of each select (HTMLParser gives no parent to an <option>)."""

    def __init__(self) -> None:
        super().__init__()
        self.options: dict[str, list[str]] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "select":
            self._select = a.get("name")
            self.options.setdefault(self._select or "", [])
        elif tag == "option" and self._select is not None:
            self.options[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


SKIP_LINKS = re.compile(r"^(/admin/|/logout/|/static/|/media/|/i18n/)")


PAGES_PER_VIEW = 12


def crawl(client: Client, user: str, start: list[str], limit: int = 400) -> tuple[list[Form], set[str]]:
    """Every page reachable from ``start`` (own site, GET): the forms on them, and the
    view names reached."""
    seen: set[str] = set()
    queue = list(start)
    forms: list[Form] = []
    views: set[str] = set()
    per_view: Counter[str] = Counter()
    while queue and len(seen) < limit:
        url = queue.pop(0)
        path = urlsplit(url).path
        if url in seen or SKIP_LINKS.match(path) or not path.startswith("/"):
            continue
        # A view's first pages bring its forms; the rest of a long list of the same page
        # (76 notification templates) would bring the same forms again (Form.key).
        if per_view[_view_name(path)] >= PAGES_PER_VIEW:
            continue
        per_view[_view_name(path)] += 1
        seen.add(url)
        response = client.get(url)
        assert response.status_code < 500, url
        _swap_ids(client, path, views)
        views.add(_view_name(path))
        if "html" not in response.get("Content-Type", "") or response.status_code != 200:
            continue
        html = response.content.decode()
        parser = _FormParser(url, user)
        parser.feed(html)
        options = _OptionParser()
        options.feed(html)
        for form in parser.forms:
            for f in form.fields.values():
                if f.kind == "select":
                    f.options = [o for o in options.options.get(f.name, []) if o] or [""]
                    f.value = f.options[0]
            forms.append(form)
        for hx_url, name, include in parser.hx:
            hx_form = Form(user, url, "post", hx_url)
            included = parser.by_id.get(include.lstrip("#")) if include.startswith("#") else None
            if included is not None:
                hx_form.fields = dict(included.fields)
            if name:
                hx_form.fields[name] = Field(name, "text", "13812345678")
            forms.append(hx_form)
        for link in parser.links:
            split = urlsplit(link)
            if split.netloc or not split.path.startswith("/"):
                continue
            if split.path.endswith((".pdf", ".xlsx")):
                _swap_ids(client, split.path, views)
                views.add(_view_name(split.path))
                assert client.get(link).status_code < 500, link
                continue
            queue.append(link)
    return forms, views


def _swap_ids(client: Client, path: str, views: set[str]) -> None:
    """The first time a page of a view with ids in its path is opened, open it again with
    each id missing, at the database's limit and beyond it: a 404, never a 500."""
    if _view_name(path) in views:
        return
    parts = path.split("/")
    for i, part in enumerate(parts):
        if not part.split(".")[0].isdigit():
            continue
        suffix = part[len(part.split(".")[0]) :]  # "12.pdf": keep ".pdf"
        for bad in ("0", str(2**63 - 1), "9" * 20):
            swapped = "/".join([*parts[:i], bad + suffix, *parts[i + 1 :]])
            assert client.get(swapped).status_code < 500, swapped


def _view_name(path: str) -> str:
    try:
        return resolve(path).view_name
    except Resolver404:
        return ""


def all_view_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "admin":
                    continue
                walk(p.url_patterns, f"{prefix}{p.namespace}:" if p.namespace else prefix)
            elif isinstance(p, URLPattern) and p.name:
                names.add(prefix + p.name)

    walk(get_resolver().url_patterns, "")
    return names


# --- malformed values ----------------------------------------------------------------------------

NUMBERS = [
    "99999999999999999999",
    str(2**63),
    str(2**31),
    "-1",
    "0",
    "1e9",
    "12.5",
    "０１２",
    "²",
    "٣",
    "0x10",
    "NaN",
    " 7 ",
]
DATES = [
    "0001-01-01T00:00",
    "0001-01-01",
    "9999-12-31T23:59",
    "9999-12-31",
    "1900-01-01T00:00",
    "1900-01-01",
    "2026-13-01",
    "2026-13-01T10:00",
    "2024-02-30",
    "2024-02-30T10:00",
    "2026-06-01T25:61",
    "10000-01-01",
    "2026-06-01T10:00:00+99:00",
]
CONTROL = [
    "\x00",
    "意见\x00内容",
    "\x1b[31m红色\x1b[0m",
    "\x07\x08\x0b\x0c\x1f",
    "a\x7fb",
    "\u0085\u200b\u202e反向",
]
SHAPES = [
    "",
    "   ",
    "\n\n",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x","y")',
    "' OR 1=1 --",
    "../../etc/passwd",
    "data:image/png;base64,AAAA",
    "x" * 300,
]
HUGE = ["字" * 100_001, "a" * 20_001]

malformed = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(DATES),
    st.sampled_from(CONTROL),
    st.sampled_from(SHAPES),
    st.sampled_from(HUGE),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)

BAD_FILES = [
    ("empty.pdf", b""),
    ("fake.pdf", b"not a pdf at all"),
    ("evil.exe", b"MZ\x90\x00"),
    ("\x00name\x1b.png", b"\x89PNG\r\n\x1a\nrest"),
    ("a" * 300 + ".txt", b"hello"),
]


def _value(data: st.DataObject, f: Field) -> str | None:
    """A field's value for one example: what the page offered, a malformed one, or left out."""
    choice = data.draw(st.sampled_from(["keep", "keep", "bad", "bad", "bad", "drop"]), label=f"{f.name}?")
    if choice == "drop":
        return None
    if choice == "keep":
        if f.options and f.kind in ("select", "radio", "checkbox", "button"):
            return data.draw(st.sampled_from(f.options), label=f.name)
        return f.value
    return data.draw(malformed, label=f.name)


def _url(data: st.DataObject, action: str, foreign: list[int]) -> str:
    """The form's own URL, or one of its ids swapped for another organisation's, a missing or a huge one."""
    split = urlsplit(action)
    parts = split.path.split("/")
    slots = [i for i, p in enumerate(parts) if p.isdigit()]
    if not slots or not data.draw(st.booleans(), label="swap id"):
        return action
    i = data.draw(st.sampled_from(slots), label="which id")
    candidates = ["0", "999999999", str(2**63 - 1), "9" * 20] + [str(n) for n in foreign]
    parts[i] = data.draw(st.sampled_from(candidates), label="id")
    return "/".join(parts) + (f"?{split.query}" if split.query else "")


# --- the world and its pages ---------------------------------------------------------------------


def _counts() -> dict[str, int]:
    """The row count of every table of ours, in one query."""
    tables = sorted(
        {m._meta.db_table for m in apps.get_models() if m.__module__.startswith("huiyin.") and not m._meta.proxy}
    )
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(t)})" for t in tables))
        return dict(zip(tables, cursor.fetchone(), strict=True))


def _error_shown(response) -> bool:
    stored = getattr(response.wsgi_request, "_messages", None)
    levels = [m.level for m in getattr(stored, "_queued_messages", [])] if stored is not None else []
    return any(level >= message_levels.ERROR for level in levels)


def _start_pages(world: OrgWorld) -> list[str]:
    pages = ["/cases/desk/", "/cases/", "/supervision/", "/callbacks/", "/surveys/", "/evaluation/", "/policy/"]
    pages += [f"/cases/{cid}/" for cid in world.cases.values()]
    pages += ["/status/"]
    if "rate" in world.tokens:
        pages.append(f"/rate/{world.tokens['rate']}/")
    if "survey" in world.tokens:
        pages.append(f"/survey/{world.tokens['survey']}/")
    # The public portal: its pages, the receipt without a submission (the crawler solves no
    # proof of work), and a replied case held through its signed link (rating, review).
    portal = f"/portal/{world.org.code}/"
    pages += ["/portal/", portal, f"{portal}receipt/", f"{portal}receipt.pdf", f"{portal}appointments/done/"]
    if "replied" in world.cases:
        pages += [f"/portal/c/{case_token(Case.objects.get(pk=world.cases['replied']))}/", f"{portal}case/"]
    return pages


@pytest.fixture
def world(_fresh_calendars):
    return {"a": build_property("a_"), "b": build_petition("b_"), "c": build_construction("c_")}


@pytest.fixture
def _fresh_calendars():
    from huiyin.policy.services.calendars import invalidate_calendars

    invalidate_calendars()
    yield
    invalidate_calendars()


def _discover(world: dict[str, OrgWorld]) -> tuple[dict[str, Client], list[Form], set[str]]:
    clients: dict[str, Client] = {}
    forms: dict[tuple, Form] = {}
    reached: set[str] = set()
    for key, w in world.items():
        client = Client(raise_request_exception=True)
        client.force_login(w.fuzzer)
        clients[key] = client
        found, views = crawl(client, key, _start_pages(w))
        reached |= views
        for form in found:
            if _view_name(urlsplit(form.action).path) not in NOT_FORMS:
                forms.setdefault(form.key, form)
        # A repeat call posted from the intake form's caller history (htmx, shown once a
        # known number is typed): the intake form's fields to a case's contacts.
        intake = next(f for f in found if _view_name(urlsplit(f.action).path) == "cases:intake")
        contact = Form(
            key, intake.page, "post", f"/cases/{next(iter(w.cases.values()))}/contacts/", dict(intake.fields)
        )
        forms.setdefault(contact.key, contact)
    anonymous = Client(raise_request_exception=True)
    clients["anonymous"] = anonymous
    return clients, list(forms.values()), reached


def _send(form: Form, client: Client, url: str, values: dict[str, object], tally: dict[str, int]) -> None:
    """One request in a savepoint rolled back after: below 500, and a refusal stores nothing."""
    with transaction.atomic():
        before = _counts()
        if form.method == "post":
            response = client.post(url, values)
        else:
            query = urlencode({k: v for k, v in values.items() if isinstance(v, str)}, doseq=True)
            response = client.get(f"{urlsplit(url).path}?{query}")
        tally["requests"] += 1
        shown = {k: str(v)[:80] for k, v in values.items()}
        assert response.status_code < 500, (url, shown)
        if form.method == "post" and (response.status_code >= 400 or _error_shown(response)):
            tally["refused"] += 1
            after = _counts()
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            assert not changed, (url, shown, changed)
        transaction.set_rollback(True)


# Every form first gets a fixed set of rounds, deterministically: in each, every field of a
# kind gets one typical bad value (the rest as the page offered them), so each kind of bad
# value reaches every field it concerns. Hypothesis then mixes them freely.
DATE_KINDS = ("date", "datetime-local")
ID_KINDS = ("select", "hidden", "number", "radio")
TEXT_KINDS = ("text", "textarea", "hidden", "number", "date", "datetime-local")
ROUNDS: list[tuple[tuple[str, ...], str]] = [
    (DATE_KINDS, "0001-01-01T00:00"),  # stored BC on PostgreSQL, an overflow on SQLite
    (DATE_KINDS, "2026-02-30T10:00"),  # 30 February
    (DATE_KINDS, "2026-13-01"),  # month 13
    (DATE_KINDS, "9999-12-31T23:59"),
    (ID_KINDS, "abc"),
    (ID_KINDS, "9" * 20),
    (TEXT_KINDS, "意见\x00内容\x1b[31m"),
    (TEXT_KINDS, "字" * 100_001),
]


def _is_date(f: Field) -> bool:
    return f.kind in DATE_KINDS or bool(re.search(r"(_at|_on|_from|_to)$|^(date|start|end)$", f.name))


# Free-text fields a page leaves blank get some words, so that a round gets past "required"
# to the checks behind it; fields that hold something else stay as offered.
NOT_WORDS = re.compile(
    r"phone|id_number|number|token|version|code|ref|signature|count|size|amount|attendance|_at$|_on$"
)


def _plausible(f: Field) -> str:
    if f.options and f.kind in ("select", "radio", "checkbox", "button"):
        return f.options[0]
    if not f.value.strip() and f.kind in ("text", "textarea") and not NOT_WORDS.search(f.name):
        return "测试内容"
    return f.value


def _rounds(form: Form) -> list[dict[str, object]]:
    """The deterministic requests for ``form``: one per round that concerns one of its fields."""
    fields = [f for f in form.fields.values() if f.name != "csrfmiddlewaretoken" and f.kind != "file"]
    kept = {f.name: _plausible(f) for f in fields}
    rounds = []
    for kinds, bad in ROUNDS:
        # a bad version stops every action before its own checks: it is fuzzed below
        hit = [
            f.name
            for f in fields
            if f.name != "version" and (_is_date(f) if kinds is DATE_KINDS else f.kind in kinds and not _is_date(f))
        ]
        if hit:
            rounds.append(kept | dict.fromkeys(hit, bad))
    return rounds


def _fuzzer(form: Form, client: Client, foreign: list[int], tally: dict[str, int]):
    """A hypothesis test for one form: malformed values in, no 5xx and nothing half-stored out."""

    @settings(
        max_examples=EXAMPLES_PER_FORM,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the failure message carries the values
    )
    @given(data=st.data())
    def post(data: st.DataObject) -> None:
        values: dict[str, object] = {}
        for f in form.fields.values():
            if f.name == "csrfmiddlewaretoken":
                continue
            if f.kind == "file":
                if data.draw(st.booleans(), label=f"{f.name} file?"):
                    name, body = data.draw(st.sampled_from(BAD_FILES), label=f.name)
                    values[f.name] = SimpleUploadedFile(name, body)
                continue
            value = _value(data, f)
            if value is not None:
                values[f.name] = value
        _send(form, client, _url(data, form.action, foreign), values, tally)

    return post


@pytest.mark.heavy
def test_malformed_input_is_refused_cleanly_and_stores_nothing(world):
    clients, forms, reached = _discover(world)
    posted = {_view_name(urlsplit(f.action).path) for f in forms}
    # The REST API and Open311 are JSON and XML, not forms: their bad input (malformed JSON, wrong types, unknown
    # fields, stale versions, replayed keys) is tested in tests/api.
    api = {name for name in all_view_names() if name.startswith(("api:", "open311:"))}
    missing = all_view_names() - reached - posted - set(NOT_FORMS) - api
    assert not missing, f"views no page links to nor posts to (link them, or list them in NOT_FORMS): {missing}"

    foreign = sorted({n for w in world.values() for n in (*w.cases.values(), *w.ids.values())})
    tally = {"requests": 0, "refused": 0}
    failures = []
    for form in forms:
        client = clients[form.user]
        try:
            for values in _rounds(form):
                _send(form, client, form.action, values, tally)
            _fuzzer(form, client, foreign, tally)()
        except Exception as exc:  # every form is tried; all failures are reported together
            failures.append(f"{form.method.upper()} {form.action}: {exc!r}"[:600])
    assert not failures, "\n".join(failures)
    assert tally["requests"] >= len(forms) * (1 + EXAMPLES_PER_FORM * 0.5)
    print(f"bad input: {len(forms)} forms, {tally['requests']} requests, {tally['refused']} refused, no 5xx")
