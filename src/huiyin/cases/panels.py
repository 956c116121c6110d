"""The panel seam of the case page and the desk: each app provides its panel as a context
function plus a template fragment; the page composes them in the order the subscriber
table lists them (``huiyin/subscribers.py``, ``CASE_PANELS`` / ``DESK_PANELS``; the staff
intake forms' ``intake_panels``, beside the form: triage's suggestions).

A context function returns the fragment's context, or None to show nothing. A view that
re-renders the page after a refused form passes that panel's own context in ``overrides``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from django.http import HttpRequest

    from .models import Case


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: Callable[..., Mapping[str, Any] | None]  # (request, case) on the case page, (request) on the desk


def render_case_panels(
    request: HttpRequest,
    case: Case,
    panels: tuple[Panel, ...],
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[SafeString]:
    out = []
    for panel in panels:
        context = (overrides or {}).get(panel.name) or panel.context(request, case)
        if context is not None:
            out.append(mark_safe(render_to_string(panel.template, {"case": case, **context}, request=request)))  # noqa: S308
    return out


def render_desk_panels(request: HttpRequest, panels: tuple[Panel, ...]) -> list[SafeString]:
    out = []
    for panel in panels:
        context = panel.context(request)
        if context is not None:
            out.append(mark_safe(render_to_string(panel.template, dict(context), request=request)))  # noqa: S308
    return out


def render_intake_panels(request: HttpRequest, channel: str, panels: tuple[Panel, ...]) -> list[SafeString]:
    out = []
    for panel in panels:
        context = panel.context(request, channel)
        if context is not None:
            out.append(mark_safe(render_to_string(panel.template, dict(context), request=request)))  # noqa: S308
    return out
