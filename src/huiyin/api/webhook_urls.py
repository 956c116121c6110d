from django.urls import path

from . import webhook_views

app_name = "webhooks"

urlpatterns = [
    path("", webhook_views.webhook_list, name="list"),
    path("<int:webhook_id>/active/", webhook_views.webhook_toggle, name="toggle"),
    path("deliveries/", webhook_views.delivery_log, name="deliveries"),
    path("deliveries/<int:delivery_id>/redeliver/", webhook_views.delivery_redeliver, name="redeliver"),
]
