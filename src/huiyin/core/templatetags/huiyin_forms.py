"""``{% form_refusal %}``: the refused form's messages as JSON data for huiyin/forms.js (core/refusals.py)."""

from __future__ import annotations

from django import template

from huiyin.core import refusals

register = template.Library()


@register.simple_tag(takes_context=True)
def form_refusal(context: template.Context) -> str:
    return refusals.page_data(context.get("request"))
