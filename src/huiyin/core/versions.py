"""Optimistic locking for edit forms: concurrent edits never lose an update.

A form that edits an existing row carries what the row was when the page was made: its
``version`` (an integer column the service bumps with every change, as ``Case.version``),
or — where the row may not exist yet (a default template) or has no column of its own —
a ``fingerprint`` of the values the form showed. The service, holding the row's lock,
refuses a save made on a page someone else's save has since outdated (``StaleObject``,
HTTP 409 in the API): nothing is stored, the page shows the message above the form and
keeps what the person typed. The forms' side is ``core.forms.VersionField`` /
``FingerprintField``; a form without a valid one is refused (``validators.form_version``,
``form_fingerprint``),
never treated as "don't check".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from .errors import StaleObject

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


def stale(what: str | StrPromise) -> StaleObject:
    """The refusal of a stale save of ``what`` (“该部门”, “该模板”)."""
    return StaleObject(
        _("在您打开页面之后，%(what)s已被其他人修改，您这次的修改未保存。请刷新页面，看过最新内容后再修改。")
        % {"what": what}
    )


def outdated(row: Any, expected: int | None) -> bool:
    """Whether ``row`` — locked by the caller — is no longer at the version the form was made
    for. ``None`` is a caller that checks nothing (a script, an import)."""
    return expected is not None and row.version != expected


def check_version(row: Any, expected: int | None, *, what: str | StrPromise) -> None:
    """Refuse (``stale``) a save made on a form ``row`` has since outdated (``outdated``).
    A refusal that must say more (what the row has become) tests ``outdated`` itself."""
    if outdated(row, expected):
        raise stale(what)


def bump(row: Any, fields: Iterable[str]) -> None:
    """Save ``fields`` of ``row`` as a new version: an older form of it is stale from now on."""
    row.version += 1
    row.save(update_fields=[*fields, "version"])


def fingerprint(*values: Any) -> str:
    """A short digest of the values an edit form shows (a row's current text, ids...): the
    version of something that has no version column."""
    text = json.dumps(values, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def check_fingerprint(current: str, expected: str | None, *, what: str | StrPromise) -> None:
    """``check_version`` for a fingerprint: ``current`` is ``fingerprint`` of the values now stored."""
    if expected is not None and current != expected:
        raise stale(what)
