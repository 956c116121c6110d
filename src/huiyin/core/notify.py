"""Notifications: desk entries for staff, SMS to complainants through a pluggable
gateway backend (the real SMS gateway is outside; the default writes to a file)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from .locks import xact_lock
from .privacy import mask_phone

log = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, *, phone: str, body: str, key: str) -> None: ...


class FileSmsBackend:
    """Appends one JSON line per message to <data dir>/outbox/sms.jsonl, a file only the
    service's account may read (0600, in a 0700 folder): it holds full phone numbers."""

    def send(self, *, phone: str, body: str, key: str) -> None:
        outbox = Path(settings.DATA_DIR) / "outbox"
        outbox.mkdir(mode=0o700, parents=True, exist_ok=True)
        outbox.chmod(0o700)
        line = json.dumps({"key": key, "phone": phone, "body": body}, ensure_ascii=False) + "\n"
        fd = os.open(outbox / "sms.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)  # an outbox made before this rule was 0644
            fh.write(line)


class ConsoleSmsBackend:
    def send(self, *, phone: str, body: str, key: str) -> None:
        log.info("SMS to %s: %s", mask_phone(phone), body)  # never the full number in logs


def sms_backend() -> SmsBackend:
    path = getattr(settings, "HUIYIN_SMS_BACKEND", "huiyin.core.notify.FileSmsBackend")
    return import_string(path)()


def send_sms_once(*, phone: str, body: str, key: str) -> bool:
    from .models import OutboundMessage

    try:
        with transaction.atomic():
            # A rerun of the task finds the earlier row instead of failing on the key's
            # unique constraint (a failing INSERT lands in PostgreSQL's log).
            xact_lock(f"sms:{key}")
            if OutboundMessage.objects.filter(key=key).exists():
                return False  # already sent by an earlier run of the task
            OutboundMessage.objects.create(key=key, channel="sms", recipient=phone, body=body)
    except IntegrityError:
        return False  # the same, where the lock is a no-op
    sms_backend().send(phone=phone, body=body, key=key)
    return True


def desk_notify(*, recipients, case, key: str, text: str) -> None:
    from .models import Notification

    for staff in recipients:
        Notification.objects.get_or_create(recipient=staff, key=key, defaults={"case": case, "text": text[:300]})
