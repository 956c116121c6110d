"""Django's own error answers (no URL matched, a body that cannot be parsed or is too big,
a crash) under /api/ and /open311/: the API's error body instead of the site's HTML pages.

``huiyin/urls.py``'s handlers ask ``answer`` first and fall back to the site's (or the
portal's) pages when it returns None."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from huiyin.core.errors import CoreError

from .errors import ApiError
from .exceptions import error_body
from .open311 import error_answer

API_PREFIX = "/api/"
OPEN311_PREFIX = "/open311/"


def answer(
    request: HttpRequest, status: int, exception: BaseException | None = None, *, message: str = ""
) -> HttpResponse | None:
    path = request.path
    if not path.startswith((API_PREFIX, OPEN311_PREFIX)):
        return None
    if status == 400 and isinstance(exception, RequestDataTooBig):
        status = 413
    code, default = {
        400: (ApiError.MALFORMED, _("请求无法解析。")),
        403: (CoreError.PERMISSION_DENIED, _("没有权限执行该操作。")),
        404: (CoreError.NOT_FOUND, _("找不到该资源。")),
        413: (ApiError.TOO_LARGE, _("请求内容过大。")),
    }.get(status, (CoreError.APPLICATION_ERROR, _("服务器内部错误，请稍后重试。")))
    message = message or str(default)
    if path.startswith(OPEN311_PREFIX):
        return error_answer("xml" if path.endswith(".xml") else "json", status, str(message))
    return JsonResponse(error_body(code, message), status=status, json_dumps_params={"ensure_ascii": False})
