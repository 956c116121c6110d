"""Money in guest reception (公司接待): amounts of yuan as ``Decimal`` with two places.

What a person types is refused, naming the field, when it is no plain number (``1e5``,
``NaN``, ``１２``, ``1,000``), negative, has more than two decimal places, or is absurd:
one amount — a budget item, an increase, an expense — may not exceed ``MONEY_MAX``
(¥1,000,000.00, 一百万元). A company's reception of guests costs thousands, at most
tens of thousands; a seven-digit figure is a typo (an extra zero, a phone number in
the wrong field), and refusing it keeps every sum of the cost report within the
columns (``max_digits=12``: a hundred thousand such amounts still fit).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from huiyin.core.errors import ValidationFailed
from huiyin.core.validators import clean_text

MONEY_MAX = Decimal("1000000.00")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_DIGITS = 12  # the columns: up to 9,999,999,999.99 (sums of many amounts)
_PLAIN = re.compile(r"^\d{1,7}(\.\d{1,2})?$")


def money_error(raw: str | Decimal | int | None, label: str, *, required: bool = True) -> str | None:
    """Why ``raw`` is not an amount (see the module docstring), or None."""
    if isinstance(raw, Decimal | int) and not isinstance(raw, bool):
        value = Decimal(raw)
        if not value.is_finite():
            return _("%(label)s应为金额（元），如 1280 或 1280.50：%(v)s") % {"label": label, "v": str(value)}
        if value < 0:
            return _("%(label)s不能为负数。") % {"label": label}
        if value > MONEY_MAX:
            return _too_big(label)
        if value * 100 != (value * 100).to_integral_value():
            return _("%(label)s最多保留两位小数。") % {"label": label}
        text = f"{value.quantize(CENT):f}"
    else:
        text = clean_text(str(raw) if raw is not None else "").strip()
    if not text:
        return _("请填写%(label)s。") % {"label": label} if required else None
    if text.startswith("-"):
        return _("%(label)s不能为负数。") % {"label": label}
    if not text.isascii() or not _PLAIN.match(text):
        if re.fullmatch(r"\d+\.\d{3,}", text):
            return _("%(label)s最多保留两位小数。") % {"label": label}
        if re.fullmatch(r"\d{8,}(\.\d*)?", text):
            return _too_big(label)
        return _("%(label)s应为金额（元），如 1280 或 1280.50：%(v)s") % {"label": label, "v": text[:20]}
    try:
        value = Decimal(text)
    except InvalidOperation:  # the pattern admits only digits and one point: never reached
        return _("%(label)s应为金额（元），如 1280 或 1280.50：%(v)s") % {"label": label, "v": text[:20]}
    if value > MONEY_MAX:
        return _too_big(label)
    return None


def _too_big(label: str) -> str:
    return _("%(label)s过大：一笔金额最多 %(max)s 元，请核对是否多写了位数。") % {
        "label": label,
        "max": f"{MONEY_MAX:,.2f}",
    }


def parse_money(raw: str | Decimal | int | None, field: str, label: str, *, required: bool = True) -> Decimal | None:
    """The amount ``raw`` stands for, with two places; None when blank and not required;
    ValidationFailed naming ``field`` otherwise (see ``money_error``)."""
    message = money_error(raw, label, required=required)
    if message:
        raise ValidationFailed({field: [message]})
    if isinstance(raw, Decimal | int) and not isinstance(raw, bool):
        return Decimal(raw).quantize(CENT)
    text = clean_text(str(raw) if raw is not None else "").strip()
    if not text:
        return None
    return Decimal(text).quantize(CENT)


def yuan(value: Decimal | None) -> str:
    """¥1,280.50 (— for nothing)."""
    if value is None:
        return "—"
    return f"¥{value:,.2f}"
