from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Department, Organization, Staff


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "preset"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "organization", "parent", "handles_cases"]
    list_filter = ["organization"]


@admin.register(Staff)
class StaffAdmin(UserAdmin):
    list_display = ["username", "full_name", "organization", "department", "roles", "is_active"]
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Huiyin", {"fields": ("full_name", "organization", "department", "roles")}),
    )
