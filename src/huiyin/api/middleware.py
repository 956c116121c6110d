"""The API refuses an oversized request body before anything reads it."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _

from . import errorpages

BODY_MAX = 1024 * 1024  # a JSON or form body (the longest text is HUIYIN_TEXT_MAX_CHARS); a file comes on top


def body_limit(request: HttpRequest) -> int:
    multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
    return settings.HUIYIN_ATTACHMENT_MAX_BYTES + BODY_MAX if multipart else BODY_MAX


class BodyLimitMiddleware:
    """A request to /api/ or /open311/ whose body is longer than any endpoint takes gets 413
    with the API's error body (Open311: its error array); the body is never parsed or spooled
    to disk (placed before the input cleaning and the CSRF check, which would read it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path.startswith((errorpages.API_PREFIX, errorpages.OPEN311_PREFIX)):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = body_limit(request)
            if length > limit:
                message = _("请求内容过大：最多 %(limit)s 字节。") % {"limit": limit}
                answer = errorpages.answer(request, 413, message=message)
                assert answer is not None  # an API path
                return answer
        return self.get_response(request)
