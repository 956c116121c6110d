"""Deadline actions on a case, and policy administration (/policy/)."""

from django.urls import path

from .views import admin, panel

app_name = "policy"
urlpatterns = [
    path("", admin.policy_index, name="index"),
    path("load/", admin.policy_load, name="load"),
    path("edit/", admin.policy_edit, name="edit"),
    path("versions/<int:version>/withdraw/", admin.policy_withdraw, name="withdraw"),
    path("versions/<int:version>/reactivate/", admin.policy_reactivate, name="reactivate"),
    path("calendar/", admin.calendar_view, name="calendar"),
    path("calendar/remove/", admin.calendar_remove, name="calendar_remove"),
    path("cases/<int:case_id>/suspend/", panel.suspend, name="suspend"),
    path("cases/<int:case_id>/resume/", panel.resume, name="resume"),
    path("cases/<int:case_id>/extensions/", panel.extension_new, name="extension_request"),
    path("extensions/<int:extension_id>/decide/", panel.extension_decision, name="extension_decide"),
]
