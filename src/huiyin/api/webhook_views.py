"""The administrators' page for webhooks (/administration/webhooks/): the receivers of signed
case notifications (add: the signing secret is shown once; stop, resume) and the delivery
log with each attempt's response code and the button that sends a delivery again. Only the
organisation's administrator (``permissions.may_manage_integrations``); another
organisation's receiver or delivery is 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from huiyin.core.errors import ApplicationError, NotFound
from huiyin.core.forms import put_errors
from huiyin.core.http import AuthedHttpRequest
from huiyin.orgs.models import Organization

from . import services, webhooks
from .forms import DeliveryFilterForm, WebhookForm
from .models import Webhook, WebhookDelivery
from .permissions import may_manage_integrations

LOG_ROWS = 200


def _organization(request: AuthedHttpRequest) -> Organization:
    if not may_manage_integrations(request.user):
        raise PermissionDenied(_("只有本单位的系统管理员可以管理数据推送。"))
    org = request.user.organization
    assert org is not None  # may_manage_integrations checked it
    return org


@never_cache
@login_required
def webhook_list(request: AuthedHttpRequest) -> HttpResponse:
    org = _organization(request)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            hook, secret = services.webhook_create(
                organization=org, url=form.cleaned_data["url"], event_types=form.cleaned_data["event_types"]
            )
        except ApplicationError as exc:
            put_errors(form, exc)
        else:
            return render(request, "api/webhook_once.html", {"hook": hook, "secret": secret})
    hooks = Webhook.objects.filter(organization=org).order_by("-id")[:200]
    rows = [(hook, [webhooks.EVENT_TYPE_LABELS.get(t, t) for t in hook.event_types]) for hook in hooks]
    return render(
        request,
        "api/webhooks.html",
        {"form": form, "rows": rows, "max_failures": webhooks.DISABLE_AFTER},
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
@require_POST
def webhook_toggle(request: AuthedHttpRequest, webhook_id: int) -> HttpResponse:
    org = _organization(request)
    active = request.POST.get("active") == "1"
    hook = services.webhook_set_active(organization=org, webhook_id=webhook_id, active=active)  # else 404
    if active:
        messages.success(request, _("已恢复推送：%(url)s") % {"url": hook.url})
    else:
        messages.success(request, _("已停止推送：%(url)s") % {"url": hook.url})
    return redirect("webhooks:list")


@never_cache
@login_required
def delivery_log(request: AuthedHttpRequest) -> HttpResponse:
    org = _organization(request)
    form = DeliveryFilterForm(request.GET or None)
    rows = WebhookDelivery.objects.filter(webhook__organization=org).select_related("webhook", "event__case")
    if form.is_valid():
        if form.cleaned_data.get("status"):
            rows = rows.filter(status=form.cleaned_data["status"])
        if form.cleaned_data.get("webhook"):
            rows = rows.filter(webhook_id=form.cleaned_data["webhook"])
    deliveries = list(rows.order_by("-id")[:LOG_ROWS])
    labels = webhooks.EVENT_TYPE_LABELS
    return render(
        request,
        "api/deliveries.html",
        {"form": form, "rows": [(d, labels.get(d.event_type, d.event_type)) for d in deliveries]},
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
@require_POST
def delivery_redeliver(request: AuthedHttpRequest, delivery_id: int) -> HttpResponse:
    org = _organization(request)
    try:
        with transaction.atomic():
            delivery = webhooks.redeliver(organization_id=org.pk, delivery_id=delivery_id)  # another's: 404
    except ApplicationError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, str(exc.message))
        return redirect("webhooks:deliveries")
    messages.success(request, _("已重新排队发送（第 %(id)s 号推送）。") % {"id": delivery.pk})
    return redirect("webhooks:deliveries")
