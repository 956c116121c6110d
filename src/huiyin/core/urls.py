"""Long exports written in the background: start, the export's page, its progress, the file."""

from django.urls import path

from . import export_views

app_name = "exports"
urlpatterns = [
    path("start/", export_views.start, name="start"),
    path("<int:job_id>/", export_views.job, name="job"),
    path("<int:job_id>/progress/", export_views.progress, name="progress"),
    path("<int:job_id>/download/", export_views.download, name="download"),
]
