"""Template helpers for supervision: how long is left, and the supervision panel for the case page."""

from __future__ import annotations

from datetime import timedelta

from django import template

from huiyin.core.durations import time_left_text

register = template.Library()


@register.filter
def time_left(value: timedelta | None) -> str:
    """剩余 2天3小时 / 已超期 5小时12分, worded as on the deadline panel."""
    return "—" if value is None else time_left_text(value)


@register.filter
def is_negative(value: timedelta | None) -> bool:
    return value is not None and value.total_seconds() < 0
