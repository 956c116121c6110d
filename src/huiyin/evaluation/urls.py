from django.urls import path

from . import views

app_name = "evaluation"
urlpatterns = [
    path("", views.table, name="table"),
    path("export.xlsx", views.export, name="export"),
    path("deductions/", views.deductions, name="deductions"),
]
