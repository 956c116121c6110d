"""What the office tells whom (F62): each purpose, its audience, the channels it may go
by, the variables its template may use, and the default texts (Chinese; the English
variants come from the translation catalogue, so a new default is translated like any
other string).

An organisation's administrator edits the texts and switches each purpose and channel on
or off (``models.MessageTemplate``, ``models.ChannelSwitch``); until they do, the
defaults below apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Audience(models.TextChoices):
    COMPLAINANT = "complainant", _("反映人")
    STAFF = "staff", _("工作人员")


class Medium(models.TextChoices):
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")


class Purpose(models.TextChoices):
    RECEIPT = "receipt", _("受理回执")
    REPLY = "reply", _("答复及评价提醒")
    REVIEW_DECISION = "review_decision", _("复查（复核）意见")
    RATING_LINK = "rating_link", _("评价邀请")
    EXTENSION = "extension", _("延期告知")
    DECISION = "decision", _("不予受理、退回、转送告知")
    DISPATCH = "dispatch", _("新派遣案件")
    APPROVAL = "approval", _("待审批")
    WARNING = "warning", _("时限预警")
    OVERDUE = "overdue", _("逾期")
    ESCALATED = "escalated", _("逾期升级")
    REPEAT_CONTACT = "repeat_contact", _("重复来电")
    FIRST_RECEIVER = "first_receiver", _("告知首问责任人")
    RESULT_REPORT = "result_report", _("处理结果报告")
    # Visits booked with the reception (huiyin.reception): to the visitor, no case yet.
    VISIT_BOOKED = "visit_booked", _("来访预约确认")
    VISIT_REMINDER = "visit_reminder", _("来访提醒")
    VISIT_MOVED = "visit_moved", _("来访预约改期")
    VISIT_CANCELLED = "visit_cancelled", _("来访预约取消")
    # The front office (huiyin.frontoffice): the host is told their visitor has arrived.
    VISITOR_ARRIVED = "visitor_arrived", _("访客到达通知")


LANGUAGES = (("zh-hans", _("中文")), ("en", _("英文")))
COMMON = ("org", "number", "title", "hotline")


@dataclass(frozen=True)
class Spec:
    audience: str
    variables: tuple[str, ...]
    sms: Promise | None  # the default SMS text (None: this purpose has no SMS)
    subject: Promise
    body: Promise
    on_by_default: bool = True

    @property
    def media(self) -> tuple[str, ...]:
        return (Medium.SMS, Medium.EMAIL) if self.sms is not None else (Medium.EMAIL,)


_STAFF_VARS = (*COMMON, "name", "case_url")
# A booked visit has no case number or title yet: the booking's own code, when and where.
_VISIT_VARS = ("org", "hotline", "name", "code", "when", "place")
_DEADLINE_VARS = (*_STAFF_VARS, "stage", "due", "role")
# A visitor at the front desk: the host's name, the visitor masked (张**), their unit, when, the badge.
_ARRIVAL_VARS = ("org", "name", "visitor", "affiliation", "when", "badge")

SPECS: dict[str, Spec] = {
    Purpose.RECEIPT: Spec(
        Audience.COMPLAINANT,
        (*COMMON, "query_code", "due", "link"),
        _(
            "【{{ org }}】您反映的问题已登记，编号{{ number }}，查询码{{ query_code }}，"
            "承诺{{ due }}前答复。查询进度：{{ link }}"
        ),
        _("【{{ org }}】诉求受理回执：{{ number }}"),
        _(
            "您好：\n\n您反映的问题“{{ title }}”已登记。\n\n编号：{{ number }}\n查询码：{{ query_code }}"
            "（请妥善保存，凭编号和查询码查询办理进度）\n承诺答复时间：{{ due }}\n\n查询进度：{{ link }}\n"
            "回复本邮件可补充材料，请保留邮件主题中的编号。\n\n{{ org }}　咨询电话 {{ hotline }}"
        ),
    ),
    Purpose.REPLY: Spec(
        Audience.COMPLAINANT,
        (*COMMON, "reply", "link"),
        _("【{{ org }}】您反映的问题（编号{{ number }}）已答复，查看答复并评价：{{ link }}"),
        _("【{{ org }}】您反映的问题已答复：{{ number }}"),
        _(
            "您好：\n\n您反映的问题“{{ title }}”（编号{{ number }}）已答复：\n\n{{ reply }}\n\n"
            "请查看答复并对办理结果作出评价：{{ link }}\n\n{{ org }}　咨询电话 {{ hotline }}"
        ),
    ),
    Purpose.REVIEW_DECISION: Spec(
        Audience.COMPLAINANT,
        (*COMMON, "review", "decision", "opinion", "link"),
        _("【{{ org }}】您的{{ review }}请求（编号{{ number }}）已有意见：{{ decision }}。详情：{{ link }}"),
        _("【{{ org }}】{{ review }}意见：{{ number }}"),
        _(
            "您好：\n\n您就“{{ title }}”（编号{{ number }}）提出的{{ review }}请求已有意见：{{ decision }}。\n\n"
            "{{ opinion }}\n\n详情：{{ link }}\n\n{{ org }}　咨询电话 {{ hotline }}"
        ),
    ),
    Purpose.RATING_LINK: Spec(
        Audience.COMPLAINANT,
        (*COMMON, "rating_link", "due"),
        _("【{{ org }}】您反映的问题（编号{{ number }}）已答复，请评价办理结果：{{ rating_link }}（{{ due }}前有效）"),
        _("【{{ org }}】请评价办理结果：{{ number }}"),
        _(
            "您好：\n\n您反映的问题“{{ title }}”（编号{{ number }}）已答复。请通过以下链接评价办理结果"
            "（{{ due }}前有效，只能使用一次）：\n\n{{ rating_link }}\n\n{{ org }}　咨询电话 {{ hotline }}"
        ),
    ),
    Purpose.EXTENSION: Spec(
        Audience.COMPLAINANT,
        (*COMMON, "reason", "due", "link"),
        _("【{{ org }}】您反映的问题（编号{{ number }}）因{{ reason }}，办理期限延长至{{ due }}。查询进度：{{ link }}"),
        _("【{{ org }}】办理期限延长：{{ number }}"),
        _(
            "您好：\n\n您反映的问题“{{ title }}”（编号{{ number }}）因{{ reason }}，办理期限延长至{{ due }}。\n\n"
            "查询进度：{{ link }}\n\n{{ org }}　咨询电话 {{ hotline }}"
        ),
    ),
    # A matter the office does not handle itself (不予受理 / 不再受理 / 退回 / 转送): the
    # complainant is told why and where to turn (seeds/002 行 17「应告知来访人该信访事项的责任归属单位」
    # 「应告知其不再受理的原因」; seeds/000 行 16「申明理由后退还本人」、行 25、行 231「转送、交办,并告知来访群众」).
    Purpose.DECISION: Spec(
        Audience.COMPLAINANT,
        (*COMMON, "decision", "reason", "refer_to", "link"),
        _("【{{ org }}】您反映的问题（编号{{ number }}）{{ decision }}。详情：{{ link }}"),
        _("【{{ org }}】您反映的问题{{ number }}的办理告知"),
        _(
            "您好：\n\n您反映的问题“{{ title }}”（编号{{ number }}）{{ decision }}。\n\n"
            "详情：{{ link }}\n\n{{ org }}　咨询电话 {{ hotline }}"
        ),
    ),
    Purpose.DISPATCH: Spec(
        Audience.STAFF,
        _STAFF_VARS,
        _("【{{ org }}】新派遣案件 {{ number }}：{{ title }}，请及时签收办理。"),
        _("新派遣案件 {{ number }}：{{ title }}"),
        _("{{ name }}：\n\n新派遣案件 {{ number }}：{{ title }}\n请及时签收办理：{{ case_url }}\n\n{{ org }}"),
        on_by_default=False,
    ),
    Purpose.APPROVAL: Spec(
        Audience.STAFF,
        _STAFF_VARS,
        _("【{{ org }}】待审批：{{ number }} {{ title }}"),
        _("待审批：{{ number }} {{ title }}"),
        _("{{ name }}：\n\n案件 {{ number }}（{{ title }}）已提交审批：{{ case_url }}\n\n{{ org }}"),
        on_by_default=False,
    ),
    Purpose.WARNING: Spec(
        Audience.STAFF,
        _DEADLINE_VARS,
        _("【时限预警】{{ number }} {{ title }}：{{ stage }}将于 {{ due }} 到期"),
        _("【时限预警】{{ number }} {{ title }}"),
        _("{{ name }}：\n\n{{ number }} {{ title }}：{{ stage }}将于 {{ due }} 到期。\n{{ case_url }}\n\n{{ org }}"),
        on_by_default=False,
    ),
    Purpose.OVERDUE: Spec(
        Audience.STAFF,
        _DEADLINE_VARS,
        _("【已逾期】{{ number }} {{ title }}：{{ stage }}已于 {{ due }} 到期"),
        _("【已逾期】{{ number }} {{ title }}"),
        _("{{ name }}：\n\n{{ number }} {{ title }}：{{ stage }}已于 {{ due }} 到期。\n{{ case_url }}\n\n{{ org }}"),
        on_by_default=False,
    ),
    Purpose.ESCALATED: Spec(
        Audience.STAFF,
        _DEADLINE_VARS,
        _("【逾期升级·{{ role }}】{{ number }} {{ title }}：{{ stage }}已于 {{ due }} 到期，请督促办理"),
        _("【逾期升级·{{ role }}】{{ number }} {{ title }}"),
        _(
            "{{ name }}：\n\n{{ number }} {{ title }}：{{ stage }}已于 {{ due }} 到期，请督促办理。\n"
            "{{ case_url }}\n\n{{ org }}"
        ),
        on_by_default=False,
    ),
    # A repeat call (重复来电) on a case: the handler is told (96310: 同时通知承办人与投诉人进行沟通),
    # besides the desk entry the case core writes.
    Purpose.REPEAT_CONTACT: Spec(
        Audience.STAFF,
        (*_STAFF_VARS, "text"),
        _("【{{ org }}】重复来电 {{ number }} {{ title }}：{{ text }}（请与反映人沟通）"),
        _("【重复来电】{{ number }} {{ title }}"),
        _("{{ name }}：\n\n重复来电 {{ number }} {{ title }}：{{ text }}\n请与反映人沟通：{{ case_url }}\n\n{{ org }}"),
        on_by_default=False,
    ),
    # 首问负责: the staff member who first received the matter is told it was answered or
    # closed (seeds/000 行 77「处理完毕后……并告知第一接待人」), besides the desk entry.
    Purpose.FIRST_RECEIVER: Spec(
        Audience.STAFF,
        (*_STAFF_VARS, "step"),
        _("【{{ org }}】您首问接待的 {{ number }} {{ title }}：{{ step }}，请跟踪至反映人满意。"),
        _("【首问告知】{{ number }} {{ title }}：{{ step }}"),
        _(
            "{{ name }}：\n\n您首问接待的 {{ number }} {{ title }}：{{ step }}。\n"
            "请跟踪至反映人满意：{{ case_url }}\n\n{{ org }}"
        ),
        on_by_default=False,
    ),
    # The result reported to the office's head (property: seeds/000 行 119「在处理完毕后应将结果回复
    # 住户和管理处主任」), besides the desk entry.
    Purpose.RESULT_REPORT: Spec(
        Audience.STAFF,
        (*_STAFF_VARS, "reply"),
        _("【{{ org }}】处理结果：{{ number }} {{ title }} 已答复反映人：{{ reply }}"),
        _("【处理结果】{{ number }} {{ title }}"),
        _("{{ name }}：\n\n{{ number }} {{ title }} 已答复反映人：\n\n{{ reply }}\n\n{{ case_url }}\n\n{{ org }}"),
        on_by_default=False,
    ),
    Purpose.VISIT_BOOKED: Spec(
        Audience.COMPLAINANT,
        (*_VISIT_VARS, "manage_code"),
        _(
            "【{{ org }}】您已预约 {{ when }} 到{{ place }}来访，预约号{{ code }}，管理码{{ manage_code }}。"
            "请携带身份证件按时到达；如需改期或取消，可凭预约号和管理码在网上办理，或致电 {{ hotline }}。"
        ),
        _("【{{ org }}】来访预约确认：{{ when }}"),
        _(
            "{{ name }}，您好：\n\n您已预约 {{ when }} 到{{ place }}来访，预约号 {{ code }}。\n"
            "请携带身份证件按时到达，到达后向接待人员出示预约号。\n"
            "如需改期或取消，可凭预约号和管理码 {{ manage_code }} 在网上办理（来访时间开始前），"
            "或致电 {{ hotline }}。\n\n{{ org }}"
        ),
    ),
    Purpose.VISIT_REMINDER: Spec(
        Audience.COMPLAINANT,
        _VISIT_VARS,
        _("【{{ org }}】提醒：您预约了 {{ when }} 到{{ place }}来访（预约号{{ code }}），请携带身份证件按时到达。"),
        _("【{{ org }}】来访提醒：{{ when }}"),
        _(
            "{{ name }}，您好：\n\n提醒您：您预约了 {{ when }} 到{{ place }}来访，预约号 {{ code }}。\n"
            "请携带身份证件按时到达；不能前来的，请致电 {{ hotline }} 改期或取消。\n\n{{ org }}"
        ),
    ),
    Purpose.VISIT_MOVED: Spec(
        Audience.COMPLAINANT,
        _VISIT_VARS,
        _("【{{ org }}】您的来访预约（预约号{{ code }}）已改为 {{ when }}，地点：{{ place }}。"),
        _("【{{ org }}】来访预约改期：{{ when }}"),
        _(
            "{{ name }}，您好：\n\n您的来访预约（预约号 {{ code }}）已改为 {{ when }}，地点：{{ place }}。\n"
            "如有疑问，请致电 {{ hotline }}。\n\n{{ org }}"
        ),
    ),
    Purpose.VISIT_CANCELLED: Spec(
        Audience.COMPLAINANT,
        _VISIT_VARS,
        _("【{{ org }}】您 {{ when }} 的来访预约（预约号{{ code }}）已取消。如需再次预约，请致电 {{ hotline }}。"),
        _("【{{ org }}】来访预约已取消：{{ when }}"),
        _(
            "{{ name }}，您好：\n\n您 {{ when }} 的来访预约（预约号 {{ code }}）已取消。\n"
            "如需再次预约，请致电 {{ hotline }} 或在网上平台预约。\n\n{{ org }}"
        ),
    ),
    Purpose.VISITOR_ARRIVED: Spec(
        Audience.STAFF,
        _ARRIVAL_VARS,
        _("【{{ org }}】您的访客{{ visitor }}（{{ affiliation }}）已于{{ when }}到达前台，访客证{{ badge }}。"),
        _("访客已到达：{{ visitor }}（{{ affiliation }}）"),
        _(
            "{{ name }}：\n\n您的访客{{ visitor }}（{{ affiliation }}）已于{{ when }}到达前台，"
            "访客证{{ badge }}。请前往接待或联系前台。\n\n{{ org }}"
        ),
    ),
}

# Example values for the template page's preview.
SAMPLE = {
    "org": "示范市12345热线中心",
    "number": "20260105-00012",
    "title": "小区门口道路破损",
    "hotline": "12345",
    "query_code": "7KQ2M9XD",
    "due": "2026-01-20",
    "link": "http://127.0.0.1:8000/status/",
    "reply": "经现场核查，道路已于1月12日修复完毕。",
    "review": "复查",
    "decision": "维持",
    "opinion": "原处理意见事实清楚，予以维持。",
    "name": "王承办",
    "case_url": "http://127.0.0.1:8000/cases/12/",
    "stage": "办理时限",
    "role": "部门负责人",
    "rating_link": "http://127.0.0.1:8000/rate/3kZ9qWm2xYt7/",
    "reason": "需调取病历并组织专家讨论",
    "text": "又来电：井盖仍未盖上。",
    "step": "已答复",
    "code": "K7M2Q9XD",
    "when": "2026-01-08（星期四）09:30",
    "place": "信访接待室（市民中心一楼）",
    "manage_code": "Q7K2MX",
    "visitor": "李**",
    "affiliation": "示范机电公司",
    "badge": "A12",
}
