"""The portal refuses an oversized request before anything reads its body."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _

from . import handlers


class BodyLimitMiddleware:
    """A POST to /portal/ longer than ``HUIYIN_PORTAL_REQUEST_MAX_BYTES`` gets the portal's 413
    page; its body is never parsed or spooled to disk (placed before the input cleaning and
    the CSRF check, which would read it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method == "POST" and handlers.is_portal(request):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.HUIYIN_PORTAL_REQUEST_MAX_BYTES
            if length > limit:
                return handlers.page(
                    request,
                    413,
                    _("提交的内容共 %(size).1f MB，超过上限 %(max).0f MB：请减少或压缩照片和文件后重新提交。")
                    % {"size": length / 1048576, "max": limit / 1048576},
                )
        return self.get_response(request)
