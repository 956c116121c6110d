"""Policy presets (F30): an organisation type's rules as validated YAML data.

Pure Python, no Django. The dataclasses below *are* the format: each field is a YAML
key (``clock_from`` is written ``from``), a field without a default is required, and
field metadata gives the allowed values and ranges. Every refusal is a PresetError
naming file, line and key path, e.g.
``city_hotline.yaml, line 23, deadlines[2].unit: unknown unit "minute" (expected ...)``.
Any record may carry ``label``/``source`` text; the shipped presets in presets/ use all keys.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import MISSING, Field, dataclass, field, fields, is_dataclass
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, NoReturn, get_args, get_origin, get_type_hints

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import YAMLError

CHANNELS = ("visit", "letter", "phone", "online", "email", "mailbox", "fax", "forwarded", "media")
NATURES = ("consultation", "complaint", "report", "help", "suggestion", "praise")
URGENCIES = ("normal", "urgent", "major")
DEADLINE_STAGES = (
    "dispatch",
    "sign_for",
    "first_contact",
    "acceptance",
    "handover",
    "investigation",
    "rectification_plan",
    "reply",
    "callback",
    "overall",
    "review_request",
    "review_decision",
)
UNITS = ("minutes", "hours", "working_hours", "days", "workdays")
# The longest time limit a rule may set, per unit: about a year (statutory limits are days
# to months). A typo such as 9,999,999,999 minutes would otherwise overflow every date
# computed from it, and each new case would fail to register or be accepted.
UNIT_MAX = {"minutes": 525_600, "hours": 8_760, "working_hours": 2_000, "days": 366, "workdays": 250}
UNIT_NAMES = {"minutes": "分钟", "hours": "小时", "working_hours": "工作小时", "days": "自然日", "workdays": "工作日"}
INT_CAP = 2**31 - 1  # any other whole number: it must fit the smallest integer column
ROLES = (
    "intake_clerk",
    "reception",
    "handler",
    "dept_head",
    "leader",
    "supervisor",
    "callback_officer",
    "analyst",
    "admin",
)
# A deadline for one of these stages needs the matching `stages` flag switched on.
STAGE_FLAG_OF = {
    "sign_for": "sign_for",
    "acceptance": "acceptance_decision",
    "rectification_plan": "rectification_plan",
    "callback": "callback",
    "review_request": "review",
    "review_decision": "review",
}
# Tie-break weights for rules with equally many `when` keys (see Preset.match_deadline).
SELECTOR_WEIGHT = {"category": 8, "urgency": 4, "nature": 2, "channel": 1}


def _f(default: Any = MISSING, **meta: Any) -> Any:
    """A field with metadata: choices, what (name in messages), min/max (whole numbers; max
    None: an amount bounded by its unit), low/high/open (ranges),
    one_ok (a single value may stand for a list), unique (attribute unique in a list),
    key (YAML key), fixed (values implied for a nested record)."""
    return field(default=default, metadata=meta)


NO_SUCH_DEADLINE = 'no "{stage}" deadline in this preset: the extension rule would match nothing'


class PresetError(ValueError):
    """A preset was refused; `str()` names file, line and key path.

    ``template`` and ``params`` are the problem before it was written out (``problem``):
    the administrator's screens show it in their language (``policy.preset_messages``)."""

    def __init__(
        self, filename: str, line: int, path: str, problem: str, template: str = "", params: dict | None = None
    ) -> None:
        self.filename, self.line, self.path, self.problem = filename, line, path, problem
        self.template, self.params = template or problem, dict(params or {})
        super().__init__(f"{filename}, line {line}, {path or '(top level)'}: {problem}")


class Got:
    """What a YAML value turned out to be, in a message (``string "x"``, ``a list``...)."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __str__(self) -> str:
        return _kind(self.value)


@dataclass(frozen=True, kw_only=True)
class Duration:
    amount: int = _f(min=1, max=None)  # bounded by its unit (UNIT_MAX)
    unit: str = _f(choices=UNITS)


@dataclass(frozen=True, kw_only=True)
class Delay(Duration):
    amount: int = _f(min=0, max=None)  # 0 = at the moment the deadline is overdue; bounded by its unit


@dataclass(frozen=True, kw_only=True)
class Selector:
    """A rule's `when`: each key lists accepted values; an empty tuple means any."""

    channel: tuple[str, ...] = _f((), choices=CHANNELS, one_ok=True)
    nature: tuple[str, ...] = _f((), choices=NATURES, one_ok=True)
    category: tuple[str, ...] = _f((), one_ok=True)
    urgency: tuple[str, ...] = _f((), choices=URGENCIES, one_ok=True)

    def keys(self) -> tuple[str, ...]:
        return tuple(k for k in SELECTOR_WEIGHT if getattr(self, k))

    def matches(self, given: dict[str, frozenset[str]]) -> bool:
        return all(given[k] & set(getattr(self, k)) for k in self.keys())

    def specificity(self) -> tuple[int, int, int]:
        keys = self.keys()
        return (len(keys), sum(SELECTOR_WEIGHT[k] for k in keys), -sum(len(getattr(self, k)) for k in keys))


@dataclass(frozen=True, kw_only=True)
class DeadlineRule:
    stage: str = _f(choices=DEADLINE_STAGES)
    amount: int = _f(min=1, max=None)  # bounded by its unit (UNIT_MAX)
    unit: str = _f(choices=UNITS)
    clock_from: str = _f(
        key="from", what="clock start", choices=("received", "accepted", "dispatched", "replied", "notified")
    )
    start: str = _f("immediate", choices=("immediate", "next_day"))
    on_holiday: str = _f("none", choices=("none", "roll_forward"))
    warn_at: float = _f(0.75, low=0.0, high=1.0, open=True)
    when: Selector = Selector()
    label: str = ""
    source: str = ""

    @property
    def duration(self) -> Duration:
        return Duration(amount=self.amount, unit=self.unit)


@dataclass(frozen=True, kw_only=True)
class Stages:
    """The lifecycle's switchable stages (``cases.workflow`` reads them from the
    organisation's ``stage_switches``). Dispatch and the answer are not switches: every
    case is dispatched or answered on the spot, and every case is answered."""

    acceptance_decision: bool
    sign_for: bool
    approval: bool
    rectification_plan: bool
    callback: bool
    confirmation_to_close: bool  # the complainant's confirmation is needed to close
    review: bool = False  # review and re-review (复查 / 复核) by higher bodies


# Keys older presets and stored policy versions carry that nothing reads any more: read
# back when true (what they always were), refused when false (a switch that would do nothing).
RETIRED_KEYS: dict[type, tuple[str, ...]] = {Stages: ("dispatch", "reply")}


@dataclass(frozen=True, kw_only=True)
class ReferralBody:
    code: str
    label: str


