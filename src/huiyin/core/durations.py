"""Durations humanised in Chinese ("剩余 2小时15分", "已超期 1天3小时"), shared by the
deadline panel, the supervision board and anything else that shows time left."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext_lazy

# Two units at most, the larger first: "2天3小时", "2小时15分", "2分30秒". The same formats
# drive the countdown in the page (deadlines/_deadline_panel.html), so they are one table.
DURATION_FORMATS = {
    "dh": gettext_lazy("%(a)d天%(b)d小时"),
    "d": gettext_lazy("%(a)d天"),
    "hm": gettext_lazy("%(a)d小时%(b)d分"),
    "h": gettext_lazy("%(a)d小时"),
    "ms": gettext_lazy("%(a)d分%(b)d秒"),
    "m": gettext_lazy("%(a)d分"),
    "s": gettext_lazy("%(a)d秒"),
}
LEFT = gettext_lazy("剩余 %(time)s")
OVERDUE = gettext_lazy("已超期 %(time)s")


def humanize(delta: timedelta) -> str:
    """``timedelta(hours=2, minutes=15)`` → "2小时15分" (sign ignored)."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        key, a, b = ("dh" if hours else "d"), days, hours
    elif hours:
        key, a, b = ("hm" if minutes else "h"), hours, minutes
    elif minutes:
        key, a, b = ("ms" if secs else "m"), minutes, secs
    else:
        key, a, b = "s", secs, 0
    return str(DURATION_FORMATS[key]) % {"a": a, "b": b}


def time_left_text(delta: timedelta) -> str:
    """ "剩余 2小时15分" or "已超期 1天3小时"."""
    if delta.total_seconds() >= 0:
        return str(LEFT) % {"time": humanize(delta)}
    return str(OVERDUE) % {"time": humanize(delta)}
