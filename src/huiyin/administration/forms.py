"""Forms parse and shape input; the rules (scoping, lock-out, uniqueness) live in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huiyin.core.forms import StyledForm, VersionField
from huiyin.orgs.roles import Role

STATUS_CHOICES = [("active", _("在用")), ("inactive", _("已停用")), ("all", _("全部"))]
PASSWORD_CHOICES = [("generate", _("由系统生成（只显示一次）")), ("set", _("由我设置"))]


class AdminForm(StyledForm):
    """Errors as one list, each naming its field (“姓名：请填写。”), for the box above the form."""

    def error_lines(self) -> list[tuple[str, str]]:
        lines = [("", str(e)) for e in self.non_field_errors()]
        for field in self.visible_fields():  # a hidden field's errors are on top already (StyledForm)
            prefix = f"{field.label}："
            for error in field.errors:
                text = str(error)
                lines.append((field.name, text if text.startswith(prefix) else prefix + text))
        return lines


def _department_field(choices: list[tuple[int, str]], *, label: Any, empty: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=[("", empty), *choices],
        coerce=int,
        empty_value=None,
        required=False,
    )


class StaffFilterForm(AdminForm):
    q = forms.CharField(label=_("搜索"), max_length=60, required=False)
    department = forms.TypedChoiceField(label=_("部门"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("状态"), choices=STATUS_CHOICES, required=False)

    def __init__(self, data=None, *, departments: list[tuple[int, str]]):
        super().__init__(data)
        self.fields["q"].widget.attrs["placeholder"] = _("用户名或姓名")
        self.fields["department"] = _department_field(departments, label=_("部门"), empty=_("全部部门"))
        self.fields["department"].widget.attrs["class"] = "form-select form-select-sm"


class StaffFields(AdminForm):
    full_name = forms.CharField(label=_("姓名"), max_length=60)
    department = forms.TypedChoiceField(label=_("部门"))
    # "role", not "roles": one checkbox per role (and templates never name .roles).
    role = forms.MultipleChoiceField(
        label=_("角色"),
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        error_messages={"required": _("请至少选择一个角色。")},
    )

    def __init__(self, *args, departments: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"] = _department_field(departments, label=_("部门"), empty=_("（不属于部门）"))
        self.fields["department"].widget.attrs["class"] = "form-select form-select-sm"


class StaffEditForm(StaffFields):
    version = VersionField()  # the account's, when the page was made (core.versions)


class StaffCreateForm(StaffFields):
    username = forms.CharField(
        label=_("用户名"),
        max_length=40,
        help_text=_("登录用，创建后不能修改：英文字母、数字和 . @ + - _ 。"),
    )
    password_mode = forms.ChoiceField(
        label=_("初始密码"), choices=PASSWORD_CHOICES, initial="generate", widget=forms.RadioSelect
    )
    password1 = forms.CharField(
        label=_("密码"), required=False, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("确认密码"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    must_change_password = forms.BooleanField(label=_("首次登录时须修改密码"), required=False, initial=True)

    field_order = [
        "username",
        "full_name",
        "department",
        "role",
        "password_mode",
        "password1",
        "password2",
        "must_change_password",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password_mode"].widget.attrs["class"] = "form-check-input"

    def clean(self):
        data = super().clean()
        if data.get("password_mode") == "set":
            if not data.get("password1"):
                self.add_error("password1", _("选择“由我设置”时请填写密码。"))
            elif data.get("password1") != data.get("password2"):
                self.add_error("password2", _("两次输入的密码不一致。"))
        return data

    def password(self) -> str | None:
        """The password the administrator typed, or None for a generated one."""
        return self.cleaned_data["password1"] if self.cleaned_data.get("password_mode") == "set" else None


class DepartmentForm(AdminForm):
    name = forms.CharField(label=_("名称"), max_length=120)
    parent = forms.TypedChoiceField(label=_("上级部门"))
    handles_cases = forms.BooleanField(
        label=_("可承办"),
        required=False,
        initial=True,
        help_text=_("可以被交办案件（受理中心等不承办的部门取消勾选）。"),
    )
    sort_order = forms.IntegerField(label=_("排序"), min_value=0, max_value=100000, initial=0)

    def __init__(self, *args, departments: list[tuple[int, str]], with_code: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"] = _department_field(departments, label=_("上级部门"), empty=_("（顶级部门）"))
        self.fields["parent"].widget.attrs["class"] = "form-select form-select-sm"
        if with_code:
            self.fields["code"] = forms.CharField(
                label=_("代码"),
                max_length=40,
                required=False,
                help_text=_("可不填，由系统生成；创建后不能修改。英文字母、数字、下划线和连字符。"),
            )
            self.fields["code"].widget.attrs["class"] = "form-control form-control-sm"
            self.order_fields(["name", "code", "parent", "handles_cases", "sort_order"])


class DepartmentEditForm(DepartmentForm):
    version = VersionField()  # the department's, when the page was made (core.versions)


class OwnPasswordForm(AdminForm):
    old_password = forms.CharField(
        label=_("原密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password1 = forms.CharField(
        label=_("新密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label=_("确认新密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("两次输入的新密码不一致。"))
        return data


class CategoryTagsForm(AdminForm):
    tags = forms.CharField(
        label=_("标签"),
        max_length=400,
        required=False,
        help_text=_("以空格或逗号分隔，如 safety_facility；时限规则按分类名称或标签适用，下级分类同时具有上级的标签。"),
    )
    version = VersionField()  # the category's, when the page was made (core.versions)
