"""Forms parse and shape input; the rules live in services and selectors."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from huiyin.core.forms import StyledForm
from huiyin.core.periods import day_start, period_dates
from huiyin.policy.labels import preset_label

from .selectors import BY_DEPARTMENT, BY_STAFF

BY_CHOICES = [(BY_STAFF, _("按人员")), (BY_DEPARTMENT, _("按部门"))]


def period_presets(today: date) -> list[tuple[str, date, date]]:
    """The quick picks: 本月 / 本季度 / 本年."""
    return [
        (str(_("本月")), *period_dates("month", today)),
        (str(_("本季度")), *period_dates("quarter", today)),
        (str(_("本年")), *period_dates("year", today)),
    ]


class PeriodForm(StyledForm):
    """From / to dates, both included: the period is [from 00:00, the day after to 00:00)."""

    start = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    by = forms.ChoiceField(label=_("考评对象"), choices=BY_CHOICES, initial=BY_STAFF)

    def __init__(self, data=None, *, today: date):
        first, last = period_dates("month", today)
        values = {"start": first.isoformat(), "end": last.isoformat(), "by": BY_STAFF}
        if data:
            values.update({k: data[k] for k in ("start", "end", "by") if data.get(k)})
        super().__init__(values)

    def clean(self):
        # The years a period may name (2000 … 2100) are every StyledForm date's (core.forms).
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("结束日期不能早于开始日期。"))
        return data

    def period(self) -> tuple[datetime, datetime]:
        d = self.cleaned_data
        return day_start(d["start"]), day_start(d["end"] + timedelta(days=1))


class DeductionForm(StyledForm):
    case_number = forms.CharField(label=_("案件编号"), max_length=20)
    rule = forms.ChoiceField(label=_("扣分规则"))
    level = forms.ChoiceField(label=_("越级级别"))
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, deductions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [(d.code, preset_label(d.label)) for d in deductions]
        self.fields["level"].choices = [
            (
                preset_label(d.label),
                [
                    (
                        lv.code,
                        _("%(label)s（扣 %(points)d 分）") % {"label": preset_label(lv.label), "points": lv.points},
                    )
                    for lv in d.levels
                ],
            )
            for d in deductions
        ]
