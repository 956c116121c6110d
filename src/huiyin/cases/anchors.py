"""The anchor log: signed chain heads kept outside the database (F82).

A keyed hash chain shows an edited or re-linked event, but not a chain whose last events
were removed: what is left still verifies. So, every minute or so (the sweeper, or
``huiyin audit anchor``), the head of each case that got new events — how many events it
had and the hash of the last one — is appended to a file, by default
``HUIYIN_DATA_DIR/audit/anchors.jsonl`` (``HUIYIN_AUDIT_ANCHOR_LOG``). An anchor is a
promise about a prefix: "case 42 had at least 7 events and the 7th hashed to h". Every
anchor ever written must still hold; ``huiyin audit verify`` checks them all.

One JSON object a line::

    {"at": "...", "heads": {"42": [7, "h…"]}, "mac": "…", "prev": "<mac of the line before>",
     "seq": 12, "upto": 9815, "v": 1}

``mac`` is HMAC-SHA256 with the audit key over the line without ``mac``, and ``prev``
chains the lines: someone who can write to the database cannot write a line at all, and
someone who can write to the file but has no key can only cut whole lines off its end.
``upto`` is the highest event id the run looked at; the next run starts after it.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from .hashing import audit_key

VERSION = 1
DOMAIN = b"huiyin.anchor.v1\n"


def default_path() -> Path:
    configured = getattr(settings, "HUIYIN_AUDIT_ANCHOR_LOG", "")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "audit" / "anchors.jsonl"


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _mac(key: bytes, body: dict[str, Any]) -> str:
    return hmac.new(key, DOMAIN + _canonical(body), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Tail:
    """What the next line chains onto."""

    seq: int = 0
    mac: str = ""
    upto: int = 0


@dataclass
class Reading:
    """The whole log, checked: every anchor per case (count -> head hash), and what is wrong."""

    anchors: dict[int, dict[int, str]] = field(default_factory=dict)
    conflicts: set[int] = field(default_factory=set)  # two different heads for one count
    lines: int = 0
    tail: Tail = field(default_factory=Tail)
    problems: list[str] = field(default_factory=list)
    exists: bool = False


class AnchorLog:
    def __init__(self, path: Path | None = None, key: bytes | None = None):
        self.path = path or default_path()
        self.key = key or audit_key()

    # --- reading --------------------------------------------------------------------

    def read(self) -> Reading:
        reading = Reading()
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return reading
        reading.exists = True
        with handle:
            fcntl.flock(handle, fcntl.LOCK_SH)  # never half a line being appended
            expected = Tail()
            for number, raw in enumerate(handle, start=1):
                reading.lines = number
                problem = self._take(raw, number, expected, reading)
                if problem:
                    reading.problems.append(problem)
                expected = reading.tail
        return reading

    def _take(self, raw: bytes, number: int, expected: Tail, reading: Reading) -> str:
        if not raw.endswith(b"\n"):
            return f"line {number}: incomplete (no line end)"
        try:
            body = json.loads(raw)
            mac = body.pop("mac")
            seq, prev, upto, heads = body["seq"], body["prev"], body["upto"], body["heads"]
        except (ValueError, KeyError, TypeError, AttributeError):
            return f"line {number}: not an anchor record"
        if not hmac.compare_digest(str(mac), _mac(self.key, body)):
            return f"line {number}: signature does not match (altered, or written without the audit key)"
        reading.tail = Tail(seq=seq, mac=mac, upto=upto)
        problem = ""
        if seq != expected.seq + 1 or prev != expected.mac:
            problem = f"line {number}: does not follow line {number - 1} (lines removed or reordered)"
        for case_id, (count, head) in heads.items():
            known = reading.anchors.setdefault(int(case_id), {})
            if known.get(count, head) != head:
                reading.conflicts.add(int(case_id))
            known[count] = head
        return problem

    # --- writing --------------------------------------------------------------------

    @contextmanager
    def appending(self) -> Iterator[Appender]:
        """Hold the log's lock: read its tail, then append lines chained onto it."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield Appender(self, fd, self._tail(fd))
        finally:
            os.close(fd)  # releases the lock

    def _tail(self, fd: int) -> Tail:
        size = os.lseek(fd, 0, os.SEEK_END)
        if size == 0:
            return Tail()
        # The last complete line: read backwards in blocks until the line end before it.
        chunk = b""
        position = size
        while position > 0:
            step = min(65536, position)
            position -= step
            chunk = os.pread(fd, step, position) + chunk
            if chunk.count(b"\n") >= 2 or position == 0:
                break
        if not chunk.endswith(b"\n"):
            os.write(fd, b"\n")  # a torn last line stays a line of its own (verify reports it)
        for line in reversed(chunk.rstrip(b"\n").split(b"\n")):
            try:
                body = json.loads(line)
                return Tail(seq=int(body["seq"]), mac=str(body["mac"]), upto=int(body["upto"]))
            except (ValueError, KeyError, TypeError):
                continue  # torn or foreign: chain onto the line before; verify reports this one
        return Tail()


class Appender:
    def __init__(self, log: AnchorLog, fd: int, tail: Tail):
        self.log, self.fd, self.tail = log, fd, tail

    def append(self, heads: dict[int, tuple[int, str]], *, upto: int) -> None:
        seq = self.tail.seq + 1
        body: dict[str, Any] = {
            "v": VERSION,
            "seq": seq,
            "prev": self.tail.mac,
            "at": timezone.now().isoformat(),
            "upto": upto,
            "heads": {str(case_id): [count, head] for case_id, (count, head) in sorted(heads.items())},
        }
        mac = _mac(self.log.key, body)
        os.write(self.fd, _canonical({**body, "mac": mac}) + b"\n")
        os.fsync(self.fd)
        self.tail = Tail(seq=seq, mac=mac, upto=upto)
