"""Personal-data masking (F81 baseline): what every list and detail shows by default."""

from __future__ import annotations

import re

# Optional area code (with or without hyphen), the local number, an optional extension (dropped).
_LANDLINE = re.compile(r"^(0\d{2,3}-?)?(\d+)(?:-\d+)?$")


def mask_phone(phone: str | None) -> str:
    """138****1234 for mobiles; landlines keep the area code and the last four digits."""
    if not phone:
        return ""
    value = phone.strip()
    if len(value) == 11 and value.startswith("1") and value.isdigit():
        return f"{value[:3]}****{value[-4:]}"
    match = _LANDLINE.match(value)
    area, local = (match.group(1) or "", match.group(2)) if match else ("", value)
    if len(local) <= 5:  # short numbers: keep only the first digit
        return area + local[:1] + "*" * (len(local) - 1)
    return area + "*" * (len(local) - 4) + local[-4:]


def mask_id_number(id_number: str | None) -> str:
    """Show region (first 6) and check digits (last 4); hide the birth date."""
    if not id_number:
        return ""
    if len(id_number) < 10:
        return "*" * len(id_number)
    return f"{id_number[:6]}{'*' * (len(id_number) - 10)}{id_number[-4:]}"


def mask_name(name: str | None) -> str:
    """张** / 欧阳** : keep the surname (first character) only."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)
