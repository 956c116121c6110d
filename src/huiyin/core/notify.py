"""Desk entries for staff, and the SMS gateway backends (the real SMS gateway is outside; the
default writes to a file). Messages themselves — to complainants and staff, from the
organisation's templates, once per event and recipient — are ``huiyin.notifications``'."""

from __future__ import annotations

import fcntl
import json
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.module_loading import import_string

from .errors import NotFound
from .models import Notification
from .privacy import mask_phone
from .reminders import ReminderText

log = logging.getLogger(__name__)


class SmsBackend(Protocol):
    """A gateway adapter. ``key`` identifies the message: a task retried after a crash
    between handing a message over and committing its record hands the same message over
    again, so an adapter passes the key on as the gateway's idempotency key (client
    reference / out-id) and a gateway receives each key once."""

    def send(self, *, phone: str, body: str, key: str) -> None: ...


class FileSmsBackend:
    """Appends one JSON line per message to <data dir>/outbox/sms.jsonl, once per key (a
    stand-in gateway honouring the idempotency key; the file is locked while it is checked
    and written, so concurrent workers cannot both append the same key). Only the service's
    account may read it (0600, in a 0700 folder): it holds full phone numbers."""

    def send(self, *, phone: str, body: str, key: str) -> None:
        outbox = Path(settings.DATA_DIR) / "outbox"
        outbox.mkdir(mode=0o700, parents=True, exist_ok=True)
        outbox.chmod(0o700)
        line = json.dumps({"key": key, "phone": phone, "body": body}, ensure_ascii=False)
        prefix = line[: line.index(', "phone"')]  # '{"key": "<key>"': how every line of this key starts
        fd = os.open(outbox / "sms.jsonl", os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a+", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)  # an outbox made before this rule was 0644
            fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file closes
            fh.seek(0)
            if any(existing.startswith(prefix + ",") for existing in fh):
                log.info("SMS %s was handed over before: not sent again", key)
                return
            fh.write(line + "\n")


class ConsoleSmsBackend:
    def send(self, *, phone: str, body: str, key: str) -> None:
        log.info("SMS to %s: %s", mask_phone(phone), body)  # never the full number in logs


def sms_backend() -> SmsBackend:
    return import_string(settings.HUIYIN_SMS_BACKEND)()


# Reminders about work that goes on after the case is finished (a problem found at the
# callback must still be put right, a question left open at the callback must still be
# answered by the promised time): finishing the case does not clear them.
KINDS_AFTER_CLOSING = frozenset({"callback-task", "callback-question"})


def kind_of(key: str) -> str:
    """A reminder's kind from its key: the words of it, without the ids ("clock:12:warn:0"
    is "clock:warn", "callback-task:7" is "callback-task")."""
    return ":".join([part for part in key.split(":") if not part.isdigit()][:2])


def desk_notify(
    *, recipients, case, key: str, text: ReminderText | str, at: datetime | None = None, kind: str = ""
) -> None:
    """A reminder on each recipient's desk, once per key. ``kind`` (default: ``kind_of(key)``)
    keeps one open reminder per case and kind: a newer one replaces the older text and
    comes back unread, instead of a second line. ``at``: when it happened (a recreated
    history's own time; default now). ``text`` is kept as its wording and values and shown
    in the reader's language (``huiyin.core.reminders``); a plain string is shown as it is."""
    kind = (kind or kind_of(key))[:40]
    if isinstance(text, str):
        text = ReminderText(text)
    message, words = text.as_data(), text.source()[:300]
    when = at or timezone.now()
    for staff in recipients:
        if Notification.objects.filter(recipient=staff, key=key).exists():
            continue  # a rerun of the task
        if case is not None:
            same = (
                Notification.objects.filter(recipient=staff, case=case, kind=kind, done_at__isnull=True)
                .order_by("-created_at", "-id")
                .first()
            )
            if same is not None:
                if when >= same.created_at:
                    same.key, same.text, same.message, same.created_at, same.read_at = key, words, message, when, None
                    same.save(update_fields=["key", "text", "message", "created_at", "read_at"])
                continue
        Notification.objects.get_or_create(
            recipient=staff,
            key=key,
            defaults={"case": case, "text": words, "message": message, "kind": kind, "created_at": when},
        )


def desk_mark_read(
    *, recipient, case_id: int | None = None, notification_id: int | None = None, at: datetime | None = None
) -> int:
    """The person saw it: their reminders about the case they opened or moved (or one reminder)."""
    rows = Notification.objects.filter(recipient=recipient, read_at__isnull=True)
    if case_id is not None:
        rows = rows.filter(case_id=case_id)
    elif notification_id is not None:
        rows = rows.filter(pk=notification_id)
    else:
        return 0
    return rows.update(read_at=at or timezone.now())


def desk_mark_done(*, recipient, notification_id: int) -> int:
    """The person dealt with it: the reminder — and, for a case, every open reminder the
    person has about that case — leaves the desk. Another person's reminder is not found."""
    row = Notification.objects.filter(recipient=recipient, pk=notification_id).first()
    if row is None:
        raise NotFound()
    rows = Notification.objects.filter(recipient=recipient, done_at__isnull=True)
    rows = rows.filter(case_id=row.case_id) if row.case_id is not None else rows.filter(pk=row.pk)
    now = timezone.now()
    return rows.update(done_at=now, read_at=Coalesce("read_at", Value(now)))


def desk_put_away(*, notification_id: int, at: datetime) -> int:
    """One reminder read and dealt with at ``at``, by itself (a recreated history's reader;
    ``desk_mark_done`` is a person's click, which puts away all they have on the case)."""
    return Notification.objects.filter(pk=notification_id, done_at__isnull=True).update(
        done_at=at, read_at=Coalesce("read_at", Value(at))
    )


def desk_settle(*, case_id: int, kinds: tuple[str, ...], at: datetime | None = None) -> int:
    """What these reminders announced is dealt with (a new case signed for, a proposal
    approved): they leave every desk."""
    return Notification.objects.filter(case_id=case_id, kind__in=kinds, done_at__isnull=True).update(
        done_at=at or timezone.now()
    )


def desk_settle_keys(*, case_id: int, key_prefix: str, at: datetime | None = None) -> int:
    """The reminders a step wrote about one thing of the case (a clock: ``clock:<id>:``)
    are stale: that thing is over."""
    return Notification.objects.filter(case_id=case_id, key__startswith=key_prefix, done_at__isnull=True).update(
        done_at=at or timezone.now()
    )


def desk_case_finished(*, case_id: int, at: datetime | None = None) -> int:
    """The case is finished (closed, archived, not accepted, returned, transferred): its
    reminders are stale and leave every desk, except those about work that goes on."""
    when = at or timezone.now()
    return (
        Notification.objects.filter(case_id=case_id, done_at__isnull=True)
        .exclude(kind__in=KINDS_AFTER_CLOSING)
        .update(done_at=when)
    )
