"""The signed link to a case's portal page (sent by SMS or e-mail: ``notifications`` obtains it
through the provider registered in ``huiyin/subscribers.py``).

``public_case_link(case)`` is an absolute URL under ``HUIYIN_PUBLIC_URL`` holding a token
signed with the secret key (``django.core.signing``) that expires after
``HUIYIN_PUBLIC_LINK_DAYS``: the case's id and a short keyed hash of its query code's hash,
so a reissued query code ends the links sent before. No query code and no personal data
are in the URL. Opening it lets the browser's session hold the case, as a number and query
code would (``views.link``).
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from huiyin.cases.models import Case

SALT = "huiyin.portal.case-link"


def _code_mark(case: Case) -> str:
    return (case.query_code_hash or "")[:12]


def case_token(case: Case) -> str:
    return signing.TimestampSigner(salt=SALT).sign(f"{case.pk}-{_code_mark(case)}")


def public_case_link(case: Case) -> str:
    """An absolute URL to the case's page on the portal: status, the answer, rating, review."""
    base = settings.HUIYIN_PUBLIC_URL.rstrip("/")
    return base + reverse("portal:link", kwargs={"token": case_token(case)})


def case_for_token(token: str) -> Case | None:
    """The case a link names, or None: forged, expired, or its query code reissued since."""
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(
            token[:200], max_age=timedelta(days=settings.HUIYIN_PUBLIC_LINK_DAYS)
        )
    except signing.BadSignature:  # SignatureExpired is one
        return None
    case_id, _, mark = value.partition("-")
    if not case_id.isdigit() or len(case_id) > 18:
        return None
    case = Case.objects.select_related("organization").filter(pk=int(case_id)).first()
    if case is None or not mark or not hmac.compare_digest(_code_mark(case), mark):
        return None
    return case
