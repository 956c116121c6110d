"""Follow-up on the case page (listed in huiyin/subscribers.py, ``case_panels``): the answers
promised at a callback, by when, and the form that records one."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from huiyin.cases.models import Case
from huiyin.core.http import AuthedHttpRequest

from .selectors import promised_answers_on_case


def case_panel(request: AuthedHttpRequest, case: Case) -> dict[str, Any] | None:
    promises = promised_answers_on_case(actor=request.user, case=case)
    if not promises:
        return None
    return {"promises": promises, "now": timezone.now()}
