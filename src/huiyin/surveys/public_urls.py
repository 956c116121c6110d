from django.urls import path

from . import views

app_name = "survey"
urlpatterns = [path("<str:token>/", views.answer, name="answer")]
