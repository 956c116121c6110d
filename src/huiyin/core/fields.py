"""Model fields for personal data at rest (F81); see ``core.crypto`` for the keys."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, IsNull

from . import crypto


class EncryptedTextField(models.TextField):
    """Text stored encrypted (a Fernet token) and read back as plain text.

    ``max_length`` limits the plain text (forms, validation); the column is unbounded
    text because a token is longer than its value. A blank value stays blank, so
    ``filter(phone="")`` and ``exclude(phone="")`` still work; any other comparison is
    refused, because a token differs at every write: look a value up through its
    keyed-hash column (``core.crypto.lookup_hashes``) instead.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return BlankExact
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted: a '{lookup_name}' comparison cannot work; "
            "use its keyed-hash column"
        )


class BlankExact(Exact):
    """``field=""`` / ``field=None`` only: an encrypted value never equals a new token."""

    def get_prep_lookup(self) -> Any:
        if self.rhs not in ("", None):
            raise FieldError(f"{self.lhs.target.name} is encrypted: compare its keyed-hash column instead")
        return super().get_prep_lookup()


# --- data migrations: existing plain rows to encrypted ones and back ----------------------------


def _batches(model: Any, batch: int):
    last = 0
    while True:
        rows = list(model.objects.filter(pk__gt=last).order_by("pk")[:batch])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def encrypt_plain_rows(
    model: Any,
    fields: tuple[str, ...],
    hashes: dict[str, tuple[str, Any]] | None = None,
    batch: int = 1000,
) -> int:
    """For a data migration whose historical ``model`` still reads the columns as plain
    text: encrypt ``fields`` in place and fill ``hashes`` ({field: (hash column,
    normalise)}) from the plain values. Returns the rows written."""
    hashes = hashes or {}
    written = 0
    for rows in _batches(model, batch):
        for row in rows:
            for name, (column, normalise) in hashes.items():
                setattr(row, column, crypto.lookup_hash(normalise(getattr(row, name) or "")))
            for name in fields:
                value = getattr(row, name)
                if value:
                    setattr(row, name, crypto.encrypt(value))
        model.objects.bulk_update(rows, [*fields, *(column for column, _ in hashes.values())])
        written += len(rows)
    return written


def decrypt_to_plain_rows(model: Any, fields: tuple[str, ...], batch: int = 1000) -> int:
    """The reverse of ``encrypt_plain_rows`` (the columns read as plain text again)."""
    written = 0
    for rows in _batches(model, batch):
        for row in rows:
            for name in fields:
                value = getattr(row, name)
                if value:
                    setattr(row, name, crypto.decrypt(value))
        model.objects.bulk_update(rows, list(fields))
        written += len(rows)
    return written
