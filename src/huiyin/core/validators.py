"""Validators for Chinese identity data; messages name the field in Chinese."""

from __future__ import annotations

import re
from datetime import date

from django.conf import settings
from django.utils.translation import gettext as _

from huiyin.core.errors import ValidationFailed

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Landline: optional area code (0 + 2-3 digits), 7-8 digit number, optional extension.
_LANDLINE = re.compile(r"^(0\d{2,3}-?)?[2-9]\d{6,7}(-\d{1,6})?$")
# Service numbers such as 12345, 96310, 95598.
_SERVICE = re.compile(r"^(1\d{4}|9\d{4})$")
_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalize_phone(raw: str) -> str:
    """Strip spaces, brackets and the +86 prefix; keep digits and the area-code hyphen."""
    value = re.sub(r"[\s()（）]", "", raw or "")
    value = value.replace("—", "-").replace("－", "-")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    return value


def normalize_id_number(raw: str) -> str:
    """The form an ID number is stored and looked up in: no surrounding spaces, upper-case X."""
    return (raw or "").strip().upper()


def phone_error(phone: str) -> str | None:
    if not phone:
        return None
    if _MOBILE.match(phone) or _LANDLINE.match(phone) or _SERVICE.match(phone):
        return None
    return _("联系电话格式不正确：请输入11位手机号（如 13812345678）或带区号的固定电话（如 0571-87654321）。")


def id_number_error(id_number: str) -> str | None:
    """GB 11643-1999 citizen ID: 18 characters, valid birth date, ISO 7064 MOD 11-2 check digit."""
    if not id_number:
        return None
    value = id_number.upper()
    if not _ID18.match(value):
        return _("身份证号码格式不正确：应为18位，前17位为数字，最后一位为数字或X。")
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return _("身份证号码中的出生日期无效。")
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        return _("身份证号码校验位错误，请核对后重新输入。")
    return None


def id_check_digit(first17: str) -> str:
    """The check character for 17 digits (used by the demo generator and tests)."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


INT_MAX = 2**31 - 1  # the smallest integer column any backend gives us


def whole_number(raw: str | None, *, maximum: int = INT_MAX) -> int | None:
    """A form's whole number (ASCII digits only, 0…maximum), or None: ``str.isdigit``
    also accepts "²" and "٣", which ``int`` then refuses or the database overflows on."""
    value = (raw or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        return None
    number = int(value)
    return number if number <= maximum else None


def checked_text(value: str | None, field: str, *, missing: str | None = None, limit: int | None = None) -> str:
    """Free text, stripped: refused naming ``field`` when blank (if ``missing`` gives the
    message) or longer than ``limit`` (HUIYIN_TEXT_MAX_CHARS by default) — never cut short."""
    value = (value or "").strip()
    if missing is not None and not value:
        raise ValidationFailed({field: [missing]})
    limit = limit or settings.HUIYIN_TEXT_MAX_CHARS
    if len(value) > limit:
        raise ValidationFailed(
            {field: [_("内容过长：最多 %(max)d 字，当前 %(n)d 字。") % {"max": limit, "n": len(value)}]}
        )
    return value
