"""Event kinds of notifications and the e-mail channel."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationsEvent(models.TextChoices):
    CONTACT_PREFERENCE = "contact_preference", _("变更通知偏好")
    # 首问负责: the first receiver was told the matter was answered or closed (presets.FirstReceiverRules).
    FIRST_RECEIVER_TOLD = "first_receiver_told", _("已告知首问责任人")
    # The result reported to the roles the preset names (presets.ResultReportRules: 管理处主任).
    RESULT_REPORTED = "result_reported", _("处理结果已报告")
