"""What the policy screens share (the deadline panel too): role names, and putting a
service's field-named errors onto a form."""

from __future__ import annotations

from django import forms as django_forms

from huiyin.core.errors import ApplicationError, ValidationFailed
from huiyin.orgs.roles import Role


def role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role


def put_errors(form: django_forms.Form, error: ApplicationError, aliases: dict[str, str]) -> None:
    """A service's field-named errors onto the form (unknown fields go on top)."""
    errors = error.errors if isinstance(error, ValidationFailed) else {error.field or "__all__": [error.message]}
    for name, texts in errors.items():
        target = aliases.get(name, name)
        for text in texts:
            form.add_error(target if target in form.fields else None, text)
