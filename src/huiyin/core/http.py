"""Request types for views: what the login decorators guarantee, told to the type checker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from huiyin.orgs.models import Staff


class AuthedHttpRequest(HttpRequest):
    """The request of a `@login_required` view: its user is a signed-in Staff member.

    Only an annotation (the pattern django-stubs documents); Django still passes an
    ordinary HttpRequest at runtime.
    """

    user: Staff
