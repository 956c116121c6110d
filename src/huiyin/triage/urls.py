"""Triage URLs. The text to classify is POSTed, never put in a URL."""

from django.urls import path

from . import views

app_name = "triage"
urlpatterns = [
    path("suggest/", views.suggest_view, name="suggest"),
    path("accept/", views.accept_view, name="accept"),
    path("repeats/", views.repeats_view, name="repeats"),
    path("intake-link/", views.intake_link_view, name="intake_link"),
    path("cases/<int:case_id>/links/", views.link_view, name="link"),
    path("cases/<int:case_id>/links/<int:link_id>/delete/", views.unlink_view, name="unlink"),
    path("hot/", views.hot_page, name="hot"),
    path("models/", views.models_page, name="models"),
    path("models/retrain/", views.retrain, name="retrain"),
    path("models/rollback/", views.rollback_view, name="rollback"),
]