@dataclass(frozen=True, kw_only=True)
class Ground:
    code: str
    label: str
    refer_to: tuple[str, ...] = _f((), what="referral body", one_ok=True)
    # The decision must say in words why the matter is not the office's (the note), e.g. an
    # efficiency complaint returned to the forwarding body "说明不属于我局办理的理由".
    reasons_required: bool = False
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class ChannelAcceptor:
    """Who decides acceptance (受理) of the matters that came in by one channel: only the
    staff of the organisation's department with code ``department`` (e.g. the city bureau's
    office staff who keep the website accept online complaints, 网上投诉案件的受理); others
    are refused every acceptance decision on such a case (accept, not accept, return...).
    ``label`` names them in the refusal."""

    channel: str = _f(choices=CHANNELS)
    department: str = _f(what="department code")
    label: str = ""
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class AcceptanceGrounds:
    not_accepted: tuple[Ground, ...] = _f((), unique="code", what="ground")
    not_reaccepted: tuple[Ground, ...] = _f((), unique="code", what="ground")
    referral_bodies: tuple[ReferralBody, ...] = _f((), unique="code", what="referral body")
    # out-of-scope matters returned (with reasons) to the writer or forwarding body
    return_within: DeadlineRule | None = _f(None, fixed={"stage": "acceptance"})
    self_transfer_allowed: bool = True  # False: return to sender, never forward on one's own
    # 首诉负责 (the first to receive a complaint handles it): no refusal at all — neither
    # not accepted, not re-accepted nor returned; no grounds may be listed.
    refusal_forbidden: bool = False
    # The acceptance limit is met when the decision is told in writing (受理告知书, 不予受理
    # or 不再受理告知书 issued), not when it is taken: its clock runs until the letter is issued.
    written_notice: bool = False
    # Channels whose acceptance only a designated department decides (none listed: anyone
    # who may decide acceptance, for every channel).
    accepted_by: tuple[ChannelAcceptor, ...] = _f((), unique="channel", what="channel")
    source: str = ""


VISIT_FIELDS = ("name", "gender", "age", "affiliation", "purpose", "contact", "id_number")
COMPLAINANT_KIND_MAX = 20  # the case's ``complainant_kind`` column


@dataclass(frozen=True, kw_only=True)
class ComplainantKind:
    """Who the complainant is, where the organisation receives each kind in its own office
    (the hospital: 门诊患者及家属 by 门诊部, 住院患者及家属 by 医务科): ``code`` is stored on the
    case, ``label`` shown on the forms; ``department`` is the code of the receiving office in
    the organisation's tree and ``department_label`` how to name it. A case of this kind is
    dispatched with the receiving office as an assisting department (协办: it receives and
    coordinates, the department complained about investigates), unless it leads the case."""

    code: str
    label: str
    department: str = _f(what="department code")
    department_label: str = ""
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class PhonePhrase:
    """A standard sentence for one moment of a call (来电接听标准语言): ``situation`` names the
    moment (转接, 稍候, 留言…), ``text`` is what is said; ``{{ org }}`` stands for the
    organisation's name."""

    situation: str
    text: str


@dataclass(frozen=True, kw_only=True)
class IntakeRules:
    """What a registration must carry beyond the form's own checks (F01):

    * ``contact_required``: a caller who gives a name also gives a way to reach them (a
      phone number or an address), for the answer and the callback; an anonymous caller
      is recorded as having declined.
    * ``visit_fields``: what a visit's registration records (来访登记): name, gender, age,
      affiliation (单位), purpose (来访事由, the text), contact (phone or address), id_number.
    * ``representatives_max``: a group visit elects at most this many representatives
      (the complainant and the other representatives together).
    * ``repeat_same_day``: a second registration for the same phone number on the same
      day while its earlier case is open is refused unless the clerk confirms it is a new
      matter (a repeat complaint is entered once, each call recorded on the case).
    * ``repeat_while_open``: the same, on any day, for the same phone or ID number while an
      earlier matter of theirs is accepted or being handled (not accepted again as a new one).
    * ``complainant_kinds``: the kinds of complainant the staff intake must record (e.g. the
      hospital's outpatients and inpatients), each received by its own office
      (``ComplainantKind``); a case is dispatched only once its kind is known.
    * ``phone_greeting`` / ``phone_closing``: the office's standard first and last sentence
      of a call (接听首语 / 结束语), shown on the phone form; ``{{ org }}`` stands for the
      organisation's name.
    * ``phone_phrases``: the standard sentences between them, each for its moment of the call
      (transfer, hold, message, confirming details), shown with them on the phone form and
      the case page."""

    contact_required: bool = False
    visit_fields: tuple[str, ...] = _f((), choices=VISIT_FIELDS, what="visit field")
    representatives_max: int | None = _f(None, min=1, max=1000)
    repeat_same_day: bool = False
    repeat_while_open: bool = False
    complainant_kinds: tuple[ComplainantKind, ...] = _f((), unique="code", what="complainant kind")
    phone_greeting: str = ""
    phone_phrases: tuple[PhonePhrase, ...] = _f((), unique="situation", what="phone phrase")
    phone_closing: str = ""
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class ApprovalRules:
    """Who signs a handler's proposal, in order; the last signature moves the case on."""

    chain: tuple[str, ...] = _f(choices=("dept_head", "leader"), what="approver")
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class ReviewRules:
    """The bodies that review (复查) and re-review (复核) an answer; the limits are the
    ``review_request`` and ``review_decision`` deadlines."""

    review_body: str
    rereview_body: str
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class UrgencyKeywords:
    urgent: tuple[str, ...] = _f((), what="keyword")
    major: tuple[str, ...] = _f((), what="keyword")
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class EscalationStep:
    role: str = _f(choices=ROLES, what="role")
    after: Delay  # counted from the moment the deadline is overdue
    label: str = ""
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class Extension:
    """Postponing a deadline (延期). ``second_extension_forbidden``: one postponement per
    case, whatever the deadline ("不得出现同一件事情有两次推迟处理"). ``stages``: the
    deadlines that may be postponed (none listed: any). ``latest``: a deadline that is the
    last word ("最迟"): never postponed itself, and no postponement of another deadline
    may pass it."""

    approver: str = _f(choices=ROLES, what="role")
    max: Duration
    second_extension_forbidden: bool
    notify_complainant: bool = True
    stages: tuple[str, ...] = _f((), choices=DEADLINE_STAGES, what="deadline stage", one_ok=True)
    latest: str = _f("", choices=("", *DEADLINE_STAGES), what="deadline stage")
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class FirstReceiverRules:
    """首问负责 (first-contact responsibility, F05): the staff member who first received the
    matter (the case's ``first_contact``) follows it until the complainant is satisfied, and
    is told how it ended. ``told_on``: the moves after which they are told — ``reply`` (the
    complainant was answered, on the spot or after handling) and ``close`` (the matter was
    closed, with the complainant's confirmation where the preset wants it); none listed: not
    told. The telling is a desk entry, a message (``notifications``, where the organisation
    switched it on) and a line in the case's history."""

    told_on: tuple[str, ...] = _f((), choices=("reply", "close"), what="step", one_ok=True)
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class ResultReportRules:
    """Whom the result goes to besides the complainant (property: 「在处理完毕后应将结果回复住户和
    管理处主任」): ``to`` lists the roles whose active staff are told when the complainant is
    answered (on the spot or after handling); none listed: nobody. The telling is a desk
    entry, a message (``notifications``, where the organisation switched it on) and a line
    in the case's history."""

    to: tuple[str, ...] = _f((), choices=ROLES, what="role", one_ok=True)
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class CallbackShare:
    role: str = _f(choices=ROLES, what="role")
    min_share: float = _f(low=0.0, high=1.0)
    label: str = ""


