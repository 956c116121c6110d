"""Display names of the values presets match on and name: deadline stages, channels,
natures, urgencies. Configuration vocabulary; the case app has the same values as its
model choices (a test keeps the two in step). ``preset_label``: the labels the presets
themselves give, in the active language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

# Stages the engine names in events and desks (presets.DEADLINE_STAGES).
STAGE_LABELS: dict[str, StrPromise] = {
    "dispatch": _("派遣"),
    "sign_for": _("签收"),
    "first_contact": _("首次联系"),
    "acceptance": _("受理告知"),
    "handover": _("交承办人"),
    "investigation": _("调查核实"),
    "rectification_plan": _("整改方案"),
    "reply": _("答复"),
    "callback": _("回访"),
    "overall": _("办结"),
    "review_request": _("请求复查复核"),
    "review_decision": _("复查复核意见"),
    "result_report": _("查处结果报告"),
    "callback_task": _("回访整改"),
    "callback_answer": _("回访预约答复"),
}

CHANNEL_LABELS: dict[str, StrPromise] = {
    "phone": _("电话"),
    "visit": _("来访"),
    "letter": _("来信"),
    "online": _("网上"),
    "email": _("电子邮件"),
    "mailbox": _("投诉信箱"),
    "fax": _("传真"),
    "forwarded": _("上级转办"),
    "media": _("媒体舆情"),
}
NATURE_LABELS: dict[str, StrPromise] = {
    "consultation": _("咨询"),
    "complaint": _("投诉"),
    "report": _("举报"),
    "help": _("求助"),
    "suggestion": _("建议"),
    "praise": _("表扬"),
}
# What a deadline counts from (presets.DeadlineRule.clock_from).
CLOCK_FROM_LABELS: dict[str, StrPromise] = {
    "received": _("收到诉求"),
    "accepted": _("受理"),
    "dispatched": _("派遣"),
    "replied": _("答复"),
    "notified": _("通知责任单位"),
}
URGENCY_LABELS: dict[str, StrPromise] = {
    "normal": _("一般"),
    "urgent": _("紧急"),
    "major": _("重大"),
}


def preset_label(text: str) -> str:
    """A short label a preset gives (a deadline, KPI, role, level, survey area, statistics
    return…) in the active language: a shipped preset's labels are in the catalogue
    (``preset_strings``, generated from ``presets/*.yaml``); a label an administrator typed
    that is not there is shown as typed. Only for showing: what is stored stays as written."""
    return gettext(text) if text else text
