"""What every form shares: Bootstrap widget classes (``StyledForm``) and the one adapter from
service errors to a form (the API has its own: ``ApplicationError.as_dict``)."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms

from .errors import ApplicationError


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, so templates can render fields plainly."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            elif not isinstance(widget, forms.HiddenInput):
                widget.attrs.setdefault("class", "form-control form-control-sm")


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
