from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("periodic/", views.report_list, name="reports"),
    path("periodic/<int:report_id>/", views.report_detail, name="report"),
    path("periodic/<int:report_id>/progress/", views.report_progress, name="progress"),
    path("periodic/<int:report_id>/commentary/", views.report_commentary, name="commentary"),
    path("periodic/<int:report_id>/regenerate/", views.report_regenerate, name="regenerate"),
    path("periodic/<int:report_id>/report.xlsx", views.report_xlsx, name="xlsx"),
    path("periodic/<int:report_id>/report.pdf", views.report_pdf, name="pdf"),
]
