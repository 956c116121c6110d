"""Supervision's panel on the case page (listed in huiyin/subscribers.py, CASE_PANELS)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from huiyin.cases.models import Case

from .selectors import case_panel as notices_on_case


def case_panel(request: HttpRequest, case: Case) -> dict[str, Any]:
    return notices_on_case(actor=request.user, case=case)  # type: ignore[arg-type]