@dataclass(frozen=True, kw_only=True)
class CallbackRules:
    """Who calls back and when it is mandatory; the windows are `deadlines` with stage callback."""

    shares: tuple[CallbackShare, ...] = ()
    mandatory_for: tuple[str, ...] = _f((), what="trigger", choices=("group_visit", "forwarded_for_investigation"))
    rectification_notice_within: Duration | None = None
    # 不满意: reopen the case into a new round, or ask the lead department's head to decide
    on_dissatisfied: str = _f("reopen", choices=("reopen", "dept_head_decides"), what="dissatisfaction rule")
    source: str = ""


CALLBACK_RECORD_ITEMS = ("signature", "charges_checked", "attitude")


@dataclass(frozen=True, kw_only=True)
class RequiredSteps:
    """Steps the organisation's regulation makes mandatory: the lifecycle refuses to move
    on without them, naming what is missing (``handling.steps``, ``followup``).

    * ``handler_named_at_dispatch`` — the materials go to a named handler: a dispatch names one;
    * ``signed_investigation`` — a proposal goes to approval only with at least one
      investigation record, each confirmed by the interviewee's signature;
    * ``proposal_names_unit`` — the proposal names the responsible unit;
    * ``proposal_by_handler`` — only the case's handler submits the proposal (helpers assist);
    * ``helpers_named_by`` — the role whose consent adds assisting handlers ("" anyone
      who assigns the handler);
    * ``notice_after_approval`` — the responsible unit is notified only after the
      approval chain signed the handling principle;
    * ``plan_told_before_reply`` — the complainant is answered only after the accepted
      rectification plan was told to them;
    * ``remedy_in_reply`` — the answer states the remedy (补救措施) taken or planned;
    * ``investigation_before_reply`` — at least one investigation record before the answer;
    * ``respondent_statement_before_reply`` — the written account of the person complained
      about (an investigation record of kind ``statement``) is on file before the answer;
    * ``on_site_callback`` — what an on-site callback must record before it closes the
      case: the resident's ``signature``, ``charges_checked``, the repairer's ``attitude``.
    """

    handler_named_at_dispatch: bool = False
    signed_investigation: bool = False
    proposal_names_unit: bool = False
    proposal_by_handler: bool = False
    helpers_named_by: str = _f("", choices=("", *ROLES), what="role")
    notice_after_approval: bool = False
    plan_told_before_reply: bool = False
    remedy_in_reply: bool = False
    investigation_before_reply: bool = False
    respondent_statement_before_reply: bool = False
    on_site_callback: tuple[str, ...] = _f((), choices=CALLBACK_RECORD_ITEMS, what="callback record item")
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class SurveyArea:
    code: str
    label: str


@dataclass(frozen=True, kw_only=True)
class SurveyRules:
    """The satisfaction survey (F42): the areas every questionnaire asks about, how often,
    and who the report goes to."""

    areas: tuple[SurveyArea, ...] = _f(unique="code", what="survey area")
    every: str = _f("year", choices=("month", "quarter", "half_year", "year"), what="period")
    report_to: str = ""
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class ActivityKind:
    """A planned engagement activity (F43): so many times per period, led by a role."""

    code: str
    label: str
    every: str = _f(choices=("month", "quarter", "half_year", "year"), what="period")
    times: int = _f(1, min=1, max=366)
    led_by: str = _f(choices=ROLES, what="role")
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class EvaluationRules:
    """How the evaluation score (F35) weighs the rates, and the smallest sample ranked."""

    on_time: float = _f(0.4, low=0.0, high=1.0)
    callback: float = _f(0.2, low=0.0, high=1.0)
    satisfaction: float = _f(0.3, low=0.0, high=1.0)
    not_reopened: float = _f(0.1, low=0.0, high=1.0)
    min_sample: int = _f(10, min=1, max=1_000_000)
    source: str = ""


# --- KPIs as data (F50) --------------------------------------------------------------------
#
# A KPI names measures from one catalogue; the reports app computes every measure here
# (tests/reports/test_kpis.py fails on one it does not). Each measure counts something on
# a day chosen by its *basis* — the period rule for a matter that crosses a period boundary:
#
# * ``received``: the day the matter was received; what happened to it later (accepted,
#   closed, called again) counts in the period it was received in, as it stands now;
# * ``event``: the day the counted step happened (the decision, the dispatch, the answer,
#   the closing, the callback, the record);
# * ``concluded``: a time limit (a deadline clock) counts on the day it was met or missed —
#   the day it stopped as done, or, still open past its due time, the day it fell due.
#
# ``of`` names the measure a measure is a subset of: a ratio's numerator must be a
# subset of its denominator (or the denominator a constant), so a rate never exceeds 100 %.

KPI_BASES = ("received", "event", "concluded")
KPI_BASIS_NAMES = {
    "received": "按受理日期：期间内收到的件，其后续办理结果（受理、办结、重复来电）按现状计入收到所在的期间",
    "event": "按发生日期：计入该环节（决定、派遣、答复、办结、回访、登记）发生的期间",
    "concluded": "按时限了结日期：时限在期间内完成的，或到期仍未完成、到期日在期间内的",
}
# Deadline stages whose clocks the roll-ups count (met, late, open past due).
TIMED_STAGES = (
    "acceptance",
    "dispatch",
    "sign_for",
    "handover",
    "reply",
    "overall",
    "rectification_plan",
    "callback",
)


@dataclass(frozen=True)
class Measure:
    """One measure a KPI may name: counted on ``basis`` days; ``of`` the measure it is a
    subset of; ``kind`` count or seconds (an amount summed over a count, ``of``);
    ``case_level``: quantiles are taken over the case-level facts."""

    code: str
    basis: str
    label: str
    of: str = ""
    kind: str = "count"
    case_level: bool = False
    timed: bool = False  # counts deadline clocks of the KPI's ``on_time.stage``


def _wholes(measure: Measure) -> list[str]:
    """The measures ``measure`` is a part of: its ``of``, that one's ``of``, … (a rate may
    divide by any of them: called back ⊂ reachable ⊂ answered)."""
    found: list[str] = []
    while measure.of and measure.of not in found:
        found.append(measure.of)
        measure = MEASURES[measure.of]
    return found


