"""The client's address as the login throttle sees it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind ``HUIYIN_PROXY_COUNT`` trusted reverse proxies the address the
    outermost of them saw (the N-th from the right in X-Forwarded-For): entries further left
    are whatever the client wrote and are never trusted."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = settings.HUIYIN_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    return forwarded[-count]
