"""Keyed hashes of case events (F82).

Each event row carries ``hash = HMAC-SHA256(HUIYIN_AUDIT_KEY, its content + the previous
row's hash)``. The key lives outside the database (settings, from the environment), so
someone who can write to the database can neither forge a row nor recompute a chain after
changing one. See docs/decisions/0003-tamper-evident-audit-trail.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Part of every hashed body: a future layout names itself differently.
LAYOUT = "huiyin.event.v2"


def audit_key() -> bytes:
    key = getattr(settings, "HUIYIN_AUDIT_KEY", "")
    if not key:
        raise ImproperlyConfigured("HUIYIN_AUDIT_KEY is empty: the audit trail cannot be signed or verified.")
    return str(key).encode()


def event_hash(
    *,
    case_id: int | None,
    round: int,
    actor_id: int | None,
    actor_kind: str,
    actor_system_id: int | None,
    at: datetime,
    kind: str,
    data: Any,
    prev_hash: str,
    key: bytes | None = None,
) -> str:
    body = json.dumps(
        [LAYOUT, case_id, round, actor_id, actor_kind or "", actor_system_id, at.isoformat(), kind, data, prev_hash],
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hmac.new(key if key is not None else audit_key(), body.encode(), hashlib.sha256).hexdigest()


def row_hash(row: Any, key: bytes | None = None) -> str:
    """The keyed hash of an Event, or of anything with an Event's attributes (a values_list row)."""
    return event_hash(
        case_id=row.case_id,
        round=row.round,
        actor_id=row.actor_id,
        actor_kind=row.actor_kind,
        actor_system_id=row.actor_system_id,
        at=row.at,
        kind=row.kind,
        data=row.data,
        prev_hash=row.prev_hash,
        key=key,
    )
