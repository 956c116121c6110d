"""The error pages that Django's own handlers do not draw in the site's frame: a server
error (Django's renders without the request, so without the navigation or the language)
and a CSRF refusal (Django's is an English technical page). 400, 403 and 404 are Django's
handlers with the templates in ``core/templates``."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

log = logging.getLogger(__name__)


def server_error(request: HttpRequest) -> HttpResponse:
    """500 in the site's frame; when even that cannot be drawn (the database is down), a
    plain page in both languages."""
    try:
        return render(request, "500.html", status=500)
    except Exception:  # the frame needs the session and the database: fall back to the plain page
        log.debug("the framed 500 page could not be drawn", exc_info=True)
        return HttpResponseServerError(loader.get_template("500_plain.html").render())


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form posted without a valid CSRF token (an expired page, another site): refused
    with a translated page; the technical reason is not shown."""
    return render(request, "403_csrf.html", status=403)
