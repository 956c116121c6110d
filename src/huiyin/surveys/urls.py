from django.urls import path

from . import views

app_name = "surveys"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.campaign_create, name="create"),
    path("<int:campaign_id>/", views.campaign, name="campaign"),
    path("<int:campaign_id>/responses/", views.response_enter, name="enter"),
    path("<int:campaign_id>/invitations/", views.invitations, name="invitations"),
    path("<int:campaign_id>/close/", views.close, name="close"),
    path("<int:campaign_id>/audience/", views.audience_size, name="audience_size"),
    path("<int:campaign_id>/items/", views.item_add, name="item_add"),
    path("<int:campaign_id>/items/<int:item_id>/done/", views.item_done, name="item_done"),
    path("<int:campaign_id>/report.pdf", views.report_pdf, name="report_pdf"),
    path("<int:campaign_id>/report.xlsx", views.report_xlsx, name="report_xlsx"),
    path("activities/plan/", views.activity_plan, name="activity_plan"),
    path("activities/<int:activity_id>/record/", views.activity_record, name="activity_record"),
    path("activities/<int:activity_id>/opinion/", views.activity_opinion, name="activity_opinion"),
]
