"""Writes of the API app: keys (created, shown once, revoked) and the idempotency records' cleanup."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.core.errors import NotFound, ValidationFailed
from huiyin.orgs.models import Department, ExternalSystem, Organization, Staff

from .models import ACTION_SCOPE_PREFIX, ApiKey, IdempotencyRecord, Scope, Webhook
from .webhooks import EVENT_TYPES, send_waiting, url_refusal

KEY_PREFIX = "hy"
MAX_DAYS = 3 * 366  # a key lives at most about three years


def secret_hash(key: str) -> str:
    """A key is 32 random bytes: a plain SHA-256 of it cannot be reversed or guessed."""
    return hashlib.sha256(key.encode()).hexdigest()


def split_key(key: str) -> tuple[str, str] | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def _check_scopes(scopes: Iterable[str], action_names: Iterable[str]) -> list[str]:
    known = set(Scope.values) | {f"{ACTION_SCOPE_PREFIX}{name}" for name in action_names}
    chosen = list(dict.fromkeys(scopes))
    unknown = [scope for scope in chosen if scope not in known]
    if unknown:
        raise ValidationFailed({"scopes": [_("未知的权限范围：%(scopes)s") % {"scopes": "、".join(unknown)}]})
    return chosen


def key_create(
    *,
    organization: Organization,
    name: str,
    scopes: Iterable[str],
    action_names: Iterable[str],
    system: ExternalSystem | None = None,
    staff: Staff | None = None,
    days: int = 365,
    department_ids: Iterable[int] = (),
    created_by: Staff | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its plain text, which is shown once and never stored."""
    if (system is None) == (staff is None):
        raise ValidationFailed({"owner": [_("密钥必须属于一个外部系统或一名工作人员。")]})
    owner_org = system.organization_id if system else staff.organization_id  # type: ignore[union-attr]
    if owner_org != organization.pk:
        raise NotFound()
    if not name.strip():
        raise ValidationFailed({"name": [_("请填写密钥名称。")]})
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed({"days": [_("有效天数必须在 1 到 %(max)s 之间。") % {"max": MAX_DAYS}]})
    chosen = _check_scopes(scopes, action_names)
    ids = list(dict.fromkeys(department_ids))
    departments = list(Department.objects.filter(organization=organization, pk__in=ids))
    if len(departments) != len(ids):
        raise ValidationFailed({"departments": [_("限定部门不属于本单位。")]})
    prefix = secrets.token_hex(6)
    plain = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            organization=organization,
            system=system,
            staff=staff,
            name=name.strip()[:120],
            prefix=prefix,
            secret_hash=secret_hash(plain),
            scopes=chosen,
            expires_at=timezone.now() + timedelta(days=days),
            created_by=created_by,
        )
        key.departments.set(departments)
    return key, plain


def key_revoke(*, organization: Organization, prefix: str) -> ApiKey:
    key = ApiKey.objects.filter(organization=organization, prefix=prefix).first()
    if key is None:
        raise NotFound()
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def idempotency_purge() -> int:
    """Forget the idempotency records past their time (``HUIYIN_API_IDEMPOTENCY_HOURS``)."""
    deleted, _rows = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


# --- webhook subscriptions -------------------------------------------------------------------------------


def webhook_create(*, organization: Organization, url: str, event_types: Iterable[str]) -> tuple[Webhook, str]:
    """A receiver and its signing secret, which is shown once (the receiver keeps it to check signatures)."""
    chosen = list(dict.fromkeys(event_types))
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed({"event_types": [_("未知的事件类型：%(types)s") % {"types": "、".join(unknown)}]})
    if not url.startswith(("http://", "https://")) or len(url) > 500:
        raise ValidationFailed({"url": [_("接收地址必须是 http(s) 网址，最多 500 个字符。")]})
    refusal = url_refusal(url)
    if refusal:
        raise ValidationFailed({"url": [refusal]})
    secret = secrets.token_urlsafe(32)
    hook = Webhook.objects.create(organization=organization, url=url, secret=secret, event_types=chosen)
    return hook, secret


def webhook_set_active(*, organization: Organization, webhook_id: int, active: bool) -> Webhook:
    """Stop or resume deliveries; resuming forgets the failures that disabled it and sends
    what waited meanwhile (a stopped receiver's deliveries are skipped, left pending)."""
    with transaction.atomic():
        hook = Webhook.objects.select_for_update().filter(organization=organization, pk=webhook_id).first()
        if hook is None:
            raise NotFound()
        resumed = active and not hook.active
        hook.active = active
        if active:
            hook.failures = 0
        hook.save(update_fields=["active", "failures"])
        if resumed:
            send_waiting(hook)
    return hook
