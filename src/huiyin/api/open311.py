"""Open311 GeoReport v2 (/open311/v2/): discovery, services, service definitions, POST and GET
requests, the token of a deferred request, in JSON and XML as the specification writes them
(http://wiki.open311.org/GeoReport_v2).

A service is a category (``service_code`` = its id), a service request is a case
(``service_request_id`` = its number). Categories carry no form fields of their own, so every
service offers the same attributes: the intake form's fields GeoReport has no parameter for
(the matter's nature, its urgency, a title — ``ATTRIBUTES``); a POST sends them as
``attribute[code]=value``. A request is posted with an API key (``api_key``, the REST API's
keys, scope ``register``) and goes through the same ``case_register`` as every other way in;
with ``HUIYIN_OPEN311_DEFERRED`` on, every service is of type ``batch``: the POST is checked,
answered with a token, and registered by the task queue (``GET tokens/<token>`` gives the
number once it exists). Discovery, services, definitions and tokens are public for the
organisation named by ``jurisdiction_id`` (its code; may be left out where there is one).

GET requests needs no key (as the specification says), and then answers a public filter of
each request — its number, status, service, dates and the department answering — without
the description, the address or anything else a person wrote; a key with scope ``read``
gets the full rows of the cases it may read. Errors are the specification's array:
``[{"code": 400, "description": "..."}]``. An empty optional argument counts as absent."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions

from huiyin.access.network import client_ip
from huiyin.cases import services
from huiyin.cases.inputs import IntakeInput, PartyInput
from huiyin.cases.models import Case, Category, Channel, Nature, Urgency
from huiyin.cases.selectors import cases_for
from huiyin.cases.validation import validate_intake
from huiyin.cases.workflow import CaseState
from huiyin.core import limits
from huiyin.core.errors import ApplicationError, NotFound, PermissionDeniedError
from huiyin.orgs.actors import Actor, ExternalActor, system_actor
from huiyin.orgs.models import Organization

from . import selectors
from .auth import parse_rate, resolve_key
from .models import ApiKey, Open311Submission, Scope
from .services import secret_hash

SPEC = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"json": "application/json", "xml": "text/xml"}
CLOSED_LIKE = {CaseState.CLOSED, CaseState.ARCHIVED}
XML_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}
REQUESTS_LIMIT = 1000  # the specification's default: 90 days or 1000 requests, whichever is smaller
WINDOW = timedelta(days=90)
DESCRIPTION_MAX = 4000  # "free form text limited to 4,000 characters"
ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]{1,40})\](\[\])?$")


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.http_status, self.description = status, description


def _when(moment: datetime | None) -> str | None:
    """W3C datetime with the offset: 2010-04-14T06:37:38-08:00."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


# Characters XML 1.0 cannot carry at all, escaped or not (a parser refuses the document):
# the C0 controls but tab, newline and carriage return, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(_NOT_XML.sub("", str(value)))


def _xml(root: str, item: str | None, rows: Iterable[dict[str, Any]] | dict[str, Any]) -> str:
    def element(name: str, value: Any) -> str:
        if isinstance(value, list):
            child = XML_ITEMS.get(name, "item")
            return f"<{name}>" + "".join(element(child, v) for v in value) + f"</{name}>"
        if isinstance(value, dict):
            return f"<{name}>" + "".join(element(k, v) for k, v in value.items()) + f"</{name}>"
        return f"<{name}>{_xml_value(value)}</{name}>"

    if isinstance(rows, dict):
        body = "".join(element(k, v) for k, v in rows.items())
    else:
        body = "".join(element(item or "item", row) for row in rows)
    return f'<?xml version="1.0" encoding="utf-8"?><{root}>{body}</{root}>'


