"""The service's status page for administrators (/system/)."""

from django.urls import path

from . import views

app_name = "ops"
urlpatterns = [
    path("", views.status_page, name="status"),
    path("tasks/<str:task_id>/retry/", views.retry_task, name="retry_task"),
]
