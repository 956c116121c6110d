"""Notification templates and switches, a case's SMS opt-out and failed messages, and the
parked mail of the e-mail channel."""

from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("templates/", views.templates_index, name="templates"),
    path("templates/<str:purpose>/<str:medium>/<str:language>/", views.template_edit, name="template_edit"),
    path("switches/<str:purpose>/<str:medium>/", views.switch, name="switch"),
    path("cases/<int:case_id>/sms-opt-out/", views.sms_opt_out, name="sms_opt_out"),
    path("messages/<int:message_id>/resend/", views.resend, name="resend"),
    path("me/", views.my_contact, name="my_contact"),
    path("mail/", views.mail_index, name="mail"),
    path("mail/<int:mail_id>/", views.mail_detail, name="mail_detail"),
    path("mail/<int:mail_id>/register/", views.mail_register, name="mail_register"),
    path("mail/<int:mail_id>/discard/", views.mail_discard, name="mail_discard"),
]
