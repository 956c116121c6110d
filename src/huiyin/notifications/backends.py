"""How a message leaves: SMS through the gateway backend (``HUIYIN_SMS_BACKEND``: the file
or console stand-ins of ``core.notify``, or ``HttpSmsBackend`` below for a real gateway),
e-mail through Django's e-mail machinery (``EMAIL_BACKEND``: a file per message by
default, SMTP when configured).

Both carry the message's key downstream: the gateway receives it as its idempotency key,
an e-mail as its Message-ID, so a message handed over twice (a task retried after a crash
between handing it over and recording it) is recognised there."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import urllib.error
import urllib.request
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage

log = logging.getLogger(__name__)


class GatewayError(Exception):
    """The SMS gateway did not take the message (unreachable, refused, failed): retried."""


class DeliveryFailed(Exception):
    """A hand-over that failed, as the task queue keeps and logs it: what went wrong (the
    message's ``reason``), never the recipient or the text the original error may quote
    (``SMTPRecipientsRefused`` carries the address)."""


class HttpSmsBackend:
    """An HTTP SMS gateway: POST ``{"to", "text", "key"}`` as JSON to ``HUIYIN_SMS_GATEWAY_URL``
    with the key also in the ``Idempotency-Key`` header, authenticated with HTTP Basic
    (``HUIYIN_SMS_GATEWAY_USER`` / ``_PASSWORD``) or a bearer token (``_TOKEN``). Any 2xx
    answer is delivery; 409 means the gateway had the key already (also delivery);
    anything else, or no answer within ``HUIYIN_SMS_GATEWAY_TIMEOUT`` seconds, raises
    ``GatewayError`` and the task tries again later."""

    def send(self, *, phone: str, body: str, key: str) -> None:
        url = settings.HUIYIN_SMS_GATEWAY_URL
        if not url.startswith(("http://", "https://")):
            raise ImproperlyConfigured("HUIYIN_SMS_GATEWAY_URL must be an http(s) URL")
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            url,
            data=json.dumps({"to": phone, "text": body, "key": key}, ensure_ascii=False).encode(),
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key},
        )
        user, password, token = (
            settings.HUIYIN_SMS_GATEWAY_USER,
            settings.HUIYIN_SMS_GATEWAY_PASSWORD,
            settings.HUIYIN_SMS_GATEWAY_TOKEN,
        )
        if user:
            basic = base64.b64encode(f"{user}:{password}".encode()).decode()
            request.add_header("Authorization", f"Basic {basic}")
        elif token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=settings.HUIYIN_SMS_GATEWAY_TIMEOUT) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            # Never the number or the text in the error: it is logged and shown on /system/.
            raise GatewayError(f"SMS gateway unreachable: {type(exc).__name__}") from None
        if 200 <= status < 300 or status == 409:
            return
        raise GatewayError(f"SMS gateway answered HTTP {status}")


def mail_domain() -> str:
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return address.rpartition("@")[2] or "huiyin.invalid"


def message_id_for(key: str) -> str:
    """The same Message-ID for every hand-over of one message."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}.huiyin@{mail_domain()}>"


def send_email(*, to: str, subject: str, body: str, message_id: str, references: str = "") -> None:
    # RFC 3834: an automatic message, so auto-responders do not answer it (no mail loops).
    headers = {"Message-ID": message_id, "Auto-Submitted": "auto-generated"}
    if references:
        headers["In-Reply-To"] = headers["References"] = references
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[settings.HUIYIN_MAIL_REPLY_TO] if settings.HUIYIN_MAIL_REPLY_TO else None,
        headers=headers,
    )
    message.send(fail_silently=False)