def _answer(fmt: str, root: str, item: str | None, data: Any, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(_xml(root, item, data), status=status, content_type="text/xml; charset=utf-8")
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def error_answer(fmt: str, status: int, description: str) -> HttpResponse:
    return _answer(fmt, "errors", "error", [{"code": status, "description": description}], status=status)


def _params(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else request.GET


def _arg(request: HttpRequest, name: str, limit: int = 200) -> str:
    """An optional argument: empty is the same as absent; longer than ``limit`` is refused
    (never cut: a shortened e-mail address or phone number is someone else's)."""
    value = _params(request).get(name, "").strip()
    if len(value) > limit:
        raise Open311Error(400, _("%(name)s 最多 %(max)d 个字符。") % {"name": name, "max": limit})
    return value


def _organization(request: HttpRequest, key: ApiKey | None) -> Organization:
    jurisdiction = _arg(request, "jurisdiction_id", 40)
    if key is not None:
        if jurisdiction and jurisdiction != key.organization.code:
            raise Open311Error(404, _("jurisdiction_id 与接口密钥所属单位不符。"))
        return key.organization
    if jurisdiction:
        org = Organization.objects.filter(code=jurisdiction).first()
        if org is None:
            raise Open311Error(404, _("找不到该 jurisdiction_id。"))
        return org
    orgs = list(Organization.objects.order_by("id")[:2])
    if len(orgs) != 1:
        raise Open311Error(400, _("请提供 jurisdiction_id。"))
    return orgs[0]


def _key(request: HttpRequest, scope: str, *, required: bool = True) -> tuple[Actor, ApiKey] | None:
    token = _arg(request, "api_key")
    if not token:
        if required:
            raise Open311Error(403, _("请提供 api_key。"))
        return None
    try:
        actor, key = resolve_key(token)
    except exceptions.AuthenticationFailed as exc:
        raise Open311Error(403, str(exc.detail)) from exc
    if not key.allows(scope):
        raise Open311Error(403, _("该接口密钥没有“%(scope)s”权限范围。") % {"scope": scope})
    return actor, key


def deferred() -> bool:
    return bool(getattr(settings, "HUIYIN_OPEN311_DEFERRED", False))


# --- services and their attributes ----------------------------------------------------------------


def _values(choices: Iterable[tuple[str, Any]]) -> list[dict[str, str]]:
    return [{"key": str(value), "name": str(label)} for value, label in choices]


def attributes() -> list[dict[str, Any]]:
    """The attributes of every service: what the intake form asks that GeoReport has no
    parameter for. Name, phone, e-mail, place and description are GeoReport's own."""
    return [
        {
            "variable": True,
            "code": "nature",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("不填为“投诉”。"),
            "order": 1,
            "description": _("诉求性质"),
            "values": _values(Nature.choices),
        },
        {
            "variable": True,
            "code": "urgency",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("不填为“一般”。"),
            "order": 2,
            "description": _("紧急程度"),
            "values": _values(Urgency.choices),
        },
        {
            "variable": True,
            "code": "title",
            "datatype": "string",
            "required": False,
            "datatype_description": _("最多 120 字，不填则取内容开头。"),
            "order": 3,
            "description": _("标题"),
            "values": [],
        },
    ]


def _service(category: Category) -> dict[str, Any]:
    return {
        "service_code": str(category.pk),
        "service_name": category.name,
        "description": category.full_name or category.name,
        "metadata": True,  # every service has the attributes above
        "type": "batch" if deferred() else "realtime",
        "keywords": category.tags.replace(" ", ", ") if category.tags else "",
        "group": category.full_name.split("/")[0] if category.full_name else category.name,
    }


def _attribute_values(request: HttpRequest) -> dict[str, list[str]]:
    """``attribute[code]=value`` and, for a multivaluelist, ``attribute[code][]=value``."""
    found: dict[str, list[str]] = {}
    for name in request.POST:
        match = ATTRIBUTE_KEY.match(name)
        if match is None:
            if name.startswith("attribute"):
                raise Open311Error(400, _("属性参数格式应为 attribute[代码]=值：%(name)s") % {"name": name[:60]})
            continue
        values = [v.strip() for v in request.POST.getlist(name)]
        found.setdefault(match.group(1), []).extend(v for v in values if v)
    defined = {a["code"]: a for a in attributes()}
    chosen: dict[str, list[str]] = {}
    for code, values in found.items():
        attribute = defined.get(code)
        if attribute is None:
            raise Open311Error(400, _("未定义的属性：%(code)s") % {"code": code})
        if not values:
            continue
        if attribute["datatype"] != "multivaluelist" and len(values) > 1:
            raise Open311Error(400, _("属性 %(code)s 只能有一个值。") % {"code": code})
        keys = {v["key"] for v in attribute["values"]}
        wrong = [v for v in values if keys and v not in keys]
        if wrong:
            raise Open311Error(400, _("属性 %(code)s 的值无效：%(value)s") % {"code": code, "value": wrong[0][:40]})
        chosen[code] = values
    for code, attribute in defined.items():
        if attribute["required"] and code not in chosen:
            raise Open311Error(400, _("缺少必填属性：%(code)s") % {"code": code})
    return chosen


# --- service requests ---------------------------------------------------------------------------------


def _full_row(case: Case) -> dict[str, Any]:
    return {
        **_public_row(case),
        "description": case.text,
        "address": case.location or None,
    }


def _public_row(case: Case) -> dict[str, Any]:
    """What anyone may read: no description, no address, nothing a person wrote."""
    return {
        "service_request_id": case.number,
        "status": "closed" if case.state in CLOSED_LIKE else "open",
        "status_notes": str(case.get_state_display()),
        "service_name": case.category.name if case.category else None,
        "service_code": str(case.category_id) if case.category_id else None,
        "description": None,
        "agency_responsible": case.lead_department.name if case.lead_department else None,
        "service_notice": None,
        "requested_datetime": _when(case.received_at),
        "updated_datetime": _when(case.closed_at if case.state in CLOSED_LIKE and case.closed_at else case.updated_at),
        "expected_datetime": _when(case.promised_due_at),
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def _parse_moment(raw: str, name: str) -> datetime:
    try:
        moment = parse_datetime(raw[:40])
    except ValueError:
        moment = None
    if moment is None or timezone.is_naive(moment):
        raise Open311Error(400, _("%(name)s 必须是带时区的 W3C 日期时间，如 2010-01-01T00:00:00Z。") % {"name": name})
    return moment


def _requests_queryset(request: HttpRequest) -> tuple[QuerySet[Case], bool]:
    """The cases asked about and whether their full rows may be shown (a key with ``read``)."""
    found = _key(request, Scope.READ, required=False)
    if found is None:
        org = _organization(request, None)
        return Case.objects.filter(organization=org), False
    actor, key = found
    _organization(request, key)
    return selectors.key_scope(cases_for(actor), actor, key), True


def _filtered(request: HttpRequest, qs: QuerySet[Case]) -> QuerySet[Case]:
    numbers = _arg(request, "service_request_id", 4000)
    if numbers:  # overrides all other arguments
        return qs.filter(number__in=[n.strip() for n in numbers.split(",")[:100] if n.strip()])
    codes = _arg(request, "service_code", 2000)
    if codes:
        ids = [int(c) for c in (c.strip() for c in codes.split(",")[:100]) if c.isdigit() and len(c) < 18]
        qs = qs.filter(category_id__in=ids)
    start_raw, end_raw = _arg(request, "start_date", 40), _arg(request, "end_date", 40)
    start = _parse_moment(start_raw, "start_date") if start_raw else None
    end = _parse_moment(end_raw, "end_date") if end_raw else None
    end = end or (start + WINDOW if start else timezone.now())
    start = start or end - WINDOW
    if end < start:
        raise Open311Error(400, _("end_date 不能早于 start_date。"))
    if end - start > WINDOW:
        raise Open311Error(400, _("start_date 到 end_date 不能超过 90 天。"))
    qs = qs.filter(received_at__gte=start, received_at__lte=end)
    statuses = {s.strip() for s in _arg(request, "status").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status 只能是 open 或 closed（可用逗号分隔）。"))
    if statuses == {"open"}:
        qs = qs.exclude(state__in=CLOSED_LIKE)
    elif statuses == {"closed"}:
        qs = qs.filter(state__in=CLOSED_LIKE)
    return qs


def _rows(qs: QuerySet[Case], full: bool) -> list[dict[str, Any]]:
    rows = qs.select_related("category", "lead_department").order_by("-received_at", "-id")[:REQUESTS_LIMIT]
    return [_full_row(c) if full else _public_row(c) for c in rows]


def _intake(request: HttpRequest, category: Category) -> IntakeInput:
    """The POST's arguments as the intake every other way in fills (refused with 400 when incomplete)."""
    lat, long = _arg(request, "lat", 30), _arg(request, "long", 30)
    address, address_id = _arg(request, "address_string", 150), _arg(request, "address_id", 60)
    if bool(lat) != bool(long):
        raise Open311Error(400, _("lat 与 long 须同时提供。"))
    if lat:
        try:
            latitude, longitude = float(lat), float(long)
        except ValueError:
            latitude, longitude = 999.0, 999.0
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise Open311Error(400, _("lat、long 必须是 WGS84 经纬度。"))
    if not (lat or address or address_id):
        raise Open311Error(400, _("请提供位置：lat 与 long、address_string 或 address_id 之一。"))
    description = request.POST.get("description", "")
    if len(description) > DESCRIPTION_MAX:
        raise Open311Error(400, _("description 最多 %(max)s 字。") % {"max": DESCRIPTION_MAX})
    place = " ".join(p for p in (address, f"[{address_id}]" if address_id else "") if p)
    if lat:
        place = f"{place} ({lat}, {long})".strip()
    media = _arg(request, "media_url", 500)
    media_label = _("图片链接")
    text = f"{description}\n{media_label}：{media}" if media and description.strip() else description
    chosen = _attribute_values(request)
    name = f"{_arg(request, 'last_name', 30)}{_arg(request, 'first_name', 30)}"
    phone = _arg(request, "phone", 30)
    return IntakeInput(
        channel=Channel.ONLINE,
        nature=chosen.get("nature", [Nature.COMPLAINT])[0],
        urgency=chosen.get("urgency", [Urgency.NORMAL])[0],
        title=chosen.get("title", [""])[0],
        text=text,
        party=PartyInput(name=name, phone=phone, email=_arg(request, "email", 120), anonymous=not (name or phone)),
        category_id=category.pk,
        location=place,
    )


def _rate_left(request: HttpRequest) -> int | None:
    """Counts the request: None while within its rate, else the seconds until the window ends.
    With an ``api_key``, the key's rate (``HUIYIN_API_RATE``, the REST API's); without one,
    the caller's address (``open311_ip``): the public list can be read, not harvested."""
    token = _arg(request, "api_key")
    if token:
        limit = parse_rate(str(settings.HUIYIN_API_RATE))
        within = limits.count_in("open311_key", secret_hash(token)[:32], limit)[1]
        return None if within else limits.window_left(limit)
    if limits.hit("open311_ip", client_ip(request) or "unknown"):
        return None
    return limits.retry_after("open311_ip")


def _view(handler: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
        if fmt not in FORMATS:
            return error_answer("json", 404, _("不支持的格式。"))
        try:
            wait = _rate_left(request)
        except Open311Error as exc:
            return error_answer(fmt, exc.http_status, exc.description)
        if wait is not None:
            answer = error_answer(fmt, 429, _("请求过于频繁，请 %(s)d 秒后再试。") % {"s": max(1, wait)})
            answer["Retry-After"] = str(max(1, wait))
            return answer
        try:
            return handler(request, fmt, **kwargs)
        except Open311Error as exc:
            return error_answer(fmt, exc.http_status, exc.description)
        except ApplicationError as exc:
            return error_answer(fmt, _status(exc), _described(exc))

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return csrf_exempt(view)


def _status(exc: ApplicationError) -> int:
    return 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, PermissionDeniedError) else 400


def _described(exc: ApplicationError) -> str:
    fields = exc.field_errors()
    return "；".join(f"{k}: {' '.join(v)}" for k, v in fields.items()) if fields else str(exc.message)


def _only(request: HttpRequest, *methods: str) -> None:
    if request.method not in methods:
        raise Open311Error(405, _("不支持该请求方法。"))


@_view
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    _only(request, "GET")
    base = request.build_absolute_uri(reverse("open311:services", kwargs={"fmt": fmt})).rsplit("/", 1)[0] + "/"
    changeset = _when(timezone.now().replace(hour=0, minute=0, second=0, microsecond=0))
    data = {
        "changeset": changeset,
        "contact": "",
        "key_service": "",
        "endpoints": [
            {
                "specification": SPEC,
                "url": base,
                "changeset": changeset,
                "type": "production",
                "formats": list(FORMATS.values()),
            }
        ],
    }
    return _answer(fmt, "discovery", None, data)


@_view
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    _only(request, "GET")
    org = _organization(request, None)
    categories = Category.objects.filter(organization=org).order_by("path", "id")
    return _answer(fmt, "services", "service", [_service(c) for c in categories])


def _category(org: Organization, service_code: str) -> Category:
    category = None
    if service_code.isdigit() and len(service_code) < 18:
        category = Category.objects.filter(organization=org, pk=int(service_code)).first()
    if category is None:
        raise Open311Error(404, _("找不到该 service_code。"))
    return category


@_view
def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    _only(request, "GET")
    category = _category(_organization(request, None), service_code)
    return _answer(fmt, "service_definition", None, {"service_code": str(category.pk), "attributes": attributes()})


@_view
def service_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    _only(request, "GET", "POST")
    if request.method == "GET":
        qs, full = _requests_queryset(request)
        return _answer(fmt, "service_requests", "request", _rows(_filtered(request, qs), full))
    found = _key(request, Scope.REGISTER)
    assert found is not None  # required
    actor, key = found
    org = _organization(request, key)
    code = _arg(request, "service_code", 40)
    if not code:
        raise Open311Error(400, _("请提供 service_code。"))
    data = _intake(request, _category(org, code))
    if deferred() and isinstance(actor, ExternalActor):
        validate_intake(data, organization_id=org.pk)  # refused now rather than after the token
        submission = Open311Submission.objects.create(
            organization=org,
            system=actor.system,
            token=secrets.token_urlsafe(16),
            payload=json.dumps(asdict(data), ensure_ascii=False),
        )
        transaction.on_commit(partial(_queue_submission, submission.pk))
        row: dict[str, Any] = {"token": submission.token, "service_notice": None, "account_id": None}
    else:
        case, _code = services.case_register(actor=actor, data=data)
        row = {"service_request_id": case.number, "service_notice": None, "account_id": None}
    return _answer(fmt, "service_requests", "request", [row], status=201)


@_view
def service_request(request: HttpRequest, fmt: str, service_request_id: str) -> HttpResponse:
    _only(request, "GET")
    qs, full = _requests_queryset(request)
    case = qs.filter(number=service_request_id[:40]).select_related("category", "lead_department").first()
    if case is None:
        raise Open311Error(404, _("找不到该 service_request_id。"))
    return _answer(fmt, "service_requests", "request", [_full_row(case) if full else _public_row(case)])


@_view
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    """The case number a deferred POST became (empty while the queue has not registered it)."""
    _only(request, "GET")
    org = _organization(request, None) if _arg(request, "jurisdiction_id") else None
    submission = Open311Submission.objects.select_related("case").filter(token=token[:40]).first() if token else None
    if submission is None or (org is not None and submission.organization_id != org.pk):
        raise Open311Error(404, _("找不到该 token。"))
    if submission.refusal:
        raise Open311Error(400, submission.refusal)
    number = submission.case.number if submission.case else None
    return _answer(fmt, "service_requests", "request", [{"service_request_id": number, "token": submission.token}])


# --- the deferred registration (the task queue) -------------------------------------------------------


def _queue_submission(submission_id: int) -> None:
    from .tasks import open311_register_task  # noqa: PLC0415 - the task module imports this one

    open311_register_task.enqueue(submission_id)


def register_submission(submission_id: int) -> Open311Submission | None:
    """Register a deferred request once: the row is locked, a done one is left as it is."""
    with transaction.atomic():
        submission = (
            Open311Submission.objects.select_for_update().select_related("system").filter(pk=submission_id).first()
        )
        if submission is None or submission.done_at is not None:
            return submission
        raw = json.loads(submission.payload or "{}")
        party = PartyInput(**raw.pop("party", {}))
        raw.pop("representatives", None)
        data = IntakeInput(**{**raw, "party": party})
        try:
            with transaction.atomic():
                case, _code = services.case_register(actor=system_actor(submission.system), data=data)
        except ApplicationError as exc:
            submission.refusal = _described(exc)[:500]
        else:
            submission.case = case
        submission.payload = ""
        submission.done_at = timezone.now()
        submission.save(update_fields=["case", "refusal", "payload", "done_at"])
    return submission
