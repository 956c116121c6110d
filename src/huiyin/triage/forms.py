"""The hot-issues page's filters: the window (days up to today) and the area (a place)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huiyin.core.forms import StyledForm

from .hot import MAX_WINDOW

AREA_MAX = 40


class HotFilterForm(StyledForm):
    window = forms.IntegerField(
        label=_("时间窗口（天）"),
        min_value=1,
        max_value=MAX_WINDOW,
        error_messages={
            "invalid": _("时间窗口（天）须是 1 到 366 之间的整数。"),
            "min_value": _("时间窗口（天）须是 1 到 366 之间的整数。"),
            "max_value": _("时间窗口（天）须是 1 到 366 之间的整数。"),
        },
    )
    area = forms.CharField(
        label=_("地区或地点"),
        required=False,
        max_length=AREA_MAX,
        error_messages={"max_length": _("地区或地点最多 40 个字。")},
    )

    def __init__(self, data=None):
        values = {"window": "30", "area": ""}
        if data:
            values.update({k: data[k] for k in ("window", "area") if k in data})
        super().__init__(values)
