from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.generic import RedirectView

from huiyin.access.views import LoginView
from huiyin.api import errorpages as api_errorpages
from huiyin.portal import handlers as portal_handlers

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="cases:desk", permanent=False)),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("huiyin.access.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("cases/", include("huiyin.cases.urls")),
    path("status/", include("huiyin.cases.public_urls")),
    path("portal/", include("huiyin.portal.urls")),  # the public portal (no login)
    path("portal/", include("huiyin.reception.portal_urls")),  # booking a visit on the portal
    path("reception/", include("huiyin.reception.urls")),
    path("supervision/", include("huiyin.supervision.urls")),
    path("policy/", include("huiyin.policy.urls")),
    path("policy/", include("huiyin.deadlines.urls")),
    path("handling/", include("huiyin.handling.urls")),
    path("callbacks/", include("huiyin.followup.urls")),
    path("rate/", include("huiyin.followup.public_urls")),
    path("surveys/", include("huiyin.surveys.urls")),
    path("survey/", include("huiyin.surveys.public_urls")),
    path("evaluation/", include("huiyin.evaluation.urls")),
    path("reports/", include("huiyin.reports.urls")),
    path("exports/", include("huiyin.core.urls")),  # long exports of any list, written in the background
    path("administration/", include("huiyin.administration.urls")),
    path("account/", include("huiyin.administration.account_urls")),
    path("system/", include("huiyin.ops.urls")),
    path("notifications/", include("huiyin.notifications.urls")),
    path("api/v1/", include("huiyin.api.urls")),
    path("administration/api-keys/", include("huiyin.api.key_urls")),
    path("administration/webhooks/", include("huiyin.api.webhook_urls")),
    path("open311/v2/", include("huiyin.api.open311_urls")),
    path("frontoffice/", include("huiyin.frontoffice.urls")),
    path("triage/", include("huiyin.triage.urls")),
    path("knowledge/", include("huiyin.knowledge.urls")),
    path("admin/", admin.site.urls),  # the platform operator's (superusers only: administration.operator_site)
]

# Errors under /portal/ get the portal's own pages (never the workbench's); under /api/ and /open311/
# the API's error body (huiyin.api.errorpages); elsewhere the site's own pages (core.views and the
# 400/403/404 templates).


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    return api_errorpages.answer(request, 400, exception) or portal_handlers.handler400(request, exception)


def handler403(request: HttpRequest, exception: Exception) -> HttpResponse:
    return api_errorpages.answer(request, 403, exception) or portal_handlers.handler403(request, exception)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    return api_errorpages.answer(request, 404, exception) or portal_handlers.handler404(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    return api_errorpages.answer(request, 500) or portal_handlers.handler500(request)
