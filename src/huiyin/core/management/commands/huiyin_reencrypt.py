"""``huiyin reencrypt``: rewrite every encrypted personal field under the newest key.

After putting a new key first in HUIYIN_FIELD_KEYS (and/or HUIYIN_LOOKUP_KEYS), run
this; when it has finished, the old keys can be removed. It also recomputes the
keyed look-up hashes under the newest look-up key. Rows are rewritten in batches,
each in its own transaction, so it can run while the service is up and be run again.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from huiyin.core.fields import EncryptedTextField


def encrypted_models() -> list[tuple[Any, list[str]]]:
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


class Command(BaseCommand):
    help = "Re-encrypt personal fields under the newest key of HUIYIN_FIELD_KEYS and refresh the look-up hashes."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500, help="rows per transaction (default 500)")

    def handle(self, *args, batch: int, **options):
        for model, names in encrypted_models():
            hashes = list(getattr(model, "HASHED", {}).values())
            written, last = 0, 0
            while True:
                with transaction.atomic():
                    rows = list(model.objects.select_for_update().filter(pk__gt=last).order_by("pk")[:batch])
                    if not rows:
                        break
                    for row in rows:
                        if hashes:
                            row.refresh_hashes()
                    # Saving decrypted values encrypts them again, under the first key.
                    model.objects.bulk_update(rows, [*names, *hashes])
                written += len(rows)
                last = rows[-1].pk
            self.stdout.write(f"{model._meta.label}: {written} rows re-encrypted ({', '.join(names)})")
