from django.urls import path

from . import views

app_name = "followup"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("export.csv", views.queue_export, {"fmt": "csv"}, name="queue_csv"),
    path("export.xlsx", views.queue_export, {"fmt": "xlsx"}, name="queue_xlsx"),
    path("<int:callback_id>/record/", views.record, name="record"),
    path("<int:callback_id>/reveal/", views.reveal, name="reveal"),
    path("<int:callback_id>/rating-link/", views.rating_link, name="rating_link"),
    path("<int:callback_id>/decide/", views.decide, name="decide"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
    path("answers/<int:promise_id>/", views.promised_answer, name="promised_answer"),
]
