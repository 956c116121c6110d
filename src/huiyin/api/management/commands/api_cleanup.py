"""``huiyin api_cleanup``: forget idempotency records past HUIYIN_API_IDEMPOTENCY_HOURS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from huiyin.api.services import idempotency_purge


class Command(BaseCommand):
    help = "Delete expired Idempotency-Key records."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"deleted {idempotency_purge()}\n")
