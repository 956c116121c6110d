"""What a person types, checked in one place: Chinese identity data, whole numbers and ids,
free text (control characters, length), and dates and times by what they mean. Messages
name the field in Chinese.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
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
ID_MAX = 2**63 - 1  # a row id (BigAutoField); a larger one overflows SQLite before it can be "not found"


def whole_number(raw: str | None, *, maximum: int = INT_MAX) -> int | None:
    """A form's whole number (ASCII digits only, 0…maximum), or None: ``str.isdigit``
    also accepts "²" and "٣", which ``int`` then refuses or the database overflows on."""
    value = (raw or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        return None
    number = int(value)
    return number if number <= maximum else None


def form_version(raw: str | int | None) -> int:
    """The record version a form was made for (optimistic locking). A form without one, or
    with 0 or garbage, is refused — never treated as "don't check"."""
    number = raw if isinstance(raw, int) and not isinstance(raw, bool) else whole_number(str(raw or ""))
    if number is None or number < 1:
        raise _no_version()
    return number


_FINGERPRINT = re.compile(r"^[0-9a-f]{32}$")


def form_fingerprint(raw: str | None) -> str:
    """``form_version`` for a form whose version is a fingerprint (``core.versions.fingerprint``)."""
    value = (raw or "").strip()
    if not _FINGERPRINT.match(value):
        raise _no_version()
    return value


def _no_version() -> ValidationFailed:
    return ValidationFailed({"version": [_("表单缺少有效的版本号（可能已过期或不完整）：请刷新页面后重新填写提交。")]})


# --- free text ---------------------------------------------------------------------------------

# ANSI escape sequences (colours, cursor moves) and the control characters nobody types:
# C0 except tab, line feed and carriage return; DEL; C1. PostgreSQL refuses NUL in text,
# Excel files cannot hold C0, and in a log they forge lines or repaint the terminal. Also the
# invisible bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069):
# a right-to-left override shows 报告\u202egpj.pdf as 报告fdp.jpg and a title or a number
# backwards on the ledger, the exports and the messages.
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)

# How long each kind of free text may be (characters). A model TextField has no limit of
# its own: these are what the forms and services enforce, refusing — never cutting — more.
LINE_MAX = 200  # one line: a unit, a body, a place, a reference
NOTE_MAX = 2000  # a note, a reason, a comment, instructions
ANSWER_MAX = 10000  # a reply, a proposal, findings, an opinion, a plan


def record_max() -> int:
    """The complaint itself, an investigation record, minutes: ``HUIYIN_TEXT_MAX_CHARS``."""
    return settings.HUIYIN_TEXT_MAX_CHARS


# Characters that show nothing although they are no whitespace: the zero-width and other
# format characters (Unicode category Cf: U+200B, U+200C/D, U+2060, U+FEFF, the soft hyphen)
# and the blank "fillers" (Hangul fillers, the blank braille pattern). A value made of these
# and whitespace only passed every required-field check as content.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _shows_nothing(text: str) -> bool:
    return all(c.isspace() or c in _FILLERS or unicodedata.category(c) == "Cf" for c in text)


def clean_text(value: str | None) -> str:
    """Text as a person could have typed it: escape sequences and control characters removed
    (tab and line breaks kept), and a value with nothing visible in it but zero-width
    characters made empty (so "required" refuses it as it refuses spaces). Applied to every
    value a request brings (``core.middleware``), every form field (``core.forms.StyledForm``)
    and every text a service takes (``checked_text``)."""
    text = _CONTROL.sub("", value or "")
    if _shows_nothing(text) and not text.isspace():
        return ""
    return text


def checked_text(
    value: str | None,
    field: str,
    *,
    missing: str | None = None,
    limit: int | None = None,
    label: str | None = None,
) -> str:
    """Free text, cleaned of control characters and stripped: refused naming ``field``
    (and ``label``, its Chinese name) when blank (if ``missing`` gives the message) or longer
    than ``limit`` (HUIYIN_TEXT_MAX_CHARS by default) — never cut short."""
    value = clean_text(value).strip()
    if missing is not None and not value:
        raise ValidationFailed({field: [missing]})
    limit = limit or settings.HUIYIN_TEXT_MAX_CHARS
    if len(value) > limit:
        values = {"label": label, "max": limit, "n": len(value)}
        message = (
            _("%(label)s过长：最多 %(max)d 字，当前 %(n)d 字。") % values
            if label
            else _("内容过长：最多 %(max)d 字，当前 %(n)d 字。") % values
        )
        raise ValidationFailed({field: [message]})
    return value


def optional_text(value: str | None, field: str, label: str, limit: int) -> str:
    """``checked_text`` for a field that may be left blank."""
    return checked_text(value, field, limit=limit, label=label)


# --- dates and times -----------------------------------------------------------------------------
#
# Every date or time a person types is checked against the range its meaning allows, here:
# a typo such as 0001-01-01 (stored as a BC timestamp by PostgreSQL), 1900 or 9999 is
# refused naming the field, not stored to break the case's pages and its clocks.

EARLIEST_DAY = date(2000, 1, 1)  # nothing Huiyin records happened before this
LATEST_DAY = date(2100, 12, 31)  # the last calendar day and reporting period it plans for
FUTURE_SLACK = timedelta(minutes=5)  # a clerk's PC clock may run a little ahead of the server's
HORIZON = timedelta(days=5 * 366)  # a deadline or plan at most five years ahead


class When(StrEnum):
    """What a typed date or time means, and so the range it must fall in."""

    PAST = "past"  # it happened: received, replied, occurred, held, requested (2000 … now)
    DUE = "due"  # a deadline or due date (after now / from today … five years ahead)
    PLANNED = "planned"  # a meeting, an activity, a campaign (2000 … five years ahead)
    CALENDAR = "calendar"  # a calendar day, a reporting period (2000 … 2100)


def supported_years(value: date | datetime) -> None:
    """The validator every form's date and date-time fields get (``StyledForm``): whatever
    the field means, a day outside 2000 … 2100 is a typo. Services then check the range of
    the meaning (``check_moment`` / ``check_day``)."""
    day = timezone.localtime(value).date() if isinstance(value, datetime) and timezone.is_aware(value) else value
    if isinstance(day, datetime):
        day = day.date()
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValidationError(
            _("日期应在 %(a)s 至 %(b)s 之间。") % {"a": EARLIEST_DAY.isoformat(), "b": LATEST_DAY.isoformat()},
            code="out_of_range",
        )


def _bounds(when: When, now: datetime) -> tuple[datetime, datetime]:
    earliest = timezone.make_aware(datetime.combine(EARLIEST_DAY, datetime.min.time()))
    latest = timezone.make_aware(datetime.combine(LATEST_DAY, datetime.max.time()))
    if when == When.PAST:
        return earliest, now + FUTURE_SLACK
    if when == When.DUE:
        return now, now + HORIZON
    if when == When.PLANNED:
        return earliest, now + HORIZON
    return earliest, latest


def moment_error(value: datetime, when: When, label: str, *, now: datetime | None = None) -> str | None:
    """Why ``value`` (a date and time) is out of range for its meaning, or None."""
    now = now or timezone.now()
    low, high = _bounds(when, now)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if when == When.DUE and value <= low:
        return _("%(label)s必须晚于现在。") % {"label": label}
    if value < low:
        return _("%(label)s不能早于 %(day)s。") % {"label": label, "day": EARLIEST_DAY.isoformat()}
    if value > high:
        if when == When.PAST:
            return _("%(label)s不能晚于现在。") % {"label": label}
        return _("%(label)s不能晚于 %(day)s。") % {"label": label, "day": timezone.localtime(high).date().isoformat()}
    return None


def day_error(value: date, when: When, label: str, *, today: date | None = None) -> str | None:
    """Why ``value`` (a calendar date) is out of range for its meaning, or None."""
    today = today or timezone.localdate()
    low = today if when == When.DUE else EARLIEST_DAY
    high = {When.PAST: today, When.CALENDAR: LATEST_DAY}.get(when, today + HORIZON)
    if value < low:
        if when == When.DUE:
            return _("%(label)s不能早于今天。") % {"label": label}
        return _("%(label)s不能早于 %(day)s。") % {"label": label, "day": low.isoformat()}
    if value > high:
        if when == When.PAST:
            return _("%(label)s不能晚于今天。") % {"label": label}
        return _("%(label)s不能晚于 %(day)s。") % {"label": label, "day": high.isoformat()}
    return None


def check_moment(value: datetime | None, field: str, label: str, when: When) -> datetime | None:
    """``value`` unchanged when in range (None stays None); else ValidationFailed naming the field."""
    message = moment_error(value, when, label) if value is not None else None
    if message:
        raise ValidationFailed({field: [message]})
    return value


def happened_at(at: datetime | None, field: str = "at") -> datetime:
    """When a write happened. A person acting now: ``None``, the current time. Where
    history is recreated (the demo generator, an import), services take the moment it
    happened as a keyword ``at``: a past time (2000 … now), refused naming the field
    otherwise, so recreated records and events carry their own dates."""
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise ValidationFailed({field: [_("发生时间须带时区。")]})
    check_moment(at, field, _("发生时间"), When.PAST)
    return at


def check_day(value: date | None, field: str, label: str, when: When) -> date | None:
    message = day_error(value, when, label) if value is not None else None
    if message:
        raise ValidationFailed({field: [message]})
    return value


def parse_moment(raw: str | None, field: str, label: str) -> datetime | None:
    """A date and time typed in a form (ISO, as ``<input type="datetime-local">`` sends it),
    aware in the project's time zone; None when blank; refused naming the field when it is
    no date (2026-13-01, 30 February, 25:61)."""
    value = clean_text(raw).strip()
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            parsed = datetime.combine(day, datetime.min.time()) if day is not None else None
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        raise ValidationFailed(
            {
                field: [
                    _("%(label)s不是有效的日期时间（应为 年-月-日 时:分）：%(v)s") % {"label": label, "v": value[:20]}
                ]
            }
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def parse_day(raw: str | None, field: str, label: str) -> date | None:
    """A calendar date typed in a form (年-月-日); None when blank; refused naming the field."""
    value = clean_text(raw).strip()
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationFailed(
            {field: [_("%(label)s不是有效的日期（应为 年-月-日）：%(v)s") % {"label": label, "v": value[:20]}]}
        )
    return parsed
