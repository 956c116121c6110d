"""Django admin for operators: clocks and the sweeper's records are read-only (they
change only through the services and the sweeper)."""

from __future__ import annotations

from django.contrib import admin

from huiyin.policy.admin import ReadOnlyAdmin

from .models import Clock, ClockAction, Extension, Suspension, SweeperHeartbeat


@admin.register(Clock)
class ClockAdmin(ReadOnlyAdmin):
    list_display = [
        "case",
        "round",
        "stage",
        "state",
        "started_at",
        "due_at",
        "warned_at",
        "overdue_at",
        "escalation_level",
        "next_action_at",
    ]
    list_filter = ["state", "stage", "organization"]
    raw_id_fields = ["case"]


@admin.register(ClockAction)
class ClockActionAdmin(ReadOnlyAdmin):
    list_display = ["clock", "action", "level", "role", "scheduled_for", "at", "worker_id"]
    list_filter = ["action"]


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyAdmin):
    list_display = [
        "case",
        "clock",
        "amount",
        "unit",
        "status",
        "requested_by",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status"]


@admin.register(Suspension)
class SuspensionAdmin(ReadOnlyAdmin):
    list_display = ["case", "started_at", "ended_at", "started_by", "reason"]


@admin.register(SweeperHeartbeat)
class SweeperHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["worker_id", "started_at", "last_beat_at", "batches", "actions", "last_error"]
