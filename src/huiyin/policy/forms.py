"""Forms of the policy administration pages (the deadline panel's are ``deadlines.forms``). They parse and shape
input; the rules (who may, how long, which unit) are the services', whose field-named
errors the views put back on these forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from huiyin.core.forms import FingerprintField
from huiyin.core.forms import StyledForm as BaseStyledForm

from .models import CalendarDayKind

UNIT_LABELS = {
    "minutes": _("分钟"),
    "hours": _("小时"),
    "working_hours": _("工作小时"),
    "days": _("自然日"),
    "workdays": pgettext_lazy("time unit", "工作日"),
}


class StyledForm(BaseStyledForm):
    """A field with an error (the form's or a service's) is marked invalid, and the form's
    error summary names it (policy/_form_errors.html)."""

    def add_error(self, field, error) -> None:
        super().add_error(field, error)
        for name in [field] if field else []:
            if name in self.fields:
                widget = self.fields[name].widget
                classes = widget.attrs.get("class", "")
                if "is-invalid" not in classes:
                    widget.attrs["class"] = f"{classes} is-invalid".strip()


class PresetLoadForm(StyledForm):
    preset = forms.ChoiceField(label=_("预设"), choices=())
    note = forms.CharField(label=_("说明"), required=False, max_length=255)

    def __init__(self, *args, presets: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        preset = self.fields["preset"]
        assert isinstance(preset, forms.ChoiceField)
        preset.choices = presets


class PolicyEditForm(StyledForm):
    text = forms.CharField(
        label=_("政策内容（YAML）"),
        required=False,
        strip=False,
        max_length=200_000,  # the largest shipped preset is about 10 000 characters
        widget=forms.Textarea(attrs={"rows": 32, "spellcheck": "false", "class": "form-control font-monospace small"}),
    )
    note = forms.CharField(label=_("修改说明"), required=False, max_length=255)
    version = FingerprintField()  # services.running_fingerprint when the page was made


class CalendarDayForm(StyledForm):
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("类型"), choices=())
    name = forms.CharField(label=_("名称"), required=False, max_length=100)
    scope = forms.ChoiceField(label=_("适用范围"), choices=())

    def __init__(self, *args, allow_global: bool, **kwargs):
        super().__init__(*args, **kwargs)
        kind, scope = self.fields["kind"], self.fields["scope"]
        assert isinstance(kind, forms.ChoiceField) and isinstance(scope, forms.ChoiceField)
        kind.choices = [
            (CalendarDayKind.HOLIDAY, _("休息日（节假日、单位闭馆）")),
            (CalendarDayKind.WORKDAY, _("工作日（调休上班、加班）")),
        ]
        scopes = [("org", _("本单位"))]
        if allow_global:
            scopes.append(("global", _("全部单位（法定节假日）")))
        scope.choices = scopes


class CalendarRemoveForm(StyledForm):
    date = forms.DateField()
    scope = forms.ChoiceField(choices=[("org", "org"), ("global", "global")])
