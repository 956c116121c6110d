"""Open311 GeoReport v2 (/open311/v2/): discovery, services, service definitions, POST and GET
requests, in JSON and XML as the specification writes them (http://wiki.open311.org/GeoReport_v2).

A service is a category (``service_code`` = its id), a service request is a case
(``service_request_id`` = its number). Requests are posted and read with an API key
(``api_key``, the REST API's keys, scope ``register`` / ``read``) and go through the same
``case_register`` as every other way in; discovery and the service list are public for the
organisation named by ``jurisdiction_id`` (its code; may be left out where there is one).
Errors are the specification's array: ``[{"code": 400, "description": "..."}]``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions

from huiyin.cases import services
from huiyin.cases.inputs import IntakeInput, PartyInput
from huiyin.cases.models import Case, Category, Channel, Nature
from huiyin.cases.selectors import cases_for
from huiyin.cases.workflow import CaseState
from huiyin.core.errors import ApplicationError, NotFound
from huiyin.orgs.actors import Actor
from huiyin.orgs.models import Organization

from . import selectors
from .auth import resolve_key
from .models import ApiKey, Scope

SPEC = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"json": "application/json", "xml": "text/xml"}
CLOSED_LIKE = {CaseState.CLOSED, CaseState.ARCHIVED}
XML_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}
REQUESTS_LIMIT = 1000  # the spec's suggested default page (90 days or 1000 requests)


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.http_status, self.description = status, description


def _when(moment: datetime | None) -> str | None:
    """W3C datetime with the offset: 2010-04-14T06:37:38-08:00."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def _xml_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


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


def _error(fmt: str, status: int, description: str) -> HttpResponse:
    return _answer(fmt, "errors", "error", [{"code": status, "description": description}], status=status)


def _organization(request: HttpRequest, key: ApiKey | None) -> Organization:
    params = request.POST if request.method == "POST" else request.GET
    jurisdiction = params.get("jurisdiction_id", "")[:40]
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


def _key(request: HttpRequest, scope: str) -> tuple[Actor, ApiKey]:
    params = request.POST if request.method == "POST" else request.GET
    token = params.get("api_key", "")[:200]
    if not token:
        raise Open311Error(403, _("请提供 api_key。"))
    try:
        actor, key = resolve_key(token)
    except exceptions.AuthenticationFailed as exc:
        raise Open311Error(403, str(exc.detail)) from exc
    if not key.allows(scope):
        raise Open311Error(403, _("该接口密钥没有“%(scope)s”权限范围。") % {"scope": scope})
    return actor, key


def _service(category: Category) -> dict[str, Any]:
    return {
        "service_code": str(category.pk),
        "service_name": category.name,
        "description": category.full_name or category.name,
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": category.full_name.split("/")[0] if category.full_name else "",
    }


def _request_row(case: Case) -> dict[str, Any]:
    status = "closed" if case.state in CLOSED_LIKE else "open"
    return {
        "service_request_id": case.number,
        "status": status,
        "status_notes": str(case.get_state_display()),
        "service_name": case.category.name if case.category else "",
        "service_code": str(case.category_id) if case.category_id else "",
        "description": case.text,
        "agency_responsible": case.lead_department.name if case.lead_department else "",
        "service_notice": "",
        "requested_datetime": _when(case.received_at),
        "updated_datetime": _when(case.updated_at),
        "expected_datetime": _when(case.promised_due_at),
        "address": case.location,
        "address_id": "",
        "zipcode": "",
        "lat": "",
        "long": "",
        "media_url": "",
    }


def _view(handler: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
        if fmt not in FORMATS:
            return _error("json", 404, _("不支持的格式。"))
        try:
            return handler(request, fmt, **kwargs)
        except Open311Error as exc:
            return _error(fmt, exc.http_status, exc.description)
        except ApplicationError as exc:
            status = 404 if isinstance(exc, NotFound) else 403 if exc.code == "permission_denied" else 400
            fields = exc.field_errors()
            text = "；".join(f"{k}: {' '.join(v)}" for k, v in fields.items()) if exc.field else str(exc.message)
            return _error(fmt, status, text)

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return csrf_exempt(view)


@_view
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method != "GET":
        raise Open311Error(405, _("不支持该请求方法。"))
    base = request.build_absolute_uri(reverse("open311:services", kwargs={"fmt": fmt})).rsplit("/", 1)[0] + "/"
    data = {
        "changeset": _when(timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)),
        "contact": "",
        "key_service": "",
        "endpoints": [
            {
                "specification": SPEC,
                "url": base,
                "changeset": _when(timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)),
                "type": "production",
                "formats": list(FORMATS.values()),
            }
        ],
    }
    return _answer(fmt, "discovery", None, data)


