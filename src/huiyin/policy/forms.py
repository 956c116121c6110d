"""Forms of the deadline panel and the policy administration pages. They parse and shape
input; the rules (who may, how long, which unit) are the services', whose field-named
errors the views put back on these forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from huiyin.cases.forms import StyledForm as _StyledForm

from .models import CalendarDayKind

UNIT_LABELS = {
    "minutes": _("分钟"),
    "hours": _("小时"),
    "working_hours": _("工作小时"),
    "days": _("自然日"),
    "workdays": pgettext_lazy("time unit", "工作日"),
}


class StyledForm(_StyledForm):
    """Bootstrap widgets; a field with an error (the form's or a service's) is marked
    invalid, and the form's error summary names it (policy/_form_errors.html)."""

    def add_error(self, field, error) -> None:
        super().add_error(field, error)
        for name in [field] if field else []:
            if name in self.fields:
                widget = self.fields[name].widget
                classes = widget.attrs.get("class", "")
                if "is-invalid" not in classes:
                    widget.attrs["class"] = f"{classes} is-invalid".strip()


class SuspendForm(StyledForm):
    reason = forms.CharField(
        label=_("挂起原因"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,  # the service names the missing reason, in one place
        max_length=1000,
        help_text=_("挂起期间时限暂停计时，恢复后扣除挂起时间。"),
    )


class ResumeForm(StyledForm):
    note = forms.CharField(label=_("恢复说明"), required=False, max_length=1000)


class ExtensionRequestForm(StyledForm):
    clock = forms.TypedChoiceField(label=_("延期的时限"), coerce=int, choices=())
    amount = forms.IntegerField(label=_("延长"), required=False, min_value=1)
    unit = forms.ChoiceField(label=_("时间单位"), choices=())
    new_due = forms.DateTimeField(
        label=_("或：新的到期时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    reason = forms.CharField(
        label=_("延期理由"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )

    def __init__(self, *args, clocks: list[tuple[int, str]], unit: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clock"].choices = clocks
        self.fields["unit"].choices = [(unit, UNIT_LABELS.get(unit, unit))]
        self.fields["unit"].initial = unit

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors and data.get("amount") is None and data.get("new_due") is None:
            self.add_error("amount", _("请填写延长多少，或填写新的到期时间。"))
        return data


class ExtensionDecideForm(StyledForm):
    note = forms.CharField(label=_("审批意见"), required=False, max_length=1000)


class PresetLoadForm(StyledForm):
    preset = forms.ChoiceField(label=_("预设"), choices=())
    note = forms.CharField(label=_("说明"), required=False, max_length=255)

    def __init__(self, *args, presets: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = presets


class PolicyEditForm(StyledForm):
    text = forms.CharField(
        label=_("政策内容（YAML）"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 32, "spellcheck": "false", "class": "form-control font-monospace small"}),
    )
    note = forms.CharField(label=_("修改说明"), required=False, max_length=255)


class CalendarDayForm(StyledForm):
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("类型"), choices=())
    name = forms.CharField(label=_("名称"), required=False, max_length=100)
    scope = forms.ChoiceField(label=_("适用范围"), choices=())

    def __init__(self, *args, allow_global: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            (CalendarDayKind.HOLIDAY, _("休息日（节假日、单位闭馆）")),
            (CalendarDayKind.WORKDAY, _("工作日（调休上班、加班）")),
        ]
        scopes = [("org", _("本单位"))]
        if allow_global:
            scopes.append(("global", _("全部单位（法定节假日）")))
        self.fields["scope"].choices = scopes


class CalendarRemoveForm(forms.Form):
    date = forms.DateField()
    scope = forms.ChoiceField(choices=[("org", "org"), ("global", "global")])
