"""An account whose password an administrator set (new, or reset) must choose its own
before anything else: at sign-in the session is marked, and until the password is
changed every page redirects to the password form (sign-out, language and static files
excepted). The mark lives in the session, so ordinary requests cost no query."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from .models import PasswordChangeRequired

SESSION_KEY = "huiyin_must_change_password"


def remember_password_change(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: mark the new session if the password is the administrator's."""
    if request is None or not hasattr(request, "session"):
        return
    if PasswordChangeRequired.objects.filter(staff_id=user.pk).exists():
        request.session[SESSION_KEY] = True
    else:
        request.session.pop(SESSION_KEY, None)


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY) and request.user.is_authenticated:
            path = request.path_info
            allowed = (reverse("account:password"), reverse("logout"), reverse("set_language"))
            static = settings.STATIC_URL or "/static/"
            if path not in allowed and not path.startswith(static):
                return redirect("account:password")
        return self.get_response(request)
