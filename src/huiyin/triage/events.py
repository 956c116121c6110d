"""Triage's event kinds on a case's timeline: related cases linked and unlinked, a duplicate
merged in (the duplicate's own move is the lifecycle's ``merge``, a state change)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TriageEvent(models.TextChoices):
    CASE_LINKED = "case_linked", _("关联案件")
    CASE_UNLINKED = "case_unlinked", _("取消关联")
    MERGED_IN = "merged_in", _("并入重复件")
