"""The organisation's administration (人员与部门): staff accounts, departments, category tags, the record."""

from django.urls import path

from . import views

app_name = "administration"
urlpatterns = [
    path("staff/", views.staff_list, name="staff"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:staff_id>/", views.staff_detail, name="staff_detail"),
    path("staff/<int:staff_id>/deactivate/", views.staff_deactivate, name="staff_deactivate"),
    path("staff/<int:staff_id>/reactivate/", views.staff_reactivate, name="staff_reactivate"),
    path("staff/<int:staff_id>/password/", views.staff_reset_password, name="staff_reset_password"),
    path("departments/", views.department_list, name="departments"),
    path("departments/<int:department_id>/", views.department_detail, name="department_detail"),
    path("departments/<int:department_id>/delete/", views.department_delete, name="department_delete"),
    path("categories/", views.category_list, name="categories"),
    path("categories/<int:category_id>/tags/", views.category_tags, name="category_tags"),
    path("audit/", views.audit_log, name="audit"),
]
