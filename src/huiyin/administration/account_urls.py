"""Every signed-in user's own account: changing their password."""

from django.urls import path

from . import views

app_name = "account"
urlpatterns = [
    path("password/", views.own_password, name="password"),
]
