"""Personal-data masking (F81 baseline): what every list and detail shows by default."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """138****1234 for mobiles; keep area code and last 4 for landlines."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    head = digits[:4] if digits.startswith("0") and "-" not in digits[:5] else digits[: digits.find("-") + 1]
    return f"{head}{'*' * max(len(digits) - len(head) - 4, 2)}{digits[-4:]}"


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
