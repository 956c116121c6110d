from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huiyin.core.forms import StyledForm


class TokenForm(StyledForm):
    """The six-digit code an authenticator app shows."""

    token = forms.CharField(
        label=_("验证码"),
        max_length=12,
        error_messages={"required": _("请输入验证码。"), "max_length": _("验证码须为 6 位数字。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}),
    )

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        if len(token) != 6 or not token.isascii() or not token.isdigit():
            raise forms.ValidationError(_("验证码须为 6 位数字。"))
        return token
