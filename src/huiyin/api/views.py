"""The REST API (/api/v1/): parse, call one selector or service, answer JSON.

Every view authenticates by key or staff session (``auth``), is throttled per key, answers
errors in one body (``exceptions``) and honours ``Idempotency-Key`` on POST
(``idempotency``). The case actions are one endpoint each, generated from the registry."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, ClassVar

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as s
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from huiyin.cases import actions, services
from huiyin.cases.inputs import IntakeInput, PartyInput
from huiyin.cases.models import Category, Channel, Nature, Urgency
from huiyin.cases.selectors import KEYWORD_MAX, LedgerFilters
from huiyin.cases.workflow import CaseState
from huiyin.core.errors import PermissionDeniedError, ValidationFailed
from huiyin.core.validators import When, check_day, parse_day
from huiyin.deadlines.selectors import case_clocks
from huiyin.handling import documents
from huiyin.handling import services as handling_services
from huiyin.orgs.models import Department
from huiyin.triage import hot
from huiyin.triage.forms import HotFilterForm

from . import selectors
from .auth import require_scope
from .idempotency import idempotent
from .models import ACTION_SCOPE_PREFIX, ApiKey, Scope
from .parsers import JsonParser
from .serializers import (
    PAGE_DEFAULT,
    PAGE_LIMIT,
    AllowedActionOut,
    AttachmentIn,
    AttachmentOut,
    CaseCreated,
    CaseIn,
    CaseOut,
    CasePage,
    CaseSearchIn,
    CaseSearchPage,
    CategoryOut,
    ContactIn,
    ContactOut,
    DeadlineOut,
    DepartmentOut,
    DocumentOut,
    EventOut,
    action_serializer,
    attachment_out,
    case_out,
    category_out,
    contact_out,
    deadline_out,
    department_out,
    document_out,
    event_out,
)

ERROR = inline_serializer(
    "Error",
    {
        "code": s.CharField(),
        "message": s.CharField(),
        "fields": s.DictField(child=s.ListField(child=s.CharField())),
    },
)
ERRORS = dict.fromkeys((400, 401, 403, 404, 406, 409, 413, 415, 422, 429), ERROR)


class ApiView(APIView):
    parser_classes: ClassVar[list[Any]] = [JsonParser, MultiPartParser, FormParser]

    @property
    def key(self) -> ApiKey | None:
        return self.request.auth if isinstance(self.request.auth, ApiKey) else None

    def validated(self, serializer_class: type[s.Serializer], data: Any) -> dict[str, Any]:
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def idempotent_post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A view's ``post``: its ``create`` under the request's Idempotency-Key."""
        create = getattr(self, "create")  # noqa: B009 - only the views that take a POST define it
        return idempotent(request, lambda: create(request, *args, **kwargs), self.handle_exception)


def _param(request: Request, name: str) -> str:
    """A typed query parameter's value: absent is "", present but empty is refused (as the
    document's types say: an empty value is no number, date or choice)."""
    raw = request.query_params.get(name)
    if raw is None:
        return ""
    if raw == "":
        raise ValidationFailed({name: [_("不能为空：不需要时请去掉该参数。")]})
    return raw


def _int(request: Request, name: str) -> int | None:
    raw = _param(request, name)
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationFailed({name: [_("必须是正整数。")]})
    return int(raw)


def _choice(request: Request, name: str, choices: list[str]) -> str:
    raw = _param(request, name)
    if raw and raw not in choices:
        raise ValidationFailed({name: [_("不是有效的选项：%(value)s") % {"value": raw[:40]}]})
    return raw


def _day(request: Request, name: str) -> date | None:
    raw = _param(request, name)
    if not raw:
        return None
    day = parse_day(raw, name, name)
    return check_day(day, name, name, When.CALENDAR)


LIST_PARAMS = [
    OpenApiParameter("q", str, description="keyword (full text) or a case number"),
    OpenApiParameter("channel", str, enum=Channel.values),
    OpenApiParameter("nature", str, enum=Nature.values),
    OpenApiParameter("urgency", str, enum=Urgency.values),
    OpenApiParameter("state", str, enum=["open", *CaseState.values]),
    OpenApiParameter("category_id", int),
    OpenApiParameter("department_id", int),
    OpenApiParameter("date_from", OpenApiTypes.DATE),
    OpenApiParameter("date_to", OpenApiTypes.DATE),
    OpenApiParameter("cursor", str),
    OpenApiParameter("limit", int, description=f"1-{PAGE_LIMIT}"),
]