MEASURES: dict[str, Measure] = {
    m.code: m
    for m in (
        Measure("received", "received", "期间内收到的件数"),
        Measure("received_accepted", "received", "其中已受理的件数", of="received"),
        Measure("received_closed", "received", "其中已办结的件数", of="received_accepted"),
        Measure("repeat", "received", "其中有重复来电来访（同一件多次联系）的件数", of="received"),
        Measure("complaints", "received", "其中性质为投诉的件数", of="received"),
        Measure(
            "valid_complaints",
            "received",
            "其中的有效投诉件数（已受理、未经核实为不属实、不予支持或仅解释说明的投诉）",
            of="complaints",
        ),
        Measure("decided", "event", "作出受理决定的件数（受理、不予受理、不再受理、退回、转送、直接派遣、当场答复）"),
        Measure("accepted", "event", "其中受理（含直接派遣、当场答复）的件数", of="decided"),
        Measure("dispatched", "event", "派遣（交办）给主办部门的次数"),
        Measure("sent_back", "event", "其中被退单的次数", of="dispatched"),
        Measure("answered", "event", "答复（含当场答复）的件次，每一办理轮次一次"),
        Measure(
            "answered_reachable",
            "event",
            "其中可以回访的件次（未记为无法回访：匿名或未留联系电话）",
            of="answered",
        ),
        Measure("called_back", "event", "其中已回访（接通并记录）的件次", of="answered_reachable"),
        Measure("reopened", "event", "其中其后被重办的件次", of="answered"),
        Measure("callbacks_planned", "event", "安排且未取消的回访数"),
        Measure("callbacks_completed", "event", "其中已回访或确认联系不上的回访数", of="callbacks_planned"),
        Measure("callbacks_no_contact", "event", "记为无法回访（匿名或未留联系电话）的回访数，不计入安排的回访数"),
        Measure("mandatory_callbacks", "event", "必须回访（群体来访、上级交办查处）且未取消的回访数"),
        Measure(
            "mandatory_callbacks_completed",
            "event",
            "其中已回访或确认联系不上的回访数",
            of="mandatory_callbacks",
        ),
        Measure("callbacks_rated", "event", "完成并有满意度评价的回访数"),
        Measure("callbacks_satisfied", "event", "其中评价为满意或基本满意的回访数", of="callbacks_rated"),
        Measure("closed", "event", "办结的件数（现为已办结或已归档，按最后一次办结日期）"),
        Measure(
            "handling_seconds",
            "event",
            "办理时长：收到至办结，扣除挂起（等待补充材料）的时间",
            of="closed",
            kind="seconds",
            case_level=True,
        ),
        Measure("escalations", "event", "登记的越级投诉（每件每一越级级别一次）"),
        Measure("callback_tasks", "event", "回访中发现问题、通知整改的件数"),
        Measure("callback_tasks_done", "event", "其中已整改的件数", of="callback_tasks"),
        Measure("timed", "concluded", "有时限的件次（按时完成的、超时完成的，以及到期仍未完成的）", timed=True),
        Measure("on_time", "concluded", "其中在时限（含批准的延期，扣除挂起时间）内完成的件次", of="timed", timed=True),
    )
}
KPI_FORMULAS = ("ratio", "count", "mean", "quantile")
KPI_UNITS = {"ratio": ("percent",), "count": ("count",), "mean": ("hours", "days"), "quantile": ("hours", "days")}


@dataclass(frozen=True, kw_only=True)
class KpiTerm:
    """A numerator or denominator: a measure from the catalogue, or a constant (a figure
    the organisation states, e.g. the households it serves), with what it counts in words."""

    measure: str = _f("", choices=tuple(MEASURES), what="measure")
    constant: int = _f(0, min=0, max=1_000_000_000)
    label: str = ""


@dataclass(frozen=True, kw_only=True)
class OnTime:
    """What counts as on time: the clock of ``stage`` stopped as done at or before its due
    time (the due time moves with approved extensions and with suspended time); a clock
    still open past its due time counts as late (``open_overdue: late``) or not at all."""

    stage: str = _f(choices=TIMED_STAGES, what="stage")
    open_overdue: str = _f("late", choices=("late", "ignored"), what="open_overdue rule")


@dataclass(frozen=True, kw_only=True)
class Target:
    op: str = _f(choices=("at_least", "at_most", "above", "below"), what="target op")
    value: float = _f(low=0.0, high=1e9)


@dataclass(frozen=True, kw_only=True)
class Kpi:
    """A key performance indicator the reports compute (F50): formula over measures, the
    on-time rule where the measures are timed, and the period rule (``period``: the basis
    its measures are counted on, see KPI_BASES)."""

    code: str
    label: str
    formula: str = _f(choices=KPI_FORMULAS, what="KPI formula")
    numerator: KpiTerm
    denominator: KpiTerm | None = None
    q: float = _f(0.0, low=0.0, high=1.0)  # the quantile, for formula quantile (0.9 = p90)
    on_time: OnTime | None = None
    period: str = _f(choices=KPI_BASES, what="period rule")
    unit: str = _f(choices=("percent", "count", "hours", "days"), what="KPI unit")
    target: Target | None = None
    note: str = ""
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class ReturnSection:
    """One table of the statistics return: the KPIs (columns) by one dimension (rows)."""

    by: str = _f(choices=("channel", "nature", "category", "place", "department"), what="dimension")
    label: str


@dataclass(frozen=True, kw_only=True)
class StatisticsReturn:
    """The statistics a superior body asks for (报送上级的统计报表), in its layout: a title,
    who it goes to, how often, the tables (one dimension each) and their columns (KPI codes)."""

    title: str
    report_to: str
    every: str = _f("month", choices=("month", "quarter", "half_year", "year"), what="period")
    sections: tuple[ReturnSection, ...] = _f(unique="by", what="section")
    columns: tuple[str, ...] = _f(what="KPI")
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class DeductionLevel:
    code: str
    label: str
    points: int = _f(min=1, max=1000)


@dataclass(frozen=True, kw_only=True)
class Deduction:
    code: str
    label: str
    applies_to: tuple[str, ...] = _f(choices=ROLES, what="role")
    levels: tuple[DeductionLevel, ...] = _f(unique="code", what="level")
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class CalendarDay:
    date: dt.date
    name: str


@dataclass(frozen=True, kw_only=True)
class Calendar:
    """Closures (holidays) and extra working days an organisation adds to the national calendar."""

    holidays: tuple[CalendarDay, ...] = ()
    workdays: tuple[CalendarDay, ...] = ()
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class DailyReview:
    lookback_days: int = _f(min=1, max=366)
    repeats_first: bool
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class Retention:
    """How long a finished case keeps its complainant's personal data (F81): counted from
    the day it was closed (or not accepted, returned, transferred), after which
    ``huiyin retention apply`` erases the parties' name, phone, ID number, address and
    work unit and, with ``attachments: delete``, the attachments' files. The ledger
    rows, categories, dates, states and the event log stay, so statistics do not change."""

    keep_for: int = _f(min=1, what="retention period")
    unit: str = _f("years", choices=("days", "months", "years"), what="retention unit")
    attachments: str = _f("delete", choices=("delete", "keep"), what="attachment rule")
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class Portal:
    """The public portal (网上信访 / 网上投诉): whether a matter may be submitted there without a
    name or a phone number (匿名). Without this section the portal asks for one of them."""

    anonymous: bool = False
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class Reception:
    """Receiving visitors in person (来访接待, F61: ``huiyin.reception``): what the office must
    offer, and how its bookings run.

    * ``open_days_per_week``: the reception room is open on at least this many working days
      of every week, at published hours (a week with fewer working days needs each of them);
      the schedule page warns about a week that falls short.
    * ``book_ahead_days``: how many days ahead a visit may be booked.
    * ``leader_day_notice_days``: a leader reception day (领导接待日) is published at least this
      many days before it is held.
    * ``remind_hours_before``: the visitor's reminder goes out this many hours before the visit
      (0: no reminder; none either for a visit booked later than that).
    * ``no_show_after_minutes``: a booked visit not checked in this long after its start is
      recorded as not come (未到访).

    A group visit's representatives are capped by the intake rule ``representatives_max``."""

    open_days_per_week: int = _f(5, min=1, max=7)
    book_ahead_days: int = _f(14, min=1, max=366)
    leader_day_notice_days: int = _f(0, min=0, max=366)
    remind_hours_before: int = _f(24, min=0, max=720)
    no_show_after_minutes: int = _f(30, min=1, max=1440)
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class FrontOffice:
    """The front office's visitor log (前台访客登记, F70): whether a visitor's identity
    document is checked and recorded at check-in (an ID number is validated by its check
    digit), and the questions of the feedback form handed out when the visit ends (none
    listed: Huiyin's fixed set, ``frontoffice.feedback.DEFAULT_QUESTIONS``)."""

    id_check: bool = True
    feedback_questions: tuple[str, ...] = _f((), what="question")
    source: str = ""


