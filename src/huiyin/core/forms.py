"""What every form shares: Bootstrap widget classes (``StyledForm``), the input hygiene every
form gets whatever its fields (control characters cleaned, ids and numbers bounded before
the database sees them), and the one adapter from service errors to a form (the API has
its own: ``ApplicationError.as_dict``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.http import QueryDict
from django.utils.translation import gettext as _

from .errors import ApplicationError, ValidationFailed
from .validators import ID_MAX, INT_MAX, clean_text, form_fingerprint, form_version, supported_years, whole_number


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list | tuple):
        return [_cleaned(v) for v in value]
    return value


def cleaned_data_of(data: Any) -> Any:
    """A copy of a form's (or a request's) data with control characters removed from every value."""
    if isinstance(data, QueryDict):
        copy = QueryDict(mutable=True, encoding=data.encoding)
        for key, values in data.lists():
            copy.setlist(key, [_cleaned(v) for v in values])
        copy._mutable = False
        return copy
    if isinstance(data, Mapping):
        return {key: _cleaned(value) for key, value in data.items()}
    return data


def _integer_keys(field: forms.ModelChoiceField) -> bool:
    queryset = field.queryset
    if queryset is None:
        return False
    meta = queryset.model._meta
    key = meta.get_field(field.to_field_name) if field.to_field_name else meta.pk
    return isinstance(key, models.IntegerField | models.AutoField)


class IdChoiceField(forms.ModelChoiceField):
    """A model choice whose submitted key must be a row id before the database is asked:
    "abc", "1e9" or a 20-digit number is "not one of the choices", never an OverflowError."""

    def to_python(self, value):
        is_id = isinstance(value, str) and value.strip() and _integer_keys(self)
        if is_id and whole_number(value, maximum=ID_MAX) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        if _integer_keys(self):
            for pk in value:
                if isinstance(pk, str) and whole_number(pk, maximum=ID_MAX) is None:
                    raise ValidationError(
                        self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk[:20]}
                    )
        return super()._check_values(value)


class VersionField(forms.CharField):
    """The hidden version of the row an edit form was made for (``core.versions``): cleaned
    to an int ≥ 1; missing or garbled, the form is refused, its message on top of the form."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def clean(self, value: Any) -> Any:
        try:
            return self.check(super().clean(value))
        except ValidationFailed as exc:
            raise ValidationError(exc.message) from exc

    def check(self, value: str) -> Any:
        return form_version(value)


class FingerprintField(VersionField):
    """``VersionField`` for a row without a version column: ``core.versions.fingerprint``."""

    def check(self, value: str) -> Any:
        return form_fingerprint(value)


_DJANGO_REQUIRED = forms.Field.default_error_messages["required"]


def _name_the_missing_field(field: forms.Field) -> None:
    """A required field left empty says which one ("请填写来访人姓名。", "请选择预约时段。"), not
    Django's bare "该字段是必填项。" — under a long list of choices that names nothing."""
    if field.label is None or field.error_messages.get("required") is not _DJANGO_REQUIRED:
        return
    label = str(field.label).strip().rstrip("：:*").strip()
    if not label:
        return
    if isinstance(field, forms.BooleanField):
        message = _("请勾选“%(label)s”。")
    elif isinstance(field, forms.ChoiceField | forms.ModelChoiceField | forms.FileField):
        message = _("请选择%(label)s。")
    else:
        message = _("请填写%(label)s。")
    field.error_messages["required"] = message % {"label": label}


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, so templates can render fields plainly; and for
    every field, whatever the subclass declares: control characters are cleaned from the
    submitted values, a model choice takes only ids, a whole number fits a column, a date
    lies between 2000 and 2100 (the services then check the range its meaning allows)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            self.data = cleaned_data_of(self.data)
        for field in self.fields.values():
            if type(field) is forms.ModelChoiceField:
                field.__class__ = IdChoiceField
            elif type(field) is forms.ModelMultipleChoiceField:
                field.__class__ = IdMultipleChoiceField
            elif isinstance(field, forms.IntegerField) and field.max_value is None:
                field.max_value = INT_MAX
                field.validators.append(MaxValueValidator(INT_MAX))
            elif isinstance(field, forms.DateField | forms.DateTimeField):
                field.validators.append(supported_years)
            _name_the_missing_field(field)
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            elif not isinstance(widget, forms.HiddenInput):
                widget.attrs.setdefault("class", "form-control form-control-sm")

    def full_clean(self) -> None:
        """An error on a hidden field (a form's version, a token) is also shown on top of the
        form: the person cannot see the field, but must see why the form was refused."""
        super().full_clean()
        if not self.is_bound:
            return
        errors = self.errors
        for name, field in self.fields.items():
            if field.widget.is_hidden and name in errors:
                for message in list(errors[name]):
                    if message not in errors.get(NON_FIELD_ERRORS, []):
                        self.add_error(None, message)


def put_errors(form: forms.BaseForm, error: ApplicationError, aliases: Mapping[str, str] | None = None) -> None:
    """Put each of the service's field messages next to the form field of that name (or its alias).

    A message for a field the form does not have, or for no field, goes on top of the form
    (its non-field errors): a service may name fields no form shows, and that is never a 500.
    """
    aliases = aliases or {}
    for field, messages in error.field_errors().items():
        name = aliases.get(field, field)
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)


def form_refusal(form: forms.BaseForm) -> ValidationFailed | None:
    """A bound form's errors as one refusal, each message naming its field ("起：请输入…"),
    for a view that answers in words rather than with the form (an export); None when the
    form is unbound or valid."""
    if not form.is_bound or form.is_valid():
        return None
    return ValidationFailed(
        {
            name: [f"{form.fields[name].label}：{e}" if name in form.fields else str(e) for e in errors]
            for name, errors in form.errors.items()
        }
    )
