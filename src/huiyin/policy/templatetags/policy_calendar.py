"""``{% calendar_warnings %}``: administrators see, on their pages, the years the holiday
package does not know (the current one, and the next from 1 October)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from huiyin.orgs.roles import Cap

from ..services.calendars import unknown_year_warnings

register = template.Library()


@register.inclusion_tag("policy/_calendar_warnings.html", takes_context=True)
def calendar_warnings(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.can(Cap.ADMINISTER):
        return {"warnings": []}
    return {"warnings": unknown_year_warnings(today=timezone.localdate(), organization_id=user.organization_id)}
