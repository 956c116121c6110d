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


def _count(bucket: str, who: str) -> tuple[str, bool]:
    """Count one use by ``who``: the counter's key, and whether this use is within the count."""
    return count_in(bucket, who, limit_for(bucket))


def count_in(bucket: str, who: str, limit: Limit) -> tuple[str, bool]:
    """``_count`` with a limit of the caller's (the API's per-key rate): one add and one
    atomic increment, whatever the count — never a list of past uses read and written back."""
    key = _key(bucket, who, limit)
    cache.add(key, 0, timeout=limit.seconds + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # the counter expired between add and incr: a new window
        cache.add(key, 1, timeout=limit.seconds + 1)
        used = 1
    return key, used <= limit.count


def hit(bucket: str, who: str) -> bool:
    """Count one use by ``who``; False when this use is over the window's count."""
    return _count(bucket, who)[1]


@dataclass(frozen=True)
class Attempt:
    over: str | None  # the first bucket over its count (the try is refused), or None
    keys: tuple[str, ...]  # the counters this try went into, to give it back if it succeeds


def attempt(buckets: list[tuple[str, str]]) -> Attempt:
    """Count one try in each (bucket, who) before it is made — parallel tries cannot all pass
    a check made before any of them was counted — and name the first bucket over its count.
    A try that succeeds is given back with ``refund``."""
    over, keys = None, []
    for bucket, who in buckets:
        key, within = _count(bucket, who)
        keys.append(key)
        if not within and over is None:
            over = bucket
    return Attempt(over, tuple(keys))


def refund(tried: Attempt) -> None:
    """Give back a try (a query code that turned out right): the very counters it went into,
    so a window that ended meanwhile is not lowered in the next one; never below zero."""
    for key in tried.keys:
        with contextlib.suppress(ValueError):  # the counter expired meanwhile: nothing to give back
            if int(cache.get(key) or 0) > 0:
                cache.decr(key)


def spent(bucket: str, who: str) -> bool:
    """The window's count is used up (without counting a use)."""
    limit = limit_for(bucket)
    return int(cache.get(_key(bucket, who, limit)) or 0) >= limit.count


def retry_after(bucket: str) -> int:
    """Seconds until the current window of ``bucket`` ends."""
    return window_left(limit_for(bucket))


def window_left(limit: Limit) -> int:
    """Seconds until the current window of ``limit`` ends."""
    return max(1, int((_window(limit) + 1) * limit.seconds - time.time()))


def minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))
