"""Workbench URLs. Personal data never travels in a URL: look-ups by phone are POSTs."""

from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("desk/", views.desk, name="desk"),
    path("desk/export.csv", views.desk_export, {"fmt": "csv"}, name="desk_csv"),
    path("desk/export.xlsx", views.desk_export, {"fmt": "xlsx"}, name="desk_xlsx"),
    path("desk/reminders/<int:notification_id>/done/", views.reminder_done, name="reminder_done"),
    path("", views.ledger_view, name="ledger"),
    path("export.csv", views.ledger_export, {"fmt": "csv"}, name="ledger_csv"),
    path("export.xlsx", views.ledger_export, {"fmt": "xlsx"}, name="ledger_xlsx"),
    path("print/", views.ledger_print, name="ledger_print"),
    path("new/<str:channel>/", views.intake, name="intake"),
    path("caller-history/", views.caller_history_view, name="caller_history"),
    path("<int:case_id>/", views.detail, name="detail"),
    path("<int:case_id>/act/<str:action>/", views.act, name="act"),
    path("<int:case_id>/edit/", views.edit, name="edit"),
    path("<int:case_id>/contacts/", views.add_contact, name="add_contact"),
    path("<int:case_id>/attachments/", views.upload_attachment, name="upload_attachment"),
    path("attachments/<int:attachment_id>/", views.download_attachment, name="download_attachment"),
    path("<int:case_id>/reveal/", views.reveal, name="reveal"),
    path("<int:case_id>/receipt/", views.receipt, name="receipt"),
    path("<int:case_id>/receipt.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("<int:case_id>/receipt/reissue/", views.receipt_reissue, name="receipt_reissue"),
]