# Who signs a guest-reception request: the hosting department's head, the head of the
# administrative office (行政部门, the department the organisation names on the front office's
# settings page), a leader.
GUEST_APPROVERS = ("dept_head", "office_head", "leader")


@dataclass(frozen=True, kw_only=True)
class GuestReception:
    """Company guest reception (公司接待, F71): who approves a request, in order (see
    ``GUEST_APPROVERS``), who approves spending beyond the approved budget before the money
    is spent (超出预算需提前报批), and whether an expense needs its receipt (合法票据) to be
    recorded."""

    chain: tuple[str, ...] = _f(choices=GUEST_APPROVERS, what="approver")
    overrun_approver: str = _f("leader", choices=GUEST_APPROVERS, what="approver")
    receipt_required: bool = True
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class Preset:
    name: str
    label: str
    version: int = _f(min=1, max=1_000_000)
    description: str
    stages: Stages
    deadlines: tuple[DeadlineRule, ...]
    acceptance_grounds: AcceptanceGrounds = AcceptanceGrounds()
    intake: IntakeRules = IntakeRules()
    approval: ApprovalRules | None = None
    review: ReviewRules | None = None
    urgency_keywords: UrgencyKeywords = UrgencyKeywords()
    escalation: tuple[EscalationStep, ...] = ()
    extension: Extension | None = None
    required_steps: RequiredSteps = RequiredSteps()
    first_receiver: FirstReceiverRules = FirstReceiverRules()
    result_report: ResultReportRules = ResultReportRules()
    callback: CallbackRules | None = None
    kpis: tuple[Kpi, ...] = _f((), unique="code", what="KPI")
    statistics_return: StatisticsReturn | None = None
    deductions: tuple[Deduction, ...] = _f((), unique="code", what="deduction")
    survey: SurveyRules | None = None
    engagement: tuple[ActivityKind, ...] = _f((), unique="code", what="activity")
    evaluation: EvaluationRules = EvaluationRules()
    calendar: Calendar = Calendar()
    daily_review: DailyReview | None = None
    retention: Retention | None = None
    portal: Portal | None = None
    reception: Reception | None = None
    front_office: FrontOffice | None = None
    guest_reception: GuestReception | None = None
    source: str = ""

    def match_deadline(
        self,
        stage: str,
        *,
        channel: str | None = None,
        nature: str | None = None,
        category: str | Iterable[str] | None = None,
        urgency: str | None = None,
    ) -> DeadlineRule | None:
        """The matching rule for `stage` with the most specific `when`, or None.

        A rule matches when each key in its `when` lists the given value; a key the
        caller leaves None never matches a rule that constrains it. `category` may be
        one code or a category and its ancestors' codes. Tie-breaks, in order: more
        `when` keys; heavier keys (category > urgency > nature > channel); fewer listed
        values; the earlier rule in the file. (Rules equal in stage and `when` are refused.)
        """
        if stage not in DEADLINE_STAGES:
            raise ValueError(f"unknown deadline stage {stage!r}")
        given: dict[str, frozenset[str]] = {}
        for key, value, allowed in (
            ("channel", channel, CHANNELS),
            ("nature", nature, NATURES),
            ("urgency", urgency, URGENCIES),
        ):
            if value is not None and value not in allowed:
                raise ValueError(f"unknown {key} {value!r}")
            given[key] = frozenset([value] if value else ())
        given["category"] = frozenset([category] if isinstance(category, str) else category or ())
        found = [
            (r.when.specificity(), -i, r)
            for i, r in enumerate(self.deadlines)
            if r.stage == stage and r.when.matches(given)
        ]
        return max(found, key=lambda t: t[:2])[2] if found else None

    @property
    def callback_windows(self) -> tuple[DeadlineRule, ...]:
        return tuple(r for r in self.deadlines if r.stage == "callback")

    def departments_named(self) -> list[tuple[str, str]]:
        """The department codes this preset relies on, each once with what it is there for:
        the acceptor of a channel (``acceptance_grounds.accepted_by``), the receiving office of
        a kind of complainant (``intake.complainant_kinds``)."""
        named: dict[str, str] = {}
        for a in self.acceptance_grounds.accepted_by:
            named.setdefault(a.department, a.label)
        for k in self.intake.complainant_kinds:
            if k.department:
                named.setdefault(k.department, k.department_label or k.label)
        return list(named.items())

    def switches(self) -> dict[str, Any]:
        """What the lifecycle reads from an organisation or a case (``stage_switches``): the
        stage switches, under ``required_steps`` the steps this preset makes mandatory
        (only those set; ``cases.workflow.required_step`` reads them), and under
        ``accepted_by`` the channels whose acceptance a designated department decides
        (``cases.workflow.channel_acceptor``), and under ``complainant_kinds`` the kinds of
        complainant and their receiving offices (``cases.workflow.complainant_kinds``)."""
        steps = {
            f.name: list(v) if isinstance(v, tuple) else v
            for f in fields(RequiredSteps)
            if f.name != "source" and (v := getattr(self.required_steps, f.name))
        }
        switches = {**{f.name: getattr(self.stages, f.name) for f in fields(Stages)}, "required_steps": steps}
        acceptors = {
            a.channel: {"department": a.department, "label": a.label} for a in self.acceptance_grounds.accepted_by
        }
        if acceptors:
            switches["accepted_by"] = acceptors
        kinds = [
            {"code": k.code, "label": k.label, "department": k.department, "department_label": k.department_label}
            for k in self.intake.complainant_kinds
        ]
        if kinds:  # a list: the forms offer them in the preset's order
            switches["complainant_kinds"] = kinds
        return switches

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready snapshot in the YAML key format; loads back to an equal Preset."""
        return dict(_plain(self))


def _key(f: Field[Any]) -> str:
    return str(f.metadata.get("key", f.name))


def _plain(obj: object) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for f in fields(obj):
            value = getattr(obj, f.name)
            if value is None or (value in ("", ()) and f.default is not MISSING):
                continue  # optional and empty: loading defaults it back
            item = _plain(value)
            for implied in f.metadata.get("fixed", {}):
                item.pop(implied)
            out[_key(f)] = item
        return out
    if isinstance(obj, tuple):
        return [_plain(v) for v in obj]
    return obj.isoformat() if isinstance(obj, dt.date) else obj


# ------------------------------------------------------------------------------ reading


class _Constructor(RoundTripConstructor):
    """Keeps timestamps as text, so a bad date is reported at its line by the reader."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_scalar)


