"""The authorisation matrix: for every URL pattern, who may GET it and who may POST to it.

One entry per URL name (the route, for an unnamed pattern); a URL whose one view does
several things (``cases:act`` and its actions, a handling step) has one row per variant. A
row names the actors allowed; every other actor must be refused (403, 404 or the login
page; another organisation's member may also get a 400 naming the field that points
outside their organisation) and must change nothing. An allowed POST must change
something (``writes``), so a refusal dressed as a redirect does not pass for a success.

The actors are ``world.ACTORS``: anonymous, one person per role (the handler and the head
in the department that leads the cases), the head of a department that only assists
(``assist_head``), the head of an unrelated department (``stranger``), a member of another
organisation holding every role (``org2``) and the platform operator (a superuser without
an organisation: the Django admin's only user).

Adding a URL: add its entry here (the test lists the patterns without one). The rows with
a ``label`` are the write rights table of docs/permissions.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from huiyin.frontoffice.rules import setup_fingerprint, setup_of
from huiyin.portal import challenge
from huiyin.portal.links import case_token
from huiyin.surveys.services import audience_version
from huiyin.triage.models import Suggestion

from .world import ACTORS, World, png_data_url, upload

Actors = frozenset[str]


def A(*names: str) -> Actors:
    unknown = set(names) - set(ACTORS)
    assert not unknown, unknown
    return frozenset(names)


NOBODY = A()
EVERYONE = A(*ACTORS)
SIGNED_IN = EVERYONE - {"anon"}
DESK = SIGNED_IN - {"operator"}  # staff of any organisation
WHOLE_LEDGER = A("clerk", "reception", "leader", "supervisor", "callback", "analyst", "admin")
# Who sees a case led by the city department with housing assisting.
VIEWERS = WHOLE_LEDGER | {"handler", "head", "assist_head"}
# The lead department's handling staff (the handler is the one named on the cases).
LEAD = A("handler", "head")
REGISTER = A("clerk", "reception", "leader")
# Whole-ledger roles that decide or dispatch, and the lead department's handling staff.
STEER = A("clerk", "leader") | LEAD


@dataclass(frozen=True)
class Row:
    get: Actors | None  # who gets the page; None: the view takes no GET (405)
    post: Actors | None = None  # who may POST ``data``; None: nothing is posted here
    kwargs: Callable[[World], dict[str, Any]] = lambda w: {}
    data: Callable[[World, str], dict[str, Any]] = lambda w, actor: {}
    query: dict[str, str] = field(default_factory=dict)
    writes: bool = True  # an allowed POST changes something
    label: str = ""  # the write right's name in docs/permissions.md ("" = not listed there)
    either: Actors = frozenset()  # not held to allowed or refused (still: no 5xx, no writes when refused)


Entry = Row | dict[str, Row]


def _triage_accept(w: World, actor: str) -> dict[str, Any]:
    """A suggestion made to this organisation's intake form, and its first category taken."""
    token = uuid.uuid4().hex
    category = w.things["category"]
    Suggestion.objects.create(organization=w.org, intake_token=token, categories=[{"id": category.pk, "p": 0.9}])
    return {"intake_token": token, "category": str(category.pk)}


def _portal_org(w: World) -> dict[str, Any]:
    return {"org": w.org.code}


def _portal_submission(w: World, actor: str) -> dict[str, Any]:
    """A complete submission with its proof of work solved, as the browser's script does."""
    issued = challenge.issue()
    return {
        "nature": "complaint",
        "text": "小区门口路灯不亮",
        "name": "李娜",
        "phone": f"1390000{ACTORS.index(actor):04d}",  # one per actor: the per-phone limit
        "consent": "on",
        "challenge": issued,
        "solution": challenge.solve(issued),
    }


def _portal_booking(actor: str) -> dict[str, Any]:
    issued = challenge.issue()
    return {
        "name": "李娜",
        "phone": f"1370000{ACTORS.index(actor):04d}",
        "purpose": "咨询拆迁补偿政策",
        "headcount": "1",
        "consent": "on",
        "challenge": issued,
        "solution": challenge.solve(issued),
    }


# The reception's calendars and visits: who books and receives visitors, and the administrators
# who set the schedules; rooms, hours and leader days are the leaders' and administrators'.
RECEPTION_DESK = A("clerk", "reception", "leader", "admin")
SCHEDULERS = A("leader", "admin")


def case(key: str, **more: Any) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"case_id": w.case(key), **more}


def post_only(post: Actors, **kw: Any) -> Row:
    return Row(get=None, post=post, **kw)


def _version(w: World, key: str) -> int:
    from huiyin.cases.models import Case

    return Case.objects.get(pk=w.case(key)).version


