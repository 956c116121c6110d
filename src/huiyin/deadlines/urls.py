"""Deadline actions on a case. Mounted under /policy/ beside the policy administration,
so the paths are the ones the deadline panel always posted to."""

from django.urls import path

from .views import panel

app_name = "deadlines"
urlpatterns = [
    path("cases/<int:case_id>/suspend/", panel.suspend, name="suspend"),
    path("cases/<int:case_id>/resume/", panel.resume, name="resume"),
    path("cases/<int:case_id>/extensions/", panel.extension_new, name="extension_request"),
    path("extensions/<int:extension_id>/decide/", panel.extension_decision, name="extension_decide"),
]
