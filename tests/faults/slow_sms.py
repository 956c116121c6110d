"""Fault injection for the fault test: an SMS gateway that is slow for one number, so the
test can kill the task worker while it is surely in the middle of a task, and that logs
every hand-over (a retried task hands a message over again; the gateway, honouring the
key, delivers it once)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings

from huiyin.core.notify import FileSmsBackend

SLOW_PHONE = "13700000000"


class SlowFileSmsBackend(FileSmsBackend):
    def send(self, *, phone: str, body: str, key: str) -> None:
        outbox = Path(settings.DATA_DIR) / "outbox"
        outbox.mkdir(parents=True, exist_ok=True)
        with (outbox / "handovers.log").open("a", encoding="utf-8") as fh:
            fh.write(f"{key}\n")
        if phone == SLOW_PHONE:
            time.sleep(float(os.environ.get("HUIYIN_FAULT_SLOW_SMS_SECONDS", "1.5")))
        super().send(phone=phone, body=body, key=key)
