"""Schemathesis hooks for the contract fuzz (``SCHEMATHESIS_HOOKS=tests.api.fuzz_hooks``).

A registration needs a way to reach the complainant — a name, a phone, or the anonymity
box ticked — which the document cannot express as a type. A generated registration whose
party has none of them is made anonymous, so the stateful phase has real cases to
follow; schemathesis re-checks a changed body against the document, so a request that
was meant to break the schema still does."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.hook("map_body")
def an_anonymous_caller_when_none_is_named(context: Any, body: Any) -> Any:
    operation = context.operation
    if operation is None or operation.method.upper() != "POST" or operation.path != "/api/v1/cases/":
        return body
    if not isinstance(body, dict):
        return body
    party = body.get("party")
    if party is None or (isinstance(party, dict) and not any(party.get(k) for k in ("name", "phone", "anonymous"))):
        return {**body, "party": {**(party or {}), "anonymous": True}}
    return body
