"""Forms of the deadline panel on the case page (suspend, resume, extension request and
decision). They parse and shape input; the rules (who may, how long, which unit) are the
services', whose field-named errors the views put back on these forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huiyin.policy.forms import UNIT_LABELS, StyledForm

__all__ = ["UNIT_LABELS", "ExtensionDecideForm", "ExtensionRequestForm", "ResumeForm", "StyledForm", "SuspendForm"]


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
        clock, unit_field = self.fields["clock"], self.fields["unit"]
        assert isinstance(clock, forms.ChoiceField) and isinstance(unit_field, forms.ChoiceField)
        clock.choices = clocks
        unit_field.choices = [(unit, UNIT_LABELS.get(unit, unit))]
        unit_field.initial = unit

    def clean(self) -> dict:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data; the stub allows None for overrides
        if not self.errors and data.get("amount") is None and data.get("new_due") is None:
            self.add_error("amount", _("请填写延长多少，或填写新的到期时间。"))
        return data


class ExtensionDecideForm(StyledForm):
    note = forms.CharField(label=_("审批意见"), required=False, max_length=1000)
