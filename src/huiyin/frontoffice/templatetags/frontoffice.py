"""Display helpers for the front office's pages: money in yuan."""

from __future__ import annotations

from decimal import Decimal

from django import template

from huiyin.frontoffice.money import yuan as _yuan

register = template.Library()


@register.filter
def yuan(value: Decimal | None) -> str:
    """¥1,280.50 (— for nothing)."""
    return _yuan(value)
