"""Template helpers of the portal: form widgets with their accessible names and the hotline."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def widget(field: BoundField, describedby: str = "") -> SafeString:
    """The field's widget tied to its help and error texts (aria-describedby), marked invalid
    when it has errors (aria-invalid), with Bootstrap's invalid style."""
    ids = [i for i in describedby.split() if i]
    attrs: dict[str, str | bool] = {}
    if field.help_text:
        ids.append(f"help-{field.name}")
    if field.errors:
        ids.append(f"err-{field.name}")
        attrs["aria-invalid"] = "true"
        attrs["class"] = f"{field.field.widget.attrs.get('class', '')} is-invalid".strip()
    if ids:
        attrs["aria-describedby"] = " ".join(ids)
    return field.as_widget(attrs=attrs)


@register.simple_tag
def hotline(org) -> str:
    return (getattr(org, "hotline", "") or settings.HUIYIN_HOTLINE) if org else settings.HUIYIN_HOTLINE
