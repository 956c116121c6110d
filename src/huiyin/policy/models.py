"""Policy data (configuration only): which preset each organisation runs (versioned)
and the business calendar's overrides. The deadline clocks that live by them are the
``deadlines`` app's."""

from __future__ import annotations

import json
import threading

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huiyin.orgs.models import Organization

from .presets import Preset, load_preset_text

_PRESET_CACHE_SIZE = 256
_presets: dict[tuple[int, str, str], Preset] = {}
_presets_lock = threading.Lock()


class PolicyVersion(models.Model):
    """One activation of a preset for an organisation; rows are never edited.

    The organisation's running policy is its newest active row. Every case stores the
    ``code`` ("petition_office:3") of the row it was registered under in
    ``Case.policy_version`` and keeps living by it, whatever is activated later.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="policy_versions")
    version = models.PositiveIntegerField(_("版本"))  # 1, 2, 3... per organisation
    preset_name = models.CharField(_("预设"), max_length=60)
    preset_version = models.PositiveIntegerField(_("预设文件版本"))  # the YAML's own `version`
    label = models.CharField(_("名称"), max_length=120)
    snapshot = models.JSONField()  # Preset.to_dict(): loads back to an equal Preset
    source = models.CharField(_("来源"), max_length=255, blank=True)  # file name, "ui", ...
    note = models.CharField(_("说明"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("政策版本")
        verbose_name_plural = _("政策版本")
        ordering = ["organization", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "version"], name="policy_version_unique"),
        ]
        indexes = [models.Index(fields=["organization", "active", "-version"], name="policy_current")]

    def __str__(self) -> str:
        return f"{self.label} ({self.code})"

    @property
    def code(self) -> str:
        return f"{self.preset_name}:{self.version}"

    def preset(self) -> Preset:
        return preset_of(self)


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("休息日")  # a holiday or closure: not a working day
    WORKDAY = "workday", _("工作日")  # an extra working day (调休上班)


class CalendarDay(models.Model):
    """An administrator's override of the national calendar: a holiday or working day
    for a year ``chinesecalendar`` does not know yet (organization null = every
    organisation), or an organisation's own closure / extra working day."""

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="calendar_days"
    )
    date = models.DateField(_("日期"))
    kind = models.CharField(_("类型"), max_length=8, choices=CalendarDayKind.choices)
    name = models.CharField(_("名称"), max_length=60)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)  # part of the calendar cache stamp

    class Meta:
        verbose_name = _("日历调整")
        verbose_name_plural = _("日历调整")
        ordering = ["date"]
        constraints = [
            # NULLs are distinct in unique indexes, so the global rows need their own.
            models.UniqueConstraint(
                fields=["date"],
                condition=Q(organization__isnull=True),
                name="calendar_day_global_unique",
            ),
            models.UniqueConstraint(
                fields=["organization", "date"],
                condition=Q(organization__isnull=False),
                name="calendar_day_org_unique",
            ),
        ]
        indexes = [models.Index(fields=["organization", "date"], name="calendar_day_org")]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


def preset_of(policy_version: PolicyVersion) -> Preset:
    """The Preset a PolicyVersion's snapshot describes. Rows are immutable, so the parsed
    preset is cached; the key includes the creation time, because a database may hand
    out a rolled-back row's id again."""
    key = (
        policy_version.pk,
        policy_version.preset_name,
        policy_version.created_at.isoformat() if policy_version.created_at else "",
    )
    hit = _presets.get(key) if policy_version.pk is not None else None
    if hit is not None:
        return hit
    text = json.dumps(policy_version.snapshot, ensure_ascii=False)
    # Read back without the upper bounds (``bounded=False``): a version stored before a bound
    # existed still opens, so it can be seen and withdrawn; activating checks them all again.
    preset = load_preset_text(text, f"policy version {policy_version.code}", bounded=False)
    if policy_version.pk is not None:
        with _presets_lock:
            if len(_presets) >= _PRESET_CACHE_SIZE:
                _presets.clear()
            _presets[key] = preset
    return preset
