"""The administrators' page for API keys (/administration/api-keys/): list, create (the key
is shown once, in the answer to the POST that made it), revoke. Only the organisation's
administrator (capability ``manage_staff``); another organisation's key is 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from huiyin.cases.actions import all_specs
from huiyin.core.errors import ApplicationError
from huiyin.core.forms import put_errors
from huiyin.core.http import AuthedHttpRequest
from huiyin.orgs.roles import Cap

from . import services
from .forms import KeyCreateForm
from .models import ApiKey


def _require(request: AuthedHttpRequest) -> None:
    user = request.user
    if not (user.is_active and user.organization_id is not None and user.can(Cap.MANAGE_STAFF)):
        raise PermissionDenied(_("只有本单位的系统管理员可以管理接口密钥。"))


@never_cache
@login_required
def key_list(request: AuthedHttpRequest) -> HttpResponse:
    _require(request)
    org = request.user.organization
    assert org is not None  # _require checked it
    form = KeyCreateForm(request.POST or None, organization_id=org.pk)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            key, plain = services.key_create(
                organization=org,
                name=d["name"],
                scopes=form.scope_list(),
                action_names=[spec.name for spec in all_specs()],
                system=d["system"],
                staff=d["staff"],
                days=d["days"],
                department_ids=[dep.pk for dep in d["departments"]],
                created_by=request.user,
            )
        except ApplicationError as exc:
            put_errors(form, exc, {"scopes": "actions"})
        else:
            return render(request, "api/key_once.html", {"key": key, "plain": plain})
    keys = ApiKey.objects.filter(organization=org).select_related("system", "staff").order_by("-id")[:200]
    return render(request, "api/keys.html", {"form": form, "keys": keys}, status=400 if form.errors else 200)


@never_cache
@login_required
@require_POST
def key_revoke(request: AuthedHttpRequest, prefix: str) -> HttpResponse:
    _require(request)
    org = request.user.organization
    assert org is not None
    key = services.key_revoke(organization=org, prefix=prefix)  # another organisation's: NotFound, a 404
    messages.success(request, _("已吊销接口密钥 %(prefix)s。") % {"prefix": key.prefix})
    return redirect("apikeys:list")
