"""The portal's forms: what a person types, parsed and bounded; the rules are the services'."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.utils.translation import gettext_lazy as _

from huiyin.cases.models import Nature
from huiyin.cases.validation import TITLE_MAX
from huiyin.core.forms import StyledForm
from huiyin.core.validators import NOTE_MAX

from . import files, selectors

INPUT = {"class": "form-control"}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by ``files.prepare`` (type by content, size)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"class": "form-control", "accept": files.ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [d for d in data if d]
        return [data] if data else []


class SubmissionForm(StyledForm):
    nature = forms.ChoiceField(
        label=_("诉求类型"), choices=Nature.choices, widget=forms.RadioSelect, initial=Nature.COMPLAINT
    )
    # Only where the preset has kinds of complainant (the hospital's 门诊 / 住院); the service
    # requires one there and names the field.
    complainant_kind = forms.ChoiceField(label=_("反映人类别"), required=False, choices=(), widget=forms.RadioSelect)
    category = forms.TypedChoiceField(label=_("事项分类"), required=False, coerce=int, empty_value=None)
    title = forms.CharField(
        label=_("标题（可不填）"),
        required=False,
        max_length=TITLE_MAX * 4,  # refused by the service with the real limit and a count
        widget=forms.TextInput(attrs={**INPUT, "autocomplete": "off"}),
    )
    text = forms.CharField(
        label=_("具体内容"),
        max_length=200_000,  # the service refuses beyond HUIYIN_PORTAL_TEXT_MAX_CHARS, with the count
        widget=forms.Textarea(attrs={**INPUT, "rows": 7}),
        error_messages={"required": _("请填写具体内容：发生了什么、在哪里、希望如何解决。")},
    )
    location = forms.CharField(
        label=_("事发地点"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={**INPUT, "autocomplete": "street-address"}),
    )
    latitude = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    attachments = MultipleFileField(label=_("照片或文件（可不传）"), required=False)
    keep_location = forms.BooleanField(label=_("保留照片中的拍摄位置（GPS）"), required=False)
    anonymous = forms.BooleanField(label=_("匿名反映（不留姓名）"), required=False)
    name = forms.CharField(
        label=_("姓名"), required=False, max_length=200, widget=forms.TextInput(attrs={**INPUT, "autocomplete": "name"})
    )
    phone = forms.CharField(
        label=_("手机号码"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={**INPUT, "autocomplete": "tel", "inputmode": "tel"}),
    )
    consent = forms.BooleanField(
        label=_("我已阅读并同意上面的个人信息处理说明"),
        required=False,  # the service refuses without it, with its own message
    )
    challenge = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    solution = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    # Without JavaScript (the page's <noscript>): the question's token and the answer.
    question = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    answer = forms.CharField(
        label=_("验证问题"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={**INPUT, "inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args, category_groups=(), kinds: Sequence[selectors.Kind] = (), **kwargs):
        super().__init__(*args, **kwargs)
        if kinds:
            field = self.fields["complainant_kind"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [(k.code, kind_label(k)) for k in kinds]
            field.error_messages["invalid_choice"] = _("所选反映人类别无效，请重新选择。")
            field.widget.attrs["class"] = "form-check-input"
        else:
            del self.fields["complainant_kind"]
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = [("", _("请选择（可不选）")), *category_groups]
        category.widget.attrs["class"] = "form-select"
        for name in ("keep_location", "anonymous", "consent"):
            self.fields[name].widget.attrs["class"] = "form-check-input"
        self.fields["nature"].widget.attrs["class"] = "form-check-input"

    def full_clean(self) -> None:
        """The hidden challenge's errors stay on it (shown next to the submit button), not on top."""
        forms.Form.full_clean(self)


def kind_label(kind: selectors.Kind) -> str:
    """ "门诊患者及家属（由门诊部接待）": the kind and, where the preset names it, its office."""
    if not kind.office:
        return kind.label
    return _("%(kind)s（由%(office)s接待）") % {"kind": kind.label, "office": kind.office}


class LookupForm(StyledForm):
    number = forms.CharField(
        label=_("编号"),
        max_length=40,
        widget=forms.TextInput(attrs={**INPUT, "autocomplete": "off", "inputmode": "numeric"}),
        error_messages={"required": _("请填写受理凭证上的编号。")},
    )
    code = forms.CharField(
        label=_("查询码"),
        max_length=40,
        widget=forms.TextInput(attrs={**INPUT, "autocomplete": "off", "autocapitalize": "characters"}),
        error_messages={"required": _("请填写受理凭证上的查询码。")},
    )


class RatingForm(StyledForm):
    satisfaction = forms.ChoiceField(
        label=_("您对答复是否满意"),
        choices=[
            ("satisfied", _("满意")),
            ("basically_satisfied", _("基本满意")),
            ("dissatisfied", _("不满意")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择满意、基本满意或不满意。")},
    )
    comment = forms.CharField(
        label=_("意见（可不填）"), required=False, max_length=5000, widget=forms.Textarea(attrs={**INPUT, "rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["satisfaction"].widget.attrs["class"] = "form-check-input"


class ReviewForm(StyledForm):
    reason = forms.CharField(
        label=_("请求事项和理由"),
        max_length=NOTE_MAX * 4,  # the service refuses beyond NOTE_MAX, with the count
        widget=forms.Textarea(attrs={**INPUT, "rows": 4}),
        error_messages={"required": _("请写明请求复查（复核）的事项和理由。")},
    )
