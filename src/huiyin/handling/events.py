"""Event kinds of handling in depth: assignment, investigation, approval, documents, joint handling."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class HandlingEvent(models.TextChoices):
    """What handling records on a case's timeline."""

    HANDLER_ASSIGNED = "handler_assigned", _("指定承办人")
    INVESTIGATION_RECORDED = "investigation_recorded", _("调查记录")
    INVESTIGATION_CONFIRMED = "investigation_confirmed", _("被调查人签字确认")
    APPROVAL_SIGNED = "approval_signed", _("审批签署")
    PLAN_CHECKED = "plan_checked", _("审核整改方案")
    COMPLAINANT_INFORMED = "complainant_informed", _("告知反映人")
    DOCUMENT_ISSUED = "document_issued", _("出具文书")
    DOCUMENT_SENT = "document_sent", _("报送文书")
    JOINT_CONVENED = "joint_convened", _("发起联合办理")
    JOINT_PART = "joint_part", _("部门协办意见")
    JOINT_CONCLUDED = "joint_concluded", _("联合办理结论")
    AUTHORITY_REQUEST = "authority_request", _("上级交办查处")
