"""Event kinds of the deadline engine: the sweeper's steps, suspension, extensions, rectification."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeadlineEvent(models.TextChoices):
    """What the deadline engine records on a case's timeline."""

    DEADLINE_WARNING = "deadline_warning", _("时限预警")
    DEADLINE_OVERDUE = "deadline_overdue", _("逾期")
    ESCALATED = "escalated", _("升级上报")
    SUSPENDED = "suspended", _("挂起")
    RESUMED = "resumed", _("恢复办理")
    EXTENSION_REQUESTED = "extension_requested", _("申请延期")
    EXTENSION_DECIDED = "extension_decided", _("延期审批")
    UNIT_NOTIFIED = "unit_notified", _("通知责任单位整改")
    PLAN_RECEIVED = "plan_received", _("收到整改方案")


class EscalationReason(models.TextChoices):
    """Why a case was escalated (the ``reason`` of an ``escalated`` event)."""

    OVERDUE = "overdue", _("逾期未办")
    MAJOR = "major", _("重大事项")
