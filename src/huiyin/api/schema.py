"""What drf-spectacular cannot say from the views alone, added to the OpenAPI document
(``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``):

* the ``Idempotency-Key`` header every POST that changes something takes (``idempotency``);
* OpenAPI links from the operations that create or list cases and attachments to the ones
  that take their id, so a client (and the contract fuzz, ``tests/api/test_fuzz.py``) can
  follow a case from its creation through its history and actions."""

from __future__ import annotations

from typing import Any

from .idempotency import HEADER, KEY_MAX

CASE_SOURCES = {
    "cases_create": ("201", "$response.body#/id"),
    "cases_list": ("200", "$response.body#/results/0/id"),
}
ATTACHMENT_SOURCES = {
    "cases_attachments_create": ("201", "$response.body#/id"),
    "cases_attachments": ("200", "$response.body#/0/id"),
}
DOCUMENT_SOURCES = {"cases_documents": ("200", "$response.body#/0/id")}


def _operations(result: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in result.get("paths", {}).items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    ]


def _takes(operation: dict[str, Any], name: str) -> bool:
    return any(p.get("in") == "path" and p.get("name") == name for p in operation.get("parameters", []))


def _link(result: dict[str, Any], sources: dict[str, tuple[str, str]], parameter: str) -> None:
    operations = _operations(result)
    targets = [op["operationId"] for _path, _method, op in operations if _takes(op, parameter)]
    for _path, _method, operation in operations:
        source = sources.get(operation["operationId"])
        if source is None:
            continue
        status, expression = source
        response = operation.get("responses", {}).get(status)
        if response is None:
            continue
        links = response.setdefault("links", {})
        for target in targets:
            links[target] = {"operationId": target, "parameters": {parameter: expression}}


# POSTs that change nothing (a search with its filters in the body): no Idempotency-Key.
SAFE_POSTS = frozenset({"cases_search"})


def add_links_and_headers(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    for _path, method, operation in _operations(result):
        if method == "post" and operation.get("operationId") not in SAFE_POSTS:
            operation.setdefault("parameters", []).append(
                {
                    "in": "header",
                    "name": HEADER,
                    "required": False,
                    "description": "A retried POST with the same key returns the first response; "
                    "the same key with another body is refused (422).",
                    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX, "pattern": "^[\\x21-\\x7e]+$"},
                }
            )
    _link(result, CASE_SOURCES, "case_id")
    _link(result, ATTACHMENT_SOURCES, "attachment_id")
    _link(result, DOCUMENT_SOURCES, "document_id")
    return result
