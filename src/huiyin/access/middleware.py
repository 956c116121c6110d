"""Every dynamic response kept out of caches, the session's absolute lifetime, and the second
factor: a signed-in user with an authenticator must have given a code in this session, and a
user the rule names must enrol one before anything else."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect
from django_otp.middleware import is_verified

from . import selectors
from .permissions import must_enrol
from .sessions import LOGIN_AT, SEEN_AT, TOUCH_EVERY

Handler = Callable[[HttpRequest], HttpResponseBase]

# Views a signed-in user without the second factor may still reach (account:password: a password
# an administrator set is changed first, then the authenticator is enrolled).
SECOND_FACTOR_EXEMPT = frozenset(
    {"login", "logout", "set_language", "access:verify", "access:enrol", "account:password"}
)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` (and ``Pragma: no-cache`` for old proxies) on every response the
    application renders — pages, PDFs, spreadsheets, downloads; static files never get here."""

    def __init__(self, get_response: Handler):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        add_never_cache_headers(response)
        response["Pragma"] = "no-cache"
        return response


class SessionLifetimeMiddleware:
    """Ends a session ``HUIYIN_SESSION_MAX_HOURS`` after its login, and renews the idle expiry
    (``SESSION_COOKIE_AGE``) at most once a minute instead of writing the session on every request."""

    def __init__(self, get_response: Handler):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.user.is_authenticated:
            session = request.session
            now = int(time.time())
            started = session.get(LOGIN_AT)
            if started is None:
                session[LOGIN_AT] = now
            elif now - int(started) > settings.HUIYIN_SESSION_MAX_AGE:
                logout(request)
                messages.info(request, _("登录时间已到，请重新登录。"))
                return _redirect(request, redirect_to_login(request.get_full_path())["Location"])
            if now - int(session.get(SEEN_AT, 0)) >= TOUCH_EVERY:
                session[SEEN_AT] = now
        return self.get_response(request)


class SecondFactorMiddleware:
    def __init__(self, get_response: Handler):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponseBase | None:
        user = request.user
        if not user.is_authenticated or is_verified(user):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in SECOND_FACTOR_EXEMPT:
            return None
        if selectors.confirmed_device(user) is not None:
            target = reverse("access:verify")
        elif must_enrol(user):
            target = reverse("access:enrol")
        else:
            return None
        return _redirect(request, f"{target}?{urlencode({'next': request.get_full_path()})}")


def _redirect(request: HttpRequest, url: str) -> HttpResponseBase:
    """A redirect the browser follows with the whole page, also from an htmx request."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)
