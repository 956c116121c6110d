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


def mask_email(email: str | None) -> str:
    """z***@example.org: the first character of the mailbox and the domain."""
    if not email:
        return ""
    local, _at, domain = email.strip().partition("@")
    if not domain:
        return local[:1] + "***"
    return f"{local[:1]}***@{domain}"


def mask_name(name: str | None) -> str:
    """张** / 欧阳** : keep the surname (first character) only."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


# Where the house-number part of an address starts: the first digit, or a number in
# Chinese characters followed by a building / unit / room word (三号楼, 五单元).
_HOUSE_PART = re.compile(r"[0-9０-９]|[一二三四五六七八九十百千零〇两]+(?:号|幢|栋|单元|室|层|楼|弄|组|排|户)")
# Administrative and street words an address may keep: province … district, town, road.
# "小区" (a housing estate) is not a district: the estate's name goes with the house number.
_AREA_WORD = re.compile(r"特别行政区|自治区|自治州|自治县|省|市|(?<!小)区|县|旗|镇|乡|街道|大道|路|街|巷|胡同|村|社区")


def mask_address(address: str | None) -> str:
    """示范市江南区解放路**** : keep the area and the road, hide the estate, building,
    house and room; an address without such words is hidden whole."""
    if not address:
        return ""
    value = address.strip()
    house = _HOUSE_PART.search(value)
    head = value[: house.start()] if house else value
    ends = [m.end() for m in _AREA_WORD.finditer(head)]
    kept = head[: ends[-1]] if ends else ""
    return value if kept == value else kept + "****"


# Personal data that may sit in free text (an answer that quotes the caller): mainland mobile
# numbers, 15/18-character ID numbers, e-mail addresses, landlines with an area code.
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)1\d{10}(?!\d)")
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_LANDLINE_IN_TEXT = re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")


def mask_in_text(
    text: str | None,
    *,
    names: tuple[str, ...] | list[str] = (),
    addresses: tuple[str, ...] | list[str] = (),
    others: tuple[str, ...] | list[str] = (),
) -> str:
    """Free text with the personal data in it masked as the lists mask it: the people's
    ``names`` and ``addresses`` it is known to be about (张伟 → 张*, the estate and house
    hidden), anything that looks like a mobile, landline, ID number or e-mail address (masked as
    the lists mask them), and any other known value left (``others``, written some other way:
    hidden whole)."""
    if not text:
        return ""
    out = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()), text)
    out = _MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group()), out)
    out = _LANDLINE_IN_TEXT.sub(lambda m: mask_phone(m.group()), out)
    out = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group()), out)
    for value, masked in (
        *((n, mask_name(n)) for n in names),
        *((a, mask_address(a)) for a in addresses),
        *((o, "****") for o in others),
    ):
        value = (value or "").strip()
        if len(value) >= 2:
            out = out.replace(value, masked)
    return out
