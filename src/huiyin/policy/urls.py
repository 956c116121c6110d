"""Policy administration (/policy/): the time-limit policy and the business calendar.
The deadline actions on a case (/policy/cases/..., /policy/extensions/...) are
``deadlines.urls``, mounted under the same prefix."""

from django.urls import path

from .views import admin

app_name = "policy"
urlpatterns = [
    path("", admin.policy_index, name="index"),
    path("load/", admin.policy_load, name="load"),
    path("edit/", admin.policy_edit, name="edit"),
    path("versions/<int:version>/withdraw/", admin.policy_withdraw, name="withdraw"),
    path("versions/<int:version>/reactivate/", admin.policy_reactivate, name="reactivate"),
    path("calendar/", admin.calendar_view, name="calendar"),
    path("calendar/remove/", admin.calendar_remove, name="calendar_remove"),
]
