"""Notifications: desk entries for staff, SMS to complainants through a pluggable
gateway backend (the real SMS gateway is outside; the default writes to a file)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from .models import Notification, OutboundMessage
from .privacy import mask_phone

log = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, *, phone: str, body: str, key: str) -> None: ...


class FileSmsBackend:
    """Appends one JSON line per message to <data dir>/outbox/sms.jsonl."""

    def send(self, *, phone: str, body: str, key: str) -> None:
        outbox = Path(settings.DATA_DIR) / "outbox"
        outbox.mkdir(parents=True, exist_ok=True)
        with (outbox / "sms.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"key": key, "phone": phone, "body": body}, ensure_ascii=False) + "\n")


class ConsoleSmsBackend:
    def send(self, *, phone: str, body: str, key: str) -> None:
        log.info("SMS to %s: %s", mask_phone(phone), body)  # never the full number in logs


def sms_backend() -> SmsBackend:
    path = getattr(settings, "HUIYIN_SMS_BACKEND", "huiyin.core.notify.FileSmsBackend")
    return import_string(path)()


def send_sms_once(*, phone: str, body: str, key: str) -> bool:
    try:
        with transaction.atomic():
            OutboundMessage.objects.create(key=key, channel="sms", recipient=phone, body=body)
    except IntegrityError:
        return False  # already sent by an earlier run of the task
    sms_backend().send(phone=phone, body=body, key=key)
    return True


def desk_notify(*, recipients, case, key: str, text: str) -> None:
    for staff in recipients:
        Notification.objects.get_or_create(recipient=staff, key=key, defaults={"case": case, "text": text[:300]})
