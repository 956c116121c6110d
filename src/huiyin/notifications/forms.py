"""Forms of the template pages and the parked-mail page (field checks in the services)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huiyin.cases.models import Nature
from huiyin.core.forms import FingerprintField, StyledForm


class TemplateForm(StyledForm):
    subject = forms.CharField(label=_("邮件主题"), required=False, max_length=400)
    body = forms.CharField(label=_("正文"), required=False, widget=forms.Textarea(attrs={"rows": 10}))
    version = FingerprintField()  # rendering.template_fingerprint when the page was made


class RegisterMailForm(StyledForm):
    nature = forms.ChoiceField(label=_("诉求性质"), choices=Nature.choices)
    title = forms.CharField(label=_("标题"), required=False)
    text = forms.CharField(label=_("诉求内容"), required=False, widget=forms.Textarea(attrs={"rows": 8}))
    version = forms.CharField(widget=forms.HiddenInput)


class DiscardMailForm(StyledForm):
    reason = forms.CharField(label=_("作废原因"), required=False)
    version = forms.CharField(widget=forms.HiddenInput)


class StaffContactForm(StyledForm):
    email = forms.CharField(label=_("电子邮箱"), required=False, max_length=300)
    mobile = forms.CharField(label=_("手机号码"), required=False, max_length=40)
