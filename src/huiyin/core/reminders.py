"""The words of the desk's reminders, shown in the reader's language.

A reminder is stored as its wording's message id (the Simplified Chinese source string) and
the values put into it (``Notification.message``), and translated when it is shown: a
reminder written by the sweeper (in Chinese) reads in English for a person who switched
the workbench to English, and the other way round. Values that are themselves words of the
product (a stage, a role, "已办结") are stored as message ids too and translated with it;
case numbers, titles, dates and what people typed are shown as they are.

``Notification.text`` keeps the reminder in the organisation's language (``LANGUAGE_CODE``)
for whatever reads the row without translating it. A reminder stored before the message
was kept (text only) is read back against the wordings here (``parse``) and shown
translated where its text is one of them; else as it was written."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, gettext_noop, pgettext

_PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])")


@dataclass(frozen=True)
class ReminderText:
    """One reminder's words: a message id and its values (a value may be a ReminderText:
    a label translated with it)."""

    msgid: str
    values: Mapping[str, Any] = field(default_factory=dict)
    context: str = ""  # a pgettext context ("time unit")

    def render(self) -> str:
        """In the active language."""
        values = {k: (v.render() if isinstance(v, ReminderText) else v) for k, v in self.values.items()}
        words = pgettext(self.context, self.msgid) if self.context else gettext(self.msgid)
        return words % values if values else words

    def source(self) -> str:
        """In the organisation's language (what ``Notification.text`` keeps)."""
        with translation.override(settings.LANGUAGE_CODE):
            return self.render()

    def as_data(self) -> dict[str, Any]:
        data = {"msgid": self.msgid, "values": {k: _stored(v) for k, v in self.values.items()}}
        return data | ({"context": self.context} if self.context else {})

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ReminderText:
        values = data.get("values") or {}
        return cls(
            str(data["msgid"]),
            {k: (cls.from_data(v) if isinstance(v, Mapping) else v) for k, v in values.items()},
            str(data.get("context") or ""),
        )

    def __str__(self) -> str:
        return self.render()


def _stored(value: Any) -> Any:
    if isinstance(value, ReminderText):
        return value.as_data()
    return value if isinstance(value, int | float) else str(value)


def shown(message: Mapping[str, Any] | None, text: str) -> str:
    """A stored reminder in the active language: from its message, else read back from its
    text (an older row), else the text as it was written."""
    try:
        found = ReminderText.from_data(message) if message else parse(text)
        return found.render() if found is not None else text
    except (KeyError, TypeError, ValueError):  # a message that no longer fits its wording
        return text


def label(words: Any) -> ReminderText:
    """A word of the product used as a value (a lazy translation, a stage or role label):
    kept as its message id, translated when shown."""
    if isinstance(words, ReminderText):
        return words
    with translation.override(settings.LANGUAGE_CODE):
        return ReminderText(str(words))


@dataclass(frozen=True)
class Wording:
    """A reminder's wording; ``labels``: the values that are words of the product."""

    msgid: str
    labels: tuple[str, ...] = ()

    def __call__(self, **values: Any) -> ReminderText:
        return ReminderText(
            self.msgid, {k: (label(v) if k in self.labels and v != "" else v) for k, v in values.items()}
        )

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        parts, at = [], 0
        for m in _PLACEHOLDER.finditer(self.msgid):
            parts.append(re.escape(self.msgid[at : m.start()]))
            parts.append(f"(?P<{m.group(1)}>-?\\d+)" if m.group(2) == "d" else f"(?P<{m.group(1)}>.*?)")
            at = m.end()
        parts.append(re.escape(self.msgid[at:]))
        return re.compile("".join(parts), re.DOTALL)

    def parse(self, text: str) -> ReminderText | None:
        m = self.pattern.fullmatch(text)
        if m is None:
            return None
        values: dict[str, Any] = {}
        for name, value in m.groupdict().items():
            if f"%({name})d" in self.msgid:
                values[name] = int(value)
            else:
                values[name] = ReminderText(value) if name in self.labels and value else value
        return ReminderText(self.msgid, values)


