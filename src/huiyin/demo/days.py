"""The demo's moments and days: a time of day on a date in the project's zone, and the next
weekday (the demo's offices work Monday to Friday)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def on(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def weekday_from(day: date) -> date:
    """The day, or the Monday after when it falls on a weekend."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day
