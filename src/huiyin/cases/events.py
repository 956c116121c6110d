"""The case core's own event kinds (every app declares its own; ``cases.bus`` indexes them)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    """Registration, lifecycle moves and the record's own changes."""

    REGISTERED = "registered", _("登记")
    STATE_CHANGED = "state_changed", _("状态变更")
    CONTACT_ADDED = "contact_added", _("新增来电/来访记录")
    UPDATED = "updated", _("修改")
    ATTACHMENT_ADDED = "attachment_added", _("上传附件")
    PII_VIEWED = "pii_viewed", _("查看完整个人信息")
    RECEIPT_ISSUED = "receipt_issued", _("出具受理凭证")
    NOTE = "note", _("备注")
    URGENCY_RAISED = "urgency_raised", _("紧急程度自动提高")
