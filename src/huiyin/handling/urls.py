from django.urls import path

from . import views

app_name = "handling"
urlpatterns = [
    path("cases/<int:case_id>/assign/", views.assign, name="assign"),
    path("cases/<int:case_id>/investigations/", views.investigation_add, name="investigation_add"),
    path(
        "cases/<int:case_id>/investigations/<int:investigation_id>/confirm/",
        views.investigation_confirm,
        name="investigation_confirm",
    ),
    path("cases/<int:case_id>/rectification/<str:step>/", views.rectification, name="rectification"),
    path("cases/<int:case_id>/joint/<str:step>/", views.joint, name="joint"),
    path("cases/<int:case_id>/authority/", views.authority, name="authority"),
    path("cases/<int:case_id>/documents/", views.document_issue, name="document_issue"),
    path("cases/<int:case_id>/documents/<int:document_id>/", views.document_view, name="document"),
    path("cases/<int:case_id>/documents/<int:document_id>.pdf", views.document_pdf, name="document_pdf"),
    path("cases/<int:case_id>/documents/<int:document_id>/<str:step>/", views.document_step, name="document_step"),
    path("templates/", views.templates_index, name="templates"),
    path("templates/<str:kind>/", views.template_edit, name="template_edit"),
]
