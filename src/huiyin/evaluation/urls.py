from django.urls import path

from . import views

app_name = "evaluation"
urlpatterns = [
    path("", views.table, name="table"),
    path("export.xlsx", views.export, name="export"),
    path("export.csv", views.export, {"fmt": "csv"}, name="export_csv"),
    path("deductions/", views.deductions, name="deductions"),
]
