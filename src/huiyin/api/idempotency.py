"""``Idempotency-Key`` on every POST: a retry gets the first response back.

The record (a unique row per client and key), the work and the answer stored on the record
are one transaction: a concurrent retry's insert of the same key waits for the first to
finish and then gets its answer back (never the work twice), and a process killed in the
middle leaves neither the work nor a record behind, so the client's retry simply runs (no
claim stuck "in progress" for the record's whole life). The same key with another body is
refused (422). Records expire after ``HUIYIN_API_IDEMPOTENCY_HOURS`` (``huiyin
api_cleanup``; an expired one is replaced)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from huiyin.core import crypto
from huiyin.orgs.models import Staff

from .errors import ApiError
from .exceptions import error_body
from .models import ApiKey, IdempotencyRecord

HEADER = "Idempotency-Key"
KEY_MAX = 255


def _owner(request: Request) -> str:
    if isinstance(request.auth, ApiKey):
        return f"key:{request.auth.pk}"
    user = request.user
    return f"staff:{user.pk}" if isinstance(user, Staff) else "anon"


def _canonical(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "size": value.size, "sha256": digest.hexdigest()}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def fingerprint(request: Request) -> str:
    data = request.data
    plain = {k: data.getlist(k) for k in data} if hasattr(data, "getlist") else data
    text = json.dumps(
        [request.method, request.path, _canonical(plain)], sort_keys=True, cls=DjangoJSONEncoder, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def idempotent(request: Request, run: Callable[[], Response], handle: Callable[[Exception], Response]) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        return run()
    if not key or len(key) > KEY_MAX or not key.isprintable():
        return Response(
            error_body(ApiError.IDEMPOTENCY_KEY_INVALID, _("Idempotency-Key 必须是 1 到 255 个可打印字符。")),
            status=400,
        )
    owner, print_ = _owner(request), fingerprint(request)
    now = timezone.now()
    expires = now + timedelta(hours=settings.HUIYIN_API_IDEMPOTENCY_HOURS)
    with transaction.atomic():
        IdempotencyRecord.objects.filter(owner=owner, key=key, expires_at__lte=now).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(owner=owner, key=key, fingerprint=print_, expires_at=expires)
        except IntegrityError:
            record = None
        if record is not None:
            return _first_answer(record, run, handle)
    first = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
    if first is None or first.status is None:  # expired and removed in between: retry
        return Response(error_body(ApiError.IDEMPOTENCY_IN_PROGRESS, _("相同的请求正在处理，请稍后重试。")), status=409)
    if first.fingerprint != print_:
        return Response(
            error_body(ApiError.IDEMPOTENCY_KEY_REUSED, _("该 Idempotency-Key 已用于另一个不同的请求。")),
            status=422,
        )
    response = Response(json.loads(_opened(bytes(first.body))), status=first.status)
    response["Idempotent-Replayed"] = "true"
    return response


def _first_answer(
    record: IdempotencyRecord, run: Callable[[], Response], handle: Callable[[Exception], Response]
) -> Response:
    """Run the work inside the record's transaction and keep its answer on the record."""
    try:
        with transaction.atomic():
            response = run()
    except Exception as exc:  # a refusal is an answer too: replayed like a success (its work rolled back)
        response = handle(exc)
    if response.status_code >= 500 or response.status_code in (401, 429):
        record.delete()  # not an answer worth replaying
        return response
    body = crypto.encrypt(JSONRenderer().render(response.data).decode()).encode()
    IdempotencyRecord.objects.filter(pk=record.pk).update(status=response.status_code, body=body)
    return response


def _opened(body: bytes) -> bytes:
    """The stored answer in clear. It is kept encrypted: a registration's answer carries the
    complainant's query code, which is otherwise stored only as a keyed hash."""
    if not body:
        return b"null"
    if body[:1] in (b"{", b"["):  # kept before answers were encrypted (a day at most)
        return body
    return crypto.decrypt(body.decode()).encode()
