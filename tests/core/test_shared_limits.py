"""The portal's limits hold across the web workers: the cache they count in is shared by every
process (Redis, or without it the data directory's files, ``huiyin.core.cache``), and its
counters go up atomically and expire with their window."""

from __future__ import annotations

import multiprocessing
import pickle
import time

import pytest
import time_machine

from huiyin.core import limits
from huiyin.core.cache import SharedFileCache


def _hits(bucket: str, who: str, times: int, out) -> None:
    out.put(sum(limits.hit(bucket, who) for _ in range(times)))


def _allowed_in_workers(target, args: tuple, workers: int) -> int:
    """Run ``target(*args, out)`` in forked processes (as gunicorn's workers); the uses let through in all."""
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    processes = [context.Process(target=target, args=(*args, out)) for _ in range(workers)]
    for p in processes:
        p.start()
    allowed = sum(out.get(timeout=60) for _ in processes)
    for p in processes:
        p.join(timeout=60)
    return allowed


def test_a_limit_holds_across_worker_processes(settings):
    """Three workers (forked processes, as gunicorn's) share one count: a 5-a-window limit lets
    5 uses through in all, not 5 in each (an address guessing query codes on every worker)."""
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "code_number": "5/600"}
    assert _allowed_in_workers(_hits, ("code_number", "1:20260101-00001", 5), 3) == 5
    assert limits.spent("code_number", "1:20260101-00001")


def _incr(location: str, times: int) -> None:
    shared = SharedFileCache(location, {})
    for _ in range(times):
        shared.incr("counter")


def test_the_file_cache_counts_every_increment_from_every_process(tmp_path):
    location = str(tmp_path / "cache")
    SharedFileCache(location, {}).add("counter", 0, timeout=600)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_incr, args=(location, 40)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert SharedFileCache(location, {}).get("counter") == 160


def test_an_increment_keeps_the_window_expiry(tmp_path):
    """Django's file cache rewrote a counter with the default 5 minutes on every increment: a
    15-minute lock-out would end 5 minutes after the last wrong code (or never, kept alive)."""
    shared = SharedFileCache(str(tmp_path), {})
    shared.add("k", 0, timeout=3600)
    with open(shared._key_to_file("k"), "rb") as f:
        before = pickle.load(f)  # noqa: S301 - the test's own file
    assert shared.incr("k") == 1 and shared.incr("k") == 2
    with open(shared._key_to_file("k"), "rb") as f:
        after = pickle.load(f)  # noqa: S301
    assert abs(after - before) < 1
    with pytest.raises(ValueError, match="not found"):
        shared.incr("missing")


def test_a_full_cache_drops_expired_entries_before_live_counters(tmp_path):
    """Flooding the cache with keys must not evict a live lock-out at random while expired
    entries can go."""
    shared = SharedFileCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 10, "CULL_FREQUENCY": 2, "CULL_EVERY": 1}})
    shared.add("lock", 5, timeout=3600)
    for n in range(9):
        shared.set(f"old{n}", 1, timeout=0.001)
    time.sleep(0.05)  # the old entries have expired
    shared.set("new", 1, timeout=3600)  # over the maximum: the expired ones are culled
    assert shared.get("lock") == 5 and shared.get("new") == 1


def _tries(who: str, start, out) -> None:
    """One worker's query-code guesses: all wait at the barrier, then try at once."""
    start.wait(timeout=60)
    out.put(sum(limits.attempt([("code_number", who)]).over is None for _ in range(3)))


def test_guesses_made_at_once_are_counted_before_any_is_checked(settings):
    """Four workers guessing the same number at the same moment: a check made before the guess
    is counted would let every one of them through a lock-out that has one guess left."""
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "code_number": "5/600"}
    who = "1:20260101-00002"
    for _ in range(4):
        assert limits.attempt([("code_number", who)]).over is None  # four wrong codes: one left
    start = multiprocessing.get_context("fork").Barrier(4)
    assert _allowed_in_workers(_tries, (who, start), 4) == 1
    assert limits.attempt([("code_number", who)]).over == "code_number"


def test_a_right_code_gives_its_try_back(settings):
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "code_number": "2/600"}
    who = "1:20260101-00003"
    for _ in range(5):  # a person opening their own case again and again is never locked out
        tried = limits.attempt([("code_number", who), ("code_ip", "10.0.0.1")])
        assert tried.over is None
        limits.refund(tried)
    assert not limits.spent("code_number", who)


def test_a_try_is_given_back_to_its_own_window(settings):
    """A right code whose window ended between the count and the refund must not lower the
    next window's counter (timed right-code look-ups would buy extra wrong guesses there)."""
    settings.HUIYIN_PORTAL_LIMITS = {**settings.HUIYIN_PORTAL_LIMITS, "code_ip": "3/60"}
    with time_machine.travel(1_800_000_059.5, tick=False):  # the last half second of a window
        tried = limits.attempt([("code_ip", "10.0.0.2")])
    with time_machine.travel(1_800_000_060.5, tick=False):  # the next window
        wrong = [limits.attempt([("code_ip", "10.0.0.2")]).over for _ in range(3)]
        limits.refund(tried)
        assert wrong == [None, None, None] and limits.spent("code_ip", "10.0.0.2")
        assert limits.attempt([("code_ip", "10.0.0.2")]).over == "code_ip"


def test_the_directory_is_listed_once_in_so_many_writes(tmp_path, monkeypatch):
    """Django's file cache lists its directory at every write (1.2 ms of an API request, the
    throttle's write); here about one write in CULL_EVERY does."""
    shared = SharedFileCache(str(tmp_path), {"OPTIONS": {"CULL_EVERY": 8}})
    listed = []
    real = shared._list_cache_files
    monkeypatch.setattr(shared, "_list_cache_files", lambda: listed.append(1) or real())
    for n in range(400):
        shared.set(f"k{n}", n, timeout=600)
    assert 20 <= len(listed) <= 90 and shared.get("k399") == 399
    assert SharedFileCache(str(tmp_path), {"OPTIONS": {"CULL_EVERY": 0}})._cull_every == 1
