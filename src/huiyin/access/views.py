"""Login with throttling and a second factor; enrolling an authenticator."""

from __future__ import annotations

import time
from base64 import b32encode
from urllib.parse import urlencode

import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.middleware import is_verified

from huiyin.core.http import AuthedHttpRequest

from . import selectors, services
from .forms import TokenForm
from .network import client_ip
from .permissions import must_enrol

# The password was right; the code is still due. Kept in the session, not a login yet.
PENDING = "huiyin_2fa_pending"
PENDING_SECONDS = 300
LOGIN_TEMPLATE = "core/login.html"


class LoginView(auth_views.LoginView):
    """Django's login, except that a user with an authenticator is not logged in until the code is given."""

    template_name = LOGIN_TEMPLATE

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if selectors.confirmed_device(user) is None:
            return super().form_valid(form)
        session = self.request.session
        session.cycle_key()
        session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "at": int(time.time()),
            "hash": user.get_session_auth_hash(),  # a password changed before the code ends it
        }
        url = reverse("access:verify")
        next_url = self.get_redirect_url()
        return redirect(f"{url}?{urlencode({'next': next_url})}" if next_url else url)


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page saying the account is locked here, and for how long."""
    username = get_client_username(request, credentials) or ""
    ip_address = getattr(request, "axes_ip_address", None) or client_ip(request)
    request.session.pop(PENDING, None)
    context = {
        "form": AuthenticationForm(request),
        "locked_minutes": selectors.lock_minutes_left(username=username, ip_address=ip_address),
        "next": _safe_next(request),
    }
    return render(request, LOGIN_TEMPLATE, context, status=429)


def _safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(candidate, {request.get_host()}, require_https=request.is_secure())
    return candidate if allowed else ""


def _pending_user(request: HttpRequest):
    """The user whose password was right in this session within the last few minutes, or None."""
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict):
        return None, None
    if int(time.time()) - int(pending.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, None
    user = get_user_model().objects.filter(pk=int(pending.get("user") or 0), is_active=True).first()
    if user is None or not constant_time_compare(str(pending.get("hash", "")), user.get_session_auth_hash()):
        # Deactivated, or the password changed (reset by an administrator, changed elsewhere)
        # since it was given here: the code alone does not log in.
        request.session.pop(PENDING, None)
        return None, None
    return user, pending


@sensitive_post_parameters("token")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponseBase:
    """Second step of the login (or of a signed-in session that has not given its code yet)."""
    user, pending = _pending_user(request)
    if user is None:
        if not request.user.is_authenticated:
            if request.method == "POST":  # the password step expired while the code was typed
                messages.info(request, _("验证已超时，请重新登录。"))
            return redirect("login")
        user = request.user
    next_url = _safe_next(request) or resolve_url(settings.LOGIN_REDIRECT_URL)
    if pending is None and is_verified(request.user):
        return redirect(next_url)
    device = selectors.confirmed_device(user)
    if device is None:
        request.session.pop(PENDING, None)
        return redirect(next_url if request.user.is_authenticated else "login")
    credentials = {"username": user.get_username()}
    if not AxesProxyHandler.is_allowed(request, credentials):
        return locked_out(request, None, credentials)
    form = TokenForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        allowed, _info = device.verify_is_allowed()
        if not allowed:
            form.add_error("token", _("验证码输错次数过多，请稍等片刻再试。"))
        elif device.verify_token(form.cleaned_data["token"]):
            if pending is not None:
                request.session.pop(PENDING, None)
                auth_login(request, user, backend=pending["backend"])
            otp_login(request, device)
            return redirect(next_url)
        else:
            form.add_error("token", _("验证码不正确，请输入验证器当前显示的 6 位数字。"))
            # A wrong code counts towards the same lock as a wrong password.
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    return render(request, "access/verify.html", {"form": form, "next": _safe_next(request)})


def _qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_inline(scale=4, light="#fff")


@sensitive_post_parameters("token")
@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: AuthedHttpRequest) -> HttpResponseBase:
    """Account security: set up an authenticator app (QR code or secret, confirmed with a code)."""
    user = request.user
    required = must_enrol(user)
    confirmed = selectors.confirmed_device(user)
    if confirmed is not None:
        return render(request, "access/enrol.html", {"confirmed": confirmed, "required": required})
    device = services.enrolment_device(user)
    form = TokenForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        if services.enrolment_confirm(user=user, device=device, token=form.cleaned_data["token"]):
            otp_login(request, device)
            messages.success(request, _("两步验证已启用：以后登录时除密码外还需输入验证器上的验证码。"))
            return redirect(_safe_next(request) or resolve_url(settings.LOGIN_REDIRECT_URL))
        form.add_error("token", _("验证码不正确，请确认手机时间准确，并输入验证器当前显示的 6 位数字。"))
    secret = b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "required": required,
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "qr_svg": _qr_svg(device.config_url),
        "next": _safe_next(request),
    }
    return render(request, "access/enrol.html", context)
