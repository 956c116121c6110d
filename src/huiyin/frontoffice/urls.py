"""The front office (访客登记) and company guest reception (公司接待)."""

from django.urls import path

from . import views

app_name = "frontoffice"
urlpatterns = [
    path("visitors/", views.visitors, name="visitors"),
    path("visitors/print/", views.visitors_print, name="visitors_print"),
    path("visitors/walk-in/", views.walk_in, name="walk_in"),
    path("visitors/<int:visitor_id>/", views.visitor, name="visitor"),
    path("visitors/<int:visitor_id>/check-in/", views.check_in, name="check_in"),
    path("visitors/<int:visitor_id>/check-out/", views.check_out, name="check_out"),
    path("visitors/<int:visitor_id>/cancel/", views.visitor_cancel, name="visitor_cancel"),
    path("visitors/<int:visitor_id>/feedback/", views.feedback, name="feedback"),
    path("visitors/<int:visitor_id>/reveal/", views.visitor_reveal, name="visitor_reveal"),
    path("receptions/", views.receptions, name="receptions"),
    path("receptions/new/", views.reception_new, name="reception_new"),
    path("receptions/<int:reception_id>/", views.reception, name="reception"),
    path("receptions/<int:reception_id>/decide/", views.decide, name="decide"),
    path("receptions/<int:reception_id>/cancel/", views.reception_cancel, name="reception_cancel"),
    path("receptions/<int:reception_id>/arrangements/", views.arrangement_add, name="arrangement_add"),
    path("arrangements/<int:arrangement_id>/done/", views.arrangement_done, name="arrangement_done"),
    path("receptions/<int:reception_id>/expenses/", views.expense_add, name="expense_add"),
    path("expenses/<int:expense_id>/receipt/", views.receipt, name="receipt"),
    path("receptions/<int:reception_id>/overruns/", views.overrun_add, name="overrun_add"),
    path("overruns/<int:overrun_id>/decide/", views.overrun_decide, name="overrun_decide"),
    path("receptions/<int:reception_id>/close/", views.reception_close, name="reception_close"),
    path("receptions/<int:reception_id>/reimbursement/", views.reimbursement_submit, name="reimbursement_submit"),
    path("receptions/<int:reception_id>/reimburse/", views.reimburse, name="reimburse"),
    path("costs/", views.costs, name="costs"),
    path("costs.xlsx", views.costs_export, name="costs_export"),
    path("setup/", views.setup, name="setup"),
]