def _page(request: Request, key: ApiKey | None, filters: LedgerFilters, cursor: str, limit: int) -> tuple[list, str]:
    """A page of the actor's cases under the filters, after the cursor; the next page's
    cursor, or "" after the last."""
    qs = selectors.case_list(actor=request.user, key=key, filters=filters)
    if cursor:
        position = selectors.decode_cursor(cursor[:200])
        if position is None:
            raise ValidationFailed({"cursor": [_("翻页游标无效。")]})
        qs = selectors.after_cursor(qs, position)
    rows = list(qs[: limit + 1])
    page = rows[:limit]
    return page, selectors.encode_cursor(page[-1]) if len(rows) > limit else ""


def _keyword(q: str) -> str:
    if len(q) > KEYWORD_MAX:
        raise ValidationFailed({"q": [_("关键词最多 %(max)s 个字。") % {"max": KEYWORD_MAX}]})
    return q


class CaseListView(ApiView):
    @extend_schema(operation_id="cases_list", parameters=LIST_PARAMS, responses={200: CasePage, **ERRORS})
    def get(self, request: Request) -> Response:
        require_scope(request, Scope.READ)
        filters = LedgerFilters(
            channel=_choice(request, "channel", Channel.values),
            nature=_choice(request, "nature", Nature.values),
            urgency=_choice(request, "urgency", Urgency.values),
            state=_choice(request, "state", ["open", *CaseState.values]),
            category_id=_int(request, "category_id"),
            department_id=_int(request, "department_id"),
            date_from=_day(request, "date_from"),
            date_to=_day(request, "date_to"),
            keyword=_keyword(request.query_params.get("q", "")),
        )
        limit = _int(request, "limit")
        limit = PAGE_DEFAULT if limit is None else limit
        if not 1 <= limit <= PAGE_LIMIT:
            raise ValidationFailed({"limit": [_("每页条数必须在 1 到 %(max)s 之间。") % {"max": PAGE_LIMIT}]})
        page, cursor = _page(request, self.key, filters, request.query_params.get("cursor", ""), limit)
        next_url = None
        if cursor:
            query = request.query_params.copy()
            query["cursor"] = cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response({"next": next_url, "results": [case_out(case) for case in page]})

    @extend_schema(
        operation_id="cases_create",
        request=CaseIn,
        responses={201: CaseCreated, **ERRORS},
        examples=[
            OpenApiExample(
                "a forwarded complaint",
                request_only=True,
                value={
                    "channel": "forwarded",
                    "nature": "complaint",
                    "text": "小区路灯不亮已一周。",
                    "party": {"name": "李四", "phone": "13812340000"},
                    "location": "幸福路12号",
                    "forwarded_by": "省信访局",
                    "forwarded_ref": "X-1",
                },
            ),
            OpenApiExample(
                "an anonymous report",
                request_only=True,
                value={
                    "channel": "online",
                    "nature": "report",
                    "text": "夜间施工噪音扰民。",
                    "party": {"anonymous": True},
                },
            ),
        ],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.idempotent_post(request, *args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require_scope(request, Scope.REGISTER)
        d = self.validated(CaseIn, request.data)
        data = IntakeInput(
            channel=d["channel"],
            nature=d["nature"],
            title=d["title"],
            text=d["text"],
            party=PartyInput(**d.get("party", {})),
            category_id=d["category_id"],
            urgency=d["urgency"],
            location=d["location"],
            received_at=d["received_at"],
            group_size=d["group_size"],
            representatives=[PartyInput(**rep) for rep in d.get("representatives", [])],
            forwarded_by=d["forwarded_by"],
            forwarded_ref=d["forwarded_ref"],
            new_matter=d["new_matter"],
            complainant_kind=d["complainant_kind"],
        )
        try:
            case, code = services.case_register(actor=request.user, data=data)
        except ValidationFailed as exc:
            raise ValidationFailed(
                {_api_field(name): messages for name, messages in exc.field_errors().items()}
            ) from exc
        location = reverse("api:case", kwargs={"case_id": case.pk})
        return Response({**case_out(case), "query_code": code}, status=201, headers={"Location": location})


class CaseSearchView(ApiView):
    """The case list with its filters in the body (``POST /cases/search/``): it changes
    nothing, so it takes no Idempotency-Key; the keyword never enters a URL, and the next
    page is asked for with ``cursor`` and the same filters."""

    @extend_schema(operation_id="cases_search", request=CaseSearchIn, responses={200: CaseSearchPage, **ERRORS})
    def post(self, request: Request) -> Response:
        require_scope(request, Scope.READ)
        d = self.validated(CaseSearchIn, request.data)
        filters = LedgerFilters(
            channel=d.get("channel", ""),
            nature=d.get("nature", ""),
            urgency=d.get("urgency", ""),
            state=d.get("state", ""),
            category_id=d["category_id"],
            department_id=d["department_id"],
            date_from=check_day(d["date_from"], "date_from", "date_from", When.CALENDAR),
            date_to=check_day(d["date_to"], "date_to", "date_to", When.CALENDAR),
            keyword=_keyword(d["q"]),
        )
        page, cursor = _page(request, self.key, filters, d["cursor"], d["limit"])
        return Response({"next_cursor": cursor or None, "results": [case_out(case) for case in page]})


REP_FIELD = re.compile(r"^rep(\d+)_(\w+)$")


def _api_field(name: str) -> str:
    """The intake's field names (the workbench form's) as the request body names them:
    ``party_phone`` is ``party.phone``, ``rep0_name`` ``representatives.0.name``, ``category``
    ``category_id``."""
    if name.startswith("party_"):
        return f"party.{name.removeprefix('party_')}"
    rep = REP_FIELD.match(name)
    if rep:
        return f"representatives.{rep.group(1)}.{rep.group(2)}"
    return {"category": "category_id"}.get(name, name)


class CaseDetailView(ApiView):
    @extend_schema(
        operation_id="cases_read",
        parameters=[
            OpenApiParameter(
                "full", bool, description="the parties' full personal data (scope pii; each full view is logged)"
            )
        ],
        responses={200: CaseOut, **ERRORS},
    )
    def get(self, request: Request, case_id: int) -> Response:
        require_scope(request, Scope.READ)
        full = _param(request, "full")
        if full not in ("", "true", "false"):
            raise ValidationFailed({"full": [_("必须是 true 或 false。")]})
        case = selectors.case_get(actor=request.user, key=self.key, case_id=case_id)
        revealed = None
        if full == "true":
            require_scope(request, Scope.PII)
            revealed = services.party_reveal(actor=request.user, case_id=case.pk)  # logs a pii_viewed event
            case.refresh_from_db()
        return Response(case_out(case, revealed))


class EventListView(ApiView):
    @extend_schema(operation_id="cases_events", responses={200: EventOut(many=True), **ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        require_scope(request, Scope.READ)
        case = selectors.case_get(actor=request.user, key=self.key, case_id=case_id)
        events = case.events.select_related("actor", "actor_system").order_by("id")
        return Response([event_out(event) for event in events])


class DeadlineListView(ApiView):
    @extend_schema(operation_id="cases_deadlines", responses={200: DeadlineOut(many=True), **ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        require_scope(request, Scope.READ)
        case = selectors.case_get(actor=request.user, key=self.key, case_id=case_id)
        return Response([deadline_out(case, view) for view in case_clocks(case=case)])


class ContactListView(ApiView):
    @extend_schema(operation_id="cases_contacts", responses={200: ContactOut(many=True), **ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        require_scope(request, Scope.READ)
        case = selectors.case_get(actor=request.user, key=self.key, case_id=case_id)
        return Response([contact_out(c) for c in case.contacts.order_by("occurred_at", "id")])

    @extend_schema(operation_id="cases_contacts_create", request=ContactIn, responses={201: ContactOut, **ERRORS})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.idempotent_post(request, *args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require_scope(request, Scope.CONTACT)
        case = selectors.case_get(actor=request.user, key=self.key, case_id=kwargs["case_id"])
        d = self.validated(ContactIn, request.data)
        contact = services.contact_add(actor=request.user, case_id=case.pk, channel=d["channel"], text=d["text"])
        return Response(contact_out(contact), status=201)


class AttachmentListView(ApiView):
    @extend_schema(operation_id="cases_attachments", responses={200: AttachmentOut(many=True), **ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        require_scope(request, Scope.READ)
        case = selectors.case_get(actor=request.user, key=self.key, case_id=case_id)
        return Response([attachment_out(a) for a in case.attachments.order_by("id")])

    @extend_schema(
        operation_id="cases_attachments_create",
        request={"multipart/form-data": AttachmentIn},
        responses={201: AttachmentOut, **ERRORS},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.idempotent_post(request, *args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require_scope(request, Scope.ATTACH)
        case = selectors.case_get(actor=request.user, key=self.key, case_id=kwargs["case_id"])
        d = self.validated(AttachmentIn, request.data)
        attachment = services.attachment_upload(actor=request.user, case_id=case.pk, upload=d["file"])
        return Response(attachment_out(attachment), status=201)


class AttachmentDownloadView(ApiView):
    @extend_schema(
        operation_id="attachments_download",
        responses={(200, "*/*"): OpenApiTypes.BINARY, 410: ERROR, **ERRORS},
    )
    def get(self, request: Request, attachment_id: int) -> HttpResponseBase:
        require_scope(request, Scope.READ)
        attachment = selectors.attachment_get(actor=request.user, key=self.key, attachment_id=attachment_id)
        if attachment.erased_at is not None:
            return Response({"code": "gone", "message": _("该附件已按保存期限删除。"), "fields": {}}, status=410)
        return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name)


class DocumentListView(ApiView):
    @extend_schema(operation_id="cases_documents", responses={200: DocumentOut(many=True), **ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        require_scope(request, Scope.READ)
        case = selectors.case_get(actor=request.user, key=self.key, case_id=case_id)
        return Response(
            [
                document_out(d, reverse("api:document", kwargs={"document_id": d.pk}))
                for d in selectors.documents_of(case)
            ]
        )


class DocumentDownloadView(ApiView):
    """The document as the workbench prints it (PDF); the complainant's full name only with
    ``full=true`` (scope ``pii`` and the actor's right to see personal data), logged as a view."""

    @extend_schema(
        operation_id="documents_download",
        parameters=[OpenApiParameter("full", bool, description="the addressee's full name (scope pii; logged)")],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, document_id: int) -> HttpResponseBase:
        require_scope(request, Scope.READ)
        full = _param(request, "full")
        if full not in ("", "true", "false"):
            raise ValidationFailed({"full": [_("必须是 true 或 false。")]})
        document = selectors.document_get(actor=request.user, key=self.key, document_id=document_id)
        named = False
        if full == "true":
            require_scope(request, Scope.PII)
            document, named = handling_services.document_print(actor=request.user, document_id=document.pk)
        response = HttpResponse(documents.render_pdf(document, full=named), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{document.number}.pdf"'
        return response


class CategoryListView(ApiView):
    @extend_schema(operation_id="categories_list", responses={200: CategoryOut(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        rows = Category.objects.filter(organization_id=request.user.org_id).order_by("path", "id")
        return Response([category_out(c) for c in rows])


class DepartmentListView(ApiView):
    @extend_schema(operation_id="departments_list", responses={200: DepartmentOut(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        rows = Department.objects.filter(organization_id=request.user.org_id).order_by("sort_order", "id")
        return Response([department_out(d) for d in rows])


HOT_CASE = inline_serializer(
    "HotIssueCase",
    {
        "id": s.IntegerField(),
        "number": s.CharField(),
        "title": s.CharField(),
        "received_at": s.DateTimeField(),
        "url": s.CharField(help_text="the case in the API"),
    },
)
HOT_ISSUE = inline_serializer(
    "HotIssue",
    {
        "cluster_id": s.IntegerField(),
        "rank": s.IntegerField(),
        "heat": s.FloatField(help_text="volume + complainants + 0.5 × max(0, volume − previous) + likes"),
        "volume": s.IntegerField(help_text="cases received in the window"),
        "complainants": s.IntegerField(help_text="their distinct complainants"),
        "previous": s.IntegerField(help_text="cases in the window of the same length before"),
        "growth": s.FloatField(allow_null=True, help_text="volume / previous − 1; null when previous is 0"),
        "likes": s.IntegerField(help_text="public support where a source provides it; cases have none: 0"),
        "title": s.CharField(help_text="the representative case's title, masked"),
        "text": s.CharField(help_text="the representative case's text, masked and shortened"),
        "representative_case_id": s.IntegerField(allow_null=True),
        "trend": s.ListField(
            child=inline_serializer("HotIssueTrend", {"period": s.DateField(), "count": s.IntegerField()})
        ),
        "cases": s.ListField(child=HOT_CASE, help_text=f"the latest {hot.CASES_SHOWN} cases in the window"),
    },
)
HOT_PAGE = inline_serializer(
    "HotIssues",
    {
        "start": s.DateField(),
        "end": s.DateField(),
        "window": s.IntegerField(),
        "area": s.CharField(),
        "grain": s.ChoiceField(choices=["day", "week"]),
        "department_id": s.IntegerField(allow_null=True, help_text="a department head's own department"),
        "results": s.ListField(child=HOT_ISSUE),
    },
)


class HotIssuesView(ApiView):
    """Hot issues (F52): clusters of similar cases in a window and an area, hottest first; read
    from the stored clusters. Analysts, leaders and supervisors see the organisation's; a
    department head their own department's cases."""

    @extend_schema(
        operation_id="hot_issues_list",
        parameters=[
            OpenApiParameter("window", int, description=f"days up to today, 1-{hot.MAX_WINDOW} (default 30)"),
            OpenApiParameter("area", str, description="a place or area the cases' location contains"),
        ],
        responses={200: HOT_PAGE, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        require_scope(request, Scope.READ)
        hot.scope_for(request.user)  # 403: not a role that sees hot issues (or a system)
        if self.key is not None and self.key.departments.exists():
            raise PermissionDeniedError(_("限定部门的接口密钥不能读取热点问题。"))
        _param(request, "window"), _param(request, "area")  # present but empty: refused
        form = HotFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationFailed({name: [str(e) for e in errors] for name, errors in form.errors.items()})
        board = hot.hot_issues(
            actor=request.user, window=form.cleaned_data["window"], area=form.cleaned_data["area"].strip()
        )
        return Response(
            {
                "start": board.start,
                "end": board.end,
                "window": board.window,
                "area": board.area,
                "grain": board.grain,
                "department_id": board.scope_department,
                "results": [
                    {
                        "cluster_id": i.cluster_id,
                        "rank": i.rank,
                        "heat": i.heat,
                        "volume": i.volume,
                        "complainants": i.complainants,
                        "previous": i.previous,
                        "growth": i.growth,
                        "likes": i.likes,
                        "title": i.title,
                        "text": i.text,
                        "representative_case_id": i.representative_id,
                        "trend": [{"period": day, "count": n} for day, n in i.trend],
                        "cases": [
                            {
                                "id": c.id,
                                "number": c.number,
                                "title": c.title,
                                "received_at": c.received_at,
                                "url": reverse("api:case", kwargs={"case_id": c.id}),
                            }
                            for c in i.cases
                        ],
                    }
                    for i in board.issues
                ],
            }
        )


def _key_allows_action(request: Request, name: str) -> bool:
    key = request.auth
    return not isinstance(key, ApiKey) or key.allows(f"{ACTION_SCOPE_PREFIX}{name}")


class AllowedActionsView(ApiView):
    @extend_schema(operation_id="cases_actions", responses={200: AllowedActionOut(many=True), **ERRORS})
    def get(self, request: Request, case_id: int) -> Response:
        require_scope(request, Scope.READ)
        case = selectors.case_get(actor=request.user, key=self.key, case_id=case_id)
        return Response(
            [
                {
                    "name": allowed.name,
                    "label": allowed.label,
                    "to": allowed.edge.dst,
                    "url": reverse(f"api:action-{allowed.name}", kwargs={"case_id": case.pk}),
                }
                for allowed in actions.allowed_actions(request.user, case)
                if _key_allows_action(request, allowed.name)
            ]
        )


class ActionView(ApiView):
    """One case action: the registry's spec, its typed input, the same service as the workbench."""

    action_name: ClassVar[str] = ""
    input_serializer: ClassVar[type[s.Serializer]]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require_scope(request, f"{ACTION_SCOPE_PREFIX}{self.action_name}")
        case = selectors.case_get(actor=request.user, key=self.key, case_id=kwargs["case_id"])
        values = self.validated(self.input_serializer, request.data)
        expected = values.pop("version", None)
        if "assisting_ids" in values:
            values["assisting_ids"] = list(values["assisting_ids"])
        case = actions.perform(
            actor=request.user, case_id=case.pk, name=self.action_name, values=values, expected_version=expected
        )
        # The case as the action left it (the actor may no longer see it: a send-back hands it on).
        return Response(case_out(case))


def action_views() -> list[tuple[str, Any]]:
    """One view per registered action (the registry is filled when the apps are ready)."""
    views = []
    for spec in sorted(actions.all_specs(), key=lambda spec: spec.name):
        serializer = action_serializer(spec.name, spec.input, spec.form_fields)

        def post(self: ActionView, request: Request, *args: Any, **kwargs: Any) -> Response:
            return self.idempotent_post(request, *args, **kwargs)

        post = extend_schema(
            operation_id=f"cases_action_{spec.name}", request=serializer, responses={200: CaseOut, **ERRORS}
        )(post)
        view_class: type[ActionView] = type(
            f"{serializer.__name__[:-2]}View",
            (ActionView,),
            {
                "action_name": spec.name,
                "input_serializer": serializer,
                "post": post,
                "__doc__": f"Case action `{spec.name}`.",
            },
        )
        views.append((spec.name, view_class.as_view()))
    return views


def docs_page(request: HttpRequest) -> HttpResponse:
    """The browsable documentation: Swagger UI from the sidecar package, started by a static script."""
    return render(request, "api/docs.html", {"schema_url": reverse("api:schema")})