@dataclass(frozen=True)
class _V:
    """A YAML value with its key path and 1-based lines (of the value, and of its key or
    list dash: a missing key is reported there), for messages."""

    value: Any
    path: str
    line: int
    key_line: int

    def at(self, *keys: str | int) -> _V:
        v = self
        for k in keys:
            node = v.value
            if isinstance(k, int):
                line = node.lc.item(k)[0] + 1
                v = _V(node[k], f"{v.path}[{k}]", line, line)
            else:
                v = _V(node[k], f"{v.path}.{k}" if v.path else k, node.lc.value(k)[0] + 1, node.lc.key(k)[0] + 1)
        return v


def _kind(value: object) -> str:
    if isinstance(value, str):
        return f'string "{value}"'
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "nothing"}[value]
    named = {CommentedMap: "a mapping", CommentedSeq: "a list", dt.date: "a date"}
    return next((n for t, n in named.items() if isinstance(value, t)), f"{value!r}")


class _Reader:
    def __init__(self, filename: str, *, bounded: bool = True) -> None:
        self.filename = filename
        self.bounded = bounded

    def fail(self, v: _V, template: str, **params: object) -> NoReturn:
        """Refuse: ``template`` (``str.format`` fields, filled from ``params``) is also the key
        its translation is found by (``policy.preset_messages``)."""
        problem = template.format(**{k: str(p) for k, p in params.items()}) if params else template
        raise PresetError(self.filename, v.line, v.path, problem, template, params)

    def record(self, cls: type[Any], v: _V, fixed: dict[str, Any] | None = None) -> Any:
        """Build dataclass `cls` from mapping `v`, checking keys and every value."""
        if not isinstance(v.value, CommentedMap):
            self.fail(v, "expected a mapping, got {got}", got=Got(v.value))
        fixed = fixed or {}
        spec = {_key(f): f for f in fields(cls) if f.name not in fixed}
        hints = get_type_hints(cls)
        retired = RETIRED_KEYS.get(cls, ())
        for key in v.value:
            if key in retired:
                # A stored version is read back whatever it says (the switch never did anything).
                if self.bounded and v.value[key] is not True:
                    self.fail(
                        v.at(key),
                        '"{key}" is no longer a switch: every case has this stage; write true or leave the key out',
                        key=key,
                    )
                continue
            if key not in spec:
                line = v.value.lc.key(key)[0] + 1
                self.fail(
                    _V(None, f"{v.path}.{key}" if v.path else str(key), line, line),
                    'unknown key "{key}" (expected one of {expected})',
                    key=key,
                    expected=", ".join(spec),
                )
        for key, f in spec.items():
            if f.default is MISSING and key not in v.value:
                self.fail(
                    _V(None, f"{v.path}.{key}" if v.path else key, v.key_line, v.key_line),
                    'missing required key "{key}"',
                    key=key,
                )
        kwargs = {
            f.name: self.value(hints[f.name], f.metadata, v.at(key), key) for key, f in spec.items() if key in v.value
        }
        built = cls(**kwargs, **fixed)
        if self.bounded and isinstance(getattr(built, "amount", None), int) and "amount" in v.value:
            self.within_unit(v.at("amount"), built.amount, getattr(built, "unit", ""))
        return built

    def within_unit(self, v: _V, amount: int, unit: str) -> None:
        """A time limit bounded by its unit (UNIT_MAX), in Chinese naming the key."""
        limit = UNIT_MAX.get(unit)
        if limit is not None and amount > limit:
            name = UNIT_NAMES[unit]
            self.fail(
                v,
                "时限数额 amount 过大：{amount} {name}（{unit}），以{name}计最多 {limit}（约一年）；"
                "请核对数字和单位 unit",
                amount=amount,
                name=name,
                unit=unit,
                limit=limit,
            )

    def value(self, tp: Any, meta: Any, v: _V, key: str) -> Any:
        what = meta.get("what", key)
        if get_origin(tp) is UnionType:
            tp = next(a for a in get_args(tp) if a is not NoneType)
        if get_origin(tp) is tuple:
            elem = get_args(tp)[0]
            if elem is not str:
                items = self.items(v)
                built = [self.record(elem, x) for x in items]
                if "unique" in meta:
                    self.unique(items, [getattr(b, meta["unique"]) for b in built], what)
                return tuple(built)
            one = meta.get("one_ok", False) and not isinstance(v.value, CommentedSeq)
            vals = [v] if one else self.items(v)
            out = [self.scalar(str, meta, x, what) for x in vals]
            self.unique(vals, out, what)
            if meta.get("one_ok") and not out:
                self.fail(v, "an empty list matches nothing; leave the key out instead")
            return tuple(out)
        if isinstance(tp, type) and is_dataclass(tp):
            return self.record(tp, v, meta.get("fixed"))
        return self.scalar(tp, meta, v, what)

    def scalar(self, tp: Any, meta: Any, v: _V, what: str) -> Any:
        x = v.value
        if tp is bool:
            if not isinstance(x, bool):
                self.fail(v, "expected true or false, got {got}", got=Got(x))
            return x
        if tp is int:
            if isinstance(x, str):
                self.fail(
                    v,
                    "expected a whole number, got {got} (write the number alone and the unit under `unit`)",
                    got=Got(x),
                )
            if isinstance(x, bool) or not isinstance(x, int):
                self.fail(v, "expected a whole number, got {got}", got=Got(x))
            if x < meta.get("min", 1):
                self.fail(v, "must be at least {min}, got {x}", min=meta.get("min", 1), x=x)
            maximum = meta.get("max", INT_CAP)  # None: bounded by its unit (``within_unit``)
            if self.bounded and maximum is not None and x > maximum:
                self.fail(v, "数值过大：最多 {max}，当前 {x}", max=maximum, x=x)
            return int(x)
        if tp is float:
            if isinstance(x, bool) or not isinstance(x, int | float):
                self.fail(v, "expected a number, got {got}", got=Got(x))
            low, high, is_open = meta["low"], meta["high"], meta.get("open", False)
            if (x <= low or x >= high) if is_open else (x < low or x > high):
                shown = f"({low:g}, {high:g})" if is_open else f"[{low:g}, {high:g}]"
                self.fail(v, "must be within {range}, got {x}", range=shown, x=f"{x:g}")
            return float(x)
        if tp is dt.date:
            if isinstance(x, str):
                try:
                    return dt.date.fromisoformat(x)
                except ValueError:
                    pass
            if type(x) is not dt.date:
                self.fail(v, "expected a date written YYYY-MM-DD, got {got}", got=Got(x))
            return x
        if not isinstance(x, str) or not x.strip():
            self.fail(v, "expected text, got {got}", got=Got(x))
        if "choices" in meta and x not in meta["choices"]:
            self.fail(
                v,
                'unknown {what} "{x}" (expected one of {expected})',
                what=what,
                x=x,
                expected=", ".join(meta["choices"]),
            )
        return str(x)

    def items(self, v: _V) -> list[_V]:
        if not isinstance(v.value, CommentedSeq):
            self.fail(v, "expected a list, got {got}", got=Got(v.value))
        return [v.at(i) for i in range(len(v.value))]

    def unique(self, items: list[_V], codes: list[Any], what: str) -> None:
        for i, code in enumerate(codes):
            if code in codes[:i]:
                first = items[codes.index(code)]
                self.fail(
                    items[i],
                    '{what} "{code}" is listed twice (first at {first}, line {line})',
                    what=what,
                    code=code,
                    first=first.path,
                    line=first.line,
                )


