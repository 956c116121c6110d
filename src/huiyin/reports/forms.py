"""Forms parse and shape input; the rules live in services and selectors."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from huiyin.core.forms import StyledForm
from huiyin.core.periods import period_dates

from .models import ReportKind
from .selectors import Period

# The longest period a dashboard or report covers: ten years of days.
MAX_DAYS = 3660


def period_presets(today: date) -> list[tuple[str, date, date]]:
    """The quick picks: 本月 / 上月 / 本季度 / 本年 / 上年."""
    last_month_end = today.replace(day=1) - timedelta(days=1)
    last_year = today.replace(year=today.year - 1, month=6, day=30)
    return [
        (str(_("本月")), *period_dates("month", today)),
        (str(_("上月")), *period_dates("month", last_month_end)),
        (str(_("本季度")), *period_dates("quarter", today)),
        (str(_("本年")), *period_dates("year", today)),
        (str(_("上年")), *period_dates("year", last_year)),
    ]


class PeriodForm(StyledForm):
    """From / to dates, both included; the current month when none is given."""

    start = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data=None, *, today: date):
        first, last = period_dates("month", today)
        values = {"start": first.isoformat(), "end": last.isoformat()}
        if data:
            values.update({k: data[k] for k in ("start", "end") if data.get(k)})
        super().__init__(values)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("结束日期不能早于开始日期。"))
            elif (end - start).days >= MAX_DAYS:
                self.add_error("end", _("统计期间最长十年，请缩短期间。"))
        return data

    def period(self) -> Period:
        return Period(self.cleaned_data["start"], self.cleaned_data["end"])


class ReportRequestForm(StyledForm):
    """A periodic report: its kind and a day in the period it covers."""

    kind = forms.ChoiceField(label=_("报告类型"), choices=ReportKind.choices)
    on = forms.DateField(label=_("所在期间的任一日期"), widget=forms.DateInput(attrs={"type": "date"}))


class CommentaryForm(StyledForm):
    commentary = forms.CharField(label=_("分析意见"), widget=forms.Textarea(attrs={"rows": 10}), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
