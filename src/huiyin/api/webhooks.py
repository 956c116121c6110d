"""Signed webhooks from the event bus.

An after-commit subscriber (``huiyin/subscribers.py``: ``api.webhooks``) turns a case event
into one ``WebhookDelivery`` per matching receiver and queues a task per delivery; the task
POSTs the JSON body with ``X-Huiyin-Timestamp`` and ``X-Huiyin-Signature: sha256=<hex>``
(HMAC-SHA256 of ``"<timestamp>.<body>"`` with the receiver's secret, so a replayed or
altered body fails the receiver's check). A failure is retried with exponential backoff
(``BACKOFF`` seconds, doubled) up to ``MAX_ATTEMPTS``; a receiver whose deliveries fail
``DISABLE_AFTER`` times in a row is disabled. Never sent inside a request.

A receiver is somewhere on the internet: an address on this machine, the local network, a
cloud's metadata service (169.254.169.254) or any other non-public address is refused when
the receiver is added and again at every delivery, after the name is resolved, and the
delivery connects to the address that was checked (a name that resolves elsewhere a second
time changes nothing); redirects are not followed. An installation whose receivers are on its
own network names those networks in ``HUIYIN_WEBHOOK_ALLOWED_NETWORKS``."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import time
import urllib.parse
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiyin.cases.events import EventKind
from huiyin.cases.models import Event
from huiyin.core.errors import ApplicationError, NotFound
from huiyin.deadlines.events import DeadlineEvent

from .models import DELIVERY_STATUSES, Webhook, WebhookDelivery

MAX_ATTEMPTS = 6
BACKOFF = 30  # seconds before the second attempt; doubled each time
DISABLE_AFTER = 10
TIMEOUT = 5  # seconds for the receiver to answer
TOLERANCE = 300  # seconds a receiver should accept a timestamp (``verify``)
ACTION_TYPES = {
    "accept": "accepted",
    "dispatch": "dispatched",
    "reply": "replied",
    "close": "closed",
    "reopen": "reopened",
}
EVENT_TYPES = ("registered", *ACTION_TYPES.values(), "overdue", "callback_recorded")
EVENT_TYPE_LABELS = {
    "registered": _("登记"),
    "accepted": _("受理"),
    "dispatched": _("派遣"),
    "replied": _("答复"),
    "closed": _("办结"),
    "reopened": _("重办"),
    "overdue": _("超期"),
    "callback_recorded": _("回访记录"),
}


def event_type(event: Event) -> str | None:
    data = event.data or {}
    if event.kind == EventKind.REGISTERED:
        return "registered"
    if event.kind == EventKind.STATE_CHANGED:
        return ACTION_TYPES.get(str(data.get("action", "")))
    if event.kind == DeadlineEvent.DEADLINE_OVERDUE:
        return "overdue"
    if event.kind == EventKind.NOTE and "callback_id" in data:  # an attempt, or a dissatisfied answer
        return "callback_recorded"
    return None


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.HUIYIN_WEBHOOK_ALLOWED_NETWORKS]


def address_allowed(address: IPAddress) -> bool:
    """A public address, or one in the networks the operator allows."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in _allowed_networks()):
        return True
    return address.is_global and not address.is_multicast


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


NOT_PUBLIC = _(
    "接收地址不能是本机、内网或其他非公网地址（运维人员可在 HUIYIN_WEBHOOK_ALLOWED_NETWORKS 中放行内网网段）。"
)


