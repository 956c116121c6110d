"""Calendar periods and day boundaries in the project's time zone (Asia/Shanghai)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

PERIOD_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


def day_start(day: date) -> datetime:
    """00:00 of ``day`` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def period_of(every: str, on: date) -> tuple[date, date]:
    """The calendar period [start, end) of the given length that holds ``on``."""
    months = PERIOD_MONTHS[every]
    first = (on.month - 1) // months * months + 1
    start = date(on.year, first, 1)
    end_month = first + months
    end = date(on.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return start, end


def period_dates(every: str, on: date) -> tuple[date, date]:
    """The same period as first and last day, both included (for date pickers)."""
    start, end = period_of(every, on)
    return start, end - timedelta(days=1)
