"""The cache of an installation without Redis: files in the data directory, shared by every
process on the machine.

The portal's rate limits and used challenges live in the cache (``huiyin.core.limits``,
``huiyin.portal.challenge``). A cache in each process's memory gave each web worker its own
counters — with ``huiyin serve``'s two workers (four in ``deploy/systemd``) every limit and
every lock-out held that many times over. Django's file cache is shared, but its ``incr``
reads, then writes with the default timeout (a window's counter would expire early) and its
``add`` tests, then writes; here both run under one lock file (``fcntl``), ``incr`` keeps the
entry's expiry, and a full cache drops its expired entries before any live one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import random
import time
import zlib
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache

CULL_EVERY = 64  # on average, writes between two looks at the directory's size


class SharedFileCache(FileBasedCache):
    if TYPE_CHECKING:  # Django's own helpers, missing from its type stubs
        _dir: str

        def _createdir(self) -> None: ...
        def _key_to_file(self, key: Any, version: int | None = None) -> str: ...
        def _list_cache_files(self) -> list[str]: ...
        def _is_expired(self, f: IO[bytes]) -> bool: ...
        def _delete(self, fname: str) -> bool: ...

    def __init__(self, dir: str, params: dict[str, Any]) -> None:
        super().__init__(dir, params)
        self._cull_every = max(1, int(params.get("OPTIONS", {}).get("CULL_EVERY", CULL_EVERY)))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._createdir()
        with open(os.path.join(self._dir, "lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        with self._locked():
            return super().add(key, value, timeout, version)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        with self._locked():
            fname = self._key_to_file(key, version)
            try:
                with open(fname, "rb") as f:
                    expiry = pickle.load(f)  # noqa: S301 - our own file, as Django's file cache reads it
                    value = pickle.loads(zlib.decompress(f.read()))  # noqa: S301
            except FileNotFoundError:
                value = expiry = None
            if value is None or (expiry is not None and expiry < time.time()):
                raise ValueError(f"Key '{key}' not found")
            new_value = value + delta
            remaining = None if expiry is None else max(expiry - time.time(), 0.001)
            self.set(key, new_value, remaining, version)
            return new_value

    def _cull(self) -> None:
        """Over ``MAX_ENTRIES``: the expired entries go first; random live ones only if that is not enough.
        Django lists the directory at every write; here a write does with a chance of one in
        ``CULL_EVERY`` — by chance rather than by count, so that processes and threads that
        write a few times each (a cache object per thread) still look now and then."""
        if self._cull_every > 1 and random.randrange(self._cull_every):  # noqa: S311 - not security
            return
        files = self._list_cache_files()
        if len(files) < self._max_entries:
            return
        live = []
        for fname in files:
            try:
                with open(fname, "rb") as f:
                    expired = self._is_expired(f)  # deletes the file when it is
            except FileNotFoundError:
                continue
            if not expired:
                live.append(fname)
        if len(live) >= self._max_entries and self._cull_frequency:
            for fname in random.sample(live, len(live) // self._cull_frequency):
                self._delete(fname)