def url_refusal(url: str) -> str | None:
    """Why a receiver's URL is refused when it is added, or None: not http(s), no host, or a host
    that is a non-public address or this machine's name (a name is resolved at each delivery)."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme not in ("http", "https") or not host:
        return str(_("接收地址必须是 http(s) 网址。"))
    address = _literal_address(host)
    local_name = host == "localhost" or host.endswith(".localhost")
    if local_name or (address is not None and not address_allowed(address)):
        return str(NOT_PUBLIC)
    return None


class RefusedDestination(OSError):
    pass


def _resolve(host: str, port: int) -> str:
    """The first address ``host`` resolves to, refused if any of its addresses is not allowed."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]
    if not addresses:
        raise RefusedDestination(f"{host}: no address")
    refused = [a for a in addresses if not address_allowed(a)]
    if refused:
        raise RefusedDestination(f"refused: {host} resolves to a non-public address ({refused[0]})")
    return str(addresses[0])


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST to an allowed address (checked after resolving, and connected to as checked); the
    receiver's status code. Redirects are answers, not followed."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = _resolve(host, port)
    conn: http.client.HTTPConnection = (
        http.client.HTTPSConnection(host, port, timeout=TIMEOUT)
        if https
        else http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    )

    def pinned(_where: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        return socket.create_connection((address, port), *args, **kwargs)

    conn._create_connection = pinned  # type: ignore[attr-defined]  # http.client's hook for the socket
    try:
        path = parts.path or "/"
        conn.request("POST", f"{path}?{parts.query}" if parts.query else path, body=body, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, signature: str, body: bytes, *, now: float | None = None) -> bool:
    """The receiver's check: the signature matches and the timestamp is recent."""
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > TOLERANCE:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def on_case_event(*, event: Event) -> None:
    """After commit: a delivery per active receiver of the event's organisation and type."""
    kind = event_type(event)
    if kind is None:
        return
    hooks = Webhook.objects.filter(organization_id=event.case.organization_id, active=True)
    for hook in hooks:
        if hook.event_types and kind not in hook.event_types:
            continue
        delivery, created = WebhookDelivery.objects.get_or_create(
            webhook=hook, event=event, defaults={"event_type": kind}
        )
        if created:
            transaction.on_commit(partial(_queue, delivery.pk))


def _queue(delivery_id: int, delay: int = 0) -> None:
    from .tasks import deliver_webhook_task  # noqa: PLC0415 - the task module imports this one

    if delay:
        deliver_webhook_task.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(delivery_id)
    else:
        deliver_webhook_task.enqueue(delivery_id)


def send_waiting(hook: Webhook) -> None:
    """Queue, after commit, the deliveries left pending while ``hook`` was stopped."""
    waiting = list(
        WebhookDelivery.objects.filter(webhook=hook, status=WebhookDelivery.Status.PENDING).values_list("pk", flat=True)
    )
    for pk in waiting:
        transaction.on_commit(partial(_queue, pk))


def body_for(delivery: WebhookDelivery) -> bytes:
    event, case = delivery.event, delivery.event.case
    payload: dict[str, Any] = {
        "id": f"{event.pk}-{delivery.webhook_id}",
        "type": delivery.event_type,
        "at": event.at,
        "case": {"id": case.pk, "number": case.number, "state": case.state, "version": case.version},
        "event": {"id": event.pk, "kind": event.kind},
    }
    return json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False).encode()


def attempt(delivery_id: int) -> WebhookDelivery | None:
    """One attempt; schedules the next on failure, disables a receiver that keeps failing."""
    delivery = WebhookDelivery.objects.select_related("webhook", "event", "event__case").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING or not delivery.webhook.active:
        return delivery
    hook = delivery.webhook
    body = body_for(delivery)
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Huiyin-Webhook/1",
        "X-Huiyin-Event": delivery.event_type,
        "X-Huiyin-Delivery": str(delivery.pk),
        "X-Huiyin-Timestamp": str(stamp),
        "X-Huiyin-Signature": sign(hook.secret, stamp, body),
    }
    code, error = None, ""
    try:
        code = post(hook.url, body, headers)
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except (OSError, http.client.HTTPException, ValueError) as exc:
        error = str(exc)[:300] or type(exc).__name__
    delivery.attempts += 1
    delivery.response_code = code
    delivery.last_error = error
    if code is not None and 200 <= code < 300:
        DELIVERY_STATUSES.move(delivery, WebhookDelivery.Status.DELIVERED)
        delivery.delivered_at = timezone.now()
        delivery.last_error = ""
        Webhook.objects.filter(pk=hook.pk).update(failures=0)
    elif delivery.attempts >= MAX_ATTEMPTS:
        DELIVERY_STATUSES.move(delivery, WebhookDelivery.Status.FAILED)
        hook.failures += 1
        hook.active = hook.failures < DISABLE_AFTER
        hook.save(update_fields=["failures", "active"])
    else:
        transaction.on_commit(lambda: _queue(delivery.pk, BACKOFF * 2 ** (delivery.attempts - 1)))
    delivery.save(update_fields=["attempts", "response_code", "last_error", "status", "delivered_at"])
    return delivery


def redeliver(*, organization_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again (a failed or a delivered one), from its first attempt."""
    delivery = (
        WebhookDelivery.objects.select_related("webhook")
        .filter(pk=delivery_id, webhook__organization_id=organization_id)
        .first()
    )
    if delivery is None:
        raise NotFound()
    if not delivery.webhook.active:
        # Queued, it would wait for ever: a stopped receiver's deliveries are never attempted.
        raise ApplicationError(_("该接收地址已停止推送：请先恢复推送，再重新发送。"), field="webhook")
    if delivery.status != WebhookDelivery.Status.PENDING:
        DELIVERY_STATUSES.move(delivery, WebhookDelivery.Status.PENDING)
    delivery.attempts = 0
    delivery.save(update_fields=["status", "attempts"])
    transaction.on_commit(lambda: _queue(delivery.pk))
    return delivery
