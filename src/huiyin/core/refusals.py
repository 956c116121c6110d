"""A refused form, shown again with each message next to its field, whatever the form is made of.

Django forms put their errors next to their fields themselves (``cases/_field.html``). The many
small forms written as plain HTML (the case page's panels) and the htmx requests cannot: for
them a view that answers a refusal calls

* ``remember(request, error)`` before rendering the page again (status 4xx): ``base.html``
  writes the refusal into the page as JSON data (``{% form_refusal %}``), and
  ``huiyin/forms.js`` finds the form that was posted (its action, then its hidden fields),
  gives back what was typed, and puts each message under the field it names, or on top of
  the form for a message that names no field of it;
* ``fragment(request, error)`` to answer an htmx request: the message as an alert, with the
  same data, which htmx swaps into its target (``forms.js`` lets htmx swap 4xx fragments)
  and ``forms.js`` applies to the form the request came from.

Without JavaScript the page's messages still name the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.utils.html import escape, json_script

from .errors import ApplicationError

_ATTRIBUTE = "_huiyin_refusal"
SCRIPT_ID = "form-refusal"
# Never written back into a page: the CSRF token is the page's own; a password or a drawn
# signature (an image as a data URL) is not given back.
NOT_ECHOED = frozenset({"csrfmiddlewaretoken", "signature_drawn"})

Errors = Mapping[str, Sequence[Any]]


def _errors_of(error: ApplicationError | Errors) -> dict[str, list[str]]:
    messages = error.field_errors() if isinstance(error, ApplicationError) else error
    return {field or NON_FIELD_ERRORS: [str(m) for m in texts] for field, texts in messages.items()}


def _echoed(request: HttpRequest) -> dict[str, list[str]]:
    limit = settings.HUIYIN_TEXT_MAX_CHARS
    return {
        name: values
        for name, values in request.POST.lists()
        if name not in NOT_ECHOED and "password" not in name and all(len(v) <= limit for v in values)
    }


def data(request: HttpRequest, error: ApplicationError | Errors, *, echo: bool = True) -> dict[str, Any]:
    """What the page's script needs: the path the form posted to, the messages by field, and
    (``echo``) the values posted, to give back what was typed."""
    return {
        "action": request.path,
        "errors": _errors_of(error),
        "values": _echoed(request) if echo else {},
    }


def remember(request: HttpRequest, error: ApplicationError | Errors) -> None:
    """Mark the page this request renders as the answer to a refused form."""
    setattr(request, _ATTRIBUTE, data(request, error))


def of(request: HttpRequest | None) -> dict[str, Any] | None:
    return getattr(request, _ATTRIBUTE, None) if request is not None else None


def page_data(request: HttpRequest | None) -> str:
    """The refusal as a JSON data block (not executed: the Content-Security-Policy allows it)."""
    refusal = of(request)
    return json_script(refusal, SCRIPT_ID) if refusal else ""


def fragment(
    request: HttpRequest, error: ApplicationError | Errors, message: str, *, status: int = 400
) -> HttpResponse:
    """An htmx request's answer to a refusal: the message for the target, and the field
    messages for the form the request came from (the form keeps what was typed)."""
    payload = json_script(data(request, error, echo=False))
    body = f'<div class="alert alert-danger py-2 small" role="alert">{escape(message)}</div>'
    body += payload.replace("<script ", "<script data-refusal ", 1)
    return HttpResponse(body, status=status)
