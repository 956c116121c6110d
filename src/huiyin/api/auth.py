"""Who is calling: an API key (a system's, or a staff token) or a signed-in staff session.

``request.user`` becomes the actor the services take (``Staff`` or ``ExternalActor``) and
``request.auth`` the key (None for a session). Scopes and departments narrow a key; the
actor's own permissions still apply to everything it does."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling
from rest_framework.request import Request

from huiyin.core import limits
from huiyin.orgs.actors import Actor, ExternalActor, system_actor
from huiyin.orgs.models import Staff

from .errors import ApiError
from .models import ApiKey
from .services import secret_hash, split_key

LAST_USED_EVERY = 60  # seconds: the key's last use is written at most once a minute


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Actor, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        keyword, _sep, token = header.partition(" ")
        if keyword != self.keyword:
            return None
        return resolve_key(token.strip())

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def resolve_key(token: str) -> tuple[Actor, ApiKey]:
    """The actor and key a plain key stands for; ``AuthenticationFailed`` naming why not."""
    parts = split_key(token)
    # The prefix is unique: no ORDER BY (``first()`` would add one by id and compile it each time).
    found = list(
        ApiKey.objects.select_related("system", "system__organization", "staff").filter(
            prefix=parts[0] if parts else ""
        )[:1]
    )
    key = found[0] if found else None
    if key is None or not hmac.compare_digest(key.secret_hash, secret_hash(token)):
        raise exceptions.AuthenticationFailed(_("接口密钥无效。"), code=ApiError.KEY_INVALID)
    if key.revoked_at is not None:
        raise exceptions.AuthenticationFailed(_("接口密钥已被吊销。"), code=ApiError.KEY_REVOKED)
    if key.expired:
        raise exceptions.AuthenticationFailed(_("接口密钥已过期。"), code=ApiError.KEY_EXPIRED)
    actor: Actor
    if key.system is not None:
        if not key.system.active:
            raise exceptions.AuthenticationFailed(_("该外部系统已停用。"), code=ApiError.KEY_REVOKED)
        actor = system_actor(key.system)
    else:
        staff = key.staff
        if staff is None or not staff.is_active or staff.organization_id != key.organization_id:
            raise exceptions.AuthenticationFailed(_("该工作人员账号已停用。"), code=ApiError.KEY_REVOKED)
        actor = staff
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > LAST_USED_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return actor, key


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """A signed-in staff member of an organisation (the workbench's session, CSRF checked)."""

    def authenticate(self, request: Request) -> tuple[Staff, None] | None:
        found = super().authenticate(request)
        if found is None:
            return None
        user = found[0]
        if not isinstance(user, Staff) or user.organization_id is None:
            return None
        return user, None


class IsActor(permissions.BasePermission):
    """A key or a signed-in staff member of an organisation."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if isinstance(user, ExternalActor):
            return True
        if isinstance(user, Staff) and user.is_authenticated and user.organization_id is not None:
            return True
        if request.auth is None and not getattr(user, "is_authenticated", False):
            raise exceptions.NotAuthenticated(_("请提供接口密钥或先登录。"), code=ApiError.NOT_AUTHENTICATED)
        return False


class KeyRateThrottle(throttling.BaseThrottle):
    """Requests per key (a session: per staff member; otherwise per address), counted in the
    cache in fixed windows (``huiyin.core.limits``): one atomic increment per request.

    DRF's ``SimpleRateThrottle`` keeps every request's time of the window in one cache entry,
    read, trimmed and written back by each request: two workers reading it at once lose one
    another's requests (the rate is exceeded), and a key allowed thousands a minute rewrites a
    list of thousands of times on each request."""

    bucket = "api_key"

    def __init__(self) -> None:
        self.limit: limits.Limit | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.pk}"
        elif isinstance(request.user, Staff) and request.user.pk:
            ident = f"staff:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        self.limit = parse_rate(str(settings.HUIYIN_API_RATE))  # per request: the setting may change (tests)
        return limits.count_in(self.bucket, ident, self.limit)[1]

    def wait(self) -> float | None:
        return limits.window_left(self.limit) if self.limit is not None else None


RATE_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> limits.Limit:
    """DRF's notation, "600/min": a count per second, minute, hour or day (the unit's first letter counts)."""
    count, _sep, period = rate.partition("/")
    unit = period.strip()[:1]
    if not count.strip().isdigit() or unit not in RATE_PERIODS:
        raise ValueError(f"HUIYIN_API_RATE is a count per s, min, hour or day, like 600/min: {rate!r}")
    return limits.Limit(int(count), RATE_PERIODS[unit])


def require_scope(request: Request, scope: str) -> None:
    key = request.auth
    if isinstance(key, ApiKey) and not key.allows(scope):
        raise exceptions.PermissionDenied(
            _("该接口密钥没有“%(scope)s”权限范围。") % {"scope": scope}, code=ApiError.SCOPE_MISSING
        )


def key_department_ids(request: Request) -> list[int]:
    key = request.auth
    if not isinstance(key, ApiKey):
        return []
    return [d.pk for d in key.departments.all()]


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The OpenAPI document's name for the key: ``Authorization: Bearer hy_...``."""

    target_class = "huiyin.api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "huiyin.api.auth.StaffSessionAuthentication"
    name = "StaffSession"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
