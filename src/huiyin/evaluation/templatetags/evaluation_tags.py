"""Who sees the evaluation in the navigation: the same rule as the page (scope_for)."""

from __future__ import annotations

from django import template

from huiyin.evaluation.selectors import may_see_evaluation as _may_see

register = template.Library()


@register.filter
def may_see_evaluation(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and _may_see(user))