@_view
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method != "GET":
        raise Open311Error(405, _("不支持该请求方法。"))
    org = _organization(request, None)
    categories = Category.objects.filter(organization=org).order_by("path", "id")
    return _answer(fmt, "services", "service", [_service(c) for c in categories])


@_view
def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    if request.method != "GET":
        raise Open311Error(405, _("不支持该请求方法。"))
    org = _organization(request, None)
    category = None
    if service_code.isdigit() and len(service_code) < 18:
        category = Category.objects.filter(organization=org, pk=int(service_code)).first()
    if category is None:
        raise Open311Error(404, _("找不到该 service_code。"))
    return _answer(fmt, "service_definition", None, {"service_code": str(category.pk), "attributes": []})


def _requests_get(request: HttpRequest, fmt: str, numbers: list[str] | None) -> HttpResponse:
    actor, key = _key(request, Scope.READ)
    _organization(request, key)
    qs = selectors.key_scope(cases_for(actor), actor, key)
    return _requests_answer(request, fmt, qs, numbers)


def _requests_answer(request: HttpRequest, fmt: str, qs: Any, numbers: list[str] | None) -> HttpResponse:
    params = request.GET
    if numbers is None and params.get("service_request_id"):
        numbers = [n.strip() for n in params["service_request_id"].split(",")[:100] if n.strip()]
    if numbers is not None:
        qs = qs.filter(number__in=numbers)
    else:
        if params.get("service_code"):
            codes = [c for c in params["service_code"].split(",")[:100] if c.strip().isdigit() and len(c) < 18]
            qs = qs.filter(category_id__in=[int(c) for c in codes])
        for name, lookup in (("start_date", "received_at__gte"), ("end_date", "received_at__lte")):
            if params.get(name):
                moment = _parse_moment(params[name], name)
                qs = qs.filter(**{lookup: moment})
        status = params.get("status", "")
        if status == "open":
            qs = qs.exclude(state__in=CLOSED_LIKE)
        elif status == "closed":
            qs = qs.filter(state__in=CLOSED_LIKE)
        elif status:
            raise Open311Error(400, _("status 必须是 open 或 closed。"))
    rows = qs.select_related("category", "lead_department").order_by("-received_at", "-id")[:REQUESTS_LIMIT]
    return _answer(fmt, "service_requests", "request", [_request_row(c) for c in rows])


def _parse_moment(raw: str, name: str) -> datetime:
    try:
        moment = parse_datetime(raw[:40])
    except ValueError:
        moment = None
    if moment is None:
        raise Open311Error(400, _("%(name)s 不是有效的日期时间。") % {"name": name})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


@_view
def service_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "GET":
        return _requests_get(request, fmt, None)
    if request.method != "POST":
        raise Open311Error(405, _("不支持该请求方法。"))
    actor, key = _key(request, Scope.REGISTER)
    _organization(request, key)
    p = request.POST
    code = p.get("service_code", "")
    if not code.isdigit() or len(code) > 18:
        raise Open311Error(400, _("请提供有效的 service_code。"))
    place = p.get("address_string", "")[:150]
    if p.get("lat") and p.get("long"):
        place = f"{place} ({p.get('lat', '')[:20]}, {p.get('long', '')[:20]})".strip()
    name = f"{p.get('last_name', '')[:30]}{p.get('first_name', '')[:30]}"
    data = IntakeInput(
        channel=Channel.ONLINE,
        nature=Nature.COMPLAINT,
        title="",
        text=p.get("description", ""),
        party=PartyInput(name=name, phone=p.get("phone", "")[:30], anonymous=not name),
        category_id=int(code),
        location=place,
    )
    case, _code = services.case_register(actor=actor, data=data)
    return _answer(
        fmt,
        "service_requests",
        "request",
        [{"service_request_id": case.number, "service_notice": "", "account_id": None}],
        status=201,
    )


@_view
def service_request(request: HttpRequest, fmt: str, service_request_id: str) -> HttpResponse:
    if request.method != "GET":
        raise Open311Error(405, _("不支持该请求方法。"))
    return _requests_get(request, fmt, [service_request_id[:40]])
