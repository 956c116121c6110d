"""Django admin for operators: policy versions are read-only (they change only through
the services); calendar overrides go through the calendar services so running clocks
are recomputed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import CalendarDay, PolicyVersion
from .services.calendars import calendar_day_add, calendar_day_remove


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = [
        "organization",
        "version",
        "preset_name",
        "label",
        "active",
        "created_by",
        "created_at",
    ]
    list_filter = ["organization", "preset_name", "active"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "name", "organization", "created_by"]
    list_filter = ["kind", "organization"]
    date_hierarchy = "date"
    fields = ["organization", "date", "kind", "name"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # remove and add again: one path, through the services

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        row = calendar_day_add(actor=None, organization=obj.organization, day=obj.date, kind=obj.kind, name=obj.name)
        row.created_by = request.user  # type: ignore[assignment]
        row.save(update_fields=["created_by"])
        obj.pk = row.pk

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        calendar_day_remove(actor=None, organization=obj.organization, day=obj.date)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)
