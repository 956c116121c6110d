"""Two people edit the same row: each loads the page, both save. The first save is kept,
the second is refused (it was made on a page the first save outdated) — never the last
save silently winning (core.versions)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.test import Client

from huiyin.orgs.roles import Role
from tests.conftest import make_staff

STALE = "已被其他人修改，您这次的修改未保存"

_FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S)
_ACTION = re.compile(r'\baction="([^"]*)"')
_VERSION = re.compile(r'<input\b[^>]*\bname="version"[^>]*>')
_VALUE = re.compile(r'\bvalue="([^"]*)"')


def version_on(page: str, action: str | None = None) -> str:
    """The hidden version of the page's form posting to ``action`` (the only one with a
    version when ``action`` is None): what a browser sends back."""
    found = []
    for form in _FORM.findall(page):
        target = _ACTION.search(form.split(">", 1)[0])
        if action is not None and (target is None or html.unescape(target.group(1)) != action):
            continue
        field = _VERSION.search(form)
        if field is not None:
            value = _VALUE.search(field.group(0))
            found.append(html.unescape(value.group(1)) if value else "")
    assert len(found) == 1, f"{len(found)} forms with a version posting to {action!r}"
    return found[0]


@dataclass
class TwoSaves:
    first: HttpResponse
    second: HttpResponse


def two_saves(
    first: Client,
    second: Client,
    *,
    page: str,
    post: str | None = None,
    data: Callable[[str], dict[str, Any]],
) -> TwoSaves:
    """Both clients load ``page``, then each posts ``data(who)`` to ``post`` (the page itself
    by default) with the version its page offered: ``who`` is "first" or "second"."""
    target = post or page
    action = None if post is None else post
    versions = []
    for client in (first, second):
        response = client.get(page)
        assert response.status_code == 200, response.status_code
        versions.append(version_on(response.content.decode(), action))
    answers = [
        client.post(target, {**data(who), "version": version})
        for client, who, version in zip((first, second), ("first", "second"), versions, strict=True)
    ]
    return TwoSaves(*answers)


def refused_as_stale(response: HttpResponse) -> bool:
    return response.status_code in (400, 409) and STALE in response.content.decode()


def two_admins(org: Any) -> tuple[Client, Client]:
    """Two administrators of ``org``, each signed in on a client of their own."""
    first, second = Client(), Client()
    first.force_login(make_staff(org, "admin_1", [Role.ADMIN]))
    second.force_login(make_staff(org, "admin_2", [Role.ADMIN]))
    return first, second
