"""The callback panel of the case page (listed in huiyin/subscribers.py, CASE_PANELS): each
round's callback as it stands — waiting, made (with the satisfaction), not reached, or
无法回访 with the reason."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from huiyin.cases.models import Case

from .models import Callback


def case_panel(request: HttpRequest, case: Case) -> dict[str, Any] | None:
    rows = list(Callback.objects.filter(case=case).order_by("-round"))
    return {"callbacks": rows} if rows else None
