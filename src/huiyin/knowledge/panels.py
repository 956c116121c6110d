"""The knowledge base beside a case (listed in huiyin/subscribers.py, ``case_panels``): the
entries about the case's category, a search box and the past answers of that category, and
the standard phrases of a call (``intake.phone_phrases``) for whoever talks to the complainant."""

from __future__ import annotations

from typing import Any

from huiyin.cases.models import Case
from huiyin.cases.selectors import phone_script
from huiyin.core.http import AuthedHttpRequest

from .permissions import may_read_knowledge
from .selectors import entries

PANEL_ENTRIES = 5


def case_panel(request: AuthedHttpRequest, case: Case) -> dict[str, Any] | None:
    if not may_read_knowledge(request.user):
        return None
    category_id = case.category_id
    found = list(entries(actor=request.user, category_id=category_id)[: PANEL_ENTRIES + 1])
    return {
        "knowledge_entries": found[:PANEL_ENTRIES],
        "knowledge_more": len(found) > PANEL_ENTRIES,
        "knowledge_category": category_id,
        "phone_script": phone_script(request.user),
    }
