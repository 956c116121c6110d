"""Django's /admin/ answers only the platform operator (an active superuser).

An organisation's administrator manages their own staff and departments in the product
(/administration/); even with ``is_staff`` set they are refused here, at the admin's
login form and on every admin page, because the admin sees every organisation.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def is_platform_operator(user) -> bool:
    return bool(user.is_active and user.is_superuser)


class OperatorAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _(
            "平台运维后台只供平台运维人员（超级用户）使用。单位的系统管理员请在系统内的“人员与部门”管理本单位的人员。"
        ),
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not is_platform_operator(user):
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")


class OperatorAdminSite(admin.AdminSite):
    site_header = _("回音 平台运维后台")
    site_title = _("回音 平台运维后台")
    index_title = _("平台运维")
    login_form = OperatorAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return is_platform_operator(request.user)
