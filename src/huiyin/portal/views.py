"""The public portal's pages (no login): parse, call one service or selector, render.

A browser sees a case once it showed it holds it — the submission that created it, its
number and query code, or a signed link — remembered in its session (``HELD``), never in
the URL. Refusals answer 400 (429 when a limit is spent) with the message next to the field.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huiyin.access.network import client_ip
from huiyin.cases import receipts
from huiyin.cases.models import Case, Nature
from huiyin.core import crypto
from huiyin.core.errors import ApplicationError, NotFound
from huiyin.core.forms import put_errors
from huiyin.orgs.models import Organization

from . import challenge, files, handlers, links, permissions, selectors, services
from .errors import TooManyRequests
from .forms import LookupForm, RatingForm, ReviewForm, SubmissionForm

HELD = "portal_held"  # ids of the cases this browser showed it holds, newest last
HELD_KEPT = 5
RECEIPT = "portal_receipt"  # the submission just made: {"case": id, "code": query code, "shown": bool}

# Service field names to the portal's form fields.
SUBMIT_ALIASES = {
    "party_name": "name",
    "party_phone": "phone",
    "party_anonymous": "anonymous",
    "intake_token": "challenge",
    "channel": "challenge",
}
REVIEW_ALIASES = {"requested_at": "reason"}


def _client(request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def _status(error: ApplicationError) -> int:
    return 429 if isinstance(error, TooManyRequests) else 400


def _hold(request: HttpRequest, case: Case) -> None:
    held = [pk for pk in request.session.get(HELD, []) if pk != case.pk]
    request.session[HELD] = [*held[-(HELD_KEPT - 1) :], case.pk]


def _held_case(request: HttpRequest, org: Organization) -> Case | None:
    held = list(request.session.get(HELD, []))
    for pk in reversed(held):
        case = Case.objects.select_related("organization", "lead_department").filter(pk=pk, organization=org).first()
        if case is not None and permissions.holds(held, case):
            return case
    return None


def _status_url(request: HttpRequest, org: Organization) -> str:
    return request.build_absolute_uri(reverse("portal:status", kwargs={"org": org.code}))


def index(request: HttpRequest) -> HttpResponse:
    org = selectors.default_organization()
    if org is not None:
        return redirect("portal:home", org=org.code)
    return render(request, "portal/index.html", {"organizations": selectors.organizations()})


def home(request: HttpRequest, org: str) -> HttpResponse:
    organization = selectors.organization(org)
    return render(request, "portal/home.html", {"org": organization, "held": _held_case(request, organization)})


def privacy(request: HttpRequest, org: str) -> HttpResponse:
    organization = selectors.organization(org)
    return render(request, "portal/privacy.html", {"org": organization, "consent": selectors.consent(organization)})


def category_options(groups: list[tuple[str, list[tuple[int, str]]]], chosen: str) -> SafeString:
    """The category tree's optgroups, escaped, built in one pass (the form's widget renders a
    template per option)."""
    selected = mark_safe(" selected")  # noqa: S308 - a constant

    def options(rows: list[tuple[int, str]]) -> SafeString:
        return format_html_join(
            "", '<option value="{}"{}>{}</option>', ((v, selected if str(v) == chosen else "", t) for v, t in rows)
        )

    return format_html_join("", '<optgroup label="{}">{}</optgroup>', ((g, options(rows)) for g, rows in groups))


def _submission(form: SubmissionForm) -> services.Submission:
    d = form.cleaned_data
    return services.Submission(
        nature=d["nature"],
        text=d["text"],
        title=d["title"],
        category_id=d["category"],
        location=d["location"],
        latitude=d["latitude"],
        longitude=d["longitude"],
        name=d["name"],
        phone=d["phone"],
        anonymous=d["anonymous"],
        keep_location=d["keep_location"],
        consent=d["consent"],
        complainant_kind=d.get("complainant_kind") or "",
        challenge=d["challenge"],
        solution=d["solution"],
        question=d["question"],
        answer=d["answer"],
    )


def submit(request: HttpRequest, org: str) -> HttpResponse:
    organization = selectors.organization(org)
    groups = selectors.category_groups(organization)
    form = SubmissionForm(
        request.POST or None,
        request.FILES or None,
        category_groups=groups,
        kinds=selectors.complainant_kinds(organization),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                case, code = services.submit(
                    organization=organization,
                    data=_submission(form),
                    uploads=form.cleaned_data["attachments"],
                    client=_client(request),
                )
            except ApplicationError as error:
                put_errors(form, error, SUBMIT_ALIASES)
                status = _status(error)
            else:
                # Sealed: the session row is readable, the code is kept only as a keyed hash.
                request.session[RECEIPT] = {"case": case.pk, "code": crypto.seal(code), "shown": False}
                _hold(request, case)
                return redirect("portal:receipt", org=organization.code)
    return render(
        request,
        "portal/submit.html",
        {
            "org": organization,
            "form": form,
            "consent": selectors.consent(organization),
            "challenge": challenge.issue(),
            "question": challenge.issue_question(),
            "files_dropped": request.method == "POST" and bool(request.FILES),
            "accept": files.ACCEPT,
            "text_limit": services.text_limit(),
            "map": selectors.map_settings(),
            "category_options": category_options(groups, str(form["category"].value() or "")),
            "natures": Nature.choices,
            "chosen_nature": form["nature"].value(),
            # The preset's kinds of complainant (the hospital's 门诊 / 住院), where it has any.
            "kind_field": form["complainant_kind"] if "complainant_kind" in form.fields else None,
        },
        status=status,
    )


@require_POST
def suggest(request: HttpRequest, org: str) -> JsonResponse:
    """The categories suggested for the text being typed (the submission page's script; POST:
    the text never travels in a URL). Public category names only."""
    organization = selectors.organization(org)
    try:
        found = services.category_suggestions(
            organization=organization,
            title=request.POST.get("title", ""),
            text=request.POST.get("text", ""),
            client=_client(request),
        )
    except ApplicationError as error:
        return JsonResponse(error.as_dict(), status=_status(error), json_dumps_params={"ensure_ascii": False})
    return JsonResponse({"categories": found}, json_dumps_params={"ensure_ascii": False})


def _receipt_case(request: HttpRequest, org: Organization) -> tuple[Case | None, dict[str, Any]]:
    data = dict(request.session.get(RECEIPT) or {})
    case_id = data.get("case")
    if not isinstance(case_id, int):
        return None, data
    return Case.objects.select_related("organization", "party").filter(pk=case_id, organization=org).first(), data


def _receipt_code(data: dict[str, Any]) -> str | None:
    code = data.get("code")
    return crypto.unseal(code) if isinstance(code, str) else None


def receipt(request: HttpRequest, org: str) -> HttpResponse:
    """The receipt of the submission just made: the query code shown this once."""
    organization = selectors.organization(org)
    case, data = _receipt_case(request, organization)
    if case is None:
        return redirect("portal:status", org=organization.code)
    code = None
    if not data.get("shown"):
        code = _receipt_code(data)
        request.session[RECEIPT] = {**data, "shown": True}
    context = receipts.receipt_context(case, code, status_url=_status_url(request, organization))
    return render(request, "portal/receipt.html", {"org": organization, "case": case, **context})


def receipt_pdf(request: HttpRequest, org: str) -> HttpResponse:
    """The receipt as a PDF, with the query code, for the browser that submitted (its session)."""
    organization = selectors.organization(org)
    case, data = _receipt_case(request, organization)
    if case is None:
        return handlers.page(request, 404, _("没有可下载的受理凭证：受理凭证只能在提交后、在提交所用的浏览器中下载。"))
    pdf = receipts.render_pdf(case, _receipt_code(data), status_url=_status_url(request, organization))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="receipt-{case.number}.pdf"'
    return response


def status(request: HttpRequest, org: str) -> HttpResponse:
    """Look a case up by number and query code (POST: neither lands in a URL or a log)."""
    organization = selectors.organization(org)
    form = LookupForm(request.POST or None)
    code = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                case = services.lookup(
                    organization=organization,
                    number=form.cleaned_data["number"],
                    code=form.cleaned_data["code"],
                    client=_client(request),
                )
            except TooManyRequests as error:
                put_errors(form, error)
                code = 429
            except ApplicationError as error:  # a wrong code: said next to the field, nothing more
                put_errors(form, error)
            else:
                _hold(request, case)
                return redirect("portal:case", org=organization.code)
        else:
            code = 400
    return render(request, "portal/status.html", {"org": organization, "form": form}, status=code)


def _case_page(
    request: HttpRequest,
    organization: Organization,
    case: Case,
    *,
    rating_form: RatingForm | None = None,
    review_form: ReviewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = selectors.case_status(request, case)
    return render(
        request,
        "portal/case.html",
        {
            "org": organization,
            **context,
            "rating_form": rating_form or RatingForm(),
            "review_form": review_form or ReviewForm(),
        },
        status=status,
    )


def case_page(request: HttpRequest, org: str) -> HttpResponse:
    organization = selectors.organization(org)
    case = _held_case(request, organization)
    if case is None:
        return redirect("portal:status", org=organization.code)
    return _case_page(request, organization, case)


def _refuse_unheld(request: HttpRequest) -> HttpResponse:
    return handlers.page(request, 403, _("请先用编号和查询码查询该事项，再评价或请求复查。"))


@require_POST
def rate(request: HttpRequest, org: str) -> HttpResponse:
    organization = selectors.organization(org)
    case = _held_case(request, organization)
    if case is None:
        return _refuse_unheld(request)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.rate(
                case=case,
                satisfaction=form.cleaned_data["satisfaction"],
                comment=form.cleaned_data["comment"],
                client=_client(request),
            )
        except ApplicationError as error:
            put_errors(form, error)
            return _case_page(request, organization, case, rating_form=form, status=_status(error))
        messages.success(request, _("感谢您的评价，已记录。"))
        return redirect("portal:case", org=organization.code)
    return _case_page(request, organization, case, rating_form=form, status=400)


@require_POST
def review(request: HttpRequest, org: str) -> HttpResponse:
    organization = selectors.organization(org)
    case = _held_case(request, organization)
    if case is None:
        return _refuse_unheld(request)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.request_review(case=case, reason=form.cleaned_data["reason"], client=_client(request))
        except ApplicationError as error:
            put_errors(form, error, REVIEW_ALIASES)
            return _case_page(request, organization, case, review_form=form, status=_status(error))
        messages.success(request, _("您的请求已提交，复查（复核）意见出具后会告知您。"))
        return redirect("portal:case", org=organization.code)
    return _case_page(request, organization, case, review_form=form, status=400)


def letter(request: HttpRequest, org: str, document_id: int) -> HttpResponse:
    """A letter issued to the complainant, as a PDF, for a browser holding its case. Whatever
    else the id names (a document to a department, a draft, another case's, nothing) is the
    same 404, so guessing ids tells nothing."""
    organization = selectors.organization(org)
    held = list(request.session.get(HELD, []))
    cases = [
        c
        for c in Case.objects.select_related("organization").filter(pk__in=held, organization=organization)
        if permissions.holds(held, c)
    ]
    if not cases:
        return handlers.page(request, 403, _("请先用编号和查询码查询该事项，再下载文书。"))
    newest_first = sorted(cases, key=lambda c: held.index(c.pk), reverse=True)
    try:
        name, pdf = services.letter_pdf(cases=newest_first, document_id=document_id, client=_client(request))
    except TooManyRequests as error:
        return handlers.page(request, 429, str(error.message), retry_after=error.retry_after)
    except NotFound as error:
        return handlers.page(request, 404, str(error.message))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
def leave(request: HttpRequest, org: str) -> HttpResponse:
    """Forget the cases this browser holds (a shared phone or computer)."""
    organization = selectors.organization(org)
    request.session.pop(HELD, None)
    request.session.pop(RECEIPT, None)
    return redirect("portal:home", org=organization.code)


def link(request: HttpRequest, token: str) -> HttpResponse:
    """A signed link from an SMS or e-mail: the browser holds the case, then sees its page."""
    case = links.case_for_token(token)
    if case is None:
        return handlers.page(
            request, 404, _("链接无效或已过期（查询码重新生成后，原链接也会失效）。请用编号和查询码查询。")
        )
    _hold(request, case)
    return redirect("portal:case", org=case.organization.code)
