"""What every model holding a person's data shares (a complainant, a front-office visitor, a
booked visitor): the masked views every page shows, and the keyed look-up hashes of the
encrypted fields (``core.crypto``), refreshed on every save.

A model lists its hashed fields in ``HASHED`` (``{"phone": "phone_hash", ...}``); a field is
normalised the way it is looked up (``NORMALISE``) before it is hashed, so a look-up of
``" Zhang@Example.org"`` finds ``zhang@example.org``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from huiyin.core import crypto
from huiyin.core.privacy import mask_address, mask_email, mask_id_number, mask_name, mask_phone
from huiyin.core.validators import normalize_id_number


def normalize_email(raw: str) -> str:
    """The form an e-mail address is looked up in: trimmed, lower case."""
    return (raw or "").strip().lower()


NORMALISE: dict[str, Callable[[str], str]] = {"id_number": normalize_id_number, "email": normalize_email}


class PersonalFields:
    """Mixed into a ``models.Model`` with personal fields (name, phone, id_number, email,
    address — whichever it has)."""

    HASHED: ClassVar[dict[str, str]] = {}

    def refresh_hashes(self) -> None:
        """The look-up hashes of the current values, under the newest look-up key."""
        for field, hash_field in self.HASHED.items():
            value = getattr(self, field) or ""
            setattr(self, hash_field, crypto.lookup_hash(NORMALISE.get(field, str)(value)))

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_hashes()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *(h for f, h in self.HASHED.items() if f in update_fields)}
        super().save(*args, **kwargs)  # type: ignore[misc]  # the model's save, next in the MRO

    @property
    def masked_name(self) -> str:
        return mask_name(getattr(self, "name", ""))

    @property
    def masked_phone(self) -> str:
        return mask_phone(getattr(self, "phone", ""))

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(getattr(self, "id_number", ""))

    @property
    def masked_email(self) -> str:
        return mask_email(getattr(self, "email", ""))

    @property
    def masked_address(self) -> str:
        return mask_address(getattr(self, "address", ""))
