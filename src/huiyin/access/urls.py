from django.urls import path

from . import views

app_name = "access"

urlpatterns = [
    path("login/verify/", views.verify, name="verify"),
    path("account/security/", views.enrol, name="enrol"),
]
