"""The complaint mailbox over IMAP (stdlib ``imaplib``): list the new mail, read one
without marking it, and mark it taken — only once what it became is committed.

Settings (environment, README "Configuration"): ``HUIYIN_IMAP_HOST`` (empty: no e-mail
channel), ``_PORT``, ``_SECURITY`` (ssl, starttls or none — none only on loopback),
``_USER``, ``_PASSWORD``, ``_MAILBOX`` (INBOX), ``_DONE_MAILBOX`` (where taken mail is
moved; empty: it stays, marked as read), ``_TIMEOUT``.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class MailboxError(Exception):
    """The mail server refused or failed a command."""


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    security: str
    user: str
    password: str
    mailbox: str
    done_mailbox: str
    timeout: float

    @classmethod
    def from_settings(cls) -> ImapConfig:
        security = settings.HUIYIN_IMAP_SECURITY
        if security not in ("ssl", "starttls", "none"):
            raise ImproperlyConfigured("HUIYIN_IMAP_SECURITY must be ssl, starttls or none")
        host = settings.HUIYIN_IMAP_HOST
        if security == "none" and host not in LOOPBACK:
            raise ImproperlyConfigured("HUIYIN_IMAP_SECURITY=none is for a server on this machine only")
        default_port = 993 if security == "ssl" else 143
        return cls(
            host=host,
            port=settings.HUIYIN_IMAP_PORT or default_port,
            security=security,
            user=settings.HUIYIN_IMAP_USER,
            password=settings.HUIYIN_IMAP_PASSWORD,
            mailbox=settings.HUIYIN_IMAP_MAILBOX,
            done_mailbox=settings.HUIYIN_IMAP_DONE_MAILBOX,
            timeout=settings.HUIYIN_IMAP_TIMEOUT,
        )


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Mailbox:
    """One session with the mailbox selected (use as a context manager)."""

    def __init__(self, config: ImapConfig) -> None:
        self.config = config
        self.conn: imaplib.IMAP4 | None = None

    def __enter__(self) -> Mailbox:
        cfg = self.config
        context = ssl.create_default_context()
        if cfg.security == "ssl":
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(cfg.host, cfg.port, ssl_context=context, timeout=cfg.timeout)
        else:
            conn = imaplib.IMAP4(cfg.host, cfg.port, timeout=cfg.timeout)
            if cfg.security == "starttls":
                conn.starttls(ssl_context=context)
        self.conn = conn
        self._ok(conn.login(cfg.user, cfg.password), "LOGIN")
        self._ok(conn.select(_quoted(cfg.mailbox)), "SELECT")
        return self

    def __exit__(self, *exc_info: object) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            conn.close()
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass  # the session is over either way

    @staticmethod
    def _ok(result: tuple[str, list], command: str) -> list:
        status, data = result
        if status != "OK":
            raise MailboxError(f"IMAP {command} answered {status}")
        return data

    @property
    def _conn(self) -> imaplib.IMAP4:
        if self.conn is None:
            raise MailboxError("not connected")
        return self.conn

    def new_uids(self) -> list[str]:
        data = self._ok(self._conn.uid("SEARCH", "UNSEEN"), "SEARCH")
        return [uid.decode() for uid in (data[0] or b"").split()]

    def _fetch(self, uid: str, what: str) -> tuple[bytes, bytes]:
        data = self._ok(self._conn.uid("FETCH", uid, what), "FETCH")
        for item in data:
            if isinstance(item, tuple):
                return item[0], item[1]
        raise MailboxError(f"IMAP FETCH {what} returned nothing for {uid}")

    def size(self, uid: str) -> int:
        data = self._ok(self._conn.uid("FETCH", uid, "(RFC822.SIZE)"), "FETCH")
        for item in data:
            head = item[0] if isinstance(item, tuple) else item
            match = _SIZE.search(head or b"")
            if match:
                return int(match.group(1))
        raise MailboxError(f"IMAP FETCH RFC822.SIZE returned nothing for {uid}")

    def message(self, uid: str) -> bytes:
        """The whole message, without setting \\Seen (BODY.PEEK)."""
        return self._fetch(uid, "(BODY.PEEK[])")[1]

    def headers(self, uid: str) -> bytes:
        return self._fetch(uid, "(BODY.PEEK[HEADER])")[1]

    def taken(self, uid: str, *, move: bool = True) -> None:
        """Mark a message done (read; moved to the done mailbox when one is set and ``move``)."""
        conn = self._conn
        self._ok(conn.uid("STORE", uid, "+FLAGS", "(\\Seen)"), "STORE")
        target = self.config.done_mailbox
        if move and target and "MOVE" in conn.capabilities:
            self._ok(conn.uid("MOVE", uid, _quoted(target)), "MOVE")
        elif move and target:
            self._ok(conn.uid("COPY", uid, _quoted(target)), "COPY")
            self._ok(conn.uid("STORE", uid, "+FLAGS", "(\\Deleted)"), "STORE")
            self._ok(conn.expunge(), "EXPUNGE")
