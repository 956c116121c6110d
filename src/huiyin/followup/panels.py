"""The callback panel of the case page (listed in huiyin/subscribers.py, ``case_panels``): each
round's callback as it stands — waiting, made (with the satisfaction), not reached, or
无法回访 with the reason — and the answers promised at a callback, by when, with the form
that records one."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from huiyin.cases.models import Case
from huiyin.core.http import AuthedHttpRequest

from .models import Callback
from .selectors import promised_answers_on_case


def case_panel(request: AuthedHttpRequest, case: Case) -> dict[str, Any] | None:
    callbacks = list(Callback.objects.filter(case=case).order_by("-round"))
    promises = promised_answers_on_case(actor=request.user, case=case)
    if not callbacks and not promises:
        return None
    return {"callbacks": callbacks, "promises": promises, "now": timezone.now()}