def _same_when(a: Selector, b: Selector) -> bool:
    return all(set(getattr(a, k)) == set(getattr(b, k)) for k in SELECTOR_WEIGHT)


def _check(r: _Reader, p: Preset, root: _V) -> None:
    """Rules that span records: stage flags, ambiguity, cycles, references, overlaps."""
    if not (p.name.isidentifier() and p.name.isascii() and p.name.islower()):
        r.fail(root.at("name"), '"{name}" must be lower-case ASCII letters, digits and _', name=p.name)
    for i, rule in enumerate(p.deadlines):
        flag = STAGE_FLAG_OF.get(rule.stage)
        if flag and not getattr(p.stages, flag):
            r.fail(
                root.at("deadlines", i), 'a "{stage}" deadline, but stages.{flag} is false', stage=rule.stage, flag=flag
            )
        same = [j for j, o in enumerate(p.deadlines[:i]) if o.stage == rule.stage and _same_when(o.when, rule.when)]
        if same:
            first = root.at("deadlines", same[0])
            r.fail(
                root.at("deadlines", i),
                'same stage and "when" as {first} (line {line}); which applies would be ambiguous',
                first=first.path,
                line=first.line,
            )
    roles = [s.role for s in p.escalation]
    for i, role in enumerate(roles):
        if role in roles[:i]:
            first = root.at("escalation", roles.index(role))
            r.fail(
                root.at("escalation", i, "role"),
                'cycle in the escalation chain: "{role}" already at {first} (line {line})',
                role=role,
                first=first.path,
                line=first.line,
            )
    grounds, bodies = p.acceptance_grounds, {b.code for b in p.acceptance_grounds.referral_bodies}
    for key in ("not_accepted", "not_reaccepted"):
        for i, g in enumerate(getattr(grounds, key)):
            for code in set(g.refer_to) - bodies:
                r.fail(
                    root.at("acceptance_grounds", key, i, "refer_to"),
                    'unknown referral body "{code}" (declared: {declared})',
                    code=code,
                    declared=", ".join(sorted(bodies)),
                )
    for i, kind in enumerate(p.intake.complainant_kinds):
        if not (re.fullmatch(r"[a-z][a-z0-9_]*", kind.code) and len(kind.code) <= COMPLAINANT_KIND_MAX):
            r.fail(
                root.at("intake", "complainant_kinds", i, "code"),
                '"{code}" must be lower-case ASCII letters, digits and _, at most {max} characters',
                code=kind.code,
                max=COMPLAINANT_KIND_MAX,
            )
    if grounds.refusal_forbidden:
        for key in ("not_accepted", "not_reaccepted"):
            if getattr(grounds, key):
                r.fail(
                    root.at("acceptance_grounds", key),
                    "refusal_forbidden is true (首诉负责), so no {key} grounds may be listed",
                    key=key,
                )
    both = set(p.urgency_keywords.urgent) & set(p.urgency_keywords.major)
    if both:
        r.fail(
            root.at("urgency_keywords", "major"), '"{word}" is listed under both urgent and major', word=sorted(both)[0]
        )
    if p.callback and not p.stages.callback:
        r.fail(root.at("callback"), "callback rules given, but stages.callback is false")
    if p.approval and not p.stages.approval:
        r.fail(root.at("approval"), "an approval chain given, but stages.approval is false")
    if p.approval and len(set(p.approval.chain)) != len(p.approval.chain):
        r.fail(root.at("approval", "chain"), "an approver is listed twice in the chain")
    if p.stages.review and p.review is None:
        r.fail(root.at("stages", "review"), "stages.review is true, but no review section names the reviewing bodies")
    if p.review and not p.stages.review:
        r.fail(root.at("review"), "review bodies given, but stages.review is false")
    if p.guest_reception is not None and not p.guest_reception.chain:
        r.fail(root.at("guest_reception", "chain"), "the approval chain is empty: at least one approver signs")
    _check_extension(r, p, root)
    _check_required_steps(r, p, root)
    weights = p.evaluation
    if weights.on_time + weights.callback + weights.satisfaction + weights.not_reopened <= 0:
        r.fail(root.at("evaluation"), "the evaluation weights add up to 0; at least one must count")
    for i, kpi in enumerate(p.kpis):
        _check_kpi(r, kpi, root.at("kpis", i))
    if p.statistics_return:
        codes = {k.code: k for k in p.kpis}
        for i, code in enumerate(p.statistics_return.columns):
            here = root.at("statistics_return", "columns", i)
            if code not in codes:
                r.fail(
                    here,
                    'unknown KPI "{code}" (the preset\'s kpis: {codes})',
                    code=code,
                    codes=", ".join(codes) or "none",
                )
            if codes[code].formula == "quantile":
                r.fail(
                    here,
                    '"{code}" is a quantile: a statistics return adds up its rows, use a rate or a count',
                    code=code,
                )
    if p.retention:
        limit = {"days": 36600, "months": 1200, "years": 100}[p.retention.unit]
        if p.retention.keep_for > limit:
            r.fail(
                root.at("retention", "keep_for"),
                "at most {limit} {unit} (100 years)",
                limit=limit,
                unit=p.retention.unit,
            )
    seen: dict[dt.date, _V] = {}
    for key in ("holidays", "workdays"):
        for i, day in enumerate(getattr(p.calendar, key)):
            here = root.at("calendar", key, i, "date")
            if day.date in seen:
                r.fail(
                    here,
                    "{day} is already listed at {first} (line {line})",
                    day=day.date,
                    first=seen[day.date].path,
                    line=seen[day.date].line,
                )
            seen[day.date] = here


def _check_extension(r: _Reader, p: Preset, root: _V) -> None:
    """The deadlines an extension names exist; the last-word deadline is not postponable."""
    rule = p.extension
    if rule is None:
        return
    timed = {d.stage for d in p.deadlines}
    for i, stage in enumerate(rule.stages):
        if stage not in timed:
            here = root.at("extension", "stages")
            if isinstance(here.value, CommentedSeq):
                here = here.at(i)
            r.fail(here, NO_SUCH_DEADLINE, stage=stage)
    if rule.latest:
        if rule.latest not in timed:
            r.fail(
                root.at("extension", "latest"),
                NO_SUCH_DEADLINE,
                stage=rule.latest,
            )
        if rule.latest in rule.stages:
            r.fail(
                root.at("extension", "latest"),
                '"{stage}" is the last word and cannot also be listed under extension.stages',
                stage=rule.latest,
            )


