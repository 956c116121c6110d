"""core.forms.put_errors: the one adapter from service errors to form fields."""

from __future__ import annotations

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy

from huiyin.core.errors import ApplicationError, StaleObject, ValidationFailed
from huiyin.core.forms import put_errors


class ReplyForm(forms.Form):
    reply = forms.CharField(required=False)
    case_number = forms.CharField(required=False)


def _form() -> ReplyForm:
    form = ReplyForm({"reply": "", "case_number": ""})
    assert form.is_valid()
    return form


def test_each_field_message_goes_next_to_its_field():
    form = _form()
    put_errors(form, ValidationFailed({"reply": ["请填写答复内容。", "第二条。"]}))
    assert form.errors == {"reply": ["请填写答复内容。", "第二条。"]}


def test_an_alias_renames_the_service_field_to_the_form_field():
    form = _form()
    put_errors(form, ValidationFailed({"case": ["找不到该案件。"]}), aliases={"case": "case_number"})
    assert form.errors == {"case_number": ["找不到该案件。"]}


def test_a_field_the_form_lacks_and_an_error_without_field_go_on_top_never_a_500():
    form = _form()
    put_errors(form, ValidationFailed({"representatives": ["号码不对。"], "reply": ["太长。"]}))
    put_errors(form, StaleObject())
    put_errors(form, ApplicationError("不能出具。", field="kind"), aliases={"kind": "nowhere"})
    assert form.errors["reply"] == ["太长。"]
    assert form.non_field_errors() == ["号码不对。", str(StaleObject().message), "不能出具。"]


def test_messages_are_translated():
    form = _form()
    with translation.override("en"):
        put_errors(form, ApplicationError(gettext_lazy("答复"), field="reply"))
    assert form.errors == {"reply": ["Reply"]}