def _soon(days: int = 5) -> str:
    return timezone.localtime(timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def _username(w: World, actor: str) -> str:
    person = w.staff[actor] or w.staff["clerk"]
    assert person is not None
    return person.username


# --- the front office and guest reception ----------------------------------------------------------

FRONT_DESK = A("reception", "leader")
# Who opens guest reception: staff with a department, the front desk and leaders. With the
# world's setup the administrative office is housing (assist_head) and finance is traffic
# (stranger): both see every reception.
RECEPTION_USERS = A("handler", "head", "assist_head", "stranger", "reception", "leader")
# The requester (the handler), the hosting department (city: handler, head), the office (assist_head).
RECEPTION_ORGANIZERS = A("handler", "head", "assist_head")
COST_READERS = A("leader", "analyst", "head", "assist_head", "stranger", "org2")


def _visitor(key: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"visitor_id": w[key].pk}


def _reception(key: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"reception_id": w[key].pk}


def _fresh_version(row: Any) -> int:
    return type(row).objects.get(pk=row.pk).version


def _audience_version(w: World) -> str:
    """The survey campaign page's version of its audience size, as the campaign is now."""
    return audience_version(type(w["campaign"]).objects.get(pk=w["campaign"].pk))


def _setup_version(w: World, actor: str) -> str:
    """The front-office setup page's version, as the actor's organisation's setup is now."""
    person = w.staff[actor]
    return setup_fingerprint(setup_of(getattr(person, "organization_id", None) or w.org.pk))


def _own_department(w: World, actor: str) -> int:
    """The actor's department (the world's lead department for those without one)."""
    person = w.staff[actor]
    department_id = person.department_id if person is not None else None
    return department_id or w.departments["city"].pk


# --- lifecycle actions (cases:act) ------------------------------------------------------------

DECIDE = A("clerk", "leader")


def act(key: str, allowed: Actors, label: str, **data: Any) -> Row:
    """A lifecycle action on the case ``key`` (the URL's ``action`` is added below)."""
    return Row(
        get=None,
        post=allowed,
        kwargs=lambda w: {"case_id": w.case(key)},
        data=lambda w, actor: {**data, "version": _version(w, key)},
        label=label,
    )


def _dispatch(w: World, actor: str, key: str) -> dict[str, Any]:
    return {
        "department": w.departments["city"].pk,
        "assisting": [w.departments["housing"].pk],
        "instructions": "请三日内办结",
        "version": _version(w, key),
    }


ACT: dict[str, Row] = {
    "accept": act("registered", DECIDE, "Accept a case (受理)", note="属于受理范围"),
    "not_accept": act(
        "registered", DECIDE, "Not accept (不予受理)", ground="out_of_jurisdiction", refer_to="有权处理的机关、单位"
    ),
    "not_reaccept": act("registered", DECIDE, "Not re-accept (不再受理)", reaccept_ground="review_concluded"),
    "return": act("registered", DECIDE, "Return (退回)", reason="不属于本单位职责", returned_to="来信人"),
    "transfer": act("registered", DECIDE, "Transfer (转送)", to_body="市住建委"),
    "answer_on_spot": act("registered", REGISTER, "Answer on the spot (当场答复)", reply="已当场解答", method="phone"),
    "dispatch": Row(
        get=None,
        post=DECIDE,
        kwargs=case("accepted"),
        data=lambda w, actor: _dispatch(w, actor, "accepted"),
        label="Dispatch (派遣)",
    ),
    "redispatch": Row(
        get=None,
        post=A("clerk", "leader", "head"),
        kwargs=case("dispatched"),
        data=lambda w, actor: _dispatch(w, actor, "dispatched"),
        label="Redispatch (改派)",
    ),
    "sign_for": act("dispatched", A("handler", "head", "leader"), "Sign for (签收)"),
    "send_back": act("dispatched", A("handler", "head", "leader"), "Send back (退单)", reason="不属于本科职责"),
    "submit_for_approval": act(
        "in_progress",
        A("handler", "head", "leader"),
        "Submit a proposal for approval (提交审批)",
        proposal="拟责成物业维修",
        outcome="resolved",
    ),
    # The chain is [dept_head, leader]: level 1 is the lead department's head's alone.
    "approve": act("pending", A("head"), "Approve at the due level (审批)", comments="同意"),
    "reject_approval": act("pending", A("head"), "Return a proposal (退回修改)", reason="请补充调查"),
    "reply": act("approved", A("handler", "head", "leader"), "Reply (答复)", reply="已修复", method="letter"),
    "close": act(
        "replied",
        A("clerk", "head", "leader", "callback"),
        "Close (办结)",
        satisfaction="satisfied",
        callback_note="满意",
    ),
    "reopen": act("closed", A("clerk", "head", "leader", "callback"), "Reopen (重办)", reason="反映人不满意"),
    "request_review": act("replied", REGISTER, "Request a review (请求复查)", reason="不服答复意见"),
    "request_rereview": act("reviewed", REGISTER, "Request a re-review (请求复核)", reason="不服复查意见"),
    "decide_review": act("under_review", A("leader"), "Review opinion (复查意见)", decision="upheld", opinion="维持"),
    "decide_rereview": act(
        "under_rereview", A("leader"), "Re-review opinion (复核意见)", decision="upheld", opinion="维持"
    ),
    "archive": act("closed", A("leader", "admin"), "Archive (归档)"),
    # The registered case as a duplicate of the accepted one (issue 19).
    "merge": Row(
        get=None,
        post=DECIDE,
        kwargs=case("registered"),
        data=lambda w, actor: {
            "into_number": w.cases["accepted"].number,
            "note": "同一事项",
            "version": _version(w, "registered"),
        },
        label="Merge a duplicate into another case (合并)",
    ),
}
for _name, _row in ACT.items():
    ACT[_name] = Row(
        get=_row.get,
        post=_row.post,
        kwargs=(lambda inner, name: lambda w: {**inner(w), "action": name})(_row.kwargs, _name),
        data=_row.data,
        label=_row.label,
    )


# Hot issues (F52): the dashboard's readers (department heads: their own department's cases).
HOT_READERS = A("leader", "supervisor", "analyst", "head", "assist_head", "stranger", "org2")


# --- the REST API (/api/v1/): a signed-in staff session has the workbench's rights ------------------

API_NAMES = {"department": "department_id", "assisting": "assisting_ids", "reaccept_ground": "ground"}


def _api_action(row: Row) -> Row:
    """The workbench's action row as the API's endpoint: the same actors, the input's own names."""
    return Row(
        get=None,
        post=row.post,
        kwargs=lambda w: {k: v for k, v in row.kwargs(w).items() if k != "action"},
        data=lambda w, actor: {API_NAMES.get(k, k): v for k, v in row.data(w, actor).items()},
    )


def _api_intake(w: World, actor: str) -> dict[str, Any]:
    return {
        "channel": "phone",
        "nature": "complaint",
        "text": "小区路灯不亮已一周。",
        "party.name": "李四",
        "party.phone": "13812340000",
    }


API: dict[str, Entry] = {
    "api:schema": Row(get=EVERYONE),
    "api:docs": Row(get=EVERYONE),
    "api:cases": Row(get=DESK, post=REGISTER | {"org2"}, data=_api_intake),
    # A search changes nothing: whoever may list cases may search them (their own organisation's).
    "api:cases_search": Row(get=None, post=DESK, data=lambda w, actor: {"q": "路灯"}, writes=False),
    "api:case": Row(get=VIEWERS, kwargs=case("in_progress")),
    "api:events": Row(get=VIEWERS, kwargs=case("in_progress")),
    "api:actions": Row(get=VIEWERS, kwargs=case("in_progress")),
    "api:deadlines": Row(get=VIEWERS, kwargs=case("in_progress")),
    "api:contacts": Row(
        get=VIEWERS,
        post=REGISTER,
        kwargs=case("in_progress"),
        data=lambda w, actor: {"channel": "phone", "text": "再次来电催办"},
    ),
    "api:attachments": Row(
        get=VIEWERS,
        post=REGISTER | LEAD | {"assist_head"},
        kwargs=case("in_progress"),
        data=lambda w, actor: {"file": upload()},
    ),
    "api:attachment": Row(get=VIEWERS, kwargs=lambda w: {"attachment_id": w["attachment"].pk}),
    # The case's documents: the same readers as the workbench's document page and its PDF.
    "api:documents": Row(get=VIEWERS, kwargs=case("in_progress")),
    "api:document": Row(get=VIEWERS, kwargs=lambda w: {"document_id": w["letter"].pk}),
    "api:categories": Row(get=DESK),
    "api:departments": Row(get=DESK),
    "api:hot_issues": Row(get=HOT_READERS, query={"window": "30"}),
    **{f"api:action-{name}": _api_action(row) for name, row in ACT.items()},
    # Open311 GeoReport v2: discovery and services are public; requests need an API key (no
    # session counts), so without one everybody is refused.
    "open311:discovery": Row(get=EVERYONE, kwargs=lambda w: {"fmt": "json"}),
    "open311:services": Row(get=EVERYONE, kwargs=lambda w: {"fmt": "xml"}, query={"jurisdiction_id": "hotline"}),
    "open311:service": Row(
        get=EVERYONE,
        kwargs=lambda w: {"fmt": "json", "service_code": str(w["category"].pk)},
        query={"jurisdiction_id": "hotline"},
    ),
    # GET requests is public, as the specification says, and answers a public filter (no text, no
    # address); posting needs a key, so without one everybody is refused.
    "open311:requests": Row(
        get=EVERYONE,
        post=NOBODY,
        kwargs=lambda w: {"fmt": "json"},
        query={"jurisdiction_id": "hotline"},
        data=lambda w, actor: {"service_code": str(w["category"].pk), "description": "路灯不亮"},
    ),
    "open311:request": Row(
        get=EVERYONE,
        kwargs=lambda w: {"fmt": "xml", "service_request_id": w.cases["in_progress"].number},
        query={"jurisdiction_id": "hotline"},
    ),
    # A token nobody was given is not there, for everybody.
    "open311:token": Row(get=NOBODY, kwargs=lambda w: {"fmt": "json", "token": "unknown-token"}),
}

# --- the matrix -------------------------------------------------------------------------------------


def _intake(w: World, actor: str) -> dict[str, Any]:
    return {
        "party_phone": "13812340000",
        "party_name": "李四",
        "nature": "complaint",
        "text": "小区路灯不亮已一周。",
        "urgency": "normal",
        "intake_token": uuid.uuid4().hex,
    }


def _edit(w: World, actor: str) -> dict[str, Any]:
    return {
        "title": "楼上漏水",
        "text": "楼上漏水严重，天花板已经发霉，已两周。",
        "nature": "complaint",
        "urgency": "urgent",
        "location": "幸福路12号",
        "version": _version(w, "in_progress"),
    }


MATRIX: dict[str, Entry] = {
    **API,
    # --- the edges: login, language, the front door ----------------------------------------------
    "/": Row(get=EVERYONE),
    # The operator has an authenticator: the password step leads to the code page (tests/access).
    "login": Row(
        get=EVERYONE,
        post=EVERYONE - {"operator"},
        either=A("operator"),
        data=lambda w, actor: {"username": _username(w, actor), "password": "pw-authz-matrix"},
    ),
    # Logging out is everyone's and ends on the login page, which the matrix counts as a refusal.
    "logout": Row(get=None, post=NOBODY, either=EVERYONE, writes=False),
    # Setting up an authenticator app: every signed-in person, for their own account.
    "access:enrol": Row(
        get=SIGNED_IN, post=NOBODY, either=SIGNED_IN, data=lambda w, actor: {"token": "000000"}, writes=False
    ),
    # The second step of a login: only with a password step pending (tests/access); here, no 5xx.
    "access:verify": Row(
        get=NOBODY, post=NOBODY, either=EVERYONE, data=lambda w, actor: {"token": "000000"}, writes=False
    ),
    "set_language": Row(get=EVERYONE, post=EVERYONE, data=lambda w, actor: {"language": "en"}, writes=False),
    # --- cases ---------------------------------------------------------------------------------------
    "cases:desk": Row(get=DESK),
    "cases:reminder_done": post_only(A("handler"), kwargs=lambda w: {"notification_id": w["reminder"].pk}),
    # The search box posts its word and is sent back to the list with it encrypted in the link.
    "cases:ledger": Row(get=DESK, post=DESK, data=lambda w, actor: {"q": "漏水"}, writes=False),
    # The filtered ledger as a spreadsheet: masked for every desk (GET); in full (POST) for
    # the personal-data right, each exported case logged as a full view. The head of an
    # unrelated department has that right but no case to export, so nothing to log.
    "cases:ledger_csv": Row(
        get=DESK,
        post=A("clerk", "reception", "handler", "head", "assist_head", "leader", "callback", "org2"),
        either=A("stranger"),
        label="Export the ledger with full personal data, logged (完整导出台账)",
    ),
    "cases:ledger_xlsx": Row(
        get=DESK,
        post=A("clerk", "reception", "handler", "head", "assist_head", "leader", "callback", "org2"),
        either=A("stranger"),
    ),
    "cases:ledger_print": Row(get=DESK),
    # My desk as a spreadsheet: masked for every desk (GET); in full (POST) for the personal-data
    # right, each case on it logged as a full view. A desk with no case on it logs nothing.
    "cases:desk_csv": Row(
        get=DESK,
        post=A("clerk", "handler", "head", "leader", "org2"),
        either=A("reception", "assist_head", "callback", "stranger"),
        label="Export my desk with full personal data, logged (完整导出工作台)",
    ),
    "cases:desk_xlsx": Row(
        get=DESK,
        post=A("clerk", "handler", "head", "leader", "org2"),
        either=A("reception", "assist_head", "callback", "stranger"),
    ),
    "cases:intake": Row(
        get=REGISTER | {"org2"},
        post=REGISTER | {"org2"},
        kwargs=lambda w: {"channel": "phone"},
        data=_intake,
        label="Register a case (登记)",
    ),
    # Which cases a full phone number belongs to is personal data: only roles that may see it.
    "cases:caller_history": post_only(
        DESK - {"supervisor", "analyst", "admin"}, data=lambda w, actor: {"party_phone": "13812345678"}, writes=False
    ),
    "cases:detail": Row(get=VIEWERS, kwargs=case("in_progress")),
    "cases:act": ACT,
    "cases:edit": Row(
        get=REGISTER | LEAD,
        post=REGISTER | LEAD,
        kwargs=case("in_progress"),
        data=_edit,
        label="Edit registration details (修改登记信息)",
    ),
    "cases:add_contact": post_only(
        REGISTER,
        kwargs=case("in_progress"),
        data=lambda w, actor: {"channel": "phone", "text": "再次来电催办", "intake_token": uuid.uuid4().hex},
        label="Add a repeat contact (重复来电)",
    ),
    "cases:upload_attachment": post_only(
        REGISTER | LEAD | {"assist_head"},
        kwargs=case("in_progress"),
        data=lambda w, actor: {"attachment": upload()},
        label="Upload an attachment (上传附件)",
    ),
    "cases:download_attachment": Row(get=VIEWERS, kwargs=lambda w: {"attachment_id": w["attachment"].pk}),
    "cases:reveal": post_only(
        A("clerk", "reception", "handler", "head", "assist_head", "leader", "callback"),
        kwargs=case("in_progress"),
        label="See full personal data, logged (查看完整个人信息)",
    ),
    "cases:receipt": Row(get=VIEWERS, kwargs=case("in_progress")),
    "cases:receipt_pdf": Row(get=VIEWERS, kwargs=case("in_progress")),
    # The complainant's wish for no text messages, recorded by the desk that talks to them.
    "notifications:sms_opt_out": post_only(
        REGISTER,
        kwargs=case("in_progress"),
        data=lambda w, actor: {"sms_opt_out": "1"},
        label="记录反映人不接收短信",
    ),
    # Where my own notices go: every desk user, for themselves.
    "notifications:my_contact": Row(
        get=DESK,
        post=DESK,
        data=lambda w, actor: {"email": f"{actor}@hotline.example", "mobile": "13800001111"},
        label="设置本人的通知方式",
    ),
    # Mail the e-mail channel parked: the intake desk registers or discards it (org2's sees its own list).
    "notifications:mail": Row(get=REGISTER | {"org2"}),
    "notifications:mail_detail": Row(get=REGISTER, kwargs=lambda w: {"mail_id": w["parked_mail"].pk}),
    "notifications:mail_register": post_only(
        REGISTER,
        kwargs=lambda w: {"mail_id": w["parked_mail"].pk},
        data=lambda w, actor: {
            "nature": "complaint",
            "title": "楼道堆放杂物",
            "text": "楼道里堆满了杂物，存在消防隐患。",
            "version": w["parked_mail"].version,
        },
        label="将待处理邮件登记为案件",
    ),
    "notifications:mail_discard": post_only(
        REGISTER,
        kwargs=lambda w: {"mail_id": w["parked_mail"].pk},
        data=lambda w, actor: {"reason": "垃圾邮件", "version": w["parked_mail"].version},
        label="作废待处理邮件",
    ),
    "cases:receipt_reissue": post_only(
        REGISTER, kwargs=case("in_progress"), label="Reissue the query code (重新生成查询码)"
    ),
    "public:status": Row(
        get=EVERYONE,
        post=EVERYONE,
        # A wrong code per actor (the number locks after a few wrong codes, as on the portal).
        data=lambda w, actor: {"number": f"20260101-{ACTORS.index(actor) + 1:05d}", "code": "ABCD2345"},
        writes=False,
    ),
    # --- supervision ---------------------------------------------------------------------------------
    "supervision:board": Row(get=A("supervisor", "leader", "analyst", "head", "assist_head", "stranger", "org2")),
    # The board as a spreadsheet: whoever sees the board; no personal data, no full export.
    "supervision:board_csv": Row(get=A("supervisor", "leader", "analyst", "head", "assist_head", "stranger", "org2")),
    "supervision:board_xlsx": Row(get=A("supervisor", "leader", "analyst", "head", "assist_head", "stranger", "org2")),
    "supervision:issue": Row(
        get=A("supervisor", "leader", "org2"),
        post=A("supervisor", "leader"),
        data=lambda w, actor: {
            "case_number": w.cases["in_progress"].number,
            "kind": "special",
            "department": w.departments["city"].pk,
            "due_at": _soon(),
            "requirement": "请加快办理",
        },
        label="Issue a supervision notice (督办)",
    ),
    "supervision:notice": Row(get=VIEWERS, kwargs=lambda w: {"notice_id": w["notice"].pk}),
    "supervision:answer": post_only(
        LEAD,
        kwargs=lambda w: {"notice_id": w["notice"].pk},
        data=lambda w, actor: {"answer": "已安排维修，三日内完成"},
        label="Answer a supervision notice (督办反馈)",
    ),
    "supervision:close": post_only(
        A("supervisor", "leader"),
        kwargs=lambda w: {"notice_id": w["notice"].pk},
        data=lambda w, actor: {"note": "已办结"},
        label="Close a supervision notice (销号)",
    ),
    "supervision:daily_review": Row(get=A("clerk", "reception", "leader", "supervisor", "org2")),
    "supervision:daily_review_done": post_only(
        A("clerk", "reception", "leader", "supervisor", "org2"),
        data=lambda w, actor: {"note": "已复查"},
        label="Record the daily review (每日复查)",
    ),
    # --- policy administration and the calendar ------------------------------------------------------
    "policy:index": Row(get=A("admin", "org2")),
    "policy:load": post_only(
        A("admin", "org2"),
        data=lambda w, actor: {"preset": "hospital", "note": "试用"},
        label="Load a policy preset (载入预设)",
    ),
    "policy:edit": Row(
        get=A("admin", "org2"),
        post=A("admin", "org2"),
        data=lambda w, actor: {"text": w["hospital_yaml"], "note": "界面编辑", "version": _policy_version(w, actor)},
        label="Edit the policy (编辑政策)",
    ),
    "policy:withdraw": post_only(
        A("admin"),
        kwargs=lambda w: {"version": w["versions"]["petition_office"].version},
        label="Withdraw a policy version (撤回政策版本)",
    ),
    "policy:reactivate": post_only(
        A("admin"),
        kwargs=lambda w: {"version": w["versions"]["company_front_office"].version},
        label="Reactivate a policy version (恢复政策版本)",
    ),
    "policy:calendar": Row(
        get=A("admin", "org2"),
        post=A("admin", "org2"),
        data=lambda w, actor: {
            "date": (timezone.localdate() + timedelta(days=50)).isoformat(),
            "kind": "holiday",
            "name": "停业",
            "scope": "org",
        },
        label="Add a calendar day (设置节假日)",
    ),
    "policy:calendar_remove": post_only(
        A("admin", "org2"),
        data=lambda w, actor: {"date": w["calendar_day"].date.isoformat(), "scope": "org"},
        label="Remove a calendar day (删除节假日设置)",
    ),
    # --- deadlines on a case --------------------------------------------------------------------------
    "deadlines:suspend": post_only(
        STEER,
        kwargs=case("in_progress"),
        data=lambda w, actor: {"reason": "等待反映人补充材料"},
        label="Suspend a case (挂起)",
    ),
    "deadlines:resume": post_only(
        STEER, kwargs=case("suspended"), data=lambda w, actor: {"note": "材料已补齐"}, label="Resume (恢复办理)"
    ),
    "deadlines:extension_request": post_only(
        STEER,
        kwargs=case("extension_ask"),
        data=lambda w, actor: {"clock": w["extendable_clock"].pk, "amount": 1, "unit": "days", "reason": "等待配件"},
        label="Ask for an extension (申请延期)",
    ),
    # The property company's extensions are approved by the head of the department that leads the case.
    "deadlines:extension_decide": post_only(
        A("head"),
        kwargs=lambda w: {"extension_id": w["extension"].pk},
        data=lambda w, actor: {"decision": "approve", f"x{w['extension'].pk}-note": "同意"},
        label="Decide an extension (审批延期)",
    ),
    # --- handling -------------------------------------------------------------------------------------
    "handling:assign": post_only(
        A("clerk", "leader", "head"),
        kwargs=case("in_progress"),
        data=lambda w, actor: {"handler": w.staff["handler"].pk, "version": _version(w, "in_progress")},  # type: ignore[union-attr]
        label="Name the handler (指定承办人)",
    ),
    "handling:investigation_add": post_only(
        STEER | {"assist_head"},
        kwargs=case("in_progress"),
        data=lambda w, actor: {"kind": "site_visit", "text": "现场查看"},
        label="Record an investigation (调查记录)",
    ),
    "handling:investigation_confirm": post_only(
        STEER | {"assist_head"},
        kwargs=lambda w: {"case_id": w.case("in_progress"), "investigation_id": w["investigation"].pk},
        data=lambda w, actor: {"signature_drawn": png_data_url()},
        label="Record the interviewee's signature (签字确认)",
    ),
    "handling:rectification": {
        "notify": post_only(
            STEER,
            kwargs=case("rectification", step="notify"),
            data=lambda w, actor: {"unit": "示范物业", "method": "letter", "requirements": "限期整改"},
            label="Notify a unit to rectify (整改通知)",
        ),
        "plan": post_only(
            STEER,
            kwargs=case("rectification", step="plan"),
            data=lambda w, actor: {"rectification_id": w["rect_notified"].pk, "plan_text": "三日内修复"},
            label="Register a rectification plan (登记整改方案)",
        ),
        "check": post_only(
            STEER,
            kwargs=case("rectification", step="check"),
            data=lambda w, actor: {"rectification_id": w["rect_planned"].pk, "verdict": "accepted"},
            label="Check a rectification plan (审核整改方案)",
        ),
        "inform": post_only(
            STEER,
            kwargs=case("rectification", step="inform"),
            data=lambda w, actor: {"rectification_id": w["rect_accepted"].pk, "method": "phone"},
            label="Tell the complainant the plan (告知反映人)",
        ),
    },
    "handling:joint": {
        "convene": post_only(
            A("clerk", "leader", "head"),
            kwargs=case("in_progress", step="convene"),
            data=lambda w, actor: {
                "topic": "协调维修责任",
                "departments": [w.departments["city"].pk, w.departments["traffic"].pk],
            },
            label="Convene joint handling (联合办理)",
        ),
        "part": post_only(
            LEAD,
            kwargs=case("in_progress", step="part"),
            data=lambda w, actor: {
                "joint_id": w["joint"].pk,
                "department": w.departments["city"].pk,
                "text": "负责维修",
            },
            label="Write a department's part (部门意见)",
        ),
        "conclude": post_only(
            A("head"),
            kwargs=case("in_progress", step="conclude"),
            data=lambda w, actor: {"joint_id": w["joint"].pk, "outcome": "由物业维修"},
            label="Conclude joint handling (协调结果)",
        ),
    },
    "handling:authority": post_only(
        A("clerk", "leader", "head"),
        kwargs=case("in_progress"),
        data=lambda w, actor: {"authority": "市信访局", "reference": "信交〔2026〕2号", "due_at": _soon(20)},
        label="Record a higher authority's request (上级交办查处)",
    ),
    "handling:document_issue": post_only(
        STEER,
        kwargs=case("in_progress"),
        data=lambda w, actor: {"kind": "handling_notice"},
        label="Issue a document (出具文书)",
    ),
    "handling:document": Row(
        get=VIEWERS, kwargs=lambda w: {"case_id": w.case("in_progress"), "document_id": w["letter"].pk}
    ),
    "handling:document_pdf": Row(
        get=VIEWERS, kwargs=lambda w: {"case_id": w.case("in_progress"), "document_id": w["letter"].pk}
    ),
    "handling:document_step": {
        "approve": post_only(
            A("leader"),
            kwargs=lambda w: {"case_id": w.case("authority"), "document_id": w["draft_report"].pk, "step": "approve"},
            label="Approve a result report (审批查处结果报告)",
        ),
        "send": post_only(
            STEER,
            kwargs=lambda w: {"case_id": w.case("authority"), "document_id": w["issued_report"].pk, "step": "send"},
            label="Send the result report (报送查处结果报告)",
        ),
    },
    "handling:templates": Row(get=A("admin", "org2")),
    "handling:template_edit": Row(
        get=A("admin", "org2"),
        post=A("admin", "org2"),
        kwargs=lambda w: {"kind": "handling_notice"},
        data=lambda w, actor: {
            "title": w["template"][0],
            "body": w["template"][1] + "\n（本单位）",
            "version": _document_template_version(w, actor, "handling_notice"),
        },
        label="Edit a document template (文书模板)",
    ),
    # --- follow-up: callbacks and what they find ------------------------------------------------------
    "followup:queue": Row(get=A("clerk", "head", "assist_head", "stranger", "leader", "callback", "org2")),
    # The queue as a spreadsheet: whoever has the callback desk (GET, masked); in full (POST),
    # each case logged, for the personal-data right: every role at the desk has it. Only the
    # desks that see this world's due callbacks have a case to log.
    "followup:queue_csv": Row(
        get=A("clerk", "head", "assist_head", "stranger", "leader", "callback", "org2"),
        post=A("leader", "callback"),
        either=A("clerk", "head", "assist_head", "stranger", "org2"),
        label="Export the callback queue with full phone numbers, logged (完整导出回访清单)",
    ),
    "followup:queue_xlsx": Row(
        get=A("clerk", "head", "assist_head", "stranger", "leader", "callback", "org2"),
        post=A("leader", "callback"),
        either=A("clerk", "head", "assist_head", "stranger", "org2"),
    ),
    "followup:record": {
        "desk": post_only(
            A("clerk", "leader", "callback"),
            kwargs=lambda w: {"callback_id": w["desk_callback"].pk},
            data=lambda w, actor: {"key": "1", "findings": "已修复，满意", "version": w["desk_callback"].version},
            label="Record a callback (回访记录)",
        ),
        # Planned for the department heads: the lead department's head, not another's.
        "for_heads": post_only(
            A("clerk", "leader", "callback", "head"),
            kwargs=lambda w: {"callback_id": w["head_callback"].pk},
            data=lambda w, actor: {"key": "1", "findings": "满意", "version": w["head_callback"].version},
        ),
    },
    "followup:reveal": post_only(
        A("clerk", "leader", "callback"),
        kwargs=lambda w: {"callback_id": w["desk_callback"].pk},
        label="See the complainant's number on the callback card, logged (回访显示完整号码)",
    ),
    "followup:rating_link": post_only(
        A("clerk", "leader", "callback"),
        kwargs=lambda w: {"callback_id": w["desk_callback"].pk},
        label="Send a rating link (发送评价链接)",
    ),
    "followup:decide": post_only(
        A("head", "leader"),
        kwargs=lambda w: {"callback_id": w["decision_callback"].pk},
        data=lambda w, actor: {"decision": "reopen", "note": "重新核实", "version": w["decision_callback"].version},
        label="Decide on a dissatisfied callback (不满意的决定)",
    ),
    "followup:task_done": post_only(
        A("handler", "head", "leader"),
        kwargs=lambda w: {"task_id": w["callback_task"].pk},
        data=lambda w, actor: {"note": "已更换灯泡"},
        label="Mark a callback's rectification task done (整改完成)",
    ),
    "followup:promised_answer": post_only(
        A("handler", "head", "leader"),
        kwargs=lambda w: {"promise_id": w["promised_answer"].pk},
        data=lambda w, actor: {"answer": "已告知由工程部每月检查", "version": w["promised_answer"].version},
        label="Record the answer promised at a callback (回访预约答复)",
    ),
    # --- the knowledge base: every staff member reads their organisation's, the administrators keep it ---
    "knowledge:index": Row(get=DESK),
    "knowledge:answers": Row(get=DESK),
    "knowledge:entry": Row(get=DESK - {"org2"}, kwargs=lambda w: {"entry_id": w["knowledge_entry"].pk}),
    "knowledge:new": Row(  # the other organisation's administrator writes into their own
        get=A("admin", "org2"),
        post=A("admin", "org2"),
        data=lambda w, actor: {"title": "燃气泄漏处置", "body": "立即通知燃气公司抢修。", "active": "on"},
        label="Add a knowledge base entry (知识库条目)",
    ),
    "knowledge:edit": Row(
        get=A("admin"),
        post=A("admin"),
        kwargs=lambda w: {"entry_id": w["knowledge_entry"].pk},
        data=lambda w, actor: {
            "title": "物业费调整的答复口径",
            "body": "须经业主大会决定并在小区公示。",
            "active": "on",
            "version": _fresh_version(w["knowledge_entry"]),
        },
        label="Edit a knowledge base entry (编辑知识库条目)",
    ),
    "rate:rate": Row(
        get=EVERYONE,
        post=EVERYONE,
        kwargs=lambda w: {"token": w["rating_token"]},
        data=lambda w, actor: {"satisfaction": "satisfied", "comment": "很好"},
    ),
    # --- the public portal (no login: every actor is the public there) ------------------------------
    "portal:index": Row(get=EVERYONE),
    "portal:home": Row(get=EVERYONE, kwargs=_portal_org),
    "portal:privacy": Row(get=EVERYONE, kwargs=_portal_org),
    "portal:submit": Row(get=EVERYONE, post=EVERYONE, kwargs=_portal_org, data=_portal_submission),
    # Without a submission in this browser's session the receipt page sends to the look-up,
    # and there is no receipt to download.
    # Category suggestions while typing: public, read-only, rate-limited.
    "portal:suggest": post_only(EVERYONE, kwargs=_portal_org, data=lambda w, actor: {"text": "路灯不亮"}, writes=False),
    "portal:receipt": Row(get=EVERYONE, kwargs=_portal_org),
    "portal:receipt_pdf": Row(get=NOBODY, kwargs=_portal_org),
    "portal:status": Row(
        get=EVERYONE,
        post=EVERYONE,
        kwargs=_portal_org,
        # A wrong code per actor (the number locks after a few wrong codes): refused on the page.
        data=lambda w, actor: {"number": f"20260101-{ACTORS.index(actor) + 1:05d}", "code": "ABCD2345"},
        writes=False,
    ),
    "portal:case": Row(get=EVERYONE, kwargs=_portal_org),
    # Rating and review need the case held by this browser (its number and query code): no
    # actor here holds one, staff included.
    "portal:rate": post_only(NOBODY, kwargs=_portal_org, data=lambda w, actor: {"satisfaction": "satisfied"}),
    "portal:review": post_only(NOBODY, kwargs=_portal_org, data=lambda w, actor: {"reason": "请求复查"}),
    # A letter to the complainant downloads only in a browser holding its case: nobody here does.
    "portal:letter": Row(get=NOBODY, kwargs=lambda w: {"org": w.org.code, "document_id": w["letter"].pk}),
    "portal:leave": post_only(EVERYONE, kwargs=_portal_org, writes=False),
    "portal:link": Row(get=EVERYONE, kwargs=lambda w: {"token": case_token(w.cases["in_progress"])}),
    # --- the reception (huiyin.reception) -----------------------------------------------------------
    "reception:week": Row(get=RECEPTION_DESK | {"org2"}),
    "reception:day": Row(get=RECEPTION_DESK | {"org2"}),
    "reception:schedule": Row(get=RECEPTION_DESK | {"org2"}),
    "reception:room_add": post_only(
        SCHEDULERS | {"org2"}, data=lambda w, actor: {"name": f"接待室{actor}", "location": "二楼"}, label="添加接待室"
    ),
    "reception:room_edit": post_only(
        SCHEDULERS,
        kwargs=lambda w: {"room_id": w["room"].pk},
        data=lambda w, actor: {
            "name": "信访接待室",
            "location": "市民中心二楼",
            "active": "on",
            "version": w["room"].version,
        },
        label="修改接待室",
    ),
    "reception:hours_add": post_only(
        SCHEDULERS,
        data=lambda w, actor: {
            "room": w["room"].pk,
            "weekdays": ["6"],
            "starts": "09:00",
            "ends": "11:00",
            "slot_minutes": "60",
            "capacity": "2",
            "valid_from": timezone.localdate().isoformat(),
        },
        label="公布接待时间",
    ),
    "reception:hours_end": post_only(
        SCHEDULERS,
        kwargs=lambda w: {"hours_id": w["saturday_hours"].pk},
        data=lambda w, actor: {"last_day": (timezone.localdate() + timedelta(days=30)).isoformat()},
        label="停止接待时间",
    ),
    "reception:hours_edit": Row(
        get=SCHEDULERS,
        post=SCHEDULERS,
        kwargs=lambda w: {"hours_id": w["saturday_hours"].pk},
        data=lambda w, actor: {
            "starts": "09:00",
            "ends": "11:00",
            "slot_minutes": "60",
            "capacity": "2",
            "version": _fresh_version(w["saturday_hours"]),
        },
        label="修改接待时间",
    ),
    "reception:leader_day_add": post_only(
        SCHEDULERS,
        data=lambda w, actor: {
            "leader": w.staff["leader"].pk,
            "room": w["room"].pk,
            "date": w["reception_coming"].isoformat(),
            "starts": "16:00",
            "ends": "17:00",
            "slot_minutes": "30",
            "capacity": "2",
            "topic": "征地拆迁补偿",
            "departments": [w.departments["housing"].pk],
        },
        label="公布领导接待日",
    ),
    "reception:leader_day": Row(get=RECEPTION_DESK, kwargs=lambda w: {"day_id": w["leader_day"].pk}),
    "reception:leader_day_record": post_only(
        SCHEDULERS,
        kwargs=lambda w: {"day_id": w["held_leader_day"].pk},
        data=lambda w, actor: {"summary": "接待 3 批 5 人", "version": w["held_leader_day"].version},
        label="登记领导接待日情况",
    ),
    "reception:leader_day_cancel": post_only(
        SCHEDULERS,
        kwargs=lambda w: {"day_id": w["leader_day"].pk},
        data=lambda w, actor: {"summary": "领导公出", "version": w["leader_day"].version},
        label="取消领导接待日",
    ),
    "reception:joint_add": post_only(
        DECIDE,
        data=lambda w, actor: {
            "case_numbers": w.cases["in_progress"].number,
            "room": w["room"].pk,
            "date": w["reception_coming"].isoformat(),
            "starts": "17:00",
            "ends": "18:00",
            "slot_minutes": "60",
            "capacity": "3",
            "topic": "多部门共同接待",
        },
        label="安排联合接访",
    ),
    "reception:joint": Row(get=RECEPTION_DESK, kwargs=lambda w: {"session_id": w["joint_session"].pk}),
    "reception:joint_invite": post_only(
        REGISTER,
        kwargs=lambda w: {"session_id": w["joint_session"].pk},
        data=lambda w, actor: {"case": w.case("in_progress"), "slot": w["joint_slot_key"]},
        label="为联合接访预约反映人",
    ),
    "reception:joint_record": post_only(
        DECIDE,
        kwargs=lambda w: {"session_id": w["held_joint_session"].pk},
        data=lambda w, actor: {"summary": "三部门共同接待", "version": w["held_joint_session"].version},
        label="登记联合接访情况",
    ),
    "reception:joint_cancel": post_only(
        DECIDE,
        kwargs=lambda w: {"session_id": w["joint_session"].pk},
        data=lambda w, actor: {"summary": "改期", "version": w["joint_session"].version},
        label="取消联合接访",
    ),
    # Another organisation's member names this organisation's period: not one of theirs (400).
    "reception:book": Row(
        get=REGISTER | {"org2"},
        post=REGISTER,
        data=lambda w, actor: {
            "slot": w["slot_key"],
            "name": "李娜",
            "phone": f"1390000{ACTORS.index(actor):04d}",
            "purpose": "咨询拆迁政策",
            "headcount": "1",
            "via": "phone",
        },
        label="预约来访",
    ),
    "reception:appointment": Row(get=RECEPTION_DESK, kwargs=lambda w: {"appointment_id": w["visit"].pk}),
    "reception:cancel": post_only(
        REGISTER,
        kwargs=lambda w: {"appointment_id": w["visit"].pk},
        data=lambda w, actor: {"reason": "来访人来电取消", "version": w["visit"].version},
        label="取消来访预约",
    ),
    "reception:reschedule": post_only(
        REGISTER,
        kwargs=lambda w: {"appointment_id": w["visit"].pk},
        data=lambda w, actor: {"slot": w["other_slot_key"], "version": w["visit"].version},
        label="来访预约改期",
    ),
    "reception:no_show": post_only(
        REGISTER,
        kwargs=lambda w: {"appointment_id": w["past_visit"].pk},
        data=lambda w, actor: {"version": w["past_visit"].version},
        label="登记未到访",
    ),
    "reception:check_in": Row(
        get=REGISTER,
        post=REGISTER,
        kwargs=lambda w: {"appointment_id": w["past_visit"].pk},
        data=lambda w, actor: {
            "id_number": "110105198001010024",
            "name": "张伟",
            "phone": "13812345678",
            "nature": "complaint",
            "text": "小区楼道堆放杂物",
            "headcount": "1",
            "target": "new",
            "new_matter": "on",
            "version": w["past_visit"].version,
        },
        label="到访登记（核验身份、登记案件）",
    ),
    # The public books on the portal (every actor is the public there); the confirmation page
    # needs a booking made in this browser and otherwise sends back to the booking page.
    "reception_portal:book": Row(
        get=EVERYONE,
        post=EVERYONE,
        kwargs=_portal_org,
        data=lambda w, actor: {
            **_portal_booking(actor),
            "slot": w["slot_key"],
        },
    ),
    "reception_portal:done": Row(get=EVERYONE, kwargs=_portal_org),
    # A wrong booking number and code per actor (a number locks after a few wrong codes):
    # refused on the page; holding no booking, nobody can change one here.
    "reception_portal:manage": Row(
        get=EVERYONE,
        post=EVERYONE,
        kwargs=_portal_org,
        data=lambda w, actor: {
            "action": "lookup",
            "code": f"NOSUCH{ACTORS.index(actor):02d}",
            "manage_code": "WRONG1",
        },
        writes=False,
    ),
    # --- surveys and engagement activities ----------------------------------------------------------
    "surveys:index": Row(get=WHOLE_LEDGER | {"org2"}),
    "surveys:create": post_only(
        A("clerk", "leader", "callback", "admin", "org2"),
        data=lambda w, actor: {
            "title": "季度回访调查",
            "starts_on": timezone.localdate().isoformat(),
            "ends_on": (timezone.localdate() + timedelta(days=7)).isoformat(),
            "audience": "全体业主",
            "audience_size": "20",
        },
        label="Create a survey (创建调查)",
    ),
    "surveys:campaign": Row(get=WHOLE_LEDGER, kwargs=lambda w: {"campaign_id": w["campaign"].pk}),
    "surveys:enter": post_only(
        A("clerk", "leader", "callback", "admin"),
        kwargs=lambda w: {"campaign_id": w["campaign"].pk},
        data=lambda w, actor: {"paper_number": "P900", "area_sanitation": "satisfied", "opinion": ""},
        label="Enter a paper questionnaire (录入问卷)",
    ),
    "surveys:invitations": post_only(
        A("clerk", "leader", "callback", "admin"),
        kwargs=lambda w: {"campaign_id": w["campaign"].pk},
        data=lambda w, actor: {"count": "2"},
        label="Issue questionnaire links (生成问卷链接)",
    ),
    "surveys:close": post_only(
        A("clerk", "leader", "callback", "admin"),
        kwargs=lambda w: {"campaign_id": w["campaign"].pk},
        label="Close a survey (结束调查)",
    ),
    "surveys:audience_size": post_only(
        A("clerk", "leader", "callback", "admin"),
        kwargs=lambda w: {"campaign_id": w["campaign"].pk},
        data=lambda w, actor: {"audience_size": "60", "version": _audience_version(w)},
        label="Change the survey's audience size (修改发放份数)",
    ),
    "surveys:item_add": post_only(
        A("leader", "admin"),
        kwargs=lambda w: {"campaign_id": w["campaign"].pk},
        data=lambda w, actor: {
            "problem": "绿化带缺损",
            "measure": "补种",
            "area": "greening",
            "department": str(w.departments["city"].pk),
            "due_on": (timezone.localdate() + timedelta(days=20)).isoformat(),
        },
        label="Add a survey rectification item (下达整改事项)",
    ),
    "surveys:item_done": post_only(
        A("clerk", "leader", "callback", "admin") | LEAD,
        kwargs=lambda w: {"campaign_id": w["campaign"].pk, "item_id": w["item"].pk},
        data=lambda w, actor: {"note": "已增加午间清扫"},
        label="Mark a survey item done (整改事项完成)",
    ),
    "surveys:report_pdf": Row(get=WHOLE_LEDGER, kwargs=lambda w: {"campaign_id": w["campaign"].pk}),
    "surveys:report_xlsx": Row(get=WHOLE_LEDGER, kwargs=lambda w: {"campaign_id": w["campaign"].pk}),
    "surveys:activity_plan": post_only(
        A("clerk", "leader", "callback", "admin", "org2"),
        data=lambda w, actor: {
            "kind": "area_visit",
            "planned_on": timezone.localdate().isoformat(),
            "place": "三号楼",
        },
        label="Plan an engagement activity (活动计划)",
    ),
    "surveys:activity_record": post_only(
        A("clerk", "leader", "callback", "admin"),
        kwargs=lambda w: {"activity_id": w["planned_activity"].pk},
        data=lambda w, actor: {
            "held_on": timezone.localdate().isoformat(),
            "attendance": "15",
            "minutes": "听取意见 5 条",
            "version": w["planned_activity"].version,
        },
        label="Record an activity (活动记录)",
    ),
    # Registering the opinion as a case is registration: the registering roles.
    "surveys:activity_opinion": post_only(
        REGISTER,
        kwargs=lambda w: {"activity_id": w["held_activity"].pk},
        data=lambda w, actor: {"text": "地下车库照明不足", "nature": "suggestion", "name": "王芳"},
        label="Register an activity's opinion as a case (意见转为案件)",
    ),
    "survey:answer": Row(
        get=EVERYONE,
        post=EVERYONE,
        kwargs=lambda w: {"token": w["survey_token"]},
        data=lambda w, actor: {"area_sanitation": "satisfied", "opinion": "满意"},
    ),
    # --- reports (statistics) ------------------------------------------------------------------------
    "reports:dashboard": Row(get=A("leader", "supervisor", "analyst", "head", "assist_head", "stranger", "org2")),
    "reports:reports": Row(
        get=A("leader", "supervisor", "analyst", "org2"),
        post=A("leader", "analyst", "org2"),  # org2: a report of its own organisation
        data=lambda w, actor: {"kind": "month", "on": timezone.localdate().isoformat()},
        label="Generate a periodic report (生成分析报告)",
    ),
    "reports:report": Row(get=A("leader", "supervisor", "analyst"), kwargs=lambda w: {"report_id": w["report"].pk}),
    "reports:progress": Row(get=A("leader", "supervisor", "analyst"), kwargs=lambda w: {"report_id": w["report"].pk}),
    "reports:commentary": post_only(
        A("leader", "analyst"),
        kwargs=lambda w: {"report_id": w["report"].pk},
        data=lambda w, actor: {"commentary": f"{actor} 的分析意见", "version": w["report"].version},
        label="Write a report's commentary (填写分析意见)",
    ),
    "reports:regenerate": post_only(
        A("leader", "analyst"),
        kwargs=lambda w: {"report_id": w["report"].pk},
        label="Generate a report again (重新生成分析报告)",
    ),
    "reports:xlsx": Row(get=A("leader", "supervisor", "analyst"), kwargs=lambda w: {"report_id": w["report"].pk}),
    "reports:pdf": Row(get=A("leader", "supervisor", "analyst"), kwargs=lambda w: {"report_id": w["report"].pk}),
    # --- the front office (visitor log) and guest reception -----------------------------------------
    "frontoffice:visitors": Row(
        get=DESK,
        post=DESK,
        data=lambda w, actor: {"expected_on": timezone.localdate().isoformat(), "name": "孙丽", "purpose": "面试"},
        label="Announce an expected visitor (登记预约访客)",
    ),
    "frontoffice:visitors_print": Row(get=DESK),
    "frontoffice:walk_in": post_only(
        FRONT_DESK,
        data=lambda w, actor: {
            "name": "周涛",
            "purpose": "送样品",
            "host": str(w.staff["handler"].pk),
            "id_type": "resident_id",
            "id_number": "11010519491231002X",
        },
        label="Register a walk-in visitor (临时来访登记)",
    ),
    "frontoffice:visitor": Row(get=FRONT_DESK | {"handler"}, kwargs=_visitor("visitor_expected")),
    "frontoffice:check_in": post_only(
        FRONT_DESK,
        kwargs=_visitor("visitor_expected"),
        data=lambda w, actor: {
            "version": w["visitor_expected"].version,
            "id_type": "resident_id",
            "id_number": "11010519491231002X",
            "badge": "M-1",
        },
        label="Check a visitor in (到访登记)",
    ),
    "frontoffice:check_out": post_only(
        FRONT_DESK,
        kwargs=_visitor("visitor_in"),
        data=lambda w, actor: {"version": _fresh_version(w["visitor_in"])},
        label="Check a visitor out (离开登记)",
    ),
    "frontoffice:visitor_cancel": post_only(
        FRONT_DESK | {"handler"},
        kwargs=_visitor("visitor_expected"),
        data=lambda w, actor: {"version": w["visitor_expected"].version, "reason": "改期"},
        label="Cancel an expected visit (取消来访)",
    ),
    "frontoffice:feedback": post_only(
        FRONT_DESK,
        kwargs=_visitor("visitor_out"),
        data=lambda w, actor: {"overall": "satisfied", "q1": "satisfied"},
        label="Enter a visitor's feedback form (录入访客反馈表)",
    ),
    "frontoffice:visitor_reveal": post_only(
        FRONT_DESK,
        kwargs=_visitor("visitor_expected"),
        label="See a visitor's full personal data, logged (查看访客完整信息)",
    ),
    "frontoffice:receptions": Row(get=RECEPTION_USERS | {"org2"}),
    "frontoffice:reception_new": Row(
        get=RECEPTION_USERS | {"org2"},
        post=RECEPTION_USERS | {"org2"},
        data=lambda w, actor: {
            "purpose": "客户来访",
            "guests": "王五，示范电器公司，经理",
            "starts_on": timezone.localdate().isoformat(),
            "ends_on": timezone.localdate().isoformat(),
            "expected_outcome": "签订年度协议",
            "budget_meals": "300",
            "hosting_department": str(_own_department(w, actor)),
        },
        label="Request a guest reception (接待申请)",
    ),
    "frontoffice:reception": Row(get=RECEPTION_USERS, kwargs=_reception("reception_pending")),
    "frontoffice:decide": post_only(
        A("assist_head"),
        kwargs=_reception("reception_pending"),
        data=lambda w, actor: {"decision": "approved", "version": _fresh_version(w["reception_pending"])},
        label="Approve a guest reception at the due step (接待审批)",
    ),
    "frontoffice:reception_cancel": post_only(
        A("handler", "head"),
        kwargs=_reception("reception_pending"),
        data=lambda w, actor: {"reason": "来宾行程变更", "version": _fresh_version(w["reception_pending"])},
        label="Cancel a guest reception (取消接待)",
    ),
    "frontoffice:arrangement_add": post_only(
        RECEPTION_ORGANIZERS | FRONT_DESK,
        kwargs=_reception("reception_approved"),
        data=lambda w, actor: {"label": "准备宣传资料"},
        label="Add an arrangement (增加接待安排)",
    ),
    "frontoffice:arrangement_done": post_only(
        RECEPTION_ORGANIZERS | FRONT_DESK,
        kwargs=lambda w: {"arrangement_id": w["arrangement"].pk},
        data=lambda w, actor: {"note": "已落实"},
        label="Tick an arrangement (落实接待安排)",
    ),
    "frontoffice:expense_add": post_only(
        RECEPTION_ORGANIZERS,
        kwargs=_reception("reception_approved"),
        data=lambda w, actor: {
            "item": "meals",
            "amount": "50",
            "spent_on": timezone.localdate().isoformat(),
            "description": "茶歇",
            "receipt": upload("receipt.png"),
        },
        label="Record an expense with its receipt (登记接待费用)",
    ),
    "frontoffice:receipt": Row(get=RECEPTION_USERS, kwargs=lambda w: {"expense_id": w["expense"].pk}),
    "frontoffice:overrun_add": post_only(
        RECEPTION_ORGANIZERS,
        kwargs=_reception("reception_approved"),
        data=lambda w, actor: {"item": "gifts", "amount": "100", "reason": "来宾增加"},
        label="Ask for more budget (超预算报批)",
    ),
    "frontoffice:overrun_decide": post_only(
        A("leader"),
        kwargs=lambda w: {"overrun_id": w["overrun"].pk},
        data=lambda w, actor: {"decision": "approved"},
        label="Approve more budget (审批超预算)",
    ),
    "frontoffice:reception_close": post_only(
        RECEPTION_ORGANIZERS,
        kwargs=_reception("reception_approved"),
        data=lambda w, actor: {
            "summary": "接待顺利",
            "feedback": "satisfied",
            "version": _fresh_version(w["reception_approved"]),
        },
        label="Close a guest reception with its summary (接待总结)",
    ),
    "frontoffice:reimbursement_submit": post_only(
        A("handler", "head"),
        kwargs=_reception("reception_closed"),
        data=lambda w, actor: {"version": _fresh_version(w["reception_closed"])},
        label="Submit a reception's expenses for reimbursement (提交报销)",
    ),
    "frontoffice:reimburse": post_only(
        A("stranger"),
        kwargs=_reception("reception_submitted"),
        data=lambda w, actor: {"decision": "reimbursed", "version": _fresh_version(w["reception_submitted"])},
        label="Reimburse (报销)",
    ),
    "frontoffice:costs": Row(get=COST_READERS),
    "frontoffice:costs_export": Row(get=COST_READERS),
    "frontoffice:setup": Row(
        get=A("admin", "org2"),
        post=A("admin", "org2"),
        data=lambda w, actor: {
            "office_department": str(_own_department(w, actor)),
            "finance_department": "",
            "version": _setup_version(w, actor),
        },
        label="Name the administrative office and finance (接待设置)",
    ),
    # --- evaluation ---------------------------------------------------------------------------------
    "evaluation:table": Row(
        get=A("leader", "supervisor", "analyst", "admin", "head", "assist_head", "stranger", "org2")
    ),
    "evaluation:export": Row(
        get=A("leader", "supervisor", "analyst", "admin", "head", "assist_head", "stranger", "org2")
    ),
    "evaluation:export_csv": Row(
        get=A("leader", "supervisor", "analyst", "admin", "head", "assist_head", "stranger", "org2")
    ),
    # --- exports written in the background (core.export_jobs) -----------------------------------------
    # Any desk may queue the masked export of a list it sees (the list's source checks that);
    # an export's pages and file are only for the person who asked (the clerk here).
    "exports:start": post_only(DESK, data=lambda w, actor: {"source": "ledger", "fmt": "csv", "query": ""}),
    "exports:job": Row(get=A("clerk"), kwargs=lambda w: {"job_id": w["export_job"].pk}),
    "exports:progress": Row(get=A("clerk"), kwargs=lambda w: {"job_id": w["export_job"].pk}),
    "exports:download": Row(get=A("clerk"), kwargs=lambda w: {"job_id": w["export_job"].pk}),
    "evaluation:deductions": Row(
        get=A("supervisor", "leader", "admin", "org2"),
        post=A("supervisor", "leader", "admin"),
        data=lambda w, actor: {
            "case_number": w.cases["extension"].number,
            "rule": "escalated_complaint",
            "level": "company_leader",
            "note": "越级到公司领导",
        },
        label="Record an escalation deduction (越级投诉扣分)",
    ),
    # --- triage ---------------------------------------------------------------------------------------
    # Suggestions for the text being typed: whoever registers (org2's in its own organisation).
    # No model is trained in this world: nothing is suggested, so nothing is recorded.
    "triage:suggest": post_only(
        REGISTER | {"org2"},
        data=lambda w, actor: {"text": "小区物业电梯坏了", "intake_token": uuid.uuid4().hex},
        writes=False,
    ),
    # Repeat candidates for the matter being typed: a read, by whoever registers.
    "triage:repeats": post_only(
        REGISTER | {"org2"},
        data=lambda w, actor: {"party_phone": "13800000000", "text": "小区物业电梯坏了", "location": "幸福路1号"},
        writes=False,
    ),
    # Taking a suggestion records it on this organisation's suggestion row (org2's: not found).
    "triage:accept": post_only(REGISTER, data=_triage_accept, label="采用分类建议"),
    # Related cases (关联): the intake desk and the whole-ledger deciders; the lead department's
    # head only where it leads both (these two are not dispatched yet).
    "triage:intake_link": post_only(
        REGISTER,
        data=lambda w, actor: {"intake_token": uuid.uuid4().hex, "case_id": str(w.case("accepted"))},
        label="Mark a repeat candidate to link at intake (登记时关联)",
    ),
    "triage:link": post_only(
        REGISTER,
        kwargs=case("registered"),
        data=lambda w, actor: {"other_number": w.cases["accepted"].number, "reason": "同一事项"},
        label="Link two cases (关联)",
    ),
    "triage:unlink": post_only(
        REGISTER,
        kwargs=lambda w: {"case_id": w.case("linked_a"), "link_id": w["link"].pk},
        label="Take a link away (取消关联)",
    ),
    "triage:hot": Row(get=HOT_READERS, query={"window": "30"}),
}


# --- the URL patterns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    key: str  # the URL name with its namespaces, or the route for an unnamed pattern
    route: str  # the full route
    params: tuple[str, ...]
    named: bool


def url_patterns() -> dict[str, Pattern]:
    """Every URL pattern of the project, walked from the root resolver."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: dict[str, Pattern] = {}

    def walk(resolver: URLResolver, prefix: str, namespace: str | None) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = entry.namespace
                ns = f"{namespace}:{inner}" if namespace and inner else inner or namespace
                walk(entry, prefix + str(entry.pattern), ns)
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                key = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or route or "/"
                regex = entry.pattern.regex
                params = tuple(regex.groupindex)
                found[key] = Pattern(key=key, route=route or "/", params=params, named=bool(entry.name))

    walk(get_resolver(), "", None)
    return found


# --- the Django admin: the platform operator's, nobody else's --------------------------------------------


def _admin_model(key: str):
    """The model an admin URL is about: from its name (admin:<app>_<model>_<view>) or route."""
    from django.contrib import admin

    for model in admin.site._registry:
        app, name = model._meta.app_label, model._meta.model_name
        if key.startswith((f"admin:{app}_{name}_", f"admin/{app}/{name}/")):
            return model
    return None


def _admin_kwargs(pattern: Pattern) -> Callable[[World], dict[str, Any]]:
    def kwargs(w: World) -> dict[str, Any]:
        from django.contrib.contenttypes.models import ContentType

        from huiyin.cases.models import Case

        values: dict[str, Any] = {}
        model = _admin_model(pattern.key)
        for param in pattern.params:
            if param in ("object_id", "id"):
                first = model._default_manager.order_by("pk").first() if model else None
                staff = w.staff["clerk"]
                values[param] = str(
                    staff.pk if pattern.key == "admin:auth_user_password_change" else first.pk if first else 1
                )  # type: ignore[union-attr]
            elif param == "content_type_id":
                values[param] = str(ContentType.objects.get_for_model(Case).pk)
            elif param == "app_label":
                values[param] = "orgs"
            elif param == "pk":  # a TOTP device's admin pages (django-otp): the operator's own device
                from django_otp.plugins.otp_totp.models import TOTPDevice

                device = TOTPDevice.objects.order_by("pk").first()
                values[param] = str(device.pk if device else 1)
            elif param == "url":
                values[param] = "nowhere/"
            else:  # django-rq's admin (with Redis): queue index, job or worker key
                values[param] = "0"
        if pattern.key == "admin:view_on_site":
            values["object_id"] = str(w.case("in_progress"))
        return values

    return kwargs


# --- the organisation's own administration (人员与部门) and the service status ---------------

ORG_ADMIN = A("admin", "org2")  # each organisation's administrator, in their own organisation
STATUS_READERS = ORG_ADMIN | {"operator"}  # counts and task names only: any administrator and the operator


def _document_template_version(w: World, actor: str, kind: str) -> str:
    from huiyin.handling.documents import template_fingerprint

    person = w.staff[actor]
    return template_fingerprint(person.organization_id if person and person.organization_id else w.org.pk, kind)


def _policy_version(w: World, actor: str) -> str:
    """The running policy's version as the actor's own organisation's edit page offers it."""
    from huiyin.orgs.models import Organization
    from huiyin.policy.services import current_policy, running_fingerprint

    person = w.staff[actor]
    org = Organization.objects.get(pk=person.organization_id) if person and person.organization_id else w.org
    return running_fingerprint(current_policy(org))


def _template_version(w: World, actor: str, *key: str) -> str:
    """The message template's version as the actor's own organisation's page offers it."""
    from huiyin.notifications.rendering import template_fingerprint

    person = w.staff[actor]
    return template_fingerprint(person.organization_id if person and person.organization_id else w.org.pk, *key)


def _staff_id(w: World) -> dict[str, Any]:
    person = w.staff["analyst"]
    assert person is not None
    return {"staff_id": person.pk}


def _new_staff(w: World, actor: str) -> dict[str, Any]:
    return {
        "username": f"new-{actor}-{uuid.uuid4().hex[:6]}",
        "full_name": "新同事",
        "department": w.departments["city"].pk,
        "role": ["handler"],
        "password_mode": "generate",
        "must_change_password": "on",
    }


def _api_key_prefix(w: World) -> dict[str, Any]:
    """A fresh key of the first organisation's clerk, for the revoke row."""
    from huiyin.api.services import key_create  # noqa: PLC0415 - the app loads after the matrix module

    admin = w.staff["admin"]
    assert admin is not None and admin.organization is not None
    key, _plain = key_create(
        organization=admin.organization, name="matrix", scopes=["read"], action_names=[], staff=w.staff["clerk"]
    )
    return {"prefix": key.prefix}


def _webhook_id(w: World) -> dict[str, Any]:
    """A receiver of the first organisation, for the stop / resume row."""
    from huiyin.api.services import webhook_create  # noqa: PLC0415 - the app loads after the matrix module

    admin = w.staff["admin"]
    assert admin is not None and admin.organization is not None
    hook, _secret = webhook_create(
        organization=admin.organization, url="https://receiver.example.org/hook", event_types=[]
    )
    return {"webhook_id": hook.pk}


def _delivery_id(w: World) -> dict[str, Any]:
    """A delivery of the first organisation's registration event, for the redelivery row."""
    from huiyin.api.models import WebhookDelivery  # noqa: PLC0415 - the app loads after the matrix module

    hook_id = _webhook_id(w)["webhook_id"]
    event = w.cases["in_progress"].events.order_by("id").first()
    delivery = WebhookDelivery.objects.create(webhook_id=hook_id, event=event, event_type="registered")
    return {"delivery_id": delivery.pk}


ADMINISTRATION: dict[str, Entry] = {
    # Webhooks (数据推送): receivers, the delivery log, redelivery — each administrator in their own
    # organisation; another organisation's receiver or delivery is not there (404).
    "webhooks:list": Row(
        get=ORG_ADMIN,
        post=ORG_ADMIN,
        data=lambda w, actor: {"url": "https://example.invalid/hook", "event_types": ["registered"]},
    ),
    "webhooks:toggle": post_only(A("admin"), kwargs=_webhook_id, data=lambda w, actor: {"active": "0"}),
    "webhooks:deliveries": Row(get=ORG_ADMIN),
    "webhooks:redeliver": post_only(A("admin"), kwargs=_delivery_id),
    # API keys (接口密钥): org2's administrator naming this organisation's clerk gets a field error.
    "apikeys:list": Row(
        get=ORG_ADMIN,
        post=A("admin"),
        either=A("org2"),
        data=lambda w, actor: {"name": "省平台", "staff": w.staff["clerk"].pk, "scopes": ["read"], "days": 30},  # type: ignore[union-attr]
    ),
    "apikeys:revoke": post_only(A("admin"), kwargs=_api_key_prefix),
    # Lists and creation forms: each administrator in their own organisation (org2's sees org2's).
    "administration:staff": Row(get=ORG_ADMIN),
    # org2's administrator posting this organisation's department is refused with a field error.
    "administration:staff_create": Row(
        get=ORG_ADMIN, post=A("admin"), either=A("org2"), data=_new_staff, label="新建工作人员账号"
    ),
    "administration:staff_detail": Row(
        get=A("admin"),
        post=A("admin"),
        kwargs=_staff_id,
        data=lambda w, actor: {
            "full_name": f"分析员{actor}",
            "department": "",
            "role": ["analyst"],
            "version": _fresh_version(w.staff["analyst"]),
        },
        label="修改工作人员信息与角色",
    ),
    "administration:staff_deactivate": post_only(A("admin"), kwargs=_staff_id, label="停用工作人员账号"),
    # Reactivating an active account changes nothing: only the status codes are held.
    "administration:staff_reactivate": post_only(A("admin"), kwargs=_staff_id, writes=False),
    "administration:staff_reset_password": post_only(A("admin"), kwargs=_staff_id, label="重置工作人员密码"),
    "administration:departments": Row(
        get=ORG_ADMIN,
        post=ORG_ADMIN,
        data=lambda w, actor: {"name": f"新部门{actor}", "parent": "", "handles_cases": "on", "sort_order": 0},
        label="新建部门",
    ),
    "administration:department_detail": Row(
        get=A("admin"),
        post=A("admin"),
        kwargs=lambda w: {"department_id": w.departments["traffic"].pk},
        data=lambda w, actor: {
            "name": f"交通科{actor}",
            "parent": "",
            "handles_cases": "on",
            "sort_order": 1,
            "version": _fresh_version(w.departments["traffic"]),
        },
        label="修改部门",
    ),
    # The traffic department has staff: deleting it is refused for everyone, with a message.
    "administration:department_delete": post_only(
        NOBODY, either=A("admin"), kwargs=lambda w: {"department_id": w.departments["traffic"].pk}, writes=False
    ),
    "administration:categories": Row(get=ORG_ADMIN),
    "administration:category_tags": post_only(
        A("admin"),
        kwargs=lambda w: {"category_id": w.things["category"].pk},
        data=lambda w, actor: {"tags": f"tag_{actor}", "version": _fresh_version(w.things["category"])},
        label="修改分类标签",
    ),
    "administration:audit": Row(get=ORG_ADMIN),
    # Everyone's own password: the page for every signed-in person; the change itself is
    # tested in tests/administration (a wrong current password changes nothing here).
    "account:password": Row(
        get=SIGNED_IN,
        post=NOBODY,
        either=SIGNED_IN,
        data=lambda w, actor: {"old_password": "wrong", "new_password1": "x", "new_password2": "x"},
        writes=False,
    ),
    # Message templates and switches: each administrator in their own organisation.
    "notifications:templates": Row(get=ORG_ADMIN),
    "notifications:template_edit": Row(
        get=ORG_ADMIN,
        post=ORG_ADMIN,
        kwargs=lambda w: {"purpose": "reply", "medium": "sms", "language": "zh-hans"},
        data=lambda w, actor: {
            "subject": "",
            "body": f"【{{{{ org }}}}】{actor}：{{{{ number }}}}已答复 {{{{ link }}}}",
            "version": _template_version(w, actor, "reply", "sms", "zh-hans"),
        },
        label="修改通知模板",
    ),
    "notifications:switch": post_only(
        ORG_ADMIN,
        kwargs=lambda w: {"purpose": "receipt", "medium": "sms"},
        data=lambda w, actor: {"enabled": "0"},
        label="开关通知",
    ),
    "notifications:resend": post_only(
        A("admin"), kwargs=lambda w: {"message_id": w["failed_message"].pk}, label="重新发送失败的通知"
    ),
    # The routing model: each administrator in their own organisation. Retraining is a task queued
    # on commit; rolling back with no earlier model is refused with a message.
    "triage:models": Row(get=ORG_ADMIN),
    "triage:retrain": post_only(ORG_ADMIN, writes=False),
    "triage:rollback": post_only(NOBODY, either=ORG_ADMIN, writes=False),
    "ops:status": Row(get=STATUS_READERS),
    # An unknown task id: nobody retries anything, nobody gets a 5xx.
    "ops:retry_task": post_only(
        NOBODY, either=STATUS_READERS, kwargs=lambda w: {"task_id": str(uuid.uuid4())}, writes=False
    ),
}

# Admin pages the operator cannot use without more than a URL: the autocomplete needs its
# query, view-on-site needs a model with a public page, the catch-all is a 404.
ADMIN_NOT_FOR_ANYONE = ("admin:autocomplete", "admin:view_on_site")


def admin_entries(patterns: dict[str, Pattern]) -> dict[str, Entry]:
    rows: dict[str, Entry] = {}
    for key, pattern in patterns.items():
        if not (key.startswith("admin:") or pattern.route.startswith("admin/")):
            continue
        allowed = A("operator")
        if key in ADMIN_NOT_FOR_ANYONE or pattern.params == ("url",):
            allowed = NOBODY
        if key == "admin:login":
            rows[key] = Row(get=EVERYONE, post=EVERYONE, writes=False)
        elif key == "admin:logout":  # sends a non-operator to the admin index, which refuses them
            rows[key] = Row(get=None, post=NOBODY, either=EVERYONE, writes=False)
        else:
            # An empty POST: the operator gets a form again, a 403 (read-only models) or a 405;
            # everyone else the admin's login page.
            rows[key] = Row(get=allowed, post=NOBODY, either=A("operator"), kwargs=_admin_kwargs(pattern), writes=False)
    return rows
