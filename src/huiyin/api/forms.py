"""The administrators' API key form (接口密钥)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huiyin.core.forms import StyledForm
from huiyin.orgs.models import Department, ExternalSystem, Staff

from .models import Scope, WebhookDelivery
from .services import MAX_DAYS
from .webhooks import EVENT_TYPE_LABELS


class KeyCreateForm(StyledForm):
    name = forms.CharField(label=_("名称"), max_length=120)
    system = forms.ModelChoiceField(label=_("外部系统"), queryset=ExternalSystem.objects.none(), required=False)
    staff = forms.ModelChoiceField(label=_("工作人员（个人令牌）"), queryset=Staff.objects.none(), required=False)
    scopes = forms.MultipleChoiceField(
        label=_("权限范围"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    actions = forms.CharField(
        label=_("单项案件操作"), max_length=400, required=False, help_text=_("操作名称，以逗号分隔，如 accept,reply")
    )
    departments = forms.ModelMultipleChoiceField(
        label=_("限定部门"), queryset=Department.objects.none(), required=False
    )
    days = forms.IntegerField(label=_("有效天数"), min_value=1, max_value=MAX_DAYS, initial=365)

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["system"].queryset = ExternalSystem.objects.filter(
            organization_id=organization_id, kind=ExternalSystem.Kind.API
        ).order_by("name")
        fields["staff"].queryset = Staff.objects.filter(organization_id=organization_id, is_active=True).order_by(
            "username"
        )
        fields["departments"].queryset = Department.objects.filter(organization_id=organization_id).order_by(
            "sort_order", "id"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("system")) == bool(data.get("staff")):
            self.add_error("system", _("请选择一个外部系统或一名工作人员（二者选一）。"))
        return data

    def scope_list(self) -> list[str]:
        names = [n.strip() for n in (self.cleaned_data.get("actions") or "").split(",") if n.strip()]
        return [*self.cleaned_data.get("scopes", []), *(f"action:{name}" for name in names)]


class WebhookForm(StyledForm):
    url = forms.URLField(label=_("接收地址"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("事件类型"),
        choices=[(code, label) for code, label in EVENT_TYPE_LABELS.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("不选即全部事件。"),
    )


class DeliveryFilterForm(StyledForm):
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *WebhookDelivery.Status.choices]
    )
    webhook = forms.IntegerField(label=_("接收地址"), required=False, min_value=1, widget=forms.HiddenInput)
