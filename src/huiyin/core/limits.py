"""Fixed-window rate limits on Django's cache (Redis in production and CI, local memory on a
laptop): no outside service. The public pages use them: the portal (``huiyin.portal``), the
visit booking and the receipts' status page (``/status/``), with one set of buckets, so a
query code guessed on one page counts on the others.

A limit is "count/seconds" from ``settings.HUIYIN_PORTAL_LIMITS``. Each bucket counts per
subject (a client address, a phone number, a case number) in windows of ``seconds`` aligned
on the clock: the first use of a window creates its counter (``add``), every use increments
it (``incr``, atomic on Redis), and the counter expires with its window. Subjects are keyed
by a keyed hash, so no address, phone or case number is ever written to the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

PREFIX = "portal:limit"


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Limit:
        count, _, seconds = text.partition("/")
        limit = cls(int(count), int(seconds))
        if limit.count < 1 or limit.seconds < 1:
            raise ValueError(f"a limit is count/seconds, both at least 1: {text!r}")
        return limit


def limit_for(bucket: str) -> Limit:
    return Limit.parse(settings.HUIYIN_PORTAL_LIMITS[bucket])


def _subject(bucket: str, who: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{bucket}:{who}".encode(), hashlib.sha256).hexdigest()[:32]


def _window(limit: Limit, now: float | None = None) -> int:
    return int((time.time() if now is None else now) // limit.seconds)


def _key(bucket: str, who: str, limit: Limit) -> str:
    return f"{PREFIX}:{bucket}:{_window(limit)}:{_subject(bucket, who)}"


def hit(bucket: str, who: str) -> bool:
    """Count one use by ``who``; False when this use is over the window's count."""
    limit = limit_for(bucket)
    key = _key(bucket, who, limit)
    cache.add(key, 0, timeout=limit.seconds + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # the counter expired between add and incr: a new window
        cache.add(key, 1, timeout=limit.seconds + 1)
        used = 1
    return used <= limit.count


def refund(bucket: str, who: str) -> None:
    """Give back a use counted by ``hit`` (a query code that turned out right)."""
    limit = limit_for(bucket)
    with contextlib.suppress(ValueError):  # the window ended meanwhile: nothing to give back
        cache.decr(_key(bucket, who, limit))


def attempt(buckets: list[tuple[str, str]]) -> str | None:
    """Count one try in each (bucket, who) before it is made — parallel tries cannot all pass
    a check made before any of them was counted — and name the first bucket over its count
    (the try is then refused), or None. A try that succeeds is given back with ``refund``."""
    over = None
    for bucket, who in buckets:
        if not hit(bucket, who) and over is None:
            over = bucket
    return over


def spent(bucket: str, who: str) -> bool:
    """The window's count is used up (without counting a use)."""
    limit = limit_for(bucket)
    return int(cache.get(_key(bucket, who, limit)) or 0) >= limit.count


def retry_after(bucket: str) -> int:
    """Seconds until the current window of ``bucket`` ends."""
    limit = limit_for(bucket)
    return max(1, int((_window(limit) + 1) * limit.seconds - time.time()))


def minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))
