"""Pages of notifications: the organisation's message templates and switches (administrators),
a case's SMS opt-out and a failed message sent again (buttons on the case page), and the
parked mail of the e-mail channel (intake clerks)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huiyin.cases.views import remember_code
from huiyin.core.errors import ApplicationError, http_status
from huiyin.core.forms import put_errors
from huiyin.core.http import AuthedHttpRequest
from huiyin.core.validators import form_version

from . import permissions, rendering, selectors, services
from .forms import DiscardMailForm, RegisterMailForm, StaffContactForm, TemplateForm
from .models import MailStatus
from .purposes import LANGUAGES, SAMPLE, SPECS, Medium, Purpose


@login_required
def templates_index(request: AuthedHttpRequest) -> HttpResponse:
    rows = selectors.template_rows(actor=request.user)
    return render(request, "notifications/templates_index.html", {"rows": rows, "languages": LANGUAGES})


@login_required
@require_POST
def switch(request: AuthedHttpRequest, purpose: str, medium: str) -> HttpResponse:
    enabled = request.POST.get("enabled") == "1"
    try:
        services.switch_set(actor=request.user, purpose=purpose, medium=medium, enabled=enabled)
    except ApplicationError as exc:
        if http_status(exc) != 400:
            raise
        messages.error(request, str(exc.message))
        return redirect("notifications:templates")
    label = Purpose(purpose).label
    if enabled:
        messages.success(
            request, _("已开启：%(what)s（%(medium)s）。") % {"what": label, "medium": Medium(medium).label}
        )
    else:
        messages.success(
            request, _("已关闭：%(what)s（%(medium)s）。") % {"what": label, "medium": Medium(medium).label}
        )
    return redirect("notifications:templates")


@login_required
def template_edit(request: AuthedHttpRequest, purpose: str, medium: str, language: str) -> HttpResponse:
    text, own = selectors.template_text(actor=request.user, purpose=purpose, medium=medium, language=language)
    version = rendering.text_fingerprint(text, own)
    form = TemplateForm(request.POST or None, initial={"subject": text.subject, "body": text.body, "version": version})
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("reset") and form.is_valid():
                services.template_reset(
                    actor=request.user,
                    purpose=purpose,
                    medium=medium,
                    language=language,
                    expected=form.cleaned_data["version"],
                )
                messages.success(request, _("已恢复默认模板。"))
                return redirect("notifications:template_edit", purpose=purpose, medium=medium, language=language)
            if form.is_valid():
                services.template_save(
                    actor=request.user,
                    purpose=purpose,
                    medium=medium,
                    language=language,
                    subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"],
                    expected=form.cleaned_data["version"],
                )
                messages.success(request, _("模板已保存，之后发出的通知使用新模板。"))
                return redirect("notifications:template_edit", purpose=purpose, medium=medium, language=language)
        except ApplicationError as exc:
            put_errors(form, exc)
        status = 400
    shown = form.data if form.is_bound else {"subject": text.subject, "body": text.body}
    preview = rendering.fill(str(shown.get("body", "")), SAMPLE)
    return render(
        request,
        "notifications/template_edit.html",
        {
            "form": form,
            "purpose": purpose,
            "medium": medium,
            "language": language,
            "label": Purpose(purpose).label,
            "medium_label": Medium(medium).label,
            "language_label": dict(LANGUAGES)[language],
            "own": own,
            "preview_subject": rendering.fill(str(shown.get("subject", "")), SAMPLE),
            "preview": preview,
            "variables": SPECS[purpose].variables,
        },
        status=status,
    )


@login_required
@require_POST
def sms_opt_out(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    opt_out = request.POST.get("sms_opt_out") == "1"
    try:
        services.sms_opt_out_set(actor=request.user, case_id=case_id, opt_out=opt_out)
    except ApplicationError as exc:
        if http_status(exc) != 400:
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已记录：反映人不接收短信。") if opt_out else _("已恢复向反映人发送短信。"))
    return redirect("cases:detail", case_id=case_id)


@login_required
@require_POST
def resend(request: AuthedHttpRequest, message_id: int) -> HttpResponse:
    try:
        message = services.message_resend(actor=request.user, message_id=message_id)
    except ApplicationError as exc:
        if http_status(exc) != 400:
            raise
        messages.error(request, str(exc.message))
        return redirect("cases:desk")
    messages.success(request, _("通知已重新排队发送。"))
    return redirect("cases:detail", case_id=message.case_id) if message.case_id else redirect("cases:desk")


@login_required
def my_contact(request: AuthedHttpRequest) -> HttpResponse:
    """Where I get my notices besides the desk: my e-mail address and mobile number."""
    contact = selectors.own_contact(actor=request.user)
    initial = {"email": contact.email if contact else request.user.email, "mobile": contact.mobile if contact else ""}
    form = StaffContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_contact_save(
                actor=request.user, email=form.cleaned_data["email"], mobile=form.cleaned_data["mobile"]
            )
        except ApplicationError as exc:
            if http_status(exc) != 400:
                raise
            put_errors(form, exc)
        else:
            messages.success(request, _("通知方式已保存。"))
            return redirect("notifications:my_contact")
    status = 400 if form.is_bound else 200
    return render(request, "notifications/my_contact.html", {"form": form}, status=status)


@login_required
def mail_index(request: AuthedHttpRequest) -> HttpResponse:
    parked = list(selectors.parked_mail(actor=request.user)[:200])
    recent = selectors.recent_mail(actor=request.user)
    return render(request, "notifications/mail_index.html", {"parked": parked, "recent": recent})


def _mail_page(
    request: AuthedHttpRequest,
    mail_id: int,
    register: RegisterMailForm | None = None,
    discard: DiscardMailForm | None = None,
    status: int = 200,
) -> HttpResponse:
    mail = selectors.mail_get(actor=request.user, mail_id=mail_id)
    initial = {"nature": "complaint", "title": mail.subject[:120], "text": mail.text, "version": mail.version}
    return render(
        request,
        "notifications/mail_detail.html",
        {
            "mail": mail,
            "open": mail.status == MailStatus.PARKED,
            "register": register or RegisterMailForm(initial=initial),
            "discard": discard or DiscardMailForm(initial={"version": mail.version}),
        },
        status=status,
    )


@login_required
def mail_detail(request: AuthedHttpRequest, mail_id: int) -> HttpResponse:
    return _mail_page(request, mail_id)


@login_required
@require_POST
def mail_register(request: AuthedHttpRequest, mail_id: int) -> HttpResponse:
    if not permissions.may_handle_mail(request.user):
        raise PermissionDenied
    form = RegisterMailForm(request.POST)
    if form.is_valid():
        try:
            case, code, refused = services.mail_register(
                actor=request.user,
                mail_id=mail_id,
                nature=form.cleaned_data["nature"],
                title=form.cleaned_data["title"],
                text=form.cleaned_data["text"],
                version=form_version(form.cleaned_data["version"]),
            )
        except ApplicationError as exc:
            if http_status(exc) != 400:
                raise
            put_errors(form, exc, aliases={"party_name": "text", "attachments": "text"})
        else:
            remember_code(request, case, code, show_once=True)
            messages.success(request, _("已登记为案件 %(number)s。") % {"number": case.number})
            if refused:
                messages.warning(
                    request,
                    _("以下附件未通过检查，未保存（原件仍在邮箱中）：%(names)s") % {"names": "、".join(refused)},
                )
            return redirect("cases:detail", case_id=case.pk)
    return _mail_page(request, mail_id, register=form, status=400)


@login_required
@require_POST
def mail_discard(request: AuthedHttpRequest, mail_id: int) -> HttpResponse:
    if not permissions.may_handle_mail(request.user):
        raise PermissionDenied
    form = DiscardMailForm(request.POST)
    if form.is_valid():
        try:
            services.mail_discard(
                actor=request.user,
                mail_id=mail_id,
                reason=form.cleaned_data["reason"],
                version=form_version(form.cleaned_data["version"]),
            )
        except ApplicationError as exc:
            if http_status(exc) != 400:
                raise
            put_errors(form, exc)
        else:
            messages.success(request, _("邮件已作废。"))
            return redirect("notifications:mail")
    return _mail_page(request, mail_id, discard=form, status=400)
