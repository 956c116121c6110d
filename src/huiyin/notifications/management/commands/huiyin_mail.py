"""``huiyin mail poll [--every SECONDS]``: take the new mail from the complaint mailbox
(IMAP) — each a case, a contact on the case it answers, or parked for a clerk — and hand
queued messages whose task was lost to the queue again. With ``--every`` it keeps polling
(``huiyin serve`` runs it so when ``HUIYIN_IMAP_HOST`` is set); without, it polls once and
exits 1 if a mail could not be taken in."""

from __future__ import annotations

import imaplib
import logging
import signal
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections

from huiyin.notifications.imap import MailboxError
from huiyin.notifications.intake import poll
from huiyin.notifications.services import requeue_stale

log = logging.getLogger("huiyin.mail")


class Command(BaseCommand):
    help = "Poll the complaint mailbox (IMAP): new mail becomes cases, contacts or parked mail."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["poll"])
        parser.add_argument("--every", type=float, default=0.0, help="keep polling, every SECONDS")
        parser.add_argument("--limit", type=int, default=100, help="mails per poll")

    def handle(self, *args: Any, action: str, every: float, limit: int, **options: Any) -> None:
        if not every:
            if settings.HUIYIN_IMAP_HOST:
                result = self._once(limit)
                self.stdout.write(
                    f"taken {result.taken}: {result.registered} cases, {result.contacts} contacts, "
                    f"{result.parked} parked, {result.duplicates} seen before; {result.errors} left for later"
                )
                if result.errors:
                    raise CommandError(f"{result.errors} mail(s) could not be taken in (see the log)")
            requeue_stale()
            return
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        while not stopping:
            close_old_connections()
            try:
                if settings.HUIYIN_IMAP_HOST:
                    self._once(limit)
                requeue_stale()
            except ImproperlyConfigured:
                raise
            except (MailboxError, imaplib.IMAP4.error, OSError, DatabaseError) as exc:
                # The server or the database is away for a while: try again at the next poll.
                log.warning("mail poll failed: %s", type(exc).__name__)
            deadline = time.monotonic() + every
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(1.0, every))

    @staticmethod
    def _once(limit: int):
        return poll(limit=limit)
