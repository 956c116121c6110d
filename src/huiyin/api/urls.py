from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import views

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", views.docs_page, name="docs"),
    path("cases/", views.CaseListView.as_view(), name="cases"),
    path("cases/search/", views.CaseSearchView.as_view(), name="cases_search"),
    path("cases/<int:case_id>/", views.CaseDetailView.as_view(), name="case"),
    path("cases/<int:case_id>/events/", views.EventListView.as_view(), name="events"),
    path("cases/<int:case_id>/deadlines/", views.DeadlineListView.as_view(), name="deadlines"),
    path("cases/<int:case_id>/contacts/", views.ContactListView.as_view(), name="contacts"),
    path("cases/<int:case_id>/attachments/", views.AttachmentListView.as_view(), name="attachments"),
    path("cases/<int:case_id>/actions/", views.AllowedActionsView.as_view(), name="actions"),
    path("attachments/<int:attachment_id>/", views.AttachmentDownloadView.as_view(), name="attachment"),
    path("cases/<int:case_id>/documents/", views.DocumentListView.as_view(), name="documents"),
    path("documents/<int:document_id>/", views.DocumentDownloadView.as_view(), name="document"),
    path("categories/", views.CategoryListView.as_view(), name="categories"),
    path("departments/", views.DepartmentListView.as_view(), name="departments"),
    path("hot-issues/", views.HotIssuesView.as_view(), name="hot_issues"),
    *(path(f"cases/<int:case_id>/actions/{name}/", view, name=f"action-{name}") for name, view in views.action_views()),
]