# --- the wordings -------------------------------------------------------------------------------
# Deadlines (huiyin.deadlines): the sweeper's steps on a case's clocks, and extensions.
CLOCK_WARN = Wording(gettext_noop("【时限预警】%(number)s %(title)s：%(stage)s将于 %(due)s 到期"), ("stage",))
CLOCK_OVERDUE = Wording(gettext_noop("【已逾期】%(number)s %(title)s：%(stage)s已于 %(due)s 到期"), ("stage",))
CLOCK_ESCALATE = Wording(
    gettext_noop("【逾期升级·%(role)s】%(number)s %(title)s：%(stage)s已于 %(due)s 到期，请督促办理"), ("role", "stage")
)
MAJOR = Wording(gettext_noop("【重大事项】%(number)s %(title)s：请领导即时阅处"))
EXTENSION_REQUESTED = Wording(
    gettext_noop("【延期申请】%(number)s %(title)s：%(stage)s申请延期 %(amount)d %(unit)s"), ("stage", "unit")
)
EXTENSION_APPROVED = Wording(gettext_noop("【延期已批准】%(number)s：%(stage)s延至 %(due)s"), ("stage",))
EXTENSION_REFUSED = Wording(gettext_noop("【延期未批准】%(number)s：%(stage)s仍于 %(due)s 到期"), ("stage",))
# Cases and handling: a repeat call, a dispatch, an approval waiting.
REPEAT_CONTACT = Wording(gettext_noop("重复来电 %(number)s %(title)s：%(text)s（请与反映人沟通）"))
DISPATCHED = Wording(gettext_noop("新派遣案件 %(number)s：%(title)s"))
APPROVAL = Wording(gettext_noop("待审批：%(number)s %(title)s"))
# Supervision notices (督办).
SUPERVISION_ISSUED = Wording(
    gettext_noop("【督办】%(notice)s %(kind)s %(number)s %(title)s：请于 %(due)s 前反馈"), ("kind",)
)
SUPERVISION_ANSWERED = Wording(gettext_noop("【督办反馈】%(notice)s %(kind)s %(number)s %(title)s"), ("kind",))
SUPERVISION_WARN = Wording(
    gettext_noop("【督办预警】%(notice)s %(kind)s %(number)s %(title)s：将于 %(due)s 到期，请及时反馈"), ("kind",)
)
SUPERVISION_OVERDUE = Wording(
    gettext_noop("【督办逾期】%(notice)s %(kind)s %(number)s %(title)s：已于 %(due)s 到期未反馈"), ("kind",)
)
SUPERVISION_ESCALATE = Wording(
    gettext_noop("【督办逾期升级】%(notice)s %(kind)s %(number)s %(title)s：已于 %(due)s 到期未反馈，请领导督促"),
    ("kind",),
)
# Notifications: the first receiver, the result report, a visitor at the front desk.
FIRST_RECEIVER = Wording(
    gettext_noop("首问告知：您首问接待的 %(number)s %(title)s：%(said)s，请跟踪至反映人满意。"), ("said",)
)
RESULT_REPORT = Wording(gettext_noop("处理结果：%(number)s %(title)s 已答复反映人：%(reply)s"))
VISITOR_ARRIVED = Wording(
    gettext_noop("您的访客%(visitor)s（%(affiliation)s）已于%(when)s到达前台，访客证%(badge)s。"), ("affiliation",)
)
# Callbacks (huiyin.followup).
CALLBACK_QUESTION = Wording(gettext_noop("%(number)s 回访中未能当即答复的询问，已告知反映人于 %(due)s 前答复：%(q)s"))
CALLBACK_TASK = Wording(gettext_noop("%(number)s 回访发现问题，须于 %(due)s 前书面通知整改：%(problem)s"))
CALLBACK_UNREACHABLE = Wording(gettext_noop("%(number)s 回访联系不上（%(n)d 次），请核实联系方式。"))
CALLBACK_AGAIN = Wording(gettext_noop("%(number)s 重办后回访仍不满意，请关注。"))
CALLBACK_DECIDE = Wording(gettext_noop("%(number)s 回访不满意，请决定重办或维持原处理。"))
ONLINE_DISSATISFIED = Wording(gettext_noop("%(number)s 反映人网上评价不满意，可在期限内请求复查。"))
ONLINE_PENDING = Wording(
    gettext_noop("%(number)s 反映人网上评价：%(s)s；暂不能自动办结（%(why)s），请处理。"), ("s", "why")
)
# Surveys.
SURVEY_ROUND = Wording(
    gettext_noop(
        "【满意度调查】本单位政策规定定期开展满意度调查：已建立“%(title)s”（截止 %(end)s），"
        "请填写调查对象和发放份数后发放问卷。"
    )
)
SURVEY_ITEM = Wording(gettext_noop("%(title)s 整改事项，%(due)s 前完成：%(p)s"))

# The wordings whose stored texts are read back, most specific first (the longest fixed words).
WORDINGS: tuple[Wording, ...] = tuple(
    sorted(
        (w for w in globals().values() if isinstance(w, Wording)),
        key=lambda w: -len(_PLACEHOLDER.sub("", w.msgid)),
    )
)


def parse(text: str) -> ReminderText | None:
    """A reminder stored as text only, read back as its wording and values (None if it is
    none of them)."""
    for wording in WORDINGS:
        found = wording.parse(text)
        if found is not None:
            return found
    return None
