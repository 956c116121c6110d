"""The portal's own error pages: under /portal/ an error never shows (or links to) the staff
workbench. ``huiyin/urls.py`` names these as the project's handlers; outside /portal/ they
answer with the workbench's own pages (``core.views``, the 400/403/404 templates)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults

from huiyin.core import views as core_views

PREFIX = "/portal/"

TITLES = {
    400: gettext_lazy("无法处理"),
    403: gettext_lazy("无法继续"),
    404: gettext_lazy("找不到页面"),
    413: gettext_lazy("内容过大"),
    429: gettext_lazy("操作过于频繁"),
    500: gettext_lazy("系统暂时出现问题"),
}


def is_portal(request: HttpRequest) -> bool:
    return request.path.startswith(PREFIX)


def page(request: HttpRequest | None, status: int, message: str, *, retry_after: int | None = None) -> HttpResponse:
    """A standalone page (no base template, no database): it renders whatever state the request is in."""
    body = loader.get_template("portal/error.html").render(
        {"status": status, "title": str(TITLES.get(status, TITLES[400])), "message": message}
    )
    response = HttpResponse(body, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_portal(request):
        return page(request, 400, _("请求无法处理，请返回上一页检查后重试。"))
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_portal(request):
        return page(request, 403, _("无法查看该页面。请用编号和查询码重新查询。"))
    return defaults.permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_portal(request):
        return page(request, 404, _("找不到该页面，请从网上平台首页重新进入。"))
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if is_portal(request):
        return page(request, 500, _("系统暂时出现问题，您的内容可能没有提交成功，请稍后再试或拨打热线。"))
    return core_views.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if is_portal(request):
        return page(request, 403, _("页面已过期或浏览器禁用了 Cookie：请返回、刷新页面后重新提交。"))
    return core_views.csrf_failure(request, reason=reason)