# A required step needs the stage it belongs to.
STEP_NEEDS: dict[str, tuple[str, ...]] = {
    "signed_investigation": ("approval",),
    "proposal_names_unit": ("approval",),
    "proposal_by_handler": ("approval",),
    "notice_after_approval": ("approval", "rectification_plan"),
    "plan_told_before_reply": ("rectification_plan",),
    "on_site_callback": ("callback",),
}


def _check_required_steps(r: _Reader, p: Preset, root: _V) -> None:
    steps = p.required_steps
    for key, flags in STEP_NEEDS.items():
        if not getattr(steps, key):
            continue
        for flag in flags:
            if not getattr(p.stages, flag):
                r.fail(
                    root.at("required_steps", key),
                    "required_steps.{key} needs stages.{flag} to be true",
                    key=key,
                    flag=flag,
                )


def _check_kpi(r: _Reader, kpi: Kpi, here: _V) -> None:
    """A KPI's formula, terms, on-time rule and period rule agree with the measure catalogue."""
    num, den = kpi.numerator, kpi.denominator
    if kpi.unit not in KPI_UNITS[kpi.formula]:
        r.fail(
            here.at("unit"),
            'a {formula} is shown in {units}, not "{unit}"',
            formula=kpi.formula,
            units=" or ".join(KPI_UNITS[kpi.formula]),
            unit=kpi.unit,
        )
    for key, term in (("numerator", num), ("denominator", den)):
        if term is None:
            continue
        if bool(term.measure) == bool(term.constant):
            r.fail(here.at(key), "give either a measure or a constant (a whole number above 0), not both or neither")
        if term.constant and (key == "numerator" or kpi.formula != "ratio"):
            r.fail(here.at(key, "constant"), "only a ratio's denominator may be a constant")
    measure = MEASURES[num.measure] if num.measure else None
    if measure is None:
        r.fail(here.at("numerator"), "the numerator names a measure")
    if kpi.formula in ("ratio", "mean") and den is None:
        r.fail(here, 'missing required key "denominator" (a {formula} divides by it)', formula=kpi.formula)
    if kpi.formula in ("count", "quantile") and den is not None:
        r.fail(here.at("denominator"), "a {formula} has no denominator", formula=kpi.formula)
    if kpi.formula == "ratio" and den is not None and den.measure and den.measure not in _wholes(measure):
        expected = f'"{measure.of}"' if measure.of else "a constant"
        r.fail(
            here.at("denominator", "measure"),
            '"{measure}" is counted out of {expected}, not "{denominator}": a rate divides a part by its whole',
            measure=num.measure,
            expected=expected,
            denominator=den.measure,
        )
    if kpi.formula in ("ratio", "count") and measure.kind != "count":
        r.fail(
            here.at("numerator", "measure"),
            '"{measure}" is an amount of time: use mean or quantile',
            measure=num.measure,
        )
    if kpi.formula in ("mean", "quantile") and measure.kind != "seconds":
        r.fail(
            here.at("numerator", "measure"),
            'a {formula} is taken of an amount of time, not "{measure}"',
            formula=kpi.formula,
            measure=num.measure,
        )
    if kpi.formula == "mean" and den is not None and den.measure != measure.of:
        r.fail(here.at("denominator"), 'the mean of "{measure}" is over "{of}"', measure=num.measure, of=measure.of)
    if kpi.formula == "quantile":
        if not measure.case_level:
            r.fail(
                here.at("numerator", "measure"),
                '"{measure}" has no case-level figures to take a quantile of',
                measure=num.measure,
            )
        if not 0 < kpi.q < 1:
            r.fail(here.at("q") if "q" in here.value else here, "a quantile needs q within (0, 1), e.g. 0.9 for p90")
    elif kpi.q:
        r.fail(here.at("q"), "q is only for a quantile")
    if measure.timed and kpi.on_time is None:
        r.fail(
            here, 'missing required key "on_time": "{measure}" counts deadline clocks of a stage', measure=num.measure
        )
    if not measure.timed and kpi.on_time is not None:
        r.fail(here.at("on_time"), '"{measure}" counts no deadline clocks: leave on_time out', measure=num.measure)
    if kpi.period != measure.basis:
        r.fail(
            here.at("period"),
            '"{measure}" is counted by period rule "{basis}" ({basis_name}), not "{period}"',
            measure=num.measure,
            basis=measure.basis,
            basis_name=KPI_BASIS_NAMES[measure.basis],
            period=kpi.period,
        )
    if kpi.target and kpi.unit == "percent" and kpi.target.value > 1:
        r.fail(here.at("target", "value"), "a ratio target must be within [0, 1]")


def load_preset_text(text: str, filename: str = "<preset>", *, bounded: bool = True) -> Preset:
    """Parse and validate one preset; raise PresetError naming file, line and key path.

    ``bounded=False`` skips the upper bounds (a time limit by its unit, other numbers):
    only for reading back a version stored before they existed, so that an organisation
    running an absurd one can still open the policy pages and withdraw it.

    The result is a pure function of the arguments and a Preset is frozen all the way
    down, so the last few results are kept: the round-trip YAML parse that gives the
    line numbers costs about 0.3 s, and activating a preset reads the same text three
    times (the file, the check before the version is stored, the stored snapshot).
    Errors are not kept: a bad text is parsed again and fails again."""
    return _load_preset_text(text, filename, bounded)


@functools.lru_cache(maxsize=32)
def _load_preset_text(text: str, filename: str, bounded: bool) -> Preset:
    try:
        yaml = YAML(typ="rt")
        yaml.Constructor = _Constructor
        data = yaml.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else text.count("\n", 0, getattr(exc, "position", 0)) + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PresetError(
            filename, line, "", f"YAML syntax error: {problem}", "YAML syntax error: {problem}", {"problem": problem}
        ) from exc
    reader, root = _Reader(filename, bounded=bounded), _V(data, "", 1, 1)
    preset: Preset = reader.record(Preset, root)
    _check(reader, preset, root)
    return preset


def line_of(text: str, path: str) -> int:
    """The line of key ``path`` (``deadlines[3].when.category``) in preset ``text``; 1 when
    the text does not have it (e.g. the JSON snapshot of a stored version)."""
    try:
        yaml = YAML(typ="rt")
        yaml.Constructor = _Constructor
        v = _V(yaml.load(text), "", 1, 1)
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
            v = v.at(int(part[1:-1]) if part.startswith("[") else part)
    except (YAMLError, KeyError, IndexError, TypeError, AttributeError):
        return 1
    return v.line


def load_preset(path: str | Path) -> Preset:
    path = Path(path)
    return load_preset_text(path.read_text(encoding="utf-8"), path.name)


def list_presets(directory: str | Path) -> list[str]:
    """Names (file stems) of the `*.yaml` presets in `directory`, sorted."""
    return sorted(p.stem for p in Path(directory).glob("*.yaml") if p.is_file())
