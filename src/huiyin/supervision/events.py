"""Event kinds of supervision: numbered notices and their deadlines."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SupervisionEvent(models.TextChoices):
    """What supervision records on a case's timeline."""

    SUPERVISION_ISSUED = "supervision_issued", _("发出督办单")
    SUPERVISION_ANSWERED = "supervision_answered", _("督办反馈")
    SUPERVISION_CLOSED = "supervision_closed", _("督办销号")
    SUPERVISION_WARNING = "supervision_warning", _("督办预警")
    SUPERVISION_OVERDUE = "supervision_overdue", _("督办逾期")
    SUPERVISION_ESCALATED = "supervision_escalated", _("督办逾期升级")
